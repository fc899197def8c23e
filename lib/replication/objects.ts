/**
 * Converges one target's copy of a key to the source's current state by server-side copy only
 * (CopyObject, or CreateMultipartUpload + UploadPartCopy above 5 GiB); object bodies never pass
 * through the function. A replica carries what S3 Replication carries: user metadata, content
 * headers, `Expires`, `WebsiteRedirectLocation`, storage class and tags
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-what-is-isnot-replicated.html),
 * plus two markers in its metadata: the S3 sequencer of the change applied, and a fingerprint of
 * the source state it was copied from. A change after which the key's current state is what the
 * replica already holds (a redelivery, a lifecycle expiration of an old version) costs a HEAD,
 * never a copy. Writes are conditional on the replica as seen (IfMatch / IfNoneMatch) and on the
 * source as read (CopySourceIfMatch), so a stale or concurrent change never overwrites a newer one.
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
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
  type S3Client,
  type StorageClass,
  type Tag,
} from "@aws-sdk/client-s3";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ObjectChange } from "./events";
import { MetadataTooLargeError, TimeBudgetError, statusOf } from "./errors";
import type { AppliedAction } from "./outcome";
import { OBJECT_SEQUENCE_METADATA, OBJECT_SOURCE_METADATA, compareS3Sequencers } from "./sequence";
import { copyRate, type TimeBudget } from "./time-budget";

/** CopyObject copies at most 5 GiB; larger objects need a multipart copy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/** Smallest part of a multipart copy here (S3 allows 5 MiB to 5 GiB, at most 10,000 parts). */
export const MIN_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
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

/** What a HeadObject on the source says; `undefined` when the key does not exist. */
export interface SourceObject {
  readonly etag: string;
  readonly size: number;
  /** Identifies this state of the source (version, body, metadata, headers). */
  readonly fingerprint: string;
  /** User metadata, without the replication markers. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly headers: ReplicaHeaders;
}

/** What a HeadObject on a replica says about what it holds. */
export interface ReplicaObject {
  readonly etag: string;
  /** The sequencer of the change it holds, when it was written by replication. */
  readonly sequencer: string | undefined;
  /** The fingerprint of the source state it was copied from. */
  readonly source: string | undefined;
}

/** `bucket/key` with each key segment percent-encoded ('/' kept): "The value must be URL-encoded". */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

const MARKERS: readonly string[] = [OBJECT_SEQUENCE_METADATA, OBJECT_SOURCE_METADATA];

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
  return createHash("sha256")
    .update(
      JSON.stringify([
        state.versionId ?? null,
        state.etag,
        state.lastModified?.toISOString() ?? null,
        metadata,
        state.headers,
      ]),
    )
    .digest("base64url")
    .slice(0, 22);
}

async function head(s3: S3Client, bucket: string, key: string) {
  try {
    return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error: unknown) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** Reads the source object's current state (HeadObject, no body); `undefined` when absent. */
export async function readSourceObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  const out = await head(s3, bucket, key);
  if (out === undefined) return undefined;
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
    fingerprint: fingerprintOf({
      versionId: out.VersionId,
      etag,
      lastModified: out.LastModified,
      metadata,
      headers,
    }),
  };
}

/** Reads what a replica holds; `undefined` when the key does not exist in the target. */
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
  };
}

/** The replica's user metadata: the source's plus the markers; throws when S3 would refuse it. */
export function replicaMetadata(
  source: SourceObject,
  sequencer: string | undefined,
): Record<string, string> {
  const metadata: Record<string, string> = {
    ...source.metadata,
    ...(sequencer === undefined ? {} : { [OBJECT_SEQUENCE_METADATA]: sequencer }),
    [OBJECT_SOURCE_METADATA]: source.fingerprint,
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
async function sourceTagging(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return new URLSearchParams(
    (out.TagSet ?? []).map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""]),
  ).toString();
}

/** Where a change is copied from and to, with the clients of each side's region. */
export interface ObjectRoute {
  readonly source: S3Client;
  readonly target: S3Client;
  readonly sourceBucket: string;
  readonly targetBucket: string;
  readonly key: string;
}

/**
 * Multipart server-side copy for objects above 5 GiB. Metadata and tags are set on
 * CreateMultipartUpload (a multipart copy carries neither over by itself). The upload is
 * aborted on any failure, and before the invocation's time runs out: a timeout never leaves a
 * half-done upload behind (the bucket's 7-day abort rule is the last resort, not the plan).
 */
export async function multipartCopy(
  route: ObjectRoute,
  source: SourceObject,
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
      Tagging: await sourceTagging(route.source, route.sourceBucket, Key),
    }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) {
    throw new Error(`CreateMultipartUpload returned no UploadId for ${Bucket}/${Key}`);
  }
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(source.size / MAX_PARTS));
  const partCount = Math.ceil(source.size / partSize);
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
      const end = Math.min(source.size, start + partSize) - 1;
      const part = await target.send(
        new UploadPartCopyCommand({
          Bucket,
          Key,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: copySource(route.sourceBucket, Key),
          CopySourceIfMatch: source.etag,
          CopySourceRange: `bytes=${start}-${end}`,
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

/** A write lost a race: the source changed since we read it, or the replica since we looked. */
function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 412 || status === 409) return true;
  return (
    error instanceof Error && (error.name === "NoSuchKey" || error.name === "PreconditionFailed")
  );
}

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
  /**
   * Whether a write is followed by a read of the source here. `false` only for a caller that
   * reads the source again itself after all its writes of a round (a resync's checked rounds,
   * lib/replication/resync.ts), which is the same check once per key. @default true
   */
  readonly verify?: boolean;
}

/** Copies the source's current state over the replica (or creates it). */
async function copy(
  work: ObjectConvergence,
  source: SourceObject,
  replica: ReplicaObject | undefined,
): Promise<void> {
  const { route, change, budget } = work;
  // A resync or a tag event carries no sequencer: keep the replica's, as a lower bound.
  const metadata = replicaMetadata(source, change.sequencer ?? replica?.sequencer);
  const multipart = source.size > MAX_COPY_OBJECT_BYTES;
  budget.requireTimeFor(source.size, multipart ? PART_CONCURRENCY : 1, route.key);
  const started = Date.now();
  if (multipart) {
    await multipartCopy(route, source, metadata, replica, budget);
  } else {
    await route.target.send(
      new CopyObjectCommand({
        Bucket: route.targetBucket,
        Key: route.key,
        CopySource: copySource(route.sourceBucket, route.key),
        CopySourceIfMatch: source.etag,
        MetadataDirective: "REPLACE",
        // TaggingDirective COPY (the default) brings the source's tags along.
        Metadata: metadata,
        ...source.headers,
        ...replicaCondition(replica),
      }),
    );
  }
  copyRate.observe(source.size, Date.now() - started);
}

async function convergeContentsOnce(work: ObjectConvergence): Promise<AppliedAction> {
  const { route, change, log } = work;
  // The replica's HEAD goes out while the source's is still under way: one round trip less.
  const [replica, source] = await Promise.all([
    work.replica === undefined
      ? readReplica(route.target, route.targetBucket, route.key)
      : work.replica.state,
    work.source,
  ]);
  if (
    change.sequencer !== undefined &&
    replica?.sequencer !== undefined &&
    compareS3Sequencers(replica.sequencer, change.sequencer) >= 0
  ) {
    log.info("replica already has this change or a newer one", {
      replicaSequencer: replica.sequencer,
      sequencer: change.sequencer,
    });
    return "skipped";
  }
  if (source === undefined) {
    if (replica === undefined) return "absent";
    await route.target.send(
      new DeleteObjectCommand({
        Bucket: route.targetBucket,
        Key: route.key,
        IfMatch: replica.etag,
      }),
    );
    return verifySource(work, undefined, "deleted");
  }
  if (replica?.source === source.fingerprint) {
    log.info("replica already holds the source's current state", { change: change.description });
    return "skipped";
  }
  await copy(work, source, replica);
  return verifySource(work, source, "copied");
}

/** The source moved on while a round wrote its previous state: the next round starts from here. */
class SourceMovedError extends Error {
  override readonly name = "SourceMovedError";

  constructor(
    readonly current: SourceObject | undefined,
    readonly action: AppliedAction,
  ) {
    super("the source changed while its previous state was written");
  }
}

/**
 * Reads the source again after a write. Conditional writes cannot tell two states of one body
 * apart (a metadata-only rewrite keeps the ETag on both sides), so a round that read an older
 * state could land after the round that wrote the newer one; when the source still holds what
 * was written, any later change is written after this one, by its own event.
 */
async function verifySource(
  work: ObjectConvergence,
  written: SourceObject | undefined,
  action: AppliedAction,
): Promise<AppliedAction> {
  const { route } = work;
  if (work.verify === false) return action;
  const current = await readSourceObject(route.source, route.sourceBucket, route.key);
  if (current?.fingerprint !== written?.fingerprint) throw new SourceMovedError(current, action);
  return action;
}

const tagSet = (tags: readonly Tag[] | undefined): string =>
  JSON.stringify(
    (tags ?? [])
      .map((tag): [string, string] => [tag.Key ?? "", tag.Value ?? ""])
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );

/**
 * A tag-only change: when the replica holds the source's current version, give it the source's
 * tags, and check again after writing (another tag change may have raced this one). When it does
 * not, the copy that brings it up to date copies the tags too.
 */
async function convergeTags(work: ObjectConvergence): Promise<AppliedAction> {
  const { route, log } = work;
  const [replica, source] = await Promise.all([
    readReplica(route.target, route.targetBucket, route.key),
    work.source,
  ]);
  if (source === undefined || replica?.source !== source.fingerprint) {
    log.info("replica is not at the source's current version: its copy brings the tags");
    return "skipped";
  }
  for (let round = 1; ; round++) {
    const [wanted, held] = await Promise.all([
      route.source.send(
        new GetObjectTaggingCommand({ Bucket: route.sourceBucket, Key: route.key }),
      ),
      route.target.send(
        new GetObjectTaggingCommand({ Bucket: route.targetBucket, Key: route.key }),
      ),
    ]);
    if (tagSet(wanted.TagSet) === tagSet(held.TagSet)) return round === 1 ? "skipped" : "tagged";
    if (round > MAX_CONFLICT_ROUNDS) {
      throw new Error(`the source's tags of ${route.key} kept changing while they were copied`);
    }
    await route.target.send(
      new PutObjectTaggingCommand({
        Bucket: route.targetBucket,
        Key: route.key,
        Tagging: { TagSet: wanted.TagSet ?? [] },
      }),
    );
  }
}

/**
 * Makes the target's copy of the key converge to the source's current state: copy when the
 * source has the key, delete when it does not, skip when the replica already records this or a
 * newer change or already holds the current state. After a write it reads the source again, and
 * when a conditional write loses a race or the source moved on, it goes again (bounded).
 */
export async function convergeObject(work: ObjectConvergence): Promise<AppliedAction> {
  if (work.change.scope === "tags") return convergeTags(work);
  let current = work;
  for (let round = 1; ; round++) {
    try {
      return await convergeContentsOnce(current);
    } catch (error: unknown) {
      if (error instanceof SourceMovedError) {
        // A source that keeps changing: each of its changes has an event of its own.
        if (round >= MAX_CONFLICT_ROUNDS) return error.action;
        work.log.info("the source changed during the write; converging again", { round });
        current = { ...work, source: error.current, replica: undefined };
        continue;
      }
      if (!isConflict(error) || round >= MAX_CONFLICT_ROUNDS) throw error;
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
