/** Unit tests of object replication with a mocked S3 client (lib/replication/objects.ts). */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ObjectChange } from "../../lib/replication/events";
import { logger } from "../../lib/replication/logger";
import {
  MAX_CONFLICT_ROUNDS,
  MAX_COPY_OBJECT_BYTES,
  MIN_PART_BYTES,
  applyObjectChange,
  copySource,
  readSourceObject,
  type SourceObject,
} from "../../lib/replication/objects";

const s3 = new S3Client({ region: "us-east-1" });
const mock = mockClient(s3);
const target = { environment: "dev", bucket: "dev-bucket", table: "dev-table" };
const change: ObjectChange = {
  kind: "object",
  eventId: "e-1",
  detailType: "Object Created",
  bucket: "prod-bucket",
  key: "dir/my file+1.txt",
  sequencer: "0055AED6DCD90281E5",
};
const source: SourceObject = {
  etag: '"abc"',
  size: 10,
  metadata: { owner: "ada", "replication-sequencer": "FFFF" },
  contentType: "text/plain",
  cacheControl: "max-age=60",
};

const s3Error = (name: string, status: number): S3ServiceException =>
  new S3ServiceException({
    name,
    message: name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
  });

beforeEach(() => {
  mock.reset();
  logger.setLogLevel("SILENT");
});

describe("copySource", () => {
  it("percent-encodes each key segment and keeps the slashes", () => {
    expect(copySource("b", "a b/c+d%e/ü &=?#.txt")).toBe(
      "b/a%20b/c%2Bd%25e/%C3%BC%20%26%3D%3F%23.txt",
    );
  });
});

describe("readSourceObject", () => {
  it("returns the source's metadata and content headers", async () => {
    mock.on(HeadObjectCommand).resolves({
      ETag: '"e"',
      ContentLength: 3,
      Metadata: { a: "1" },
      ContentType: "image/png",
      ContentEncoding: "gzip",
    });
    await expect(readSourceObject(s3, "b", "k")).resolves.toEqual({
      etag: '"e"',
      size: 3,
      metadata: { a: "1" },
      contentType: "image/png",
      contentEncoding: "gzip",
      cacheControl: undefined,
      contentDisposition: undefined,
      contentLanguage: undefined,
    });
  });

  it("returns undefined when the key does not exist", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    await expect(readSourceObject(s3, "b", "k")).resolves.toBeUndefined();
  });

  it("rethrows other errors", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("AccessDenied", 403));
    await expect(readSourceObject(s3, "b", "k")).rejects.toThrow("AccessDenied");
  });

  it("defaults missing fields", async () => {
    mock.on(HeadObjectCommand).resolves({});
    await expect(readSourceObject(s3, "b", "k")).resolves.toMatchObject({
      etag: "",
      size: 0,
      metadata: {},
    });
  });
});

describe("applyObjectChange", () => {
  it("reads the replica while the source read is still under way, then copies", async () => {
    // Prepare: a source read that has not answered yet
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CopyObjectCommand).resolves({});
    let answer: (value: SourceObject) => void = () => undefined;
    const pending = new Promise<SourceObject>((resolve) => {
      answer = resolve;
    });
    // Act
    const applied = applyObjectChange(s3, change, target, pending, logger);
    await new Promise((resolve) => setImmediate(resolve));
    // Assess: the replica HEAD went out before the source answered; nothing was written yet
    expect(mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: "dev-bucket" });
    expect(mock).not.toHaveReceivedCommand(CopyObjectCommand);
    answer(source);
    await expect(applied).resolves.toBe("copied");
    expect(mock).toHaveReceivedCommandWith(CopyObjectCommand, { CopySourceIfMatch: '"abc"' });
  });

  it("writes nothing when the shared source read fails", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    const failed = Promise.reject(s3Error("AccessDenied", 403));
    await expect(applyObjectChange(s3, change, target, failed, logger)).rejects.toThrow(
      "AccessDenied",
    );
    expect(mock).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(mock).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it("copies server-side into an absent replica, preserving metadata and recording the sequencer", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CopyObjectCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("copied");
    expect(mock).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: "dev-bucket",
      Key: "dir/my file+1.txt",
    });
    expect(mock).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: "dev-bucket",
      Key: "dir/my file+1.txt",
      CopySource: "prod-bucket/dir/my%20file%2B1.txt",
      CopySourceIfMatch: '"abc"',
      MetadataDirective: "REPLACE",
      Metadata: { owner: "ada", "replication-sequencer": "0055AED6DCD90281E5" },
      ContentType: "text/plain",
      CacheControl: "max-age=60",
      IfNoneMatch: "*",
    });
    const input = mock.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty("IfMatch");
  });

  it("overwrites an older replica, conditional on the replica's ETag", async () => {
    mock.on(HeadObjectCommand).resolves({
      ETag: '"old"',
      Metadata: { "replication-sequencer": "0055AED6DCD90281E4" },
    });
    mock.on(CopyObjectCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("copied");
    expect(mock).toHaveReceivedCommandWith(CopyObjectCommand, { IfMatch: '"old"' });
  });

  it("overwrites a replica that has no recorded sequencer", async () => {
    mock.on(HeadObjectCommand).resolves({ ETag: '"x"' });
    mock.on(CopyObjectCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("copied");
  });

  it.each([
    ["the same", "0055AED6DCD90281E5"],
    ["a newer", "0055AED6DCD90281E6"],
    ["a longer newer", "0055AED6DCD90281E500"],
  ])("skips when the replica already has %s sequencer", async (_name, sequencer) => {
    mock
      .on(HeadObjectCommand)
      .resolves({ ETag: '"x"', Metadata: { "replication-sequencer": sequencer } });
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("skipped");
    expect(mock).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(mock).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it("deletes the replica when the source no longer has the key", async () => {
    mock.on(HeadObjectCommand).resolves({
      ETag: '"x"',
      Metadata: { "replication-sequencer": "0055AED6DCD90281E4" },
    });
    mock.on(DeleteObjectCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, undefined, logger)).resolves.toBe("deleted");
    expect(mock).toHaveReceivedCommandWith(DeleteObjectCommand, {
      Bucket: "dev-bucket",
      Key: "dir/my file+1.txt",
      IfMatch: '"x"',
    });
  });

  it("does nothing when source and replica are both absent", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    await expect(applyObjectChange(s3, change, target, undefined, logger)).resolves.toBe("absent");
    expect(mock).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it("re-reads the source after losing a race and converges to its current state", async () => {
    mock
      .on(HeadObjectCommand, { Bucket: "dev-bucket" })
      .rejects(s3Error("NotFound", 404))
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .rejects(s3Error("NotFound", 404));
    mock.on(CopyObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("absent");
    expect(mock).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: "prod-bucket" });
  });

  it("treats a vanished copy source (NoSuchKey) as a lost race", async () => {
    mock.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(s3Error("NotFound", 404));
    mock
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolves({ ETag: '"new"', ContentLength: 1 });
    mock
      .on(CopyObjectCommand)
      .rejectsOnce(Object.assign(new Error("gone"), { name: "NoSuchKey" }))
      .resolves({});
    await expect(applyObjectChange(s3, change, target, source, logger)).resolves.toBe("copied");
    const copies = mock.commandCalls(CopyObjectCommand).map((call) => call.args[0].input);
    expect(copies.map((input) => input.CopySourceIfMatch)).toEqual(['"abc"', '"new"']);
  });

  it(`gives up after ${MAX_CONFLICT_ROUNDS} lost races`, async () => {
    mock.on(HeadObjectCommand, { Bucket: "dev-bucket" }).rejects(s3Error("NotFound", 404));
    mock
      .on(HeadObjectCommand, { Bucket: "prod-bucket" })
      .resolves({ ETag: '"e"', ContentLength: 1 });
    mock.on(CopyObjectCommand).rejects(s3Error("ConditionalRequestConflict", 409));
    await expect(applyObjectChange(s3, change, target, source, logger)).rejects.toThrow(
      "ConditionalRequestConflict",
    );
    expect(mock).toHaveReceivedCommandTimes(CopyObjectCommand, MAX_CONFLICT_ROUNDS);
  });

  it("does not retry non-conflict errors itself (the SDK already did)", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CopyObjectCommand).rejects(s3Error("AccessDenied", 403));
    await expect(applyObjectChange(s3, change, target, source, logger)).rejects.toThrow(
      "AccessDenied",
    );
    expect(mock).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
  });
});

describe("multipart copy above 5 GiB", () => {
  const big: SourceObject = { ...source, size: MAX_COPY_OBJECT_BYTES + 1 };
  const partCount = Math.ceil(big.size / MIN_PART_BYTES);

  it("copies with UploadPartCopy ranges and completes conditionally", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: "up-1" });
    mock.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({
      CopyPartResult: { ETag: `"p${input.PartNumber}"` },
    }));
    mock.on(CompleteMultipartUploadCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, big, logger)).resolves.toBe("copied");

    expect(mock).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: "dev-bucket",
      Key: change.key,
      Metadata: { owner: "ada", "replication-sequencer": change.sequencer },
      ContentType: "text/plain",
    });
    expect(mock).toHaveReceivedCommandTimes(UploadPartCopyCommand, partCount);
    expect(mock).toHaveReceivedCommandWith(UploadPartCopyCommand, {
      PartNumber: 1,
      UploadId: "up-1",
      CopySource: "prod-bucket/dir/my%20file%2B1.txt",
      CopySourceIfMatch: '"abc"',
      CopySourceRange: `bytes=0-${MIN_PART_BYTES - 1}`,
    });
    expect(mock).toHaveReceivedCommandWith(UploadPartCopyCommand, {
      PartNumber: partCount,
      CopySourceRange: `bytes=${(partCount - 1) * MIN_PART_BYTES}-${big.size - 1}`,
    });
    const complete = mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(complete?.IfNoneMatch).toBe("*");
    expect(complete?.MultipartUpload?.Parts).toEqual(
      Array.from({ length: partCount }, (_, index) => ({
        ETag: `"p${index + 1}"`,
        PartNumber: index + 1,
      })),
    );
  });

  it("aborts the upload when a part fails", async () => {
    mock.on(HeadObjectCommand).resolves({ ETag: '"old"' });
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: "up-2" });
    mock.on(UploadPartCopyCommand).rejects(s3Error("AccessDenied", 403));
    mock.on(AbortMultipartUploadCommand).rejects(new Error("abort failed too"));
    await expect(applyObjectChange(s3, change, target, big, logger)).rejects.toThrow(
      "AccessDenied",
    );
    expect(mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: "dev-bucket",
      Key: change.key,
      UploadId: "up-2",
    });
    expect(mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it("fails clearly when no upload id comes back", async () => {
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CreateMultipartUploadCommand).resolves({});
    await expect(applyObjectChange(s3, change, target, big, logger)).rejects.toThrow(
      /CreateMultipartUpload returned no UploadId for dev-bucket\/dir\/my file\+1.txt/,
    );
  });

  it("uses larger parts so a huge object stays within 10,000 parts", async () => {
    const huge: SourceObject = { ...source, size: 10_000 * MIN_PART_BYTES + 1 };
    mock.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    mock.on(CreateMultipartUploadCommand).resolves({ UploadId: "up-3" });
    mock.on(UploadPartCopyCommand).resolves({});
    mock.on(CompleteMultipartUploadCommand).resolves({});
    await applyObjectChange(s3, change, target, huge, logger);
    expect(mock.commandCalls(UploadPartCopyCommand).length).toBeLessThanOrEqual(10_000);
    const complete = mock.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input;
    expect(complete?.MultipartUpload?.Parts?.[0]?.ETag).toBe("");
  });
});
