/**
 * The EventBridge events of the S3 model, as a rule's target receives them
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), and the sequencer.
 *
 * Fields per detail-type follow the S3 User Guide's examples and the EventBridge schema registry
 * (see s3-types.ts). In a bucket without versioning there is no `version-id` (LocalStack's
 * AWS-validated snapshots of S3 to EventBridge show none), and an Object Deleted of such a bucket
 * names only the key and the sequencer; an Object Deleted that created a delete marker carries the
 * marker's version ID and the ETag of its empty body ("d41d8cd98f00b204e9800998ecf8427e" in the
 * User Guide's example). ETags in events are without their quotes.
 *
 * The sequencer: "The sequencer key provides a way to determine the sequence of events. ... If you
 * compare the sequencer strings from two event notifications on the same object key, the event
 * notification with the greater sequencer hexadecimal value is the event that occurred later. ...
 * The sequencers can be of different lengths. So, to compare these values, first right pad the
 * shorter value with zeros, and then do a lexicographical comparison."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html)
 *
 * Silent choices (this file):
 * - The object key is URL-encoded as S3's event messages encode it ("The object key name value is
 *   URL encoded. For example, "red flower.jpg" becomes "red+flower.jpg"", same page); the
 *   EventBridge page does not say, and AWS's own Lambda Powertools decodes the EventBridge key with
 *   `unquote_plus`. Encoding: application/x-www-form-urlencoded of the UTF-8 bytes (unreserved
 *   `A-Za-z0-9.-*_`, space as `+`, everything else `%XX`, `/` included).
 * - Sequencers are lower-case hex of 16 to 20 digits (the docs' examples: "617f08299329d189",
 *   "0055AED6DCD90281E5"), the length drawn from the rng; each is a fraction greater than the key's
 *   previous one, its leading digits the hex seconds of the event.
 * - `source-ip-address` is 203.0.113.7 (a documentation address): the model has no client IP.
 * - `requester` is the bucket owner's account for API calls and "s3.amazonaws.com" for what S3 does
 *   by itself (restore completed / expired, transitions), as in the docs' lifecycle examples.
 * - `time` is the moment the change takes effect, at whole seconds ("2021-11-12T00:00:00Z").
 */
import type { S3World } from "./s3-world";
import type {
  ArchiveStatus,
  BucketState,
  KeyEntry,
  ObjectVersion,
  S3EventBridgeEvent,
  S3EventObjectRef,
} from "./s3-types";
import { bareEtag } from "./s3-conditions";

export const SOURCE_IP = "203.0.113.7";
export const S3_PRINCIPAL = "s3.amazonaws.com";

const SEQUENCER_DIGITS = 20;

/** The UTF-8 bytes of `key`, application/x-www-form-urlencoded. */
export function encodeEventKey(key: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(key)) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9.\-*_]/.test(char)) out += char;
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The key an event names: `encodeEventKey` undone ('+' a space, `%XX` a byte of its UTF-8). */
export function decodeEventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

/** ISO 8601 at whole seconds, as the events write times. */
export function eventTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** The key's next sequencer: greater than its previous one when right-padded with zeros. */
export function nextSequencer(world: S3World, entry: KeyEntry): string {
  const seconds = BigInt(Math.floor(world.now() / 1000)) << 48n;
  const fromClock = seconds + BigInt(world.randomInt(1 << 24));
  const fromPrevious = entry.sequencer + 1n + BigInt(world.randomInt(1 << 16));
  const candidate = fromClock > fromPrevious ? fromClock : fromPrevious;
  const length = 16 + world.randomInt(SEQUENCER_DIGITS - 16 + 1);
  const unit = 16n ** BigInt(SEQUENCER_DIGITS - length);
  const value = ((candidate + unit - 1n) / unit) * unit;
  entry.sequencer = value;
  return value.toString(16).padStart(SEQUENCER_DIGITS, "0").slice(0, length);
}

/**
 * Compares sequencers as the docs say: right-pad the shorter with zeros, compare lexicographically.
 */
export function compareSequencers(a: string, b: string): number {
  const length = Math.max(a.length, b.length);
  const left = a.padEnd(length, "0");
  const right = b.padEnd(length, "0");
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The envelope fields every event has, `detail-type` and `detail` aside. */
function envelope(world: S3World, bucket: BucketState) {
  return {
    version: "0",
    id: world.uuid(),
    source: "aws.s3",
    account: world.accountId,
    time: eventTime(world.now()),
    region: bucket.region,
    resources: [`arn:aws:s3:::${bucket.name}`],
  } as const;
}

function send(world: S3World, bucket: BucketState, event: S3EventBridgeEvent): void {
  world.emit(bucket, event);
}

function detailBase(bucket: BucketState, requestId: string, requester: string) {
  return {
    version: "0",
    "event-version": "1.0",
    bucket: { name: bucket.name },
    "request-id": requestId,
    requester,
  } as const;
}

function objectRef(
  bucket: BucketState,
  key: string,
  versionId: string | undefined,
): S3EventObjectRef {
  const ref: { key: string; "version-id"?: string } = { key: encodeEventKey(key) };
  if (bucket.versioning && versionId !== undefined) ref["version-id"] = versionId;
  return ref;
}

export interface EventContext {
  readonly world: S3World;
  readonly bucket: BucketState;
  readonly key: string;
  readonly requestId: string;
}

export function emitObjectCreated(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
  reason: "PutObject" | "CopyObject" | "CompleteMultipartUpload",
): void {
  if (!bucket.eventBridge) return;
  const sequencer = nextSequencer(world, world.entry(bucket, key));
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Created",
    detail: {
      ...detailBase(bucket, requestId, world.accountId),
      object: { ...sizedObject(bucket, key, version), sequencer },
      "source-ip-address": SOURCE_IP,
      reason,
    },
  });
}

export function emitObjectDeleted(
  { world, bucket, key, requestId }: EventContext,
  deleted: { versionId?: string; marker: boolean },
): void {
  if (!bucket.eventBridge) return;
  const sequencer = nextSequencer(world, world.entry(bucket, key));
  const ref = objectRef(bucket, key, deleted.versionId);
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Deleted",
    detail: {
      ...detailBase(bucket, requestId, world.accountId),
      object: deleted.marker
        ? { ...ref, etag: "d41d8cd98f00b204e9800998ecf8427e", sequencer }
        : { ...ref, sequencer },
      "source-ip-address": SOURCE_IP,
      reason: "DeleteObject",
      "deletion-type": deleted.marker ? "Delete Marker Created" : "Permanently Deleted",
    },
  });
}

function sizedObject(bucket: BucketState, key: string, version: ObjectVersion) {
  return {
    ...objectRef(bucket, key, version.versionId),
    size: version.body.size,
    etag: bareEtag(version.etag),
  };
}

export function emitTags(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
  type: "Object Tags Added" | "Object Tags Deleted",
): void {
  if (!bucket.eventBridge) return;
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": type,
    detail: {
      ...detailBase(bucket, requestId, world.accountId),
      object: { ...objectRef(bucket, key, version.versionId), etag: bareEtag(version.etag) },
      "source-ip-address": SOURCE_IP,
    },
  });
}

export function emitRestoreInitiated(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
): void {
  if (!bucket.eventBridge) return;
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Restore Initiated",
    detail: {
      ...detailBase(bucket, requestId, world.accountId),
      object: sizedObject(bucket, key, version),
      "source-ip-address": SOURCE_IP,
      "source-storage-class": version.storageClass,
    },
  });
}

export function emitRestoreCompleted(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
  expiry: number | undefined,
): void {
  if (!bucket.eventBridge) return;
  const detail = {
    ...detailBase(bucket, requestId, S3_PRINCIPAL),
    object: sizedObject(bucket, key, version),
    "source-storage-class": version.storageClass,
  };
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Restore Completed",
    detail: expiry === undefined ? detail : { ...detail, "restore-expiry-time": eventTime(expiry) },
  });
}

export function emitRestoreExpired(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
): void {
  if (!bucket.eventBridge) return;
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Restore Expired",
    detail: {
      ...detailBase(bucket, requestId, S3_PRINCIPAL),
      object: { ...objectRef(bucket, key, version.versionId), etag: bareEtag(version.etag) },
    },
  });
}

export function emitStorageClassChanged(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
): void {
  if (!bucket.eventBridge) return;
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Storage Class Changed",
    detail: {
      ...detailBase(bucket, requestId, S3_PRINCIPAL),
      object: sizedObject(bucket, key, version),
      "destination-storage-class": version.storageClass,
    },
  });
}

export function emitAccessTierChanged(
  { world, bucket, key, requestId }: EventContext,
  version: ObjectVersion,
  tier: ArchiveStatus,
): void {
  if (!bucket.eventBridge) return;
  send(world, bucket, {
    ...envelope(world, bucket),
    "detail-type": "Object Access Tier Changed",
    detail: {
      ...detailBase(bucket, requestId, S3_PRINCIPAL),
      object: sizedObject(bucket, key, version),
      "destination-access-tier": tier,
    },
  });
}
