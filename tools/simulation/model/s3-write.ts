/**
 * Writes of the S3 model: PutObject, DeleteObject, PutObjectTagging, DeleteObjectTagging, and what
 * every write shares (new versions, committing them to a key, storage classes, transfer time).
 *
 * Versioning: "If you enable versioning for a bucket, Amazon S3 automatically generates a unique
 * version ID for the object being stored." Without versioning a PUT replaces the object and its
 * version ID is null (https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html).
 * DeleteObject: "If bucket versioning is not enabled, the operation permanently deletes the object.
 * If bucket versioning is enabled, the operation inserts a delete marker, which becomes the current
 * version of the object. To permanently delete an object in a versioned bucket, you must include
 * the object's versionId in the request." "If the object deleted is a delete marker, Amazon S3 sets
 * the response header x-amz-delete-marker to true."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html)
 *
 * Silent choices (this file):
 * - Transfer time: the docs give no rate. PutObject, UploadPart, CopyObject, UploadPartCopy and
 *   CompleteMultipartUpload take `size / 100 MiB per second` (rounded up to a millisecond) between
 *   start and effect; a write's conditions and its effect are evaluated at its end.
 * - A PutObject without ContentType stores "application/octet-stream": @aws-sdk/client-s3 sends
 *   that Content-Type for a Body without one (checked against this SDK version); a write the SDK
 *   sends without one (CreateMultipartUpload, CopyObject REPLACE) stores S3's default
 *   "binary/octet-stream".
 * - A DeleteObject that deletes nothing (no such key, no such version) answers 204 and emits no
 *   event: events are emitted when a change takes effect.
 * - Tags are a sub-resource: PutObjectTagging / DeleteObjectTagging change neither the ETag nor
 *   LastModified and create no version (the ETag "reflects changes only to the contents of an
 *   object", and Last-Modified is "Object creation date or the last modified date"); every such
 *   call emits its event, an empty tag set or a delete of no tags included.
 */
import { Body } from "./s3-body";
import { checkWrite, etagMatches } from "./s3-conditions";
import { conditionalRequestConflict, noSuchKey, preconditionFailed, s3Error } from "./s3-errors";
import { emitObjectCreated, emitObjectDeleted, emitTags } from "./s3-events";
import {
  bodyBytes,
  contentHeaders,
  optionalString,
  required,
  tagSet,
  taggingQuery,
  userMetadata,
  type Input,
} from "./s3-input";
import { SSE } from "./s3-read";
import type { BucketState, ObjectAttributes, ObjectVersion } from "./s3-types";
import type { S3World } from "./s3-world";
import type { ModelCall, ModelOperation } from "./types";

const BYTES_PER_MS = (100 * 1024 * 1024) / 1000;

/** Runs `fn` at an operation's start, keeping its error for the operation's end. */
export function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function transferMs(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_MS);
}

export const GIB5 = 5 * 1024 * 1024 * 1024;

/**
 * The storage classes of a general purpose bucket (StorageClass enum of
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html, without the directory-bucket,
 * Outposts, FSx and Snow ones). "InvalidStorageClass — The storage class you specified is not
 * valid. — 400" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
 */
const STORAGE_CLASSES = new Set([
  "STANDARD",
  "REDUCED_REDUNDANCY",
  "STANDARD_IA",
  "ONEZONE_IA",
  "INTELLIGENT_TIERING",
  "GLACIER",
  "DEEP_ARCHIVE",
  "GLACIER_IR",
]);

/** "By default, Amazon S3 uses the STANDARD Storage Class to store newly created objects." */
export function storageClass(input: Input): string {
  const given = optionalString(input, "StorageClass") ?? "STANDARD";
  if (!STORAGE_CLASSES.has(given)) {
    throw s3Error(
      "InvalidStorageClass",
      400,
      "The storage class you specified is not valid",
      "body",
      {
        StorageClassRequested: given,
      },
    );
  }
  return given;
}

/** The attributes PutObject and CreateMultipartUpload store from their input. */
export function requestAttributes(input: Input, defaultType: string): ObjectAttributes {
  return {
    metadata: userMetadata(input),
    headers: contentHeaders(input, defaultType),
    websiteRedirectLocation: optionalString(input, "WebsiteRedirectLocation"),
    storageClass: storageClass(input),
    tags: taggingQuery(input),
  };
}

export function newVersion(
  world: S3World,
  bucket: BucketState,
  body: Body,
  etag: string,
  attributes: ObjectAttributes,
  multipart?: { readonly partSizes: readonly number[]; readonly initiated: number },
): ObjectVersion {
  return {
    ...attributes,
    versionId: bucket.versioning ? world.versionId() : "null",
    deleteMarker: false,
    body,
    etag,
    // Last-Modified is an HTTP date (RFC 7231 IMF-fixdate): whole seconds, as every API reports it.
    lastModified: multipart?.initiated ?? world.nowSeconds(),
    partSizes: multipart?.partSizes,
  };
}

/** Makes `version` the key's current version (replacing the object without versioning). */
export function commit(
  world: S3World,
  bucket: BucketState,
  key: string,
  version: ObjectVersion,
): void {
  const entry = world.entry(bucket, key);
  entry.versions = bucket.versioning ? [...entry.versions, version] : [version];
  entry.generation++;
}

/** What a conditional write checks at its end against what held at its start. */
export interface WriteStart {
  readonly requestId: string;
  readonly generation: number;
}

export function writeStart(world: S3World, call: ModelCall): WriteStart {
  const bucket = world.buckets.get(optionalString(call.input, "Bucket") ?? "");
  const key = optionalString(call.input, "Key") ?? "";
  return {
    requestId: world.requestId(),
    generation: bucket === undefined ? 0 : world.generation(bucket, key),
  };
}

export function checkWriteConditions(
  world: S3World,
  bucket: BucketState,
  key: string,
  input: Input,
  start: WriteStart,
): void {
  checkWrite(
    {
      ifMatch: optionalString(input, "IfMatch"),
      ifNoneMatch: optionalString(input, "IfNoneMatch"),
    },
    key,
    world.currentVersion(bucket, key),
    world.generation(bucket, key) !== start.generation,
  );
}

export function writeOutput(bucket: BucketState, version: ObjectVersion): Record<string, unknown> {
  const out: Record<string, unknown> = { ETag: version.etag, ServerSideEncryption: SSE };
  if (bucket.versioning) out.VersionId = version.versionId;
  return out;
}

// ------------------------------------------------------------------------------------------------
// PutObject
// ------------------------------------------------------------------------------------------------

/**
 * "Adds an object to a bucket." "Amazon S3 never adds partial objects; if you receive a success
 * response, Amazon S3 added the entire object to the bucket."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html)
 */
export function putObject(world: S3World, call: ModelCall): ModelOperation {
  const read = attempt(() => bodyBytes(call.input));
  const bytes = read.ok ? read.value : new Uint8Array(0);
  const start = writeStart(world, call);
  return {
    durationMs: transferMs(bytes.length),
    finish: () => {
      if (!read.ok) throw read.error;
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      const attributes = requestAttributes(input, "application/octet-stream");
      checkWriteConditions(world, bucket, key, input, start);
      const body = Body.of(bytes);
      const version = newVersion(world, bucket, body, body.etag(), attributes);
      commit(world, bucket, key, version);
      emitObjectCreated({ world, bucket, key, requestId: start.requestId }, version, "PutObject");
      return writeOutput(bucket, version);
    },
  };
}

// ------------------------------------------------------------------------------------------------
// DeleteObject
// ------------------------------------------------------------------------------------------------

/**
 * "IfMatch — Deletes the object if the ETag (entity tag) value provided during the delete operation
 * matches the ETag of the object in S3. If the ETag values do not match, the operation returns a
 * 412 Precondition Failed error. ... If-Match does accept a string value of an '*' (asterisk)
 * character to denote a match of any ETag."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html) "Conditional delete
 * evaluations only apply to the current version of the object." A conditional delete of a key
 * without a current object answers 404 NoSuchKey; "You might also receive a 409 Conflict error
 * response in case of concurrent requests if a DELETE or PUT request succeeds on an object before a
 * conditional delete operation on that object completes."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html)
 */
function checkDelete(
  world: S3World,
  bucket: BucketState,
  key: string,
  ifMatch: string,
  start: WriteStart,
): void {
  const live = world.liveVersion(bucket, key);
  if (world.generation(bucket, key) !== start.generation) {
    if (live === undefined) throw noSuchKey(key, "body");
    throw conditionalRequestConflict();
  }
  if (live === undefined) throw noSuchKey(key, "body");
  if (!etagMatches(ifMatch, live.etag)) throw preconditionFailed("If-Match", "body");
}

export function deleteObject(world: S3World, call: ModelCall): ModelOperation {
  const start = writeStart(world, call);
  return {
    durationMs: 0,
    finish: () => {
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      const ifMatch = optionalString(input, "IfMatch");
      if (ifMatch !== undefined) checkDelete(world, bucket, key, ifMatch, start);
      const versionId = optionalString(input, "VersionId");
      const context = { world, bucket, key, requestId: start.requestId };
      if (versionId !== undefined) return deleteVersion(world, bucket, key, versionId, context);
      if (bucket.versioning) return createDeleteMarker(world, bucket, key, context);
      const entry = bucket.keys.get(key);
      if (entry !== undefined && entry.versions.length > 0) {
        entry.versions = [];
        entry.generation++;
        emitObjectDeleted(context, { marker: false });
      }
      return {};
    },
  };
}

function deleteVersion(
  world: S3World,
  bucket: BucketState,
  key: string,
  versionId: string,
  context: { world: S3World; bucket: BucketState; key: string; requestId: string },
): Record<string, unknown> {
  const entry = bucket.keys.get(key);
  const version = entry?.versions.find((candidate) => candidate.versionId === versionId);
  const out: Record<string, unknown> = { VersionId: versionId };
  if (entry === undefined || version === undefined) return out;
  entry.versions = entry.versions.filter((candidate) => candidate !== version);
  entry.generation++;
  if (version.deleteMarker) out.DeleteMarker = true;
  emitObjectDeleted(context, { versionId, marker: false });
  return out;
}

function createDeleteMarker(
  world: S3World,
  bucket: BucketState,
  key: string,
  context: { world: S3World; bucket: BucketState; key: string; requestId: string },
): Record<string, unknown> {
  const marker: ObjectVersion = {
    metadata: {},
    headers: {},
    storageClass: "STANDARD",
    tags: [],
    versionId: world.versionId(),
    deleteMarker: true,
    body: Body.empty,
    etag: Body.empty.etag(),
    lastModified: world.nowSeconds(),
  };
  const entry = world.entry(bucket, key);
  entry.versions = [...entry.versions, marker];
  entry.generation++;
  emitObjectDeleted(context, { versionId: marker.versionId, marker: true });
  return { DeleteMarker: true, VersionId: marker.versionId };
}

// ------------------------------------------------------------------------------------------------
// Tagging
// ------------------------------------------------------------------------------------------------

/**
 * PutObjectTagging: "Sets the supplied tag-set to an object that already exists in a bucket." "If
 * you send this request with an empty tag set, Amazon S3 deletes the existing tag set on the
 * object." (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html).
 * EventBridge: "Object Tags Added — A set of tags was added to an object using PutObjectTagging."
 * "Object Tags Deleted — All tags were removed from an object using DeleteObjectTagging."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html)
 */
export function putObjectTagging(world: S3World, call: ModelCall): ModelOperation {
  return tagging(world, call, "put");
}

export function deleteObjectTagging(world: S3World, call: ModelCall): ModelOperation {
  return tagging(world, call, "delete");
}

function tagging(world: S3World, call: ModelCall, action: "put" | "delete"): ModelOperation {
  const requestId = world.requestId();
  return {
    durationMs: 0,
    finish: () => {
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      const version = world.readVersion(bucket, key, optionalString(input, "VersionId"), "body");
      version.tags = action === "put" ? tagSet(input) : [];
      emitTags(
        { world, bucket, key, requestId },
        version,
        action === "put" ? "Object Tags Added" : "Object Tags Deleted",
      );
      return bucket.versioning ? { VersionId: version.versionId } : {};
    },
  };
}
