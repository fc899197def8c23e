/**
 * CopyObject of the S3 model, and the reading of a copy source it shares with UploadPartCopy.
 *
 * A copy reads its source when it starts (the source version, its body, metadata and tags as they
 * are then; the CopySourceIf* conditions are evaluated then) and takes effect when it finishes (the
 * destination's If-Match / If-None-Match are evaluated then, against the destination as it is then,
 * and the new object becomes visible then). Silent: the docs say neither; this is the order that
 * leaves the widest window for a concurrent change of the source or the destination.
 *
 * Silent choices (this file):
 * - A copy of a source archived or being restored checks the CopySourceIf* conditions first.
 * - "x-amz-website-redirect-location is unique to each object and is not copied when using the
 *   x-amz-metadata-directive header": the redirect is copied only when the request has no
 *   MetadataDirective at all; with COPY or REPLACE it is kept only if the request gives one.
 * - A copy onto itself counts as changing something when it gives MetadataDirective REPLACE, a
 *   StorageClass, a WebsiteRedirectLocation or an encryption header, the four things S3's error
 *   names (a TaggingDirective REPLACE alone does not).
 */
import { checkCopySource } from "./s3-conditions";
import { invalidArgument, invalidObjectState, invalidRequest } from "./s3-errors";
import { emitObjectCreated } from "./s3-events";
import {
  contentHeaders,
  optionalDate,
  optionalString,
  parseCopySource,
  required,
  taggingQuery,
  userMetadata,
  type Input,
} from "./s3-input";
import { readable, SSE } from "./s3-read";
import type { BucketState, ObjectAttributes, ObjectVersion, Tag } from "./s3-types";
import {
  attempt,
  checkWriteConditions,
  commit,
  GIB5,
  newVersion,
  storageClass,
  transferMs,
  writeStart,
} from "./s3-write";
import type { S3World } from "./s3-world";
import type { ModelCall, ModelOperation } from "./types";

export interface SourceRead {
  readonly bucket: BucketState;
  readonly key: string;
  readonly version: ObjectVersion;
  /** The source's tags when the copy started. */
  readonly tags: readonly Tag[];
  /** Whether the source was its key's current version when the copy started. */
  readonly current: boolean;
}

/**
 * "If your source bucket versioning is enabled, the x-amz-copy-source header by default identifies
 * the current version of an object to copy. If the current version is a delete marker, Amazon S3
 * behaves as if the object was deleted."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) "Before using an object as
 * a source object for the copy operation, you must restore a copy of it if it meets any of the
 * following conditions: The storage class of the source object is GLACIER or DEEP_ARCHIVE. The
 * storage class of the source object is INTELLIGENT_TIERING and it's S3 Intelligent-Tiering access
 * tier is Archive Access or Deep Archive Access."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html, x-amz-storage-class); S3
 * answers InvalidObjectState, "Operation is not valid for the source object's storage class", 403.
 * Silent: a version ID naming a delete marker answers 400 InvalidRequest.
 */
export function readSource(world: S3World, input: Input): SourceRead {
  const source = parseCopySource(required(input, "CopySource"));
  const bucket = world.sourceBucket(source.bucket, input.ExpectedSourceBucketOwner);
  const marker = bucket.keys
    .get(source.key)
    ?.versions.find((version) => version.versionId === source.versionId && version.deleteMarker);
  if (marker !== undefined) {
    throw invalidRequest(
      "The source of a copy request may not specifically refer to a delete marker by version id.",
    );
  }
  const version = world.readVersion(bucket, source.key, source.versionId, "body");
  checkCopySource(
    {
      ifMatch: optionalString(input, "CopySourceIfMatch"),
      ifNoneMatch: optionalString(input, "CopySourceIfNoneMatch"),
      ifModifiedSince: optionalDate(input, "CopySourceIfModifiedSince"),
      ifUnmodifiedSince: optionalDate(input, "CopySourceIfUnmodifiedSince"),
    },
    version,
    world.now(),
  );
  if (!readable(version)) {
    throw invalidObjectState(
      "Operation is not valid for the source object's storage class",
      version.storageClass,
      version.archiveStatus,
    );
  }
  return {
    bucket,
    key: source.key,
    version,
    tags: [...version.tags],
    current: world.currentVersion(bucket, source.key) === version,
  };
}

/**
 * "You can store individual objects of up to 50 TB in Amazon S3. You create a copy of your object
 * up to 5 GB in size in a single atomic action using this API. However, to copy an object greater
 * than 5 GB, you must use the multipart upload Upload Part - Copy (UploadPartCopy) API."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html); S3 answers 400
 * InvalidRequest "The specified copy source is larger than the maximum allowable size for a copy
 * source: 5368709120".
 */
export function copySourceTooLarge(): Error {
  return invalidRequest(
    `The specified copy source is larger than the maximum allowable size for a copy source: ${GIB5}`,
  );
}

/**
 * "This copy request is illegal because it is trying to copy an object to itself without changing
 * the object's metadata, storage class, website redirect location or encryption attributes." (S3's
 * InvalidRequest, 400). "The only way to modify object metadata is to make a copy of the object and
 * set the metadata. In the copy operation you set the same object as the source and target."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/copy-object.html)
 */
function checkSelfCopy(input: Input, source: SourceRead): void {
  const sameObject =
    source.current &&
    source.bucket.name === required(input, "Bucket") &&
    source.key === required(input, "Key");
  if (!sameObject) return;
  const changes = [
    input.MetadataDirective === "REPLACE",
    input.StorageClass !== undefined,
    input.WebsiteRedirectLocation !== undefined,
    input.ServerSideEncryption !== undefined,
    input.SSEKMSKeyId !== undefined,
    input.SSECustomerAlgorithm !== undefined,
  ];
  if (!changes.includes(true)) {
    throw invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
}

function directive(
  input: Input,
  name: "MetadataDirective" | "TaggingDirective",
): string | undefined {
  const value = optionalString(input, name);
  if (value !== undefined && value !== "COPY" && value !== "REPLACE") {
    throw invalidArgument(
      `Unknown ${name === "MetadataDirective" ? "metadata" : "tagging"} directive.`,
      {
        ArgumentName:
          name === "MetadataDirective" ? "x-amz-metadata-directive" : "x-amz-tagging-directive",
      },
    );
  }
  return value;
}

/**
 * MetadataDirective: "Specifies whether the metadata is copied from the source object or replaced
 * with metadata that's provided in the request. ... If this header isn't specified, COPY is the
 * default behavior." TaggingDirective: "Specifies whether the object tag-set is copied from the
 * source object or replaced with the tag-set that's provided in the request. The default value is
 * COPY." Tagging: "The tag-set for the object copy in the destination bucket. This value must be
 * used in conjunction with the x-amz-tagging-directive if you choose REPLACE". StorageClass: "If
 * the x-amz-storage-class header is not used, the copied object will be stored in the STANDARD
 * Storage Class by default." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html)
 */
function copyAttributes(input: Input, source: SourceRead): ObjectAttributes {
  const metadataDirective = directive(input, "MetadataDirective");
  const replace = metadataDirective === "REPLACE";
  const from = source.version;
  return {
    metadata: replace ? userMetadata(input) : from.metadata,
    headers: replace ? contentHeaders(input, "binary/octet-stream") : from.headers,
    websiteRedirectLocation:
      optionalString(input, "WebsiteRedirectLocation") ??
      (metadataDirective === undefined ? from.websiteRedirectLocation : undefined),
    storageClass: storageClass(input),
    tags: directive(input, "TaggingDirective") === "REPLACE" ? taggingQuery(input) : source.tags,
  };
}

/**
 * CopyObject. "If the source object is an object that was uploaded by using a multipart upload, the
 * object copy will be a single part object after the source object is copied to the destination
 * bucket." "If you enable versioning on the destination bucket, Amazon S3 generates a unique
 * version ID for the copied object."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html) EventBridge: Object Created
 * with reason CopyObject.
 */
export function copyObject(world: S3World, call: ModelCall): ModelOperation {
  const start = writeStart(world, call);
  const read = attempt(() => {
    const source = readSource(world, call.input);
    if (source.version.body.size > GIB5) throw copySourceTooLarge();
    checkSelfCopy(call.input, source);
    return source;
  });
  return {
    durationMs: read.ok ? transferMs(read.value.version.body.size) : 0,
    finish: () => {
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      if (!read.ok) throw read.error;
      const source = read.value;
      const attributes = copyAttributes(input, source);
      checkWriteConditions(world, bucket, key, input, start);
      const body = source.version.body;
      const version = newVersion(world, bucket, body, body.etag(), attributes);
      commit(world, bucket, key, version);
      emitObjectCreated({ world, bucket, key, requestId: start.requestId }, version, "CopyObject");
      const out: Record<string, unknown> = {
        CopyObjectResult: { ETag: version.etag, LastModified: new Date(version.lastModified) },
        ServerSideEncryption: SSE,
      };
      if (bucket.versioning) out.VersionId = version.versionId;
      if (source.bucket.versioning) out.CopySourceVersionId = source.version.versionId;
      return out;
    },
  };
}
