/**
 * Archives of the S3 model: RestoreObject, the restores S3 completes and expires by itself, and the
 * lifecycle transitions a workload applies (a world action, not an SDK call).
 *
 * "Objects that you archive to the S3 Glacier Flexible Retrieval or S3 Glacier Deep Archive storage
 * class, and S3 Intelligent-Tiering Archive or S3 Intelligent-Tiering Deep Archive tiers, are not
 * accessible in real time. For objects in the S3 Glacier Flexible Retrieval or S3 Glacier Deep
 * Archive storage classes, you must first initiate a restore request, and then wait until a
 * temporary copy of the object is available. ... For objects in the Archive Access or Deep Archive
 * Access tiers of S3 Intelligent-Tiering, you must first initiate a restore request, and then wait
 * until the object is moved into the Frequent Access tier." "If the object is not previously
 * restored, then Amazon S3 returns 202 Accepted in the response. If the object is previously
 * restored, Amazon S3 returns 200 OK in the response." "Code: RestoreAlreadyInProgress. Cause:
 * Object restore is already in progress. HTTP Status Code: 409 Conflict" "After restoring an
 * archived object, you can update the restoration period by reissuing the request with a new
 * period. Amazon S3 updates the restoration period relative to the current time ... You cannot
 * update the restoration period when Amazon S3 is actively processing your current restore request
 * for the object." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html) "Amazon
 * S3 calculates the expiry date by adding the number of days that you specify to the time you
 * request to restore the object, and then rounding to the next day at midnight UTC."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects.html)
 *
 * Restore times (https://docs.aws.amazon.com/AmazonS3/latest/API/API_RestoreObject.html): Expedited
 * "typically made available within 1–5 minutes" (not for Deep Archive); Standard "typically finish
 * within 3–5 hours for objects stored in the S3 Glacier Flexible Retrieval storage class or S3
 * Intelligent-Tiering Archive tier. They typically finish within 12 hours for objects stored in the
 * S3 Glacier Deep Archive storage class or S3 Intelligent-Tiering Deep Archive tier"; Bulk "within
 * 5–12 hours" (Glacier, Archive tier), "within 48 hours" (Deep Archive).
 *
 * Silent choices (this file):
 * - A restore completes at a time drawn from the rng within its documented range; "within N hours"
 *   is read as between N/2 and N hours.
 * - The expiry is computed from the request time as documented; if that midnight would come before
 *   the restore completes, it moves to the first midnight after completion.
 * - RestoreObject answers the SDK output `{}` for both 202 and 200 (the scheduler sets $metadata).
 *   Extending a completed restore emits no event.
 * - Restoring an object that is not archived answers 403 InvalidObjectState "Restore is not allowed
 *   for the object's current storage class"; Days on an INTELLIGENT_TIERING object, 400
 *   InvalidArgument "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify
 *   Days when restoring this object" (what S3 answers, per s3cmd #1377 and moto #4670); no Days on
 *   a GLACIER / DEEP_ARCHIVE object, 400 MalformedXML ("The Days element is required for regular
 *   restores"); Expedited on a Deep Archive object, 400 InvalidArgument.
 * - A restore of S3 Intelligent-Tiering completes by moving the object out of its archive tier: no
 *   ArchiveStatus, no Restore field, an Object Restore Completed without restore-expiry-time, and
 *   never an Object Restore Expired ("The temporary copy of an object restored from S3 Glacier or
 *   S3 Glacier Deep Archive expired and was deleted",
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html).
 * - A transition neither changes the ETag nor LastModified; it drops a restored copy or a restore
 *   in progress. A transition to INTELLIGENT_TIERING with an archive tier from another storage
 *   class emits Object Storage Class Changed, then Object Access Tier Changed.
 */
import { invalidArgument, invalidObjectState, malformedXml, s3Error } from "./s3-errors";
import {
  emitAccessTierChanged,
  emitRestoreCompleted,
  emitRestoreExpired,
  emitRestoreInitiated,
  emitStorageClassChanged,
  type EventContext,
} from "./s3-events";
import { isRecord, optionalRecord, optionalString, required } from "./s3-input";
import type { ArchiveStatus, BucketState, ObjectVersion, RestoreState } from "./s3-types";
import type { S3World } from "./s3-world";
import type { ModelCall, ModelOperation } from "./types";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type ArchiveKind = "flexible" | "deep";
type RetrievalTier = "Expedited" | "Standard" | "Bulk";

const RESTORE_TIMES: Record<
  ArchiveKind,
  Partial<Record<RetrievalTier, readonly [number, number]>>
> = {
  flexible: {
    Expedited: [MINUTE, 5 * MINUTE],
    Standard: [3 * HOUR, 5 * HOUR],
    Bulk: [5 * HOUR, 12 * HOUR],
  },
  deep: { Standard: [6 * HOUR, 12 * HOUR], Bulk: [24 * HOUR, 48 * HOUR] },
};

interface Archive {
  readonly kind: ArchiveKind;
  readonly intelligentTiering: boolean;
}

function archiveOf(version: ObjectVersion): Archive | undefined {
  if (version.storageClass === "GLACIER") return { kind: "flexible", intelligentTiering: false };
  if (version.storageClass === "DEEP_ARCHIVE") return { kind: "deep", intelligentTiering: false };
  if (version.archiveStatus === "ARCHIVE_ACCESS")
    return { kind: "flexible", intelligentTiering: true };
  if (version.archiveStatus === "DEEP_ARCHIVE_ACCESS")
    return { kind: "deep", intelligentTiering: true };
  return undefined;
}

/** Midnight UTC after `ms` ("rounding to the next day at midnight UTC"). */
export function nextMidnight(ms: number): number {
  return Math.floor(ms / DAY) * DAY + DAY;
}

function retrievalTier(request: Record<string, unknown> | undefined): RetrievalTier {
  const job = request?.GlacierJobParameters;
  const tier = request?.Tier ?? (isRecord(job) ? job.Tier : undefined) ?? "Standard";
  if (tier === "Expedited" || tier === "Standard" || tier === "Bulk") return tier;
  throw malformedXml();
}

function restoreDays(
  request: Record<string, unknown> | undefined,
  archive: Archive,
): number | undefined {
  const days = request?.Days;
  if (archive.intelligentTiering) {
    if (days !== undefined) {
      throw invalidArgument(
        "INTELLIGENT_TIERING objects are not subject to restore expiry. Do not specify Days when restoring this object",
      );
    }
    return undefined;
  }
  if (typeof days !== "number") throw malformedXml();
  if (!Number.isInteger(days) || days < 1)
    throw invalidArgument("The days parameter must be a positive integer");
  return days;
}

export function restoreObject(world: S3World, call: ModelCall): ModelOperation {
  const requestId = world.requestId();
  return {
    durationMs: 0,
    finish: () => {
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      const version = world.readVersion(bucket, key, optionalString(input, "VersionId"), "body");
      const archive = archiveOf(version);
      if (archive === undefined) {
        throw invalidObjectState(
          "Restore is not allowed for the object's current storage class",
          version.storageClass,
        );
      }
      const request = optionalRecord(input, "RestoreRequest");
      const days = restoreDays(request, archive);
      const tier = retrievalTier(request);
      const range = RESTORE_TIMES[archive.kind][tier];
      if (range === undefined) {
        throw invalidArgument(`${tier} retrieval is not supported for the object's storage class`);
      }
      const context: EventContext = { world, bucket, key, requestId };
      const restore = version.restore;
      if (restore?.ongoing === true) {
        throw s3Error("RestoreAlreadyInProgress", 409, "Object restore is already in progress");
      }
      if (restore !== undefined && days !== undefined) {
        extend(world, context, version, restore, nextMidnight(world.now() + days * DAY));
        return {};
      }
      begin(world, context, version, archive, range, days);
      return {};
    },
  };
}

function begin(
  world: S3World,
  context: EventContext,
  version: ObjectVersion,
  archive: Archive,
  range: readonly [number, number],
  days: number | undefined,
): void {
  const restore: RestoreState = { ongoing: true };
  version.restore = restore;
  const requestedAt = world.now();
  const completesAt = requestedAt + range[0] + world.randomInt(range[1] - range[0] + 1);
  const live = () =>
    world.holds(context.bucket, context.key, version) &&
    version.restore === restore &&
    restore.ongoing;
  world.schedule(completesAt, live, () => {
    complete(world, context, version, archive, restore, requestedAt, days);
  });
  emitRestoreInitiated(context, version);
}

function complete(
  world: S3World,
  context: EventContext,
  version: ObjectVersion,
  archive: Archive,
  restore: RestoreState,
  requestedAt: number,
  days: number | undefined,
): void {
  const s3Context = { ...context, requestId: world.requestId() };
  if (archive.intelligentTiering || days === undefined) {
    version.archiveStatus = undefined;
    version.restore = undefined;
    emitRestoreCompleted(s3Context, version, undefined);
    return;
  }
  const fromRequest = nextMidnight(requestedAt + days * DAY);
  const expiry = fromRequest > world.now() ? fromRequest : nextMidnight(world.now());
  restore.ongoing = false;
  scheduleExpiry(world, context, version, restore, expiry);
  emitRestoreCompleted(s3Context, version, expiry);
}

function extend(
  world: S3World,
  context: EventContext,
  version: ObjectVersion,
  restore: RestoreState,
  expiry: number,
): void {
  scheduleExpiry(world, context, version, restore, expiry);
}

function scheduleExpiry(
  world: S3World,
  context: EventContext,
  version: ObjectVersion,
  restore: RestoreState,
  expiry: number,
): void {
  restore.expiry = expiry;
  const live = () =>
    world.holds(context.bucket, context.key, version) &&
    version.restore === restore &&
    !restore.ongoing &&
    restore.expiry === expiry;
  world.schedule(expiry, live, () => {
    version.restore = undefined;
    emitRestoreExpired({ ...context, requestId: world.requestId() }, version);
  });
}

// ------------------------------------------------------------------------------------------------
// Lifecycle transitions (a world action)
// ------------------------------------------------------------------------------------------------

export interface TransitionTarget {
  readonly storageClass: string;
  readonly archiveStatus?: ArchiveStatus;
}

/**
 * "Object Storage Class Changed — An object was transitioned to a different storage class." "Object
 * Access Tier Changed — An object was transitioned to the S3 Intelligent-Tiering Archive Access
 * tier or Deep Archive Access tier."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html)
 */
export function transition(
  world: S3World,
  bucket: BucketState,
  key: string,
  to: TransitionTarget,
): void {
  const version = world.liveVersion(bucket, key);
  if (version === undefined)
    throw new Error(`S3 model: no current object ${bucket.name}/${key} to transition`);
  if (to.archiveStatus !== undefined && to.storageClass !== "INTELLIGENT_TIERING") {
    throw new Error("S3 model: an archive tier is an S3 Intelligent-Tiering access tier");
  }
  const context: EventContext = { world, bucket, key, requestId: world.requestId() };
  if (to.storageClass !== version.storageClass) {
    version.storageClass = to.storageClass;
    version.archiveStatus = undefined;
    version.restore = undefined;
    emitStorageClassChanged(context, version);
  }
  if (to.archiveStatus !== undefined && to.archiveStatus !== version.archiveStatus) {
    version.archiveStatus = to.archiveStatus;
    version.restore = undefined;
    emitAccessTierChanged(context, version, to.archiveStatus);
  }
}
