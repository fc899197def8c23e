/**
 * An in-memory model of Amazon S3 for the deterministic simulation, written from AWS's
 * documentation (each behaviour cites its page beside it, in this file and in the s3-*.ts files it
 * is split into): general purpose buckets with or without versioning, objects with user metadata,
 * Content-* headers, Expires, website redirects, storage classes (archives and restores included)
 * and tags, multipart uploads, copies, conditional requests, listing, and the events S3 sends to
 * Amazon EventBridge.
 *
 * Modelled commands (inputs and outputs as @aws-sdk/client-s3 types them): HeadObject, GetObject,
 * PutObject, CopyObject, DeleteObject, GetObjectTagging, PutObjectTagging, DeleteObjectTagging,
 * CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
 * ListObjectsV2, RestoreObject. World actions: `transition` (a lifecycle transition). Timed
 * behaviour (`nextDue` / `runDue`): restores completing and restored copies expiring.
 *
 * Files: s3-world.ts (state, lookups, ids, timers), s3-read.ts, s3-write.ts, s3-copy.ts,
 * s3-multipart.ts, s3-restore.ts (the commands), s3-conditions.ts, s3-input.ts, s3-events.ts,
 * s3-errors.ts, s3-body.ts, s3-types.ts. Their headers list their `Silent:` choices; in short:
 * - transfer time size / 100 MiB/s; copies read their source at start, check and write their
 *   destination at their end; writes check their conditions at their end, and answer 409 when the
 *   key changed meanwhile;
 * - LastModified, Expires and dates in conditions at whole seconds (HTTP dates);
 * - EventBridge keys URL-encoded as in S3's event messages; sequencers of 16 to 20 hex digits;
 * - ListObjectsV2 pages of random size, sometimes empty;
 * - restore times drawn within the documented ranges;
 * - a PutObject without ContentType stores application/octet-stream (what the SDK sends).
 *
 * Not modelled (cannot be faithful here, or out of scope):
 * - HTTP status codes of successes (206 for ranges, 202 vs 200 for RestoreObject, 204 for deletes):
 *   the scheduler sets `$metadata`; headers the SDK surfaces only on `$response` are set on errors
 *   (x-amz-delete-marker, x-amz-bucket-region) but not on successes.
 * - Checksums (x-amz-checksum-*), Content-MD5, SSE-KMS / SSE-C (so every ETag of a single-part
 *   object is its MD5), ACLs, Object Lock, bucket policies and permissions (every call is allowed),
 *   requester pays, versioning suspended, lifecycle expiration, replication, S3 Select, response
 *   header overrides (ResponseContentType...), FetchOwner, ListObjects (V1), ListObjectVersions,
 *   ListParts, DeleteObjects, POST Object, the 200-with-error responses of CopyObject /
 *   CompleteMultipartUpload, the request-rate limits behind SlowDown (offered as faults instead).
 * - Non-ASCII user metadata: S3 returns it RFC 2047-encoded and the SDK's HTTP layer refuses to
 *   send it; the model stores and returns it as given.
 * - Read-after-write is strongly consistent in S3 ("Amazon S3 delivers strong read-after-write
 *   consistency automatically for all applications",
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel), so the
 *   model has no stale reads; EventBridge delivery delays, duplicates and reordering belong to the
 *   EventBridge model, not to this one (events are handed to listeners as the change happens).
 */
import { copyObject } from "./s3-copy";
import { transientFaults } from "./s3-errors";
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  uploadPart,
  uploadPartCopy,
} from "./s3-multipart";
import {
  getObject,
  getObjectTagging,
  headBucket,
  headObject,
  liveKeys,
  listObjectsV2,
} from "./s3-read";
import { restoreObject, transition as applyTransition } from "./s3-restore";
import type { TransitionTarget } from "./s3-restore";
import type { BucketOptions, S3EventBridgeEvent, S3ModelOptions, S3ObjectView } from "./s3-types";
import { deleteObject, deleteObjectTagging, putObject, putObjectTagging } from "./s3-write";
import { S3World } from "./s3-world";
import type { DocumentedFault, ModelCall, ModelOperation, ServiceModel, TimedModel } from "./types";

export type { BucketOptions, S3EventBridgeEvent, S3ModelOptions, S3ObjectView } from "./s3-types";
export { compareSequencers } from "./s3-events";

type Command = (world: S3World, call: ModelCall) => ModelOperation;

/** A command that takes no time and is evaluated entirely at its end. */
function instant(run: (world: S3World, call: ModelCall) => Record<string, unknown>): Command {
  return (world, call) => ({ durationMs: 0, finish: () => run(world, call) });
}

const COMMANDS: Readonly<Record<string, Command>> = {
  HeadBucket: instant(headBucket),
  HeadObject: instant(headObject),
  GetObject: instant(getObject),
  GetObjectTagging: instant(getObjectTagging),
  ListObjectsV2: instant(listObjectsV2),
  PutObject: putObject,
  CopyObject: copyObject,
  DeleteObject: deleteObject,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  CreateMultipartUpload: instant(createMultipartUpload),
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: instant(abortMultipartUpload),
  RestoreObject: restoreObject,
};

export class S3Model implements ServiceModel, TimedModel {
  readonly service = "s3";
  private readonly world: S3World;

  constructor(options: S3ModelOptions) {
    this.world = new S3World(options.clock, options.rng, options.accountId);
  }

  createBucket(name: string, options: BucketOptions): void {
    if (this.world.buckets.has(name)) throw new Error(`S3 model: bucket ${name} exists`);
    this.world.buckets.set(name, {
      name,
      region: options.region,
      versioning: options.versioning ?? false,
      eventBridge: options.eventBridge ?? false,
      keys: new Map(),
      uploads: new Map(),
    });
  }

  /**
   * Every event S3 sends to EventBridge for a bucket with EventBridge enabled, as a rule's target
   * receives it (the full EventBridge envelope: version, id, detail-type, source, account, time,
   * region, resources, detail), emitted at the moment the change takes effect, in that order.
   */
  onEvent(listener: (event: S3EventBridgeEvent) => void): void {
    this.world.onEvent(listener);
  }

  start(call: ModelCall): ModelOperation {
    const command = call.service === "s3" ? COMMANDS[call.command] : undefined;
    if (command === undefined) {
      return {
        durationMs: 0,
        finish: () => {
          throw new Error(`S3 model: ${call.service} ${call.command} is not modelled`);
        },
      };
    }
    return command(this.world, call);
  }

  /** S3's documented transient errors (500 InternalError, 503 SlowDown, 503 ServiceUnavailable). */
  faults(call: ModelCall): readonly DocumentedFault[] {
    if (call.service !== "s3" || !(call.command in COMMANDS)) return [];
    return transientFaults(
      call.command === "HeadObject" || call.command === "HeadBucket" ? "nobody" : "body",
    );
  }

  nextDue(): number | undefined {
    return this.world.nextDue();
  }

  runDue(): void {
    this.world.runDue();
  }

  /**
   * A lifecycle transition of the current version (storageClass, and for INTELLIGENT_TIERING an
   * archive tier): emits what S3 documents for a transition.
   */
  transition(bucket: string, key: string, to: TransitionTarget): void {
    applyTransition(this.world, this.bucket(bucket), key, to);
  }

  /** The current version, undefined if absent or a delete marker. */
  current(bucket: string, key: string): S3ObjectView | undefined {
    const state = this.bucket(bucket);
    const version = this.world.liveVersion(state, key);
    if (version === undefined) return undefined;
    const { headers, restore } = version;
    return {
      key,
      versionId: state.versioning ? version.versionId : undefined,
      body: version.body.bytes(),
      etag: version.etag,
      lastModified: new Date(version.lastModified),
      metadata: { ...version.metadata },
      contentType: headers.contentType,
      cacheControl: headers.cacheControl,
      contentDisposition: headers.contentDisposition,
      contentEncoding: headers.contentEncoding,
      contentLanguage: headers.contentLanguage,
      expires: headers.expires === undefined ? undefined : new Date(headers.expires),
      websiteRedirectLocation: version.websiteRedirectLocation,
      storageClass: version.storageClass,
      archiveStatus: version.archiveStatus,
      restore:
        restore === undefined
          ? undefined
          : {
              ongoing: restore.ongoing,
              expiry: restore.expiry === undefined ? undefined : new Date(restore.expiry),
            },
      tags: Object.fromEntries(version.tags.map((tag) => [tag.Key, tag.Value])),
      partsCount: version.partSizes?.length,
    };
  }

  /** The keys with a current object, sorted as S3 lists them (UTF-8 binary order). */
  keys(bucket: string): string[] {
    return liveKeys(this.world, this.bucket(bucket));
  }

  private bucket(name: string) {
    const bucket = this.world.buckets.get(name);
    if (bucket === undefined) throw new Error(`S3 model: no bucket ${name}`);
    return bucket;
  }
}
