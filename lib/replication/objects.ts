/**
 * Replicates one object change into one target bucket by server-side copy only (CopyObject,
 * or CreateMultipartUpload + UploadPartCopy above 5 GiB); object bodies never pass through
 * the function. Each replica records the applied S3 sequencer in its metadata; writes are
 * conditional on the replica (IfMatch / IfNoneMatch) and on the source (CopySourceIfMatch),
 * so a stale or concurrent change can never overwrite a newer one.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ReplicationTarget } from "./contract";
import type { ObjectChange } from "./events";
import { statusOf } from "./errors";
import type { AppliedAction } from "./outcome";
import { OBJECT_SEQUENCE_METADATA, compareS3Sequencers } from "./sequence";

/** CopyObject copies at most 5 GiB; larger objects need a multipart copy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;
/** Smallest part of a multipart copy (S3 allows at most 10,000 parts). */
export const MIN_PART_BYTES = 512 * 1024 ** 2;
const MAX_PARTS = 10_000;
const PART_CONCURRENCY = 4;
/** Re-reads after a conditional write lost a race (optimistic concurrency, not a retry backoff). */
export const MAX_CONFLICT_ROUNDS = 3;

/** What a HeadObject on the source says; `undefined` when the key does not exist. */
export interface SourceObject {
  readonly etag: string;
  readonly size: number;
  readonly metadata: Record<string, string>;
  readonly contentType?: string;
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentEncoding?: string;
  readonly contentLanguage?: string;
}

interface ReplicaObject {
  readonly etag: string;
  readonly sequencer: string | undefined;
}

/** `bucket/key` with each key segment percent-encoded ('/' kept), as x-amz-copy-source needs. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

async function head(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<
  { etag: string; size: number; metadata: Record<string, string>; raw: SourceObject } | undefined
> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const metadata = out.Metadata ?? {};
    const etag = out.ETag ?? "";
    const size = out.ContentLength ?? 0;
    return {
      etag,
      size,
      metadata,
      raw: {
        etag,
        size,
        metadata,
        contentType: out.ContentType,
        cacheControl: out.CacheControl,
        contentDisposition: out.ContentDisposition,
        contentEncoding: out.ContentEncoding,
        contentLanguage: out.ContentLanguage,
      },
    };
  } catch (error: unknown) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** Reads the source object's current state once per event (HeadObject, no body). */
export async function readSourceObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<SourceObject | undefined> {
  return (await head(s3, bucket, key))?.raw;
}

async function readReplica(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ReplicaObject | undefined> {
  const found = await head(s3, bucket, key);
  return found && { etag: found.etag, sequencer: found.metadata[OBJECT_SEQUENCE_METADATA] };
}

/** The replica's headers: the source's metadata and content headers plus the applied sequencer. */
function replicaHeaders(source: SourceObject, sequencer: string) {
  const metadata = Object.fromEntries(
    Object.entries(source.metadata).filter(([name]) => name !== OBJECT_SEQUENCE_METADATA),
  );
  return {
    Metadata: { ...metadata, [OBJECT_SEQUENCE_METADATA]: sequencer },
    ContentType: source.contentType,
    CacheControl: source.cacheControl,
    ContentDisposition: source.contentDisposition,
    ContentEncoding: source.contentEncoding,
    ContentLanguage: source.contentLanguage,
  };
}

/** The conditional-write header guarding the replica as we last saw it. */
function replicaCondition(
  replica: ReplicaObject | undefined,
): { IfMatch: string } | { IfNoneMatch: string } {
  return replica ? { IfMatch: replica.etag } : { IfNoneMatch: "*" };
}

/** Multipart server-side copy for objects above 5 GiB; aborts the upload on any failure. */
export async function multipartCopy(
  s3: S3Client,
  sourceBucket: string,
  key: string,
  target: ReplicationTarget,
  source: SourceObject,
  sequencer: string,
  replica: ReplicaObject | undefined,
): Promise<void> {
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: target.bucket,
      Key: key,
      ...replicaHeaders(source, sequencer),
    }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) {
    throw new Error(`CreateMultipartUpload returned no UploadId for ${target.bucket}/${key}`);
  }
  const partSize = Math.max(MIN_PART_BYTES, Math.ceil(source.size / MAX_PARTS));
  const partCount = Math.ceil(source.size / partSize);
  const etags: string[] = new Array<string>(partCount);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < partCount) {
      const index = next++;
      const start = index * partSize;
      const end = Math.min(source.size, start + partSize) - 1;
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket: target.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: index + 1,
          CopySource: copySource(sourceBucket, key),
          CopySourceIfMatch: source.etag,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      etags[index] = part.CopyPartResult?.ETag ?? "";
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, partCount) }, worker));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        ...replicaCondition(replica),
      }),
    );
  } catch (error: unknown) {
    await s3
      .send(
        new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }),
      )
      .catch(() => undefined);
    throw error;
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

async function applyOnce(
  s3: S3Client,
  change: ObjectChange,
  target: ReplicationTarget,
  sourceRead: SourceRead,
  log: Logger,
): Promise<AppliedAction> {
  // The replica's HEAD goes out while the source's is still under way: one round trip less.
  const [replica, source] = await Promise.all([
    readReplica(s3, target.bucket, change.key),
    sourceRead,
  ]);
  if (
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
    await s3.send(
      new DeleteObjectCommand({ Bucket: target.bucket, Key: change.key, IfMatch: replica.etag }),
    );
    return "deleted";
  }
  if (source.size > MAX_COPY_OBJECT_BYTES) {
    await multipartCopy(s3, change.bucket, change.key, target, source, change.sequencer, replica);
    return "copied";
  }
  await s3.send(
    new CopyObjectCommand({
      Bucket: target.bucket,
      Key: change.key,
      CopySource: copySource(change.bucket, change.key),
      CopySourceIfMatch: source.etag,
      MetadataDirective: "REPLACE",
      ...replicaHeaders(source, change.sequencer),
      ...replicaCondition(replica),
    }),
  );
  return "copied";
}

/**
 * Makes the target's copy of the key converge to the source state: copy when the source has the
 * key, delete when it does not, skip when the replica already records this or a newer sequencer.
 * When a conditional write loses a race it re-reads the source and tries again (bounded).
 */
export async function applyObjectChange(
  s3: S3Client,
  change: ObjectChange,
  target: ReplicationTarget,
  source: SourceRead,
  log: Logger,
): Promise<AppliedAction> {
  let current = source;
  for (let round = 1; ; round++) {
    try {
      return await applyOnce(s3, change, target, current, log);
    } catch (error: unknown) {
      if (!isConflict(error) || round >= MAX_CONFLICT_ROUNDS) throw error;
      log.warn("conditional write lost a race; re-reading the source", { round });
      current = await readSourceObject(s3, change.bucket, change.key);
    }
  }
}
