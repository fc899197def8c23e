/**
 * Conditional requests of the S3 model: reads (GetObject / HeadObject), copy sources (CopyObject /
 * UploadPartCopy), writes (PutObject / CopyObject / CompleteMultipartUpload) and deletes.
 *
 * Reads and copy sources follow RFC 7232 section 6 as the API pages state the combinations: "If
 * both of the If-Match and If-Unmodified-Since headers are present in the request as follows:
 * If-Match condition evaluates to true, and; If-Unmodified-Since condition evaluates to false;
 * then, S3 returns 200 OK and the data requested." "If both of the If-None-Match and
 * If-Modified-Since headers are present in the request as follows: If-None-Match condition
 * evaluates to false, and; If-Modified-Since condition evaluates to true; then, S3 returns 304 Not
 * Modified" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html), and for copies
 * "Amazon S3 returns the 412 Precondition Failed response code"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html). Evaluation order:
 * If-Match, If-Unmodified-Since (skipped when If-Match is present), If-None-Match,
 * If-Modified-Since (skipped when If-None-Match is present); the first that fails answers. Times
 * compare at whole seconds, the resolution of HTTP dates and of Last-Modified.
 *
 * Silent choices (this file):
 * - An If-Modified-Since later than the current time is ignored (RFC 7232 3.3 leaves a future date
 *   invalid; LocalStack's AWS-validated snapshot of CopyObject records S3 ignoring it).
 * - ETags compare without their quotes (and without `W/`); `*` matches any existing object.
 * - A conditional write or delete whose key changed (a create or delete took effect) between the
 *   request's start and its effect answers 409 ConditionalRequestConflict, except an If-Match whose
 *   object was deleted meanwhile: 404 ("If a concurrent delete request to an object succeeds before
 *   a conditional write operation on that object completes, you'll receive a 404 Not Found
 *   response", https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
 * - With both If-Match and If-None-Match on a write, If-Match is evaluated first.
 */
import {
  conditionalRequestConflict,
  noSuchKey,
  notModified,
  preconditionFailed,
  s3Error,
} from "./s3-errors";
import type { Answer } from "./s3-errors";
import type { ObjectVersion } from "./s3-types";

export function bareEtag(etag: string): string {
  const weak = etag.startsWith("W/") ? etag.slice(2) : etag;
  return weak.replace(/^"/, "").replace(/"$/, "");
}

/** Whether an If-Match / If-None-Match value (one ETag, a list, or `*`) names this ETag. */
export function etagMatches(header: string, etag: string): boolean {
  const wanted = bareEtag(etag);
  return header
    .split(",")
    .map((value) => value.trim())
    .some((value) => value === "*" || bareEtag(value) === wanted);
}

/** Modified after `date`, at the whole-second resolution of HTTP dates. */
function modifiedSince(lastModified: number, date: number): boolean {
  return Math.floor(lastModified / 1000) > Math.floor(date / 1000);
}

export interface ReadConditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: number;
  readonly ifUnmodifiedSince?: number;
}

type Failure = { kind: "412"; condition: string } | { kind: "304" };

function evaluate(
  conditions: ReadConditions,
  version: ObjectVersion,
  now: number,
): Failure | undefined {
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = conditions;
  if (ifMatch !== undefined) {
    if (!etagMatches(ifMatch, version.etag)) return { kind: "412", condition: "If-Match" };
  } else if (
    ifUnmodifiedSince !== undefined &&
    modifiedSince(version.lastModified, ifUnmodifiedSince)
  ) {
    return { kind: "412", condition: "If-Unmodified-Since" };
  }
  if (ifNoneMatch !== undefined) {
    if (etagMatches(ifNoneMatch, version.etag)) return { kind: "304" };
  } else if (
    ifModifiedSince !== undefined &&
    ifModifiedSince <= now &&
    !modifiedSince(version.lastModified, ifModifiedSince)
  ) {
    return { kind: "304" };
  }
  return undefined;
}

/** GetObject / HeadObject: 412 PreconditionFailed or 304 Not Modified. */
export function checkRead(
  conditions: ReadConditions,
  version: ObjectVersion,
  now: number,
  answer: Answer,
): void {
  const failure = evaluate(conditions, version, now);
  if (failure === undefined) return;
  if (failure.kind === "304") throw notModified();
  throw preconditionFailed(failure.condition, answer);
}

/** CopyObject / UploadPartCopy `CopySourceIf*`: every failure is a 412. */
export function checkCopySource(
  conditions: ReadConditions,
  version: ObjectVersion,
  now: number,
): void {
  const failure = evaluate(conditions, version, now);
  if (failure === undefined) return;
  const condition =
    failure.kind === "412"
      ? failure.condition
      : conditions.ifNoneMatch !== undefined
        ? "If-None-Match"
        : "If-Modified-Since";
  throw preconditionFailed(`x-amz-copy-source-${condition}`, "body");
}

export interface WriteConditions {
  readonly ifMatch?: string;
  readonly ifNoneMatch?: string;
}

/**
 * "IfNoneMatch — Uploads the object only if the object key name does not already exist in the
 * bucket specified. Otherwise, Amazon S3 returns a 412 Precondition Failed error. ... Expects the
 * '*' (asterisk) character." "IfMatch — Uploads the object only if the ETag (entity tag) value
 * provided during the WRITE operation matches the ETag of the object in S3. If the ETag values do
 * not match, the operation returns a 412 Precondition Failed error."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html) "The HTTP If-None-Match
 * header applies only to the current version of an object in a versioned bucket."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): a current delete
 * marker is no object. An If-Match on a key without a current object answers 404 NoSuchKey.
 *
 * Silent: an If-None-Match other than `*` answers 501 NotImplemented (S3 answers unsupported header
 * values so).
 */
export function checkWrite(
  conditions: WriteConditions,
  key: string,
  current: ObjectVersion | undefined,
  changedSinceStart: boolean,
): void {
  const { ifMatch, ifNoneMatch } = conditions;
  if (ifMatch === undefined && ifNoneMatch === undefined) return;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") {
    throw s3Error(
      "NotImplemented",
      501,
      "A header you provided implies functionality that is not implemented",
      "body",
      { Header: "If-None-Match" },
    );
  }
  const live = current !== undefined && !current.deleteMarker ? current : undefined;
  if (changedSinceStart) {
    if (ifMatch !== undefined && live === undefined) throw noSuchKey(key, "body");
    throw conditionalRequestConflict();
  }
  if (ifMatch !== undefined) {
    if (live === undefined) throw noSuchKey(key, "body");
    if (!etagMatches(ifMatch, live.etag)) throw preconditionFailed("If-Match", "body");
  }
  if (ifNoneMatch !== undefined && live !== undefined) {
    throw preconditionFailed("If-None-Match", "body");
  }
}
