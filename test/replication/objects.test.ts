/** Convergence of one key in one target, with mocked S3 clients (lib/replication/objects.ts). */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import { Readable } from "node:stream";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import { MetadataTooLargeError, TimeBudgetError } from "../../lib/replication/errors";
import type { ObjectChange } from "../../lib/replication/events";
import { logger } from "../../lib/replication/logger";
import { createMasker, type MaskingRules, type ObjectRule } from "../../lib/replication/masking";
import {
  MAX_CONFLICT_ROUNDS,
  MAX_COPY_OBJECT_BYTES,
  MAX_USER_METADATA_BYTES,
  MIN_PART_BYTES,
  archivedReason,
  convergeObject,
  copySource,
  multipartCopy,
  partBytes,
  readReplica,
  readSourceObject,
  replicaMetadata,
  sameTags,
  tagPairs,
  taggingHeader,
  userMetadataBytes,
  wantedOf,
  type ObjectConvergence,
  type SourceObject,
} from "../../lib/replication/objects";
import { UNLIMITED, copyRate, invocationBudget } from "../../lib/replication/time-budget";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const sourceS3 = new S3Client({ region: "us-east-1", credentials });
const targetS3 = new S3Client({ region: "eu-west-1", credentials });
const source = mockClient(sourceS3);
const target = mockClient(targetS3);

const KEY = "dir/my file+1.txt";
const change = (overrides: Partial<ObjectChange> = {}): ObjectChange => ({
  kind: "object",
  eventId: "e-1",
  bucket: "prod-bucket",
  key: KEY,
  sequencer: "0055AED6DCD90281E5",
  time: undefined,
  description: "Object Created",
  ...overrides,
});

const s3Error = (name: string, status: number): S3ServiceException =>
  new S3ServiceException({
    name,
    message: name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
  });

const sourceHead = {
  ETag: '"abc"',
  ContentLength: 10,
  VersionId: "v1",
  LastModified: new Date("2026-11-28T12:00:00Z"),
  Metadata: { owner: "ada" },
  ContentType: "text/plain",
  CacheControl: "max-age=60",
  ExpiresString: "Wed, 21 Oct 2026 07:28:00 GMT",
  WebsiteRedirectLocation: "/elsewhere",
  StorageClass: "STANDARD_IA" as const,
};

let state: SourceObject;
beforeAll(async () => {
  source.on(HeadObjectCommand).resolves(sourceHead);
  source.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  const read = await readSourceObject(sourceS3, "prod-bucket", KEY);
  if (read === undefined) throw new Error("no source");
  state = read;
});

beforeEach(() => {
  source.reset();
  target.reset();
  copyRate.reset();
  logger.setLogLevel("SILENT");
  // The source as the tests read it; convergence reads it again after a lost race.
  source.on(HeadObjectCommand).resolves(sourceHead);
  source.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
  target.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
});

const work = (overrides: Partial<ObjectConvergence> = {}): ObjectConvergence => ({
  route: {
    source: sourceS3,
    target: targetS3,
    sourceBucket: "prod-bucket",
    targetBucket: "dev-bucket",
    key: KEY,
  },
  change: change(),
  source: state,
  budget: UNLIMITED,
  log: logger,
  ...overrides,
});

/** The replica as a previous copy of `of` left it. */
const replicaOf = (of: SourceObject, sequencer = "0055AED6DCD90281E0") => ({
  ETag: '"replica"',
  Metadata: {
    ...of.metadata,
    "replication-sequencer": sequencer,
    "replication-source": of.fingerprint,
  },
});

describe("copySource", () => {
  it("percent-encodes each key segment and keeps the slashes", () => {
    expect(copySource("b", "a b/c+d%e/ü &=?#.txt")).toBe(
      "b/a%20b/c%2Bd%25e/%C3%BC%20%26%3D%3F%23.txt",
    );
  });
});

describe("readSourceObject", () => {
  it("keeps what a replica takes: metadata (without markers), content headers, Expires, redirect, storage class", async () => {
    source.on(HeadObjectCommand).resolves({
      ...sourceHead,
      Metadata: { owner: "ada", "replication-sequencer": "FF", "replication-source": "x" },
    });

    const read = await readSourceObject(sourceS3, "b", "k");

    expect(read).toMatchObject({
      etag: '"abc"',
      size: 10,
      metadata: { owner: "ada" },
      headers: {
        ContentType: "text/plain",
        CacheControl: "max-age=60",
        Expires: new Date("2026-10-21T07:28:00Z"),
        WebsiteRedirectLocation: "/elsewhere",
        StorageClass: "STANDARD_IA",
      },
    });
    expect(read?.fingerprint).toBe(state.fingerprint);
  });

  it("gives every state of the source's contents its own fingerprint", async () => {
    const fingerprints = new Set<string>([state.fingerprint]);
    for (const changed of [
      { VersionId: "v2" },
      { ETag: '"other"' },
      { LastModified: new Date("2026-11-28T12:00:01Z") },
      { Metadata: { owner: "bob" } },
      { ContentType: "text/csv" },
    ]) {
      source.on(HeadObjectCommand).resolves({ ...sourceHead, ...changed });
      fingerprints.add((await readSourceObject(sourceS3, "b", "k"))?.fingerprint ?? "");
    }
    expect(fingerprints.size).toBe(6);
  });

  it("keeps the fingerprint through a storage class transition (no event the rule takes), and the class for the copy", async () => {
    source.on(HeadObjectCommand).resolves({ ...sourceHead, StorageClass: "GLACIER_IR" });
    const moved = await readSourceObject(sourceS3, "b", "k");
    expect(moved?.fingerprint).toBe(state.fingerprint);
    expect(moved?.headers.StorageClass).toBe("GLACIER_IR");
    // An object of the STANDARD class has no x-amz-storage-class header, as before the class
    // left the fingerprint: replicas written earlier keep matching.
    source.on(HeadObjectCommand).resolves({ ...sourceHead, StorageClass: undefined });
    expect((await readSourceObject(sourceS3, "b", "k"))?.fingerprint).toBe(state.fingerprint);
  });

  it("reads the tags beside the HEAD, sorted by key", async () => {
    source.on(GetObjectTaggingCommand).resolves({
      TagSet: [
        { Key: "tier", Value: "gold" },
        { Key: "team", Value: "data" },
      ],
    });
    await expect(readSourceObject(sourceS3, "b", "k")).resolves.toMatchObject({
      tags: [
        ["team", "data"],
        ["tier", "gold"],
      ],
    });
    expect(source).toHaveReceivedCommandTimes(GetObjectTaggingCommand, 1);
  });

  it.each([
    [{ StorageClass: "GLACIER" as const }, "GLACIER"],
    [{ StorageClass: "DEEP_ARCHIVE" as const }, "DEEP_ARCHIVE"],
    [
      { StorageClass: "INTELLIGENT_TIERING" as const, ArchiveStatus: "ARCHIVE_ACCESS" as const },
      "INTELLIGENT_TIERING ARCHIVE_ACCESS",
    ],
    [{ StorageClass: "GLACIER" as const, Restore: 'ongoing-request="true"' }, "GLACIER"],
    [
      {
        StorageClass: "GLACIER" as const,
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
      },
      undefined,
    ],
    [{ StorageClass: "GLACIER_IR" as const }, undefined],
    [{ StorageClass: undefined }, undefined],
  ])("tells an archived source from a readable one: %j", async (head, archived) => {
    source.on(HeadObjectCommand).resolves({ ...sourceHead, ...head });
    expect((await readSourceObject(sourceS3, "b", "k"))?.archived).toBe(archived);
  });

  it("ignores an Expires header that is not a date, and defaults missing fields", async () => {
    source.on(HeadObjectCommand).resolves({ ExpiresString: "never" });
    await expect(readSourceObject(sourceS3, "b", "k")).resolves.toMatchObject({
      etag: "",
      size: 0,
      metadata: {},
      headers: { Expires: undefined },
    });
  });

  it("returns undefined when the key does not exist, and rethrows other errors", async () => {
    source.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    await expect(readSourceObject(sourceS3, "b", "k")).resolves.toBeUndefined();
    source.on(HeadObjectCommand).rejects(s3Error("AccessDenied", 403));
    await expect(readSourceObject(sourceS3, "b", "k")).rejects.toThrow("AccessDenied");
  });

  it("returns undefined when the tags say the key is gone (deleted between the two reads)", async () => {
    source.on(GetObjectTaggingCommand).rejects(s3Error("NoSuchKey", 404));
    await expect(readSourceObject(sourceS3, "b", "k")).resolves.toBeUndefined();
  });
});

describe("convergeObject: contents", () => {
  it("copies server-side with everything S3 Replication carries, conditional on both sides", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work())).resolves.toBe("copied");

    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: "dev-bucket",
      Key: KEY,
      CopySource: "prod-bucket/dir/my%20file%2B1.txt",
      CopySourceIfMatch: '"abc"',
      MetadataDirective: "REPLACE",
      Metadata: {
        owner: "ada",
        "replication-sequencer": "0055AED6DCD90281E5",
        "replication-source": state.fingerprint,
      },
      ContentType: "text/plain",
      CacheControl: "max-age=60",
      Expires: new Date("2026-10-21T07:28:00Z"),
      WebsiteRedirectLocation: "/elsewhere",
      StorageClass: "STANDARD_IA",
      TaggingDirective: "REPLACE",
      IfNoneMatch: "*",
    });
    // No tags on the source: no Tagging header, so the replica has none.
    expect(target.commandCalls(CopyObjectCommand)[0]?.args[0].input.Tagging).toBeUndefined();
  });

  it("writes the tags read with the state (TaggingDirective REPLACE), encoded as URL query parameters", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).resolves({});
    const tagged: SourceObject = {
      ...state,
      tags: [
        ["team", "data & more"],
        ["tier", "gold/1"],
      ],
    };

    await expect(convergeObject(work({ source: tagged }))).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, {
      TaggingDirective: "REPLACE",
      Tagging: "team=data%20%26%20more&tier=gold%2F1",
    });
  });

  it("overwrites an older replica only as it was seen (IfMatch its ETag)", async () => {
    target
      .on(HeadObjectCommand)
      .resolves({ ETag: '"old"', Metadata: { "replication-sequencer": "0055AED6DCD90281E0" } });
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work())).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, { IfMatch: '"old"' });
  });

  it("reads the replica while the source read is still under way", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).resolves({});
    let answer: (value: SourceObject) => void = () => undefined;
    const pending = new Promise<SourceObject>((resolve) => {
      answer = resolve;
    });

    const applied = convergeObject(work({ source: pending }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(target).toHaveReceivedCommandTimes(HeadObjectCommand, 1);
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    answer(state);

    await expect(applied).resolves.toBe("copied");
  });

  it("skips a redelivered change: a HEAD and a tag read of the replica, no write", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state, "0055AED6DCD90281E5"));

    await expect(convergeObject(work())).resolves.toBe("skipped");
    expect(target).toHaveReceivedCommandTimes(HeadObjectCommand, 1);
    expect(target).toHaveReceivedCommandTimes(GetObjectTaggingCommand, 1);
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).not.toHaveReceivedCommand(PutObjectTaggingCommand);
  });

  it("converges to the source's current state even when the replica records the change's own or a newer sequencer", async () => {
    // The replica records this very change, yet holds an older state: a copy of that older
    // state, slowed down, landed after the newer one (same ETag, so both conditions held).
    target.on(HeadObjectCommand).resolves({
      ETag: '"abc"',
      Metadata: { "replication-sequencer": "0055AED6DCD90281E5", "replication-source": "older" },
    });
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work())).resolves.toBe("copied");
    await expect(
      convergeObject(work({ change: change({ sequencer: "0055AED6DCD9" }) })),
    ).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandTimes(CopyObjectCommand, 2);
  });

  it("skips a change after which the key holds what the replica holds (a lifecycle expiration)", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state, "0055AED6DCD90281E0"));
    const expiration = change({
      sequencer: "0055AED6DCD90281FF",
      description: "Object Deleted (Lifecycle Expiration, Permanently Deleted)",
    });

    await expect(convergeObject(work({ change: expiration }))).resolves.toBe("skipped");
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it("copies again when the source's state changed since the replica was copied", async () => {
    target.on(HeadObjectCommand).resolves({
      ...replicaOf(state, "0055AED6DCD90281E0"),
      Metadata: { "replication-sequencer": "0055AED6DCD90281E0", "replication-source": "older" },
    });
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work())).resolves.toBe("copied");
  });

  it("deletes the replica (IfMatch) when the source no longer has the key", async () => {
    source.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(HeadObjectCommand).resolves({ ETag: '"r"', Metadata: {} });
    target.on(DeleteObjectCommand).resolves({});

    await expect(convergeObject(work({ source: undefined }))).resolves.toBe("deleted");
    expect(target).toHaveReceivedCommandWith(DeleteObjectCommand, {
      Bucket: "dev-bucket",
      Key: KEY,
      IfMatch: '"r"',
    });
  });

  it("reports absent when neither side has the key", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    await expect(convergeObject(work({ source: undefined }))).resolves.toBe("absent");
  });

  it("keeps the replica's sequencer for the record when the change has none (resync)", async () => {
    target
      .on(HeadObjectCommand)
      .resolves({ ETag: '"r"', Metadata: { "replication-sequencer": "0A" } });
    target.on(CopyObjectCommand).resolves({});

    await convergeObject(work({ change: change({ sequencer: undefined, description: "Resync" }) }));

    expect(target.commandCalls(CopyObjectCommand)[0]?.args[0].input.Metadata).toMatchObject({
      "replication-sequencer": "0A",
    });
  });

  it("re-reads the source and tries again when a conditional write lost a race (bounded)", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target
      .on(CopyObjectCommand)
      .rejectsOnce(s3Error("PreconditionFailed", 412))
      .rejectsOnce(s3Error("ConditionalRequestConflict", 409))
      .resolves({});
    source.on(HeadObjectCommand).resolves(sourceHead);

    await expect(convergeObject(work())).resolves.toBe("copied");
    // Once after each lost race (the check after the writes is the replicator's).
    expect(source).toHaveReceivedCommandTimes(HeadObjectCommand, 2);

    target.reset();
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).rejects(s3Error("PreconditionFailed", 412));
    await expect(convergeObject(work())).rejects.toThrow("PreconditionFailed");
    expect(target).toHaveReceivedCommandTimes(CopyObjectCommand, MAX_CONFLICT_ROUNDS);
  });

  it("refuses a source whose metadata leaves no room for the markers: a permanent error, no copy", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    const crowded: SourceObject = {
      ...state,
      metadata: { notes: "x".repeat(MAX_USER_METADATA_BYTES - 40) },
    };

    const attempt = convergeObject(work({ source: crowded }));

    await expect(attempt).rejects.toThrow(MetadataTooLargeError);
    await expect(convergeObject(work({ source: crowded }))).rejects.toThrow(
      /the source's user metadata \(2013 bytes\) leaves no room for the replication markers: \d+ bytes > 2048 allowed by S3/,
    );
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
  });
});

describe("convergeObject: the copy that fits the time left", () => {
  const sized = (size: number): SourceObject => ({ ...state, size });

  beforeEach(() => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).resolves({});
    target.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-1" });
    target.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    target.on(CompleteMultipartUploadCommand).resolves({});
  });

  it("copies 4 GiB in parallel parts when one CopyObject would not finish in the time left, and in one when it would", async () => {
    // At the planning rate (40 MiB/s per stream, padded by 1.25) one CopyObject of 4 GiB needs
    // about 128 s; 4 parts at once about 32 s.
    await expect(
      convergeObject(
        work({ source: sized(4 * 1024 ** 3), budget: invocationBudget(() => 60_000) }),
      ),
    ).resolves.toBe("copied");
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).toHaveReceivedCommandTimes(UploadPartCopyCommand, 8);

    target.resetHistory();
    await expect(
      convergeObject(
        work({ source: sized(4 * 1024 ** 3), budget: invocationBudget(() => 900_000) }),
      ),
    ).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(target).not.toHaveReceivedCommand(UploadPartCopyCommand);
  });

  it("does not start a copy that fits neither way", async () => {
    await expect(
      convergeObject(
        work({ source: sized(4 * 1024 ** 3), budget: invocationBudget(() => 30_000) }),
      ),
    ).rejects.toThrow(TimeBudgetError);
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it("splits a mid-size object into at least as many parts as streams, never below S3's 5 MiB", () => {
    expect(partBytes(1024 ** 3)).toBe(256 * 1024 ** 2);
    expect(partBytes(8 * 1024 ** 3)).toBe(MIN_PART_BYTES);
    expect(partBytes(1024 ** 2)).toBe(5 * 1024 ** 2);
    expect(partBytes(60 * 1024 ** 4)).toBe(Math.ceil((60 * 1024 ** 4) / 10_000));
  });
});

describe("convergeObject: multipart copy above 5 GiB", () => {
  const huge = (): SourceObject => ({
    ...state,
    size: MAX_COPY_OBJECT_BYTES + MIN_PART_BYTES,
    tags: [
      ["team", "data & more"],
      ["tier", "gold"],
    ],
  });

  beforeEach(() => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-1" });
    target.on(UploadPartCopyCommand).callsFake((input: { PartNumber: number }) => ({
      CopyPartResult: { ETag: `"p${input.PartNumber}"` },
    }));
    target.on(CompleteMultipartUploadCommand).resolves({});
    target.on(AbortMultipartUploadCommand).resolves({});
  });

  it("sets metadata, headers and the source's tags on the upload, copies every range, then completes", async () => {
    await expect(convergeObject(work({ source: huge() }))).resolves.toBe("copied");

    expect(target).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: "dev-bucket",
      Key: KEY,
      Metadata: {
        owner: "ada",
        "replication-sequencer": "0055AED6DCD90281E5",
        "replication-source": state.fingerprint,
      },
      StorageClass: "STANDARD_IA",
      WebsiteRedirectLocation: "/elsewhere",
      Tagging: "team=data%20%26%20more&tier=gold",
    });
    // The tags come with the state read: no second read for the copy.
    expect(source).not.toHaveReceivedCommand(GetObjectTaggingCommand);
    const ranges = target
      .commandCalls(UploadPartCopyCommand)
      .map((call) => call.args[0].input.CopySourceRange)
      .sort();
    expect(ranges).toHaveLength(11);
    expect(ranges).toContain(`bytes=0-${MIN_PART_BYTES - 1}`);
    expect(target).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      UploadId: "u-1",
      IfNoneMatch: "*",
    });
    const parts =
      target.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input.MultipartUpload
        ?.Parts ?? [];
    expect(parts.map((part) => part.PartNumber)).toEqual(
      Array.from({ length: 11 }, (_, i) => i + 1),
    );
    expect(target).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
  });

  it("aborts the upload when a part fails", async () => {
    target.on(UploadPartCopyCommand).rejects(s3Error("AccessDenied", 403));

    await expect(convergeObject(work({ source: huge() }))).rejects.toThrow("AccessDenied");
    expect(target).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: "u-1" });
    expect(target).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it("aborts the upload before the invocation's time runs out, leaving nothing half done", async () => {
    let left = 600_000;
    const budget = invocationBudget(() => left);
    // The copy starts with plenty of time; then the clock runs, and parts never answer: only
    // the budget can end the copy.
    target.on(CreateMultipartUploadCommand).callsFake(() => {
      left = 10_000;
      return { UploadId: "u-1" };
    });
    target.on(UploadPartCopyCommand).callsFake(() => new Promise(() => undefined));
    jest.useFakeTimers();
    try {
      const outcome = expect(convergeObject(work({ source: huge(), budget }))).rejects.toThrow(
        TimeBudgetError,
      );
      await jest.advanceTimersByTimeAsync(600_000);
      await outcome;
    } finally {
      jest.useRealTimers();
    }
    expect(target).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: "u-1" });
    expect(target).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it("fails clearly when S3 returns no upload id", async () => {
    target.on(CreateMultipartUploadCommand).resolves({});
    await expect(convergeObject(work({ source: huge() }))).rejects.toThrow(
      `CreateMultipartUpload returned no UploadId for dev-bucket/${KEY}`,
    );
  });
});

describe("convergeObject: tags", () => {
  const tagged = (...tags: [string, string][]): SourceObject => ({ ...state, tags });

  it("gives a replica that holds the source's contents the source's tags", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state));
    target.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
    target.on(PutObjectTaggingCommand).resolves({});

    await expect(convergeObject(work({ source: tagged(["a", "1"]) }))).resolves.toBe("tagged");
    expect(target).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      Bucket: "dev-bucket",
      Key: KEY,
      Tagging: { TagSet: [{ Key: "a", Value: "1" }] },
    });
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
  });

  it("skips when the tags already match, whatever their order, with keys or values missing", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state));
    target.on(GetObjectTaggingCommand).resolves({
      TagSet: [
        { Key: "b", Value: "2" },
        { Key: "a", Value: undefined },
      ],
    });
    await expect(convergeObject(work({ source: tagged(["a", ""], ["b", "2"]) }))).resolves.toBe(
      "skipped",
    );
    expect(target).not.toHaveReceivedCommand(PutObjectTaggingCommand);
  });

  it("copies (bringing the tags) when the replica does not hold the source's contents: a tag change never waits for a copy in flight", async () => {
    target
      .on(HeadObjectCommand)
      .resolves({ ETag: '"r"', Metadata: { "replication-source": "older" } });
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work({ source: tagged(["a", "1"]) }))).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, { Tagging: "a=1" });
  });

  it("reads both sides again when the replica went away between its HEAD and its tags", async () => {
    target.on(HeadObjectCommand).resolvesOnce(replicaOf(state)).rejects(s3Error("NotFound", 404));
    target.on(GetObjectTaggingCommand).rejectsOnce(s3Error("NoSuchKey", 404));
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work())).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, { IfNoneMatch: "*" });
  });

  it("takes a tag answer without a tag set as no tags", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state));
    target.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: "a", Value: "1" }] });
    target.on(PutObjectTaggingCommand).resolves({});
    source.on(GetObjectTaggingCommand).resolves({});
    const read = await readSourceObject(sourceS3, "prod-bucket", KEY);
    await expect(convergeObject(work({ source: read }))).resolves.toBe("tagged");
    expect(target).toHaveReceivedCommandWith(PutObjectTaggingCommand, { Tagging: { TagSet: [] } });
  });
});

describe("convergeObject: archived sources", () => {
  const archived = (): SourceObject => ({ ...state, archived: "GLACIER" });

  it("does not copy an archived source: archived, no write", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));

    await expect(convergeObject(work({ source: archived() }))).resolves.toBe("archived");
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it("takes InvalidObjectState from the copy as archived (a class the HEAD did not show yet)", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).rejects(s3Error("InvalidObjectState", 403));

    await expect(convergeObject(work())).resolves.toBe("archived");
  });

  it("still converges the tags of a replica copied before the source was archived", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state));
    target.on(GetObjectTaggingCommand).resolves({ TagSet: [] });
    target.on(PutObjectTaggingCommand).resolves({});

    await expect(
      convergeObject(work({ source: { ...archived(), tags: [["legal-hold", "yes"]] } })),
    ).resolves.toBe("tagged");
  });

  it("copies a restored source, into the source's storage class", async () => {
    source.on(HeadObjectCommand).resolves({
      ...sourceHead,
      StorageClass: "GLACIER",
      Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
    });
    const restored = await readSourceObject(sourceS3, "prod-bucket", KEY);
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CopyObjectCommand).resolves({});

    await expect(convergeObject(work({ source: restored }))).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, { StorageClass: "GLACIER" });
  });
});

describe("convergeObject: what S3 may leave out of its answers", () => {
  it("copies a resync of a key the target lacks without any sequencer, and orders metadata for the fingerprint", async () => {
    source.on(HeadObjectCommand).resolves({ ...sourceHead, Metadata: { b: "2", a: "1" } });
    const reordered = await readSourceObject(sourceS3, "b", "k");
    source.on(HeadObjectCommand).resolves({ ...sourceHead, Metadata: { a: "1", b: "2" } });
    expect((await readSourceObject(sourceS3, "b", "k"))?.fingerprint).toBe(reordered?.fingerprint);
    target.on(HeadObjectCommand).resolves({});
    target.on(CopyObjectCommand).resolves({});

    const resync = change({ sequencer: undefined, description: "Resync" });
    await expect(convergeObject(work({ change: resync }))).resolves.toBe("copied");

    const input = target.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(input?.Metadata).not.toHaveProperty("replication-sequencer");
    // A replica HEAD without an ETag is matched as the empty ETag.
    expect(input?.IfMatch).toBe("");
  });

  it("copies parts whose result carries no ETag, and survives an abort that fails too", async () => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    target.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-2" });
    target.on(UploadPartCopyCommand).resolves({});
    target.on(CompleteMultipartUploadCommand).rejects(s3Error("InternalError", 500));
    target.on(AbortMultipartUploadCommand).rejects(s3Error("InternalError", 500));
    const huge: SourceObject = { ...state, size: MAX_COPY_OBJECT_BYTES + 1, tags: [["", ""]] };

    await expect(convergeObject(work({ source: huge }))).rejects.toThrow("InternalError");
    expect(target).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { Tagging: "=" });
    const parts = target.commandCalls(CompleteMultipartUploadCommand)[0]?.args[0].input
      .MultipartUpload?.Parts;
    expect(parts?.every((part) => part.ETag === "")).toBe(true);
  });
});

describe("convergeObject: masked targets", () => {
  const maskingKey = new Uint8Array(32).fill(7);
  const rule: ObjectRule = {
    prefix: "dir/",
    format: "json",
    fields: { email: "email" },
    metadata: { owner: "hash" },
    tags: { person: "redact" },
  };
  const rules: MaskingRules = { items: {}, objects: [rule], unmaskedTargets: [] };
  const masker = createMasker(rules, maskingKey);
  const personal = (): SourceObject => ({ ...state, tags: [["person", "ada"]], size: 40 });
  const document = '{"email":"ada@example.com","n":1}';

  beforeEach(() => {
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    source.on(GetObjectCommand).callsFake(() => ({ Body: Readable.from([Buffer.from(document)]) }));
    target.on(PutObjectCommand).resolves({ ETag: '"masked"' });
  });

  it("asks for masked metadata and tags, the masking version and the rule's format", () => {
    const wanted = wantedOf(personal(), { masker, rule });
    expect(wanted.metadata).toEqual({ owner: masker.text("ada", "hash") });
    // S3 refuses brackets in a tag: "redacted" there ("[redacted]" in metadata, below).
    expect(wanted.tags).toEqual([["person", "redacted"]]);
    expect(wanted.maskingVersion).toBe(masker.version);
    expect(wanted.transform).toEqual({ format: "json", fields: { email: "email" } });
    expect(wanted.fingerprint).toBe(state.fingerprint);

    // Without a rule for the key: the masking version is recorded, nothing is masked.
    const unruled = wantedOf(personal(), { masker, rule: undefined });
    expect(unruled).toMatchObject({
      metadata: { owner: "ada" },
      tags: [["person", "ada"]],
      maskingVersion: masker.version,
      transform: undefined,
    });
    expect(wantedOf(personal(), undefined)).toMatchObject({
      metadata: { owner: "ada" },
      maskingVersion: undefined,
      transform: undefined,
    });
  });

  it("reads the source as read (IfMatch), masks its contents and writes them with masked metadata, headers and tags", async () => {
    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule } })),
    ).resolves.toBe("copied");

    expect(source).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: "prod-bucket",
      Key: KEY,
      IfMatch: '"abc"',
    });
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    const input = target.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: "dev-bucket",
      Key: KEY,
      Metadata: {
        owner: masker.text("ada", "hash"),
        "replication-sequencer": "0055AED6DCD90281E5",
        "replication-source": state.fingerprint,
        "replication-masking": masker.version,
      },
      ContentType: "text/plain",
      WebsiteRedirectLocation: "/elsewhere",
      StorageClass: "STANDARD_IA",
      Tagging: "person=redacted",
      IfNoneMatch: "*",
    });
    const body = input?.Body;
    if (!(body instanceof Uint8Array)) throw new Error("the upload sent no bytes");
    expect(JSON.parse(Buffer.from(body).toString("utf8"))).toEqual({
      email: masker.text("ada@example.com", "email"),
      n: 1,
    });
  });

  it("masks again a replica of the same source state written under another masking version (IfMatch)", async () => {
    target.on(HeadObjectCommand).resolves({
      ETag: '"old"',
      Metadata: {
        "replication-source": state.fingerprint,
        "replication-masking": "an-older-version",
      },
    });

    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule } })),
    ).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(PutObjectCommand, { IfMatch: '"old"' });
    expect(target).not.toHaveReceivedCommand(PutObjectTaggingCommand);
  });

  it("only converges the tags of a replica written from this state under this masking version", async () => {
    target.on(HeadObjectCommand).resolves({
      ETag: '"same"',
      Metadata: {
        "replication-source": state.fingerprint,
        "replication-masking": masker.version,
      },
    });
    target.on(GetObjectTaggingCommand).resolves({ TagSet: [{ Key: "person", Value: "ada" }] });
    target.on(PutObjectTaggingCommand).resolves({});

    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule } })),
    ).resolves.toBe("tagged");
    expect(target).toHaveReceivedCommandWith(PutObjectTaggingCommand, {
      Tagging: { TagSet: [{ Key: "person", Value: "redacted" }] },
    });
    expect(target).not.toHaveReceivedCommand(PutObjectCommand);
    expect(source).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it("copies server-side, with masked metadata, under a rule without a format", async () => {
    target.on(CopyObjectCommand).resolves({});
    const metadataOnly: ObjectRule = { prefix: "dir/", metadata: { owner: "redact" } };

    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule: metadataOnly } })),
    ).resolves.toBe("copied");
    expect(target).toHaveReceivedCommandWith(CopyObjectCommand, {
      Metadata: {
        owner: "[redacted]",
        "replication-sequencer": "0055AED6DCD90281E5",
        "replication-source": state.fingerprint,
        "replication-masking": masker.version,
      },
      Tagging: "person=ada",
    });
    expect(source).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it("fails clearly when the source's GetObject returns no stream, writing nothing", async () => {
    source.on(GetObjectCommand).resolves({});

    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule } })),
    ).rejects.toThrow(`GetObject of ${KEY} returned no stream`);
    expect(target).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("does not start a masked copy that cannot finish in the time left", async () => {
    const large: SourceObject = { ...personal(), size: 1024 ** 3 };

    await expect(
      convergeObject(
        work({ source: large, masking: { masker, rule }, budget: invocationBudget(() => 30_000) }),
      ),
    ).rejects.toThrow(TimeBudgetError);
    expect(source).not.toHaveReceivedCommand(GetObjectCommand);
    expect(target).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("never replicates a key under an excluded prefix, nor deletes its replica", async () => {
    target.on(HeadObjectCommand).resolves(replicaOf(state));
    const excluded: ObjectRule = { prefix: "dir/", exclude: true };

    await expect(
      convergeObject(work({ source: personal(), masking: { masker, rule: excluded } })),
    ).resolves.toBe("excluded");
    expect(target).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(target).not.toHaveReceivedCommand(PutObjectCommand);
    expect(target).not.toHaveReceivedCommand(PutObjectTaggingCommand);
    expect(target).not.toHaveReceivedCommand(DeleteObjectCommand);
  });
});

describe("the helpers other modules use", () => {
  it("counts user metadata as S3 does: UTF-8 bytes of names and values", () => {
    expect(userMetadataBytes({ a: "bc", ü: "é" })).toBe(3 + 4);
    expect(userMetadataBytes({})).toBe(0);
  });

  it("canonicalizes, compares and encodes tag sets", () => {
    const pairs = tagPairs([
      { Key: "b", Value: "1" },
      { Key: "a", Value: undefined },
      { Key: undefined, Value: "v" },
      { Key: "b", Value: undefined },
    ]);
    expect(pairs).toEqual([
      ["", "v"],
      ["a", ""],
      ["b", "1"],
      ["b", ""],
    ]);
    expect(tagPairs(undefined)).toEqual([]);
    expect(sameTags(tagPairs([{ Key: "x", Value: "1" }]), [["x", "1"]])).toBe(true);
    expect(sameTags([["x", "1"]], [["x", "2"]])).toBe(false);
    expect(taggingHeader([["a b", "c&d=e"]])).toBe("a%20b=c%26d%3De");
    expect(taggingHeader([])).toBe("");
  });

  it("tells why HeadObject's object cannot be copied yet", () => {
    expect(archivedReason({ StorageClass: "GLACIER" })).toBe("GLACIER");
    expect(archivedReason({ StorageClass: "DEEP_ARCHIVE" })).toBe("DEEP_ARCHIVE");
    expect(archivedReason({ ArchiveStatus: "ARCHIVE_ACCESS" })).toBe(
      "INTELLIGENT_TIERING ARCHIVE_ACCESS",
    );
    expect(
      archivedReason({ StorageClass: "INTELLIGENT_TIERING", ArchiveStatus: "DEEP_ARCHIVE_ACCESS" }),
    ).toBe("INTELLIGENT_TIERING DEEP_ARCHIVE_ACCESS");
    expect(archivedReason({})).toBeUndefined();
    expect(archivedReason({ StorageClass: "GLACIER", Restore: 'ongoing-request="true"' })).toBe(
      "GLACIER",
    );
    expect(
      archivedReason({
        StorageClass: "DEEP_ARCHIVE",
        Restore: 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
      }),
    ).toBeUndefined();
  });

  it("reads a replica's markers, and takes a missing replica as undefined", async () => {
    target.on(HeadObjectCommand).resolvesOnce({
      ETag: '"r"',
      Metadata: {
        "replication-sequencer": "00AA",
        "replication-source": "fp",
        "replication-masking": "mv",
      },
    });
    await expect(readReplica(targetS3, "dev-bucket", KEY)).resolves.toEqual({
      etag: '"r"',
      sequencer: "00AA",
      source: "fp",
      masking: "mv",
    });
    target.on(HeadObjectCommand).resolves({});
    await expect(readReplica(targetS3, "dev-bucket", KEY)).resolves.toEqual({
      etag: "",
      sequencer: undefined,
      source: undefined,
      masking: undefined,
    });
    target.on(HeadObjectCommand).rejects(s3Error("NotFound", 404));
    await expect(readReplica(targetS3, "dev-bucket", KEY)).resolves.toBeUndefined();
  });

  it("writes the markers into a replica's metadata, the masking version only when masked", () => {
    const unmasked = { ...state, maskingVersion: undefined, transform: undefined };
    expect(replicaMetadata(unmasked, undefined)).toEqual({
      owner: "ada",
      "replication-source": state.fingerprint,
    });
    expect(replicaMetadata({ ...unmasked, maskingVersion: "mv" }, "00BB")).toEqual({
      owner: "ada",
      "replication-sequencer": "00BB",
      "replication-source": state.fingerprint,
      "replication-masking": "mv",
    });
  });

  it("copies in parts, completing conditional on the replica as seen", async () => {
    target.on(CreateMultipartUploadCommand).resolves({ UploadId: "u-9" });
    target.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"p"' } });
    target.on(CompleteMultipartUploadCommand).resolves({});
    const wanted = { ...state, size: 0, maskingVersion: undefined, transform: undefined };

    await multipartCopy(
      work().route,
      wanted,
      { owner: "ada" },
      { etag: '"seen"', sequencer: undefined, source: undefined, masking: undefined },
      UNLIMITED,
    );
    // An empty object is one part without a range.
    const part = target.commandCalls(UploadPartCopyCommand)[0]?.args[0].input;
    expect(part).toMatchObject({ PartNumber: 1, CopySourceIfMatch: '"abc"', UploadId: "u-9" });
    expect(part).not.toHaveProperty("CopySourceRange");
    expect(target).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      IfMatch: '"seen"',
      MultipartUpload: { Parts: [{ ETag: '"p"', PartNumber: 1 }] },
    });
  });
});
