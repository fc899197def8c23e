/**
 * Multipart uploads of the S3 model: CreateMultipartUpload, UploadPart, UploadPartCopy,
 * CompleteMultipartUpload, AbortMultipartUpload.
 *
 * Limits: "Maximum number of parts per upload: 10,000. Part numbers: 1 to 10,000 (inclusive). Part
 * size: 5 MiB to 5 GiB. There is no minimum size limit on the last part of your multipart upload."
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html) "If you upload a new part
 * using the same part number that was used with a previous part, the previously uploaded part is
 * overwritten." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html) "Upon
 * receiving this request, Amazon S3 concatenates all the parts in ascending order by part number to
 * create a new object. ... you must provide the parts list and ensure that the parts list is
 * complete." (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html)
 *
 * Silent choices (this file):
 * - CompleteMultipartUpload checks, in order: the parts list is not empty (400 MalformedXML), in
 *   ascending order without repeats (InvalidPartOrder), every part uploaded with that ETag
 *   (InvalidPart), every part but the last at least 5 MiB (EntityTooSmall), then the destination's
 *   If-Match / If-None-Match. Parts not listed are discarded.
 * - A 412 leaves the upload in place; a 409 ends it ("On a 409 failure you should re-initiate the
 *   multipart upload with CreateMultipartUpload and re-upload each part",
 *   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html IfNoneMatch).
 *   A completed upload no longer exists: a retried CompleteMultipartUpload answers 404 NoSuchUpload
 *   ("The upload ID might be invalid, or the multipart upload might have been aborted or
 *   completed").
 * - UploadPart / UploadPartCopy check the part number (400 InvalidArgument) and the part's size
 *   (over 5 GiB: 400 EntityTooLarge / InvalidRequest) when they finish; a part uploaded to an
 *   upload aborted or completed in the meantime answers NoSuchUpload.
 * - A CopySourceRange that does not parse as bytes=first-last answers 400 InvalidArgument; one past
 *   the end of the source, 400 InvalidArgument "Range specified is not valid for source object of
 *   size: N".
 */
import { Body, multipartEtag } from "./s3-body";
import { noSuchUpload, invalidArgument, invalidRequest, malformedXml, s3Error } from "./s3-errors";
import { bareEtag } from "./s3-conditions";
import { copySourceTooLarge, readSource } from "./s3-copy";
import { emitObjectCreated } from "./s3-events";
import {
  bodyBytes,
  encodeKeyForLocation,
  isRecord,
  optionalNumber,
  required,
  type Input,
} from "./s3-input";
import { SSE } from "./s3-read";
import type { BucketState, Upload } from "./s3-types";
import {
  attempt,
  checkWriteConditions,
  commit,
  GIB5,
  newVersion,
  requestAttributes,
  transferMs,
  writeOutput,
  writeStart,
} from "./s3-write";
import type { S3World } from "./s3-world";
import type { ModelCall, ModelOperation } from "./types";

export const MIB5 = 5 * 1024 * 1024;

/**
 * "Initiates a multipart upload and returns an upload ID."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html)
 */
export function createMultipartUpload(world: S3World, call: ModelCall): Record<string, unknown> {
  const { input } = call;
  const bucket = world.bucketFor(call, required(input, "Bucket"));
  const key = required(input, "Key");
  const attributes = requestAttributes(input, "binary/octet-stream");
  const id = world.uploadId();
  bucket.uploads.set(id, { id, key, initiated: world.nowSeconds(), attributes, parts: new Map() });
  return { Bucket: bucket.name, Key: key, UploadId: id, ServerSideEncryption: SSE };
}

/**
 * "NoSuchUpload — The specified multipart upload does not exist. ... 404"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html)
 */
function upload(bucket: BucketState, input: Input): Upload {
  const id = required(input, "UploadId");
  const found = bucket.uploads.get(id);
  if (found === undefined) throw noSuchUpload(id);
  if (found.key !== required(input, "Key")) throw noSuchUpload(id);
  return found;
}

function partNumber(input: Input): number {
  const number = optionalNumber(input, "PartNumber");
  if (number === undefined || !Number.isInteger(number) || number < 1 || number > 10000) {
    throw invalidArgument("Part number must be an integer between 1 and 10000, inclusive", {
      ArgumentName: "partNumber",
      ArgumentValue: String(number),
    });
  }
  return number;
}

export function uploadPart(world: S3World, call: ModelCall): ModelOperation {
  const read = attempt(() => bodyBytes(call.input));
  const bytes = read.ok ? read.value : new Uint8Array(0);
  return {
    durationMs: transferMs(bytes.length),
    finish: () => {
      if (!read.ok) throw read.error;
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const target = upload(bucket, input);
      const number = partNumber(input);
      if (bytes.length > GIB5) {
        throw s3Error(
          "EntityTooLarge",
          400,
          "Your proposed upload exceeds the maximum allowed size",
        );
      }
      const body = Body.of(bytes);
      target.parts.set(number, { body, etag: body.etag(), lastModified: world.nowSeconds() });
      return { ETag: body.etag(), ServerSideEncryption: SSE };
    },
  };
}

/**
 * CopySourceRange: "The range value must use the form bytes=first-last, where the first and last
 * are the zero-based byte offsets to copy. ... You can copy a range only if the source object is
 * greater than 5 MB." Special error: "InvalidRequest — The specified copy source is not supported
 * as a byte-range copy source. — 400"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html)
 */
function copyRange(header: string | undefined, size: number): { start: number; end: number } {
  if (header === undefined) return { start: 0, end: size };
  const match = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (match === null) {
    throw invalidArgument(
      "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
      { ArgumentName: "x-amz-copy-source-range", ArgumentValue: header },
    );
  }
  if (size <= MIB5) {
    throw invalidRequest("The specified copy source is not supported as a byte-range copy source.");
  }
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (last < first || last >= size) {
    throw invalidArgument(`Range specified is not valid for source object of size: ${size}`, {
      ArgumentName: "x-amz-copy-source-range",
      ArgumentValue: header,
    });
  }
  return { start: first, end: last + 1 };
}

/**
 * "Uploads a part by copying data from an existing object as data source."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html)
 */
export function uploadPartCopy(world: S3World, call: ModelCall): ModelOperation {
  const read = attempt(() => {
    const source = readSource(world, call.input);
    const range = copyRange(
      typeof call.input.CopySourceRange === "string" ? call.input.CopySourceRange : undefined,
      source.version.body.size,
    );
    if (range.end - range.start > GIB5) throw copySourceTooLarge();
    return { source, body: source.version.body.slice(range.start, range.end) };
  });
  return {
    durationMs: read.ok ? transferMs(read.value.body.size) : 0,
    finish: () => {
      const { input } = call;
      const bucket = world.bucketFor(call, required(input, "Bucket"));
      const target = upload(bucket, input);
      const number = partNumber(input);
      if (!read.ok) throw read.error;
      const { source, body } = read.value;
      const part = { body, etag: body.etag(), lastModified: world.nowSeconds() };
      target.parts.set(number, part);
      const out: Record<string, unknown> = {
        CopyPartResult: { ETag: part.etag, LastModified: new Date(part.lastModified) },
        ServerSideEncryption: SSE,
      };
      if (source.bucket.versioning) out.CopySourceVersionId = source.version.versionId;
      return out;
    },
  };
}

interface ListedPart {
  readonly number: number;
  readonly etag: string;
}

function listedParts(input: Input): ListedPart[] {
  const upload = input.MultipartUpload;
  const parts = isRecord(upload) ? upload.Parts : undefined;
  if (!Array.isArray(parts) || parts.length === 0) throw malformedXml();
  return parts.map((part) => {
    if (!isRecord(part) || typeof part.PartNumber !== "number" || typeof part.ETag !== "string") {
      throw malformedXml();
    }
    return { number: part.PartNumber, etag: part.ETag };
  });
}

/**
 * "EntityTooSmall — Your proposed upload is smaller than the minimum allowed object size. Each part
 * must be at least 5 MB in size, except the last part." "InvalidPart — One or more of the specified
 * parts could not be found. The part might not have been uploaded, or the specified ETag might not
 * have matched the uploaded part's ETag." "InvalidPartOrder — The list of parts was not in
 * ascending order. The parts list must be specified in order by part number."
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html)
 */
function assemble(target: Upload, listed: readonly ListedPart[]): Body[] {
  for (let i = 1; i < listed.length; i++) {
    const previous = listed[i - 1];
    const part = listed[i];
    if (previous !== undefined && part !== undefined && part.number <= previous.number) {
      throw s3Error(
        "InvalidPartOrder",
        400,
        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
      );
    }
  }
  const bodies = listed.map(({ number, etag }) => {
    const part = target.parts.get(number);
    if (part === undefined || bareEtag(part.etag) !== bareEtag(etag)) {
      throw s3Error(
        "InvalidPart",
        400,
        "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        "body",
        { UploadId: target.id, PartNumber: String(number), ETag: etag },
      );
    }
    return part.body;
  });
  bodies.slice(0, -1).forEach((body) => {
    if (body.size < MIB5) {
      throw s3Error(
        "EntityTooSmall",
        400,
        "Your proposed upload is smaller than the minimum allowed size",
        "body",
        {
          MinSizeAllowed: String(MIB5),
          ProposedSize: String(body.size),
        },
      );
    }
  });
  return bodies;
}

/**
 * "Completes a multipart upload by assembling previously uploaded parts." EventBridge reason:
 * CompleteMultipartUpload.
 */
export function completeMultipartUpload(world: S3World, call: ModelCall): ModelOperation {
  const start = writeStart(world, call);
  const bucket = world.buckets.get(typeof call.input.Bucket === "string" ? call.input.Bucket : "");
  const pending =
    typeof call.input.UploadId === "string" ? bucket?.uploads.get(call.input.UploadId) : undefined;
  const size = [...(pending?.parts.values() ?? [])].reduce(
    (total, part) => total + part.body.size,
    0,
  );
  return {
    durationMs: transferMs(size),
    finish: () => {
      const { input } = call;
      const destination = world.bucketFor(call, required(input, "Bucket"));
      const key = required(input, "Key");
      const target = upload(destination, input);
      const bodies = assemble(target, listedParts(input));
      try {
        checkWriteConditions(world, destination, key, input, start);
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalRequestConflict") {
          destination.uploads.delete(target.id);
        }
        throw error;
      }
      const body = Body.concat(bodies);
      // "Last-Modified — The object creation date or the last modified date, whichever is the
      // latest. For multipart uploads, the object creation date is the date of initiation of the
      // multipart upload." (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html)
      const version = newVersion(
        world,
        destination,
        body,
        multipartEtag(bodies),
        target.attributes,
        {
          partSizes: bodies.map((part) => part.size),
          initiated: target.initiated,
        },
      );
      commit(world, destination, key, version);
      destination.uploads.delete(target.id);
      emitObjectCreated(
        { world, bucket: destination, key, requestId: start.requestId },
        version,
        "CompleteMultipartUpload",
      );
      return {
        Location: `https://${destination.name}.s3.${destination.region}.amazonaws.com/${encodeKeyForLocation(key)}`,
        Bucket: destination.name,
        Key: key,
        ...writeOutput(destination, version),
      };
    },
  };
}

/**
 * "This operation aborts a multipart upload." Special error NoSuchUpload
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html).
 */
export function abortMultipartUpload(world: S3World, call: ModelCall): Record<string, unknown> {
  const { input } = call;
  const bucket = world.bucketFor(call, required(input, "Bucket"));
  const target = upload(bucket, input);
  bucket.uploads.delete(target.id);
  return {};
}
