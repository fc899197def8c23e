/**
 * Converges one target's copy of a key to the source's current state by server-side copy only
 * (CopyObject, or CreateMultipartUpload + UploadPartCopy above 5 GiB); object bodies never pass
 * through the function. A replica carries what S3 Replication carries: user metadata, content
 * headers, `Expires`, `WebsiteRedirectLocation`, storage class and tags
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html),
 * plus two markers in its metadata: the S3 sequencer of the change that wrote it (for the record),
 * and a fingerprint of the source state it was copied from. Every change converges the replica to
 * the source's *current* state (contents and tags), whatever the event said: a change after which
 * the key holds what the replica already holds (a redelivery, a stale event) costs a HEAD and a
 * tag read on each side, never a copy. Writes are conditional on the replica as seen (IfMatch /
 * IfNoneMatch) and on the source as read (CopySourceIfMatch); what conditional writes cannot tell
 * apart (two states of one body) the replicator's check after the writes catches (replicator.ts).
 * An archived source (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering archive tier) cannot be copied
 * until it is restored: its convergence is `archived`, and its `Object Restore Completed` event
 * copies it.
 * S3 checks If-None-Match / If-Match on CopyObject and CompleteMultipartUpload ("before creating
 * it or copying it to the destination bucket", 412 Precondition Failed when it fails, 409 on a
 * concurrent conflict: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
 * and If-Match on DeleteObject (which then also needs s3:GetObject:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html);
 * x-amz-copy-source-if-match on CopyObject and UploadPartCopy
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
 */
import { createHash } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
  type S3Client,
  type StorageClass,
  type Tag,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import type { Logger } from "@aws-lambda-powertools/logger";
import { Upload } from "@aws-sdk/lib-storage";
import type { ObjectChange } from "./events";
import { MetadataTooLargeError, TimeBudgetError, statusOf, summarizeError } from "./errors";
import type { AppliedAction } from "./outcome";
import { maskTags, maskTexts, type Masker, type ObjectRule } from "./masking";
import { maskedContents } from "./object-transform";
import {
  OBJECT_MASKING_METADATA,
  OBJECT_SEQUENCE_METADATA,
  OBJECT_SOURCE_METADATA,
} from "./sequence";
import { DEFAULT_COPY_BYTES_PER_MS, copyRate, type TimeBudget } from "./time-budget";

/** CopyObject copies at most 5 GiB; larger objects need a multipart copy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/**
 * Part sizes S3 allows: "Part size: 5 MiB to 5 GiB. There is no minimum size limit on the last
 * part of your multipart upload"; "Maximum number of parts per upload: 10,000"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
 */
const S3_MIN_PART_BYTES = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;
/** Largest part size preferred here: few requests for the largest objects. */
export const MIN_PART_BYTES = 512 * 1024 ** 2;
export const PART_CONCURRENCY = 4;
/** Re-reads after a conditional write lost a race (optimistic concurrency, not a retry backoff). */
export const MAX_CONFLICT_ROUNDS = 3;
/**
 * "Within the PUT request header, the user-defined metadata is limited to 2 KB in size. The size
 * of user-defined metadata is measured by taking the sum of the number of bytes in the UTF-8
 * encoding of each key and value." https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
 */
export const MAX_USER_METADATA_BYTES = 2048;

/** Headers a replica takes from its source (CopyObject with MetadataDirective REPLACE). */
export interface ReplicaHeaders {
  readonly ContentType?: string | undefined;
  readonly CacheControl?: string | undefined;
  readonly ContentDisposition?: string | undefined;
  readonly ContentEncoding?: string | undefined;
  readonly ContentLanguage?: string | undefined;
  readonly Expires?: Date | undefined;
  /** "not copied when using the x-amz-metadata-directive header" unless given (API_CopyObject). */
  readonly WebsiteRedirectLocation?: string | undefined;
  /** CopyObject stores STANDARD unless told: "If the x-amz-storage-class header is not used, the
   * copied object will be stored in the STANDARD Storage Class by default" (API_CopyObject). */
  readonly StorageClass?: StorageClass | undefined;
}

/** A tag set in a canonical form: `[key, value]` pairs sorted by key (keys are unique). */
export type TagPairs = readonly (readonly [string, string])[];

/** The source's state (HeadObject and GetObjectTagging); `undefined` when the key does not exist. */
export interface SourceObject {
  readonly etag: string;
  readonly size: number;
  /**
   * Identifies this state of the source's contents (version, body, metadata, headers), not its
   * storage class: a lifecycle transition is not a change of contents and sends no event the rule
   * subscribes to (lib/replication/README.md, "Storage classes").
   */
  readonly fingerprint: string;
  /** User metadata, without the replication markers. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: ReplicaHeaders;
  /** The object's tags (a sub-resource: changing them keeps the ETag and the fingerprint). */
  readonly tags: TagPairs;
  /**
   * Why the object cannot be read until it is restored (`GLACIER`, `DEEP_ARCHIVE`,
   * `INTELLIGENT_TIERING ARCHIVE_ACCESS`, ...), or `undefined` when it can be copied.
   */
  readonly archived: string | undefined;
}

/** How a target's replica of a key is masked: the masker, and the rule of the key's prefix. */
export interface ObjectMasking {
  readonly masker: Masker;
  readonly rule: ObjectRule | undefined;
}

/**
 * What a target's replica must hold of a source state: the state itself, or with its user
 * metadata and tags masked by the key's rule, the masking version recorded, and its contents
 * masked when the rule names a format.
 */
export interface Wanted extends SourceObject {
  readonly maskingVersion: string | undefined;
  readonly transform: Pick<ObjectRule, "format" | "fields"> | undefined;
}

/** The replica `masking` asks for of `source` (as it is without masking). */
export function wantedOf(source: SourceObject, masking: ObjectMasking | undefined): Wanted {
  if (masking === undefined) return { ...source, maskingVersion: undefined, transform: undefined };
  const { masker, rule } = masking;
  const tags = maskTags(masker, Object.fromEntries(source.tags), rule?.tags);
  return {
    ...source,
    metadata: maskTexts(masker, source.metadata, rule?.metadata),
    tags: tagPairs(Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))),
    maskingVersion: masker.version,
    transform:
      rule?.format === undefined ? undefined : { format: rule.format, fields: rule.fields },
  };
}

/** True when both are absent, or hold the same contents and the same tags. */
export function sameSourceState(a: SourceObject | undefined, b: SourceObject | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.fingerprint === b.fingerprint && sameTags(a.tags, b.tags);
}

/** What a HeadObject on a replica says about what it holds. */
export interface ReplicaObject {
  readonly etag: string;
  /** The sequencer of the change it holds, when it was written by replication. */
  readonly sequencer: string | undefined;
  /** The fingerprint of the source state it was copied from. */
  readonly source: string | undefined;
  /** The masking version it was written under, when it was written masked. */
  readonly masking: string | undefined;
}

/** `bucket/key` with each key segment percent-encoded ('/' kept): "The value must be URL-encoded". */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

const MARKERS: readonly string[] = [
  OBJECT_SEQUENCE_METADATA,
  OBJECT_SOURCE_METADATA,
  OBJECT_MASKING_METADATA,
];

/** Size of user-defined metadata as S3 counts it. */
export function userMetadataBytes(metadata: Readonly<Record<string, string>>): number {
  return Object.entries(metadata).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
}

function fingerprintOf(state: {
  versionId: string | undefined;
  etag: string;
  lastModified: Date | undefined;
  metadata: Readonly<Record<string, string>>;
  headers: ReplicaHeaders;
}): string {
  const metadata = Object.entries(state.metadata).sort(([a], [b]) => (a < b ? -1 : 1));
  // The storage class is what the replica is written with, not part of the state compared.
  const headers: ReplicaHeaders = { ...state.headers, StorageClass: undefined };
  return createHash("sha256")
    .update(
      JSON.stringify([
        state.versionId ?? null,
        state.etag,
        state.lastModified?.toISOString() ?? null,
        metadata,
        headers,
      ]),
    )
    .digest("base64url")
    .slice(0, 22);
}

/** A 404 (the key, or its current version, is gone) as `undefined`; other errors are thrown. */
async function unlessMissing<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error: unknown) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

const head = (s3: S3Client, bucket: string, key: string) =>
  unlessMissing(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));

/** A tag set as S3 returns it, canonical (sorted by key; a missing key or value is empty). */
export function tagPairs(tags: readonly Tag[] | undefined): TagPairs {
  return (tags ?? [])
    .map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function sameTags(a: TagPairs, b: TagPairs): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The `x-amz-tagging` form of a tag set: "encoded as URL Query parameters" (API_PutObject). */
export function taggingHeader(tags: TagPairs): string {
  return tags
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join("&");
}

/** An object's tags, canonical; `undefined` when the object does not exist. */
export const readObjectTags = async (
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<TagPairs | undefined> => {
  const out = await unlessMissing(
    s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
  );
  return out === undefined ? undefined : tagPairs(out.TagSet);
};

/**
 * Storage classes whose objects must be restored before they can be read or copied: "If the
 * object you are retrieving is stored in the S3 Glacier Flexible Retrieval storage class, the S3
 * Glacier Deep Archive storage class, the S3 Intelligent-Tiering Archive Access tier, or the S3
 * Intelligent-Tiering Deep Archive Access tier, before you can retrieve the object you must first
 * restore a copy using RestoreObject. Otherwise, this operation returns an InvalidObjectState
 * error" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html; CopyObject: "you
 * can't copy an object that is stored in these classes without restoring it first",
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html).
 */
const ARCHIVE_CLASSES: readonly string[] = ["GLACIER", "DEEP_ARCHIVE"];

/**
 * "If an archive copy is already restored, the header value indicates when Amazon S3 is scheduled
 * to delete the object copy. For example: x-amz-restore: ongoing-request="false",
 * expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"" (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
 */
const isRestored = (restore: string | undefined): boolean =>
  restore?.includes('ongoing-request="false"') === true;

/** Why the object HeadObject describes cannot be copied until it is restored, if it cannot. */
export function archivedReason(out: {
  StorageClass?: string | undefined;
  ArchiveStatus?: string | undefined;
  Restore?: string | undefined;
}): string | undefined {
  if (isRestored(out.Restore)) return undefined;
  if (out.ArchiveStatus !== undefined) {
    return `${out.StorageClass ?? "INTELLIGENT_TIERING"} ${out.ArchiveStatus}`;
  }
  const storageClass = out.StorageClass ?? "STANDARD";
  return ARCHIVE_CLASSES.includes(storageClass) ? storageClass : undefined;
}

/**
 * Reads the source object's current state: HeadObject (no body) and its tags, side by side;
 * `undefined` when either says the key is gone (the later change has its own event).
 */
export async function readSourceObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  const [out, tags] = await Promise.all([head(s3, bucket, key), readObjectTags(s3, bucket, key)]);
  if (out === undefined || tags === undefined) return undefined;
  const metadata = Object.fromEntries(
    Object.entries(out.Metadata ?? {}).filter(([name]) => !MARKERS.includes(name)),
  );
  const expires = out.ExpiresString === undefined ? undefined : new Date(out.ExpiresString);
  const headers: ReplicaHeaders = {
    ContentType: out.ContentType,
    CacheControl: out.CacheControl,
    ContentDisposition: out.ContentDisposition,
    ContentEncoding: out.ContentEncoding,
    ContentLanguage: out.ContentLanguage,
    Expires: expires !== undefined && !Number.isNaN(expires.getTime()) ? expires : undefined,
    WebsiteRedirectLocation: out.WebsiteRedirectLocation,
    StorageClass: out.StorageClass,
  };
  const etag = out.ETag ?? "";
  return {
    etag,
    size: out.ContentLength ?? 0,
    metadata,
    headers,
    tags,
    archived: archivedReason(out),
    fingerprint: fingerprintOf({
      versionId: out.VersionId,
      etag,
      lastModified: out.LastModified,
      metadata,
      headers,
    }),
  };
}

export async function readReplica(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ReplicaObject | undefined> {
  const out = await head(s3, bucket, key);
  if (out === undefined) return undefined;
  const metadata = out.Metadata ?? {};
  return {
    etag: out.ETag ?? "",
    sequencer: metadata[OBJECT_SEQUENCE_METADATA],
    source: metadata[OBJECT_SOURCE_METADATA],
    masking: metadata[OBJECT_MASKING_METADATA],
  };
}

/** The replica's user metadata: the source's plus the markers; throws when S3 would refuse it. */
export function replicaMetadata(
  source: Wanted,
  sequencer: string | undefined,
): Record<string, string> {
  const metadata: Record<string, string> = {
    ...source.metadata,
    ...(sequencer === undefined ? {} : { [OBJECT_SEQUENCE_METADATA]: sequencer }),
    [OBJECT_SOURCE_METADATA]: source.fingerprint,
    ...(source.maskingVersion === undefined
      ? {}
      : { [OBJECT_MASKING_METADATA]: source.maskingVersion }),
  };
  const bytes = userMetadataBytes(metadata);
  if (bytes > MAX_USER_METADATA_BYTES) {
    throw new MetadataTooLargeError(
      `the source's user metadata (${userMetadataBytes(source.metadata)} bytes) leaves no room ` +
        `for the replication markers: ${bytes} bytes > ${MAX_USER_METADATA_BYTES} allowed by S3`,
    );
  }
  return metadata;
}

/** The conditional-write header guarding the replica as we last saw it. */
function replicaCondition(
  replica: ReplicaObject | undefined,
): { IfMatch: string } | { IfNoneMatch: string } {
  return replica ? { IfMatch: replica.etag } : { IfNoneMatch: "*" };
}

/** The source's tags, read once for a copy that does not copy them itself. */
/** Where a change is copied from and to, with the clients of each side's region. */
export interface ObjectRoute {
  readonly source: S3Client;
  readonly target: S3Client;
  readonly sourceBucket: string;
  readonly targetBucket: string;
  readonly key: string;
}

/**
 * Multipart server-side copy, for objects above 5 GiB and for those a single CopyObject would not
 * copy in the time left. Metadata and tags are set on CreateMultipartUpload (a multipart copy
 * carries neither over by itself). The upload is aborted on any failure, and before the
 * invocation's time runs out: a timeout never leaves a half-done upload behind (the bucket's
 * 7-day abort rule is the last resort, not the plan).
 */
export async function multipartCopy(
  route: ObjectRoute,
  source: Wanted,
  metadata: Record<string, string>,
  replica: ReplicaObject | undefined,
  budget: TimeBudget,
): Promise<void> {
  const { target, targetBucket: Bucket, key: Key } = route;
  const created = await target.send(
    new CreateMultipartUploadCommand({
      Bucket,
      Key,
      Metadata: metadata,
      ...source.headers,
      ...tagging(source.tags),
    }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) {
    throw new Error(`CreateMultipartUpload returned no UploadId for ${Bucket}/${Key}`);
  }
  const partSize = partBytes(source.size);
  const partCount = Math.max(1, Math.ceil(source.size / partSize));
  const etags: string[] = new Array<string>(partCount);
  const abort = new AbortController();
  const timer = budget.onLow(() => {
    abort.abort(new TimeBudgetError(`the invocation's time ran out during the copy of ${Key}`));
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < partCount && !abort.signal.aborted) {
      const index = next++;
      const start = index * partSize;
      const end = Math.max(start, Math.min(source.size, start + partSize) - 1);
      const part = await target.send(
        new UploadPartCopyCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: copySource(route.sourceBucket, Key),
          CopySourceIfMatch: source.etag,
          ...(source.size > 0 ? { CopySourceRange: `bytes=${start}-${end}` } : {}),
        }),
        { abortSignal: abort.signal },
      );
      etags[index] = part.CopyPartResult?.ETag ?? "";
    }
  };
  // Parts stop at the abort whether or not a request in flight notices the signal.
  const aborted = new Promise<never>((_resolve, reject) => {
    abort.signal.addEventListener("abort", () => {
      reject(abort.signal.reason as Error);
    });
  });
  try {
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, partCount) }, worker)),
      aborted,
    ]);
    await target.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        ...replicaCondition(replica),
      }),
    );
  } catch (error: unknown) {
    await target
      .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }))
      .catch(() => undefined);
    throw abort.signal.aborted ? abort.signal.reason : error;
  } finally {
    timer.cancel();
  }
}

/**
 * A multipart copy's part size: `MIN_PART_BYTES`, or less for an object that would otherwise have
 * fewer parts than `PART_CONCURRENCY` (so that every stream copies); never below S3's 5 MiB,
 * never more than `MAX_PARTS` parts.
 */
export function partBytes(size: number): number {
  return Math.max(
    S3_MIN_PART_BYTES,
    Math.ceil(size / MAX_PARTS),
    Math.min(MIN_PART_BYTES, Math.ceil(size / PART_CONCURRENCY)),
  );
}

/** Parallel request streams of a multipart copy of `size` bytes. */
export const partStreams = (size: number): number =>
  Math.min(PART_CONCURRENCY, Math.max(1, Math.ceil(size / partBytes(size))));

/** `Tagging` for a write that sets the tags itself (no header: no tags). */
const tagging = (tags: TagPairs): { Tagging?: string } =>
  tags.length === 0 ? {} : { Tagging: taggingHeader(tags) };

/** A write lost a race: the source changed since we read it, or the replica since we looked. */
function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 412 || status === 409) return true;
  return (
    error instanceof Error && (error.name === "NoSuchKey" || error.name === "PreconditionFailed")
  );
}

/** The source cannot be read until it is restored (a storage class the HEAD did not show yet). */
const isArchivedError = (error: unknown): boolean =>
  error instanceof Error && error.name === "InvalidObjectState";

/** The source's state, or the read of it still under way (shared by all targets of an event). */
export type SourceRead = SourceObject | undefined | Promise<SourceObject | undefined>;

/** Everything one convergence of one key in one target needs. */
export interface ObjectConvergence {
  readonly route: ObjectRoute;
  readonly change: ObjectChange;
  readonly source: SourceRead;
  readonly budget: TimeBudget;
  readonly log: Logger;
  /**
   * What the caller already knows of the replica (a resync's listing of the target, which does
   * not have the key: `{ state: undefined }`), instead of a HEAD. Used in the first round only;
   * the write stays conditional on it, so a replica written since makes it lose the race and
   * read again.
   */
  readonly replica?: { readonly state: ReplicaObject | undefined };
  /** The target is written masked. @default not masked */
  readonly masking?: ObjectMasking;
}

/**
 * Which copy fits: one CopyObject up to 5 GiB when it can finish in the time left, else a
 * multipart copy (parts in parallel) when that can; otherwise neither is started.
 */
function copyMethod(size: number, budget: TimeBudget, key: string): "single" | "multipart" {
  if (size <= MAX_COPY_OBJECT_BYTES && budget.fits(size, 1)) return "single";
  budget.requireTimeFor(size, partStreams(size), key);
  return "multipart";
}

/** Copies the source's current state (contents and tags) over the replica (or creates it). */
async function copy(
  work: ObjectConvergence,
  source: Wanted,
  replica: ReplicaObject | undefined,
): Promise<void> {
  const { route, change, budget } = work;
  // A resync or a tag event carries no sequencer: keep the replica's, for the record.
  const metadata = replicaMetadata(source, change.sequencer ?? replica?.sequencer);
  if (source.transform?.format !== undefined) {
    await transformedCopy(work, source, metadata, replica);
    return;
  }
  const method = copyMethod(source.size, budget, route.key);
  const started = Date.now();
  if (method === "multipart") {
    await multipartCopy(route, source, metadata, replica, budget);
  } else {
    await route.target.send(
      new CopyObjectCommand({
        Bucket: route.targetBucket,
        Key: route.key,
        CopySource: copySource(route.sourceBucket, route.key),
        CopySourceIfMatch: source.etag,
        MetadataDirective: "REPLACE",
        Metadata: metadata,
        ...source.headers,
        // The tags as read with the state: the check after the writes compares them, which it
        // could not do with tags S3 copied at some moment of the copy (TaggingDirective COPY).
        TaggingDirective: "REPLACE",
        ...tagging(source.tags),
        ...replicaCondition(replica),
      }),
    );
  }
  copyRate.observe(
    source.size,
    Date.now() - started,
    method === "multipart" ? partStreams(source.size) : 1,
  );
}

/**
 * Rate assumed for a masked object, whose bytes go through the function (read, parsed, masked,
 * written): 8 MiB/s, a deliberately low figure (the function's CPU, not S3, bounds it).
 */
export const TRANSFORM_BYTES_PER_MS = (8 * 1024 * 1024) / 1000;

/**
 * Reads the source (conditional on the state read), masks its contents as they stream, and
 * writes them to the replica with the replica's metadata, headers and tags (lib-storage's
 * `Upload`: one PutObject, or a multipart upload of bounded parts for a large object), conditional
 * on the replica as seen. Memory stays bounded by the parts in flight.
 */
async function transformedCopy(
  work: ObjectConvergence,
  source: Wanted,
  metadata: Record<string, string>,
  replica: ReplicaObject | undefined,
): Promise<void> {
  const { route, budget } = work;
  const { format, fields } = source.transform ?? {};
  if (format === undefined || fields === undefined || work.masking === undefined) return;
  // Estimated as a copy over streams that each move a fifth of a server-side copy's rate.
  budget.requireTimeFor(
    Math.ceil((source.size * DEFAULT_COPY_BYTES_PER_MS) / TRANSFORM_BYTES_PER_MS),
    1,
    route.key,
  );
  const read = await route.source.send(
    new GetObjectCommand({ Bucket: route.sourceBucket, Key: route.key, IfMatch: source.etag }),
  );
  const body = read.Body;
  if (!(body instanceof Readable)) throw new Error(`GetObject of ${route.key} returned no stream`);
  const upload = new Upload({
    client: route.target,
    queueSize: 2,
    partSize: 8 * 1024 * 1024,
    leavePartsOnError: false,
    params: {
      Bucket: route.targetBucket,
      Key: route.key,
      Body: maskedContents(body, format, work.masking.masker, fields),
      Metadata: metadata,
      ...source.headers,
      ...tagging(source.tags),
      ...replicaCondition(replica),
    },
  });
  await upload.done();
}

/** Gives a replica that holds the source's contents the source's tags, unless it has them. */
async function convergeTags(work: ObjectConvergence, source: Wanted): Promise<AppliedAction> {
  const { route } = work;
  const held = await readObjectTags(route.target, route.targetBucket, route.key);
  // Gone since its HEAD: another writer deleted it; read both sides again.
  if (held === undefined) throw new ReplicaMovedError();
  if (sameTags(held, source.tags)) return "skipped";
  await route.target.send(
    new PutObjectTaggingCommand({
      Bucket: route.targetBucket,
      Key: route.key,
      Tagging: { TagSet: source.tags.map(([Key, Value]) => ({ Key, Value })) },
    }),
  );
  return "tagged";
}

/** The replica changed between two reads of one round: the round starts again. */
class ReplicaMovedError extends Error {
  override readonly name = "ReplicaMovedError";

  constructor() {
    super("the replica changed while it was read");
  }
}

async function convergeOnce(work: ObjectConvergence): Promise<AppliedAction> {
  const { route, log } = work;
  // The replica's HEAD goes out while the source's is still under way: one round trip less.
  const [replica, source] = await Promise.all([
    work.replica === undefined
      ? readReplica(route.target, route.targetBucket, route.key)
      : work.replica.state,
    work.source,
  ]);
  if (source === undefined) {
    if (replica === undefined) return "absent";
    await route.target.send(
      new DeleteObjectCommand({
        Bucket: route.targetBucket,
        Key: route.key,
        IfMatch: replica.etag,
      }),
    );
    return "deleted";
  }
  if (work.masking?.rule?.exclude === true) {
    log.info("the key is under an excluded prefix: never replicated");
    return "excluded";
  }
  const wanted = wantedOf(source, work.masking);
  if (replica?.source === source.fingerprint && replica.masking === wanted.maskingVersion) {
    return convergeTags(work, wanted);
  }
  if (source.archived !== undefined) {
    log.info("source is archived: it replicates when it is restored", {
      archived: source.archived,
    });
    return "archived";
  }
  try {
    await copy(work, wanted, replica);
  } catch (error: unknown) {
    if (!isArchivedError(error)) throw error;
    log.info("source is archived: it replicates when it is restored", {
      error: summarizeError(error),
    });
    return "archived";
  }
  return "copied";
}

/**
 * Makes the target's copy of the key converge to the source's current state: copy when the
 * replica does not hold the source's contents, set its tags when only they differ, delete when
 * the source does not have the key, nothing when it already holds it (`skipped`) or the source
 * is archived (`archived`). When a conditional write loses a race, it reads both sides again
 * (bounded). The caller reads the source once more after the writes (replicator.ts).
 */
export async function convergeObject(work: ObjectConvergence): Promise<AppliedAction> {
  let current = work;
  for (let round = 1; ; round++) {
    try {
      return await convergeOnce(current);
    } catch (error: unknown) {
      if (
        !(isConflict(error) || error instanceof ReplicaMovedError) ||
        round >= MAX_CONFLICT_ROUNDS
      ) {
        throw error;
      }
      work.log.warn("conditional write lost a race; re-reading the source", { round });
      // The replica changed since it was seen (or known): read it again too.
      current = {
        ...work,
        source: await readSourceObject(work.route.source, work.route.sourceBucket, work.route.key),
        replica: undefined,
      };
    }
  }
}
