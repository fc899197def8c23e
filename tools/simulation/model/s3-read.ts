/**
 * Reads of the S3 model: HeadObject, GetObject, GetObjectTagging, ListObjectsV2.
 *
 * Silent choices (this file):
 * - A GetObject of an archived object checks the preconditions first, then the storage class.
 * - ListObjectsV2 returns fewer keys than MaxKeys when it likes ("The response might contain fewer
 *   keys but will never contain more",
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html): the page size is drawn
 *   from the rng, and one page in ten, when more keys remain, is empty (IsTruncated true, a token
 *   that resumes at the same place). MaxKeys 0 answers an empty, untruncated page. The continuation
 *   token is the position after the last key or common prefix returned, base64url-encoded;
 *   StartAfter is ignored when a ContinuationToken is given. EncodingType=url percent-encodes the
 *   UTF-8 bytes of keys, prefixes and StartAfter except A-Za-z0-9 - _ . ~ and /.
 * - Objects in the middle of a multipart upload are not listed and do not form common prefixes.
 */
import { Buffer } from "node:buffer";
import { checkRead } from "./s3-conditions";
import { invalidArgument, invalidObjectState, s3Error } from "./s3-errors";
import type { Answer } from "./s3-errors";
import {
  encodeKeyForLocation,
  optionalDate,
  optionalNumber,
  optionalString,
  parseRange,
  required,
  type Input,
} from "./s3-input";
import type { BucketState, ObjectVersion } from "./s3-types";
import type { S3World } from "./s3-world";
import type { ModelCall } from "./types";

export const SSE = "AES256";

/**
 * GLACIER and DEEP_ARCHIVE objects, and INTELLIGENT_TIERING objects in the Archive Access or Deep
 * Archive Access tiers, "are not accessible in real time": "For objects in the S3 Glacier Flexible
 * Retrieval and S3 Glacier Deep Archive storage classes, you must initiate the restore request and
 * wait until a temporary copy of the object is available." "For objects in the S3
 * Intelligent-Tiering Archive Access and S3 Intelligent-Tiering Deep Archive Access tiers, you must
 * initiate the restore request and wait until the object is moved into the Frequent Access tier."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/archived-objects.html). GLACIER_IR is
 * readable ("S3 Glacier Instant Retrieval ... milliseconds retrieval").
 */
export function readable(version: ObjectVersion): boolean {
  if (version.storageClass === "GLACIER" || version.storageClass === "DEEP_ARCHIVE") {
    return version.restore?.ongoing === false;
  }
  return version.archiveStatus === undefined;
}

export function restoreHeader(version: ObjectVersion): string | undefined {
  const restore = version.restore;
  if (restore === undefined) return undefined;
  if (restore.ongoing) return 'ongoing-request="true"';
  if (restore.expiry === undefined) return 'ongoing-request="false"';
  return `ongoing-request="false", expiry-date="${new Date(restore.expiry).toUTCString()}"`;
}

/**
 * The response headers GET and HEAD share ("A HEAD request has the same options as a GET operation
 * on an object. The response is identical to the GET response except that there is no response
 * body." https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). StorageClass:
 * "Amazon S3 returns this header for all objects except for S3 Standard storage class objects."
 * x-amz-restore: "If an archive copy is already restored, the header value indicates when Amazon S3
 * is scheduled to delete the object copy. For example: x-amz-restore: ongoing-request="false",
 * expiry-date="Fri, 21 Dec 2012 00:00:00 GMT". If the object restoration is in progress, the header
 * returns the value ongoing-request="true"."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html). Every object is encrypted
 * with SSE-S3 by default ("Amazon S3 now applies server-side encryption with Amazon S3 managed keys
 * (SSE-S3) as the base level of encryption for every bucket",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html).
 */
export function objectOutput(bucket: BucketState, version: ObjectVersion): Record<string, unknown> {
  const { headers } = version;
  const out: Record<string, unknown> = {
    AcceptRanges: "bytes",
    LastModified: new Date(version.lastModified),
    ContentLength: version.body.size,
    ETag: version.etag,
    ContentType: headers.contentType,
    Metadata: { ...version.metadata },
    ServerSideEncryption: SSE,
  };
  if (bucket.versioning) out.VersionId = version.versionId;
  if (headers.cacheControl !== undefined) out.CacheControl = headers.cacheControl;
  if (headers.contentDisposition !== undefined) out.ContentDisposition = headers.contentDisposition;
  if (headers.contentEncoding !== undefined) out.ContentEncoding = headers.contentEncoding;
  if (headers.contentLanguage !== undefined) out.ContentLanguage = headers.contentLanguage;
  if (headers.expires !== undefined) {
    out.Expires = new Date(headers.expires);
    out.ExpiresString = new Date(headers.expires).toUTCString();
  }
  if (version.websiteRedirectLocation !== undefined) {
    out.WebsiteRedirectLocation = version.websiteRedirectLocation;
  }
  if (version.storageClass !== "STANDARD") out.StorageClass = version.storageClass;
  if (version.archiveStatus !== undefined) out.ArchiveStatus = version.archiveStatus;
  const restore = restoreHeader(version);
  if (restore !== undefined) out.Restore = restore;
  // GetObject: "Amazon S3 returns the object tag count in the x-amz-tag-count header"
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html).
  if (version.tags.length > 0) out.TagCount = version.tags.length;
  return out;
}

function readConditions(input: Input) {
  return {
    ifMatch: optionalString(input, "IfMatch"),
    ifNoneMatch: optionalString(input, "IfNoneMatch"),
    ifModifiedSince: optionalDate(input, "IfModifiedSince"),
    ifUnmodifiedSince: optionalDate(input, "IfUnmodifiedSince"),
  };
}

/**
 * The bytes a Range or PartNumber selects. "PartNumber — Part number of the object being read. This
 * is a positive integer between 1 and 10,000. Effectively performs a 'ranged' GET request for the
 * part specified." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html); PartsCount
 * "is only returned if you specify partNumber in your request and the object was uploaded as a
 * multipart upload" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
 */
function selection(
  input: Input,
  version: ObjectVersion,
  answer: Answer,
): { start: number; end: number; partsCount?: number } | undefined {
  const size = version.body.size;
  const range = optionalString(input, "Range");
  const partNumber = optionalNumber(input, "PartNumber");
  if (range !== undefined && partNumber !== undefined) {
    throw invalidRequestOn(
      "Cannot specify both Range header and partNumber query parameter",
      answer,
    );
  }
  if (partNumber !== undefined) return partSelection(partNumber, version, answer);
  if (range === undefined) return undefined;
  const parsed = parseRange(range, size);
  if (parsed === "unsatisfiable") {
    throw s3Error("InvalidRange", 416, "The requested range is not satisfiable", answer, {
      RangeRequested: range,
      ActualObjectSize: String(size),
    });
  }
  return parsed;
}

function partSelection(partNumber: number, version: ObjectVersion, answer: Answer) {
  const sizes = version.partSizes ?? [version.body.size];
  if (partNumber < 1 || partNumber > sizes.length) {
    throw s3Error("InvalidPartNumber", 416, "The requested partnumber is not satisfiable", answer);
  }
  const start = sizes.slice(0, partNumber - 1).reduce((total, size) => total + size, 0);
  const end = start + (sizes[partNumber - 1] ?? 0);
  return version.partSizes === undefined
    ? { start, end }
    : { start, end, partsCount: sizes.length };
}

function invalidRequestOn(message: string, answer: Answer) {
  return s3Error("InvalidRequest", 400, message, answer);
}

function readObject(world: S3World, call: ModelCall, answer: Answer) {
  const { input } = call;
  const bucket = world.bucketFor(call, required(input, "Bucket"), answer);
  const version = world.readVersion(
    bucket,
    required(input, "Key"),
    optionalString(input, "VersionId"),
    answer,
  );
  checkRead(readConditions(input), version, world.now(), answer);
  const out = objectOutput(bucket, version);
  const selected = selection(input, version, answer);
  if (selected !== undefined) {
    out.ContentLength = selected.end - selected.start;
    out.ContentRange = `bytes ${selected.start}-${selected.end - 1}/${version.body.size}`;
    if (selected.partsCount !== undefined) out.PartsCount = selected.partsCount;
  }
  return { version, out, selected };
}

/**
 * HeadBucket: "You can use this operation to determine if a bucket exists and if you have
 * permission to access it. The action returns a 200 OK if the bucket exists and you have
 * permission to access it"; otherwise "a 400 Bad Request, 403 Forbidden or 404 Not Found code" with
 * no body, and the response carries the bucket's Region (x-amz-bucket-region, the SDK's
 * `BucketRegion`) (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html).
 */
export function headBucket(world: S3World, call: ModelCall): Record<string, unknown> {
  const bucket = world.bucketFor(call, String(call.input.Bucket), "nobody");
  return { BucketRegion: bucket.region };
}

export function headObject(world: S3World, call: ModelCall): Record<string, unknown> {
  return readObject(world, call, "nobody").out;
}

/**
 * "InvalidObjectState — The operation is not valid for the current state of the object. — 403
 * Forbidden" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html); S3 words it
 * "The operation is not valid for the object's storage class" and names the storage class and, for
 * S3 Intelligent-Tiering, the access tier.
 */
export function getObject(world: S3World, call: ModelCall): Record<string, unknown> {
  const { version, out, selected } = readObject(world, call, "body");
  if (!readable(version)) {
    throw invalidObjectState(
      "The operation is not valid for the object's storage class",
      version.storageClass,
      version.archiveStatus,
    );
  }
  const body =
    selected === undefined ? version.body : version.body.slice(selected.start, selected.end);
  out.Body = body.bytes();
  return out;
}

/**
 * "Returns the tag-set of an object."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html)
 */
export function getObjectTagging(world: S3World, call: ModelCall): Record<string, unknown> {
  const { input } = call;
  const bucket = world.bucketFor(call, required(input, "Bucket"));
  const version = world.readVersion(
    bucket,
    required(input, "Key"),
    optionalString(input, "VersionId"),
    "body",
  );
  const out: Record<string, unknown> = { TagSet: version.tags.map((tag) => ({ ...tag })) };
  if (bucket.versioning) out.VersionId = version.versionId;
  return out;
}

// ------------------------------------------------------------------------------------------------
// ListObjectsV2
// ------------------------------------------------------------------------------------------------

/**
 * "List results are always returned in UTF-8 binary order."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ListingKeysUsingAPIs.html)
 */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function liveKeys(world: S3World, bucket: BucketState): string[] {
  return [...bucket.keys.keys()]
    .filter((key) => world.liveVersion(bucket, key) !== undefined)
    .sort(compareKeys);
}

interface Position {
  /** Only keys (and prefixes) after this one. */
  readonly after?: string;
  /** Keys under this common prefix were already returned as the prefix. */
  readonly skipPrefix?: string;
}

function encodeToken(position: Position): string {
  return Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
}

function decodeToken(token: string): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof parsed === "object" && parsed !== null) {
      const after =
        "after" in parsed && typeof parsed.after === "string" ? parsed.after : undefined;
      const skip =
        "skipPrefix" in parsed && typeof parsed.skipPrefix === "string"
          ? parsed.skipPrefix
          : undefined;
      return { after, skipPrefix: skip };
    }
  } catch {
    // falls through to the error
  }
  throw invalidArgument("The continuation token provided is incorrect", {
    ArgumentName: "continuation-token",
  });
}

type Item = { kind: "key"; key: string } | { kind: "prefix"; prefix: string };

/** Keys and common prefixes after `position`, in order. */
function listingItems(
  keys: readonly string[],
  prefix: string,
  delimiter: string | undefined,
  position: Position,
  startAfter: string | undefined,
): Item[] {
  const items: Item[] = [];
  for (const key of keys) {
    if (!key.startsWith(prefix)) continue;
    if (position.after !== undefined && compareKeys(key, position.after) <= 0) continue;
    if (position.skipPrefix !== undefined && key.startsWith(position.skipPrefix)) continue;
    const rest = key.slice(prefix.length);
    const cut = delimiter === undefined || delimiter === "" ? -1 : rest.indexOf(delimiter);
    if (cut === -1) {
      items.push({ kind: "key", key });
      continue;
    }
    const common = prefix + rest.slice(0, cut + (delimiter?.length ?? 0));
    const last = items[items.length - 1];
    if (last?.kind === "prefix" && last.prefix === common) continue;
    // "CommonPrefixes is filtered out from results if it is not lexicographically greater than the
    // StartAfter value." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)
    if (startAfter !== undefined && compareKeys(common, startAfter) <= 0) continue;
    items.push({ kind: "prefix", prefix: common });
  }
  return items;
}

function pageSize(world: S3World, maxKeys: number, available: number): number {
  if (maxKeys === 0 || available === 0) return 0;
  if (world.randomInt(10) === 0) return 0;
  return Math.min(1 + world.randomInt(maxKeys), available);
}

/**
 * "Returns some or all (up to 1,000) of the objects in a bucket with each request." MaxKeys: "By
 * default, the action returns up to 1,000 key names. The response might contain fewer keys but will
 * never contain more." NextContinuationToken "is sent when isTruncated is true". "If
 * ContinuationToken was sent with the request, it is included in the response." "If StartAfter was
 * sent with the request, it is included in the response."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)
 */
export function listObjectsV2(world: S3World, call: ModelCall): Record<string, unknown> {
  const { input } = call;
  const bucket = world.bucketFor(call, required(input, "Bucket"));
  const prefix = optionalString(input, "Prefix") ?? "";
  const delimiter = optionalString(input, "Delimiter");
  const startAfter = optionalString(input, "StartAfter");
  const token = optionalString(input, "ContinuationToken");
  const encodingType = optionalString(input, "EncodingType");
  const requestedMax = optionalNumber(input, "MaxKeys") ?? 1000;
  if (requestedMax < 0) {
    throw invalidArgument("Argument maxKeys must be an integer between 0 and 2147483647", {
      ArgumentName: "maxKeys",
    });
  }
  const maxKeys = Math.min(requestedMax, 1000);
  const start: Position = token !== undefined ? decodeToken(token) : { after: startAfter };
  const items = listingItems(
    liveKeys(world, bucket),
    prefix,
    delimiter,
    start,
    token === undefined ? startAfter : undefined,
  );
  const take = pageSize(world, maxKeys, items.length);
  const page = items.slice(0, take);
  const truncated = maxKeys > 0 && items.length > take;
  const encode = encodingType === "url" ? encodeKeyForLocation : (text: string) => text;
  const out: Record<string, unknown> = {
    Name: bucket.name,
    Prefix: encode(prefix),
    MaxKeys: requestedMax,
    KeyCount: page.length,
    IsTruncated: truncated,
  };
  const contents = page.flatMap((item) =>
    item.kind === "key" ? [contentEntry(world, bucket, item.key, input, encode)] : [],
  );
  const prefixes = page.flatMap((item) =>
    item.kind === "prefix" ? [{ Prefix: encode(item.prefix) }] : [],
  );
  if (contents.length > 0) out.Contents = contents;
  if (prefixes.length > 0) out.CommonPrefixes = prefixes;
  if (delimiter !== undefined) out.Delimiter = encode(delimiter);
  if (encodingType !== undefined) out.EncodingType = encodingType;
  if (token !== undefined) out.ContinuationToken = token;
  if (startAfter !== undefined) out.StartAfter = encode(startAfter);
  if (truncated) out.NextContinuationToken = encodeToken(nextPosition(start, page));
  return out;
}

function nextPosition(start: Position, page: readonly Item[]): Position {
  const last = page[page.length - 1];
  if (last === undefined) return start;
  return last.kind === "key"
    ? { after: last.key }
    : { after: last.prefix, skipPrefix: last.prefix };
}

function contentEntry(
  world: S3World,
  bucket: BucketState,
  key: string,
  input: Input,
  encode: (text: string) => string,
): Record<string, unknown> {
  const version = world.liveVersion(bucket, key);
  if (version === undefined) throw new Error("S3 model: listed a key without a live version");
  const entry: Record<string, unknown> = {
    Key: encode(key),
    LastModified: new Date(version.lastModified),
    ETag: version.etag,
    Size: version.body.size,
    StorageClass: version.storageClass,
  };
  const optional = input.OptionalObjectAttributes;
  if (
    Array.isArray(optional) &&
    optional.includes("RestoreStatus") &&
    version.restore !== undefined
  ) {
    entry.RestoreStatus =
      version.restore.expiry === undefined
        ? { IsRestoreInProgress: version.restore.ongoing }
        : {
            IsRestoreInProgress: version.restore.ongoing,
            RestoreExpiryDate: new Date(version.restore.expiry),
          };
  }
  return entry;
}
