// The S3 model's CopyObject (tools/simulation/model/s3-copy.ts): CopySource decoding, directives,
// storage classes, conditions on the source and the destination, copies onto themselves, copy time
// and what a copy reads at its start, archived sources, the 5 GiB limit.
import { createHash } from "node:crypto";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { S3Model, type S3EventBridgeEvent } from "../../../tools/simulation/model/s3";

const REGION = "us-east-1";
const MIB = 1024 * 1024;

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The ETag of a CopyPartResult / CopyObjectResult. */
function resultEtag(result: unknown): string {
  if (
    typeof result !== "object" ||
    result === null ||
    !("ETag" in result) ||
    typeof result.ETag !== "string"
  ) {
    throw new Error("no ETag");
  }
  return result.ETag;
}

function world() {
  let now = Date.UTC(2025, 2, 1, 12, 0, 0);
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(11),
    accountId: "111122223333",
  });
  const events: S3EventBridgeEvent[] = [];
  model.onEvent((event) => events.push(event));
  model.createBucket("src", { region: REGION, versioning: true, eventBridge: true });
  model.createBucket("dst", { region: REGION, eventBridge: true });
  model.createBucket("far", { region: "eu-west-1" });
  const start = (command: string, input: Record<string, unknown>, region = REGION) =>
    model.start({ service: "s3", region, command, input });
  const run = (command: string, input: Record<string, unknown>, region = REGION) => {
    const op = start(command, input, region);
    now += op.durationMs;
    return op.finish();
  };
  const fail = (command: string, input: Record<string, unknown>, region = REGION) => {
    try {
      run(command, input, region);
    } catch (error) {
      if (error instanceof S3ServiceException) return error;
      throw error;
    }
    throw new Error(`${command} did not fail`);
  };
  const put = (
    bucket: string,
    key: string,
    body: string | Uint8Array,
    input: Record<string, unknown> = {},
  ) => run("PutObject", { Bucket: bucket, Key: key, Body: body, ...input });
  const copy = (input: Record<string, unknown>) =>
    run("CopyObject", { Bucket: "dst", Key: "copy", ...input });
  return { model, events, start, run, fail, put, copy, advance: (ms: number) => (now += ms) };
}

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const md5 = (data: string) => createHash("md5").update(data).digest("hex");

function expectError(error: S3ServiceException, name: string, status: number) {
  expect({ name: error.name, status: error.$metadata.httpStatusCode }).toEqual({ name, status });
}

describe("CopySource", () => {
  it("is URL-decoded fully as S3 does, with or without a leading slash", () => {
    const w = world();
    w.put("src", "dir/a b+c&ü.txt", "data");
    w.copy({ CopySource: encodeURIComponent("src/dir/a b+c&ü.txt") });
    expect(text(w.model.current("dst", "copy")?.body)).toBe("data");
    w.run("CopyObject", {
      Bucket: "dst",
      Key: "two",
      CopySource: "/src/dir/a%20b%2Bc%26%C3%BC.txt",
    });
    expect(text(w.model.current("dst", "two")?.body)).toBe("data");
  });

  it("reads an unencoded + as a space (the key with + is then not found)", () => {
    const w = world();
    w.put("src", "a+b", "data");
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "copy", CopySource: "src/a+b" }),
      "NoSuchKey",
      404,
    );
  });

  it("copies the version named by ?versionId=, and reports it as CopySourceVersionId", () => {
    const w = world();
    const first = w.put("src", "k", "one");
    w.put("src", "k", "two");
    const out = w.copy({ CopySource: `src/k?versionId=${String(first.VersionId)}` });
    expect(text(w.model.current("dst", "copy")?.body)).toBe("one");
    expect(out.CopySourceVersionId).toBe(first.VersionId);
    expect(out).not.toHaveProperty("VersionId");
    expect(out.CopyObjectResult).toEqual({
      ETag: `"${md5("one")}"`,
      LastModified: expect.any(Date) as Date,
    });
  });

  it("a delete marker: current is NoSuchKey (404), by version ID InvalidRequest (400)", () => {
    const w = world();
    w.put("src", "k", "x");
    const marker = w.run("DeleteObject", { Bucket: "src", Key: "k" });
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "src/k" }),
      "NoSuchKey",
      404,
    );
    const byId = w.fail("CopyObject", {
      Bucket: "dst",
      Key: "c",
      CopySource: `src/k?versionId=${String(marker.VersionId)}`,
    });
    expectError(byId, "InvalidRequest", 400);
  });

  it("a missing source bucket is NoSuchBucket; a source in another Region can be copied", () => {
    const w = world();
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "none/k" }),
      "NoSuchBucket",
      404,
    );
    w.run("PutObject", { Bucket: "far", Key: "k", Body: "remote" }, "eu-west-1");
    w.copy({ CopySource: "far/k" });
    expect(text(w.model.current("dst", "copy")?.body)).toBe("remote");
  });

  it("a destination in another Region answers PermanentRedirect", () => {
    const w = world();
    w.put("src", "k", "x");
    expectError(
      w.fail("CopyObject", { Bucket: "far", Key: "c", CopySource: "src/k" }),
      "PermanentRedirect",
      301,
    );
  });
});

describe("directives", () => {
  const attributes = {
    Metadata: { m: "source" },
    ContentType: "text/plain",
    CacheControl: "max-age=1",
    ContentLanguage: "fr",
    Expires: new Date(Date.UTC(2031, 0, 1)),
    WebsiteRedirectLocation: "/redirect",
    StorageClass: "STANDARD_IA",
    Tagging: "t=1",
  };

  it("COPY (the default) keeps metadata, content headers, Expires, redirect and tags; storage class becomes STANDARD", () => {
    const w = world();
    w.put("src", "k", "x", attributes);
    w.copy({ CopySource: "src/k", Metadata: { ignored: "yes" }, ContentType: "ignored/type" });
    expect(w.model.current("dst", "copy")).toMatchObject({
      metadata: { m: "source" },
      contentType: "text/plain",
      cacheControl: "max-age=1",
      contentLanguage: "fr",
      expires: new Date(Date.UTC(2031, 0, 1)),
      websiteRedirectLocation: "/redirect",
      storageClass: "STANDARD",
      tags: { t: "1" },
    });
  });

  it("REPLACE takes metadata and content headers from the request only, drops the redirect unless given", () => {
    const w = world();
    w.put("src", "k", "x", attributes);
    w.copy({
      CopySource: "src/k",
      MetadataDirective: "REPLACE",
      Metadata: { New: "v" },
      CacheControl: "no-store",
    });
    const copy = w.model.current("dst", "copy");
    expect(copy).toMatchObject({
      metadata: { new: "v" },
      cacheControl: "no-store",
      contentType: "binary/octet-stream",
      tags: { t: "1" },
    });
    expect(copy?.websiteRedirectLocation).toBeUndefined();
    expect(copy?.contentLanguage).toBeUndefined();
    expect(copy?.expires).toBeUndefined();
    w.run("CopyObject", {
      Bucket: "dst",
      Key: "c2",
      CopySource: "src/k",
      MetadataDirective: "REPLACE",
      WebsiteRedirectLocation: "/given",
    });
    expect(w.model.current("dst", "c2")?.websiteRedirectLocation).toBe("/given");
  });

  it("TaggingDirective REPLACE takes Tagging (or no tags); COPY ignores Tagging", () => {
    const w = world();
    w.put("src", "k", "x", { Tagging: "a=1" });
    w.copy({ CopySource: "src/k", TaggingDirective: "REPLACE", Tagging: "b=2&c=3" });
    expect(w.model.current("dst", "copy")?.tags).toEqual({ b: "2", c: "3" });
    w.run("CopyObject", {
      Bucket: "dst",
      Key: "c2",
      CopySource: "src/k",
      TaggingDirective: "REPLACE",
    });
    expect(w.model.current("dst", "c2")?.tags).toEqual({});
    w.run("CopyObject", { Bucket: "dst", Key: "c3", CopySource: "src/k", Tagging: "z=9" });
    expect(w.model.current("dst", "c3")?.tags).toEqual({ a: "1" });
  });

  it("StorageClass sets the copy's class; the copy of a multipart object is a single-part object (MD5 ETag)", () => {
    const w = world();
    const { UploadId } = w.run("CreateMultipartUpload", { Bucket: "src", Key: "mp" });
    const part = new Uint8Array(5 * MIB).fill(7);
    const p1 = w.run("UploadPart", {
      Bucket: "src",
      Key: "mp",
      UploadId,
      PartNumber: 1,
      Body: part,
    });
    const p2 = w.run("UploadPart", {
      Bucket: "src",
      Key: "mp",
      UploadId,
      PartNumber: 2,
      Body: "tail",
    });
    const done = w.run("CompleteMultipartUpload", {
      Bucket: "src",
      Key: "mp",
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: p1.ETag },
          { PartNumber: 2, ETag: p2.ETag },
        ],
      },
    });
    expect(String(done.ETag)).toMatch(/-2"$/);
    w.copy({ CopySource: "src/mp", StorageClass: "GLACIER_IR" });
    const copy = w.model.current("dst", "copy");
    const whole = Buffer.concat([Buffer.from(part), Buffer.from("tail")]);
    expect(copy?.etag).toBe(`"${createHash("md5").update(whole).digest("hex")}"`);
    expect(copy?.storageClass).toBe("GLACIER_IR");
    expect(copy?.partsCount).toBeUndefined();
  });

  it("an unknown directive answers InvalidArgument (400)", () => {
    const w = world();
    w.put("src", "k", "x");
    expectError(
      w.fail("CopyObject", {
        Bucket: "dst",
        Key: "c",
        CopySource: "src/k",
        MetadataDirective: "MERGE",
      }),
      "InvalidArgument",
      400,
    );
  });
});

describe("copying an object onto itself", () => {
  it("without a change is InvalidRequest (400)", () => {
    const w = world();
    w.put("dst", "k", "x");
    const error = w.fail("CopyObject", { Bucket: "dst", Key: "k", CopySource: "dst/k" });
    expectError(error, "InvalidRequest", 400);
    expect(error.message).toMatch(/copy an object to itself without changing/);
    expectError(
      w.fail("CopyObject", {
        Bucket: "dst",
        Key: "k",
        CopySource: "dst/k",
        TaggingDirective: "REPLACE",
      }),
      "InvalidRequest",
      400,
    );
  });

  it("with MetadataDirective REPLACE rewrites the metadata and keeps the ETag", () => {
    const w = world();
    const { ETag } = w.put("dst", "k", "x", { Metadata: { a: "1" } });
    w.advance(2000);
    w.run("CopyObject", {
      Bucket: "dst",
      Key: "k",
      CopySource: "dst/k",
      MetadataDirective: "REPLACE",
      Metadata: { a: "2" },
    });
    const current = w.model.current("dst", "k");
    expect(current?.etag).toBe(ETag);
    expect(current?.metadata).toEqual({ a: "2" });
    expect(w.events.map((event) => event["detail-type"])).toEqual([
      "Object Created",
      "Object Created",
    ]);
    expect(w.events[1]?.detail).toMatchObject({ reason: "CopyObject" });
  });

  it("with a StorageClass or a WebsiteRedirectLocation is allowed", () => {
    const w = world();
    w.put("dst", "k", "x");
    w.run("CopyObject", { Bucket: "dst", Key: "k", CopySource: "dst/k", StorageClass: "STANDARD" });
    w.run("CopyObject", {
      Bucket: "dst",
      Key: "k",
      CopySource: "dst/k",
      WebsiteRedirectLocation: "/x",
    });
    expect(w.model.current("dst", "k")?.websiteRedirectLocation).toBe("/x");
  });

  it("copying an older version onto the same key is not a copy onto itself", () => {
    const w = world();
    const first = w.put("src", "k", "one");
    w.put("src", "k", "two");
    w.run("CopyObject", {
      Bucket: "src",
      Key: "k",
      CopySource: `src/k?versionId=${String(first.VersionId)}`,
    });
    expect(text(w.model.current("src", "k")?.body)).toBe("one");
  });
});

describe("conditions", () => {
  function fixture() {
    const w = world();
    const { ETag } = w.put("src", "k", "x");
    w.advance(60_000);
    return { w, etag: String(ETag), lastModified: Date.UTC(2025, 2, 1, 12, 0, 0) };
  }

  it("evaluates CopySourceIfMatch first, then IfUnmodifiedSince, IfNoneMatch, IfModifiedSince; each 412", () => {
    const { w, etag, lastModified } = fixture();
    const ifMatch = { CopySourceIfMatch: '"other"' };
    const ifUnmodifiedSince = { CopySourceIfUnmodifiedSince: new Date(lastModified - 86_400_000) };
    const ifNoneMatch = { CopySourceIfNoneMatch: etag };
    const ifModifiedSince = { CopySourceIfModifiedSince: new Date(lastModified + 1000) };
    const failsOn = (input: Record<string, unknown>, Condition: string) => {
      const error = w.fail("CopyObject", {
        Bucket: "dst",
        Key: "c",
        CopySource: "src/k",
        ...input,
      });
      expectError(error, "PreconditionFailed", 412);
      expect(error).toMatchObject({ Condition });
    };
    failsOn(
      { ...ifMatch, ...ifUnmodifiedSince, ...ifNoneMatch, ...ifModifiedSince },
      "x-amz-copy-source-If-Match",
    );
    failsOn(
      { ...ifUnmodifiedSince, ...ifNoneMatch, ...ifModifiedSince },
      "x-amz-copy-source-If-Unmodified-Since",
    );
    failsOn({ ...ifNoneMatch, ...ifModifiedSince }, "x-amz-copy-source-If-None-Match");
    failsOn(ifModifiedSince, "x-amz-copy-source-If-Modified-Since");
  });

  it("If-Match true and If-Unmodified-Since false copies (200); ETags match without quotes", () => {
    const { w, etag, lastModified } = fixture();
    w.copy({
      CopySource: "src/k",
      CopySourceIfMatch: etag.replace(/"/g, ""),
      CopySourceIfUnmodifiedSince: new Date(lastModified - 86_400_000),
    });
    expect(text(w.model.current("dst", "copy")?.body)).toBe("x");
  });

  it("ignores a CopySourceIfModifiedSince in the future", () => {
    const { w } = fixture();
    w.copy({ CopySource: "src/k", CopySourceIfModifiedSince: new Date(Date.UTC(2030, 0, 1)) });
    expect(text(w.model.current("dst", "copy")?.body)).toBe("x");
  });

  it("If-None-Match false and If-Modified-Since true is 412", () => {
    const { w, etag, lastModified } = fixture();
    const error = w.fail("CopyObject", {
      Bucket: "dst",
      Key: "c",
      CopySource: "src/k",
      CopySourceIfNoneMatch: etag,
      CopySourceIfModifiedSince: new Date(lastModified - 86_400_000),
    });
    expectError(error, "PreconditionFailed", 412);
  });

  it("the destination's IfNoneMatch / IfMatch are checked when the copy takes effect", () => {
    const { w } = fixture();
    const op = w.start("CopyObject", {
      Bucket: "dst",
      Key: "c",
      CopySource: "src/k",
      IfNoneMatch: "*",
    });
    w.put("dst", "c", "arrived first");
    expect(() => op.finish()).toThrow(
      expect.objectContaining({ name: "ConditionalRequestConflict" }) as Error,
    );
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "src/k", IfNoneMatch: "*" }),
      "PreconditionFailed",
      412,
    );
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "src/k", IfMatch: '"nope"' }),
      "PreconditionFailed",
      412,
    );
    expectError(
      w.fail("CopyObject", { Bucket: "dst", Key: "new", CopySource: "src/k", IfMatch: "*" }),
      "NoSuchKey",
      404,
    );
  });
});

describe("copy time and what a copy reads", () => {
  it("takes size over 100 MiB/s; reads the source at its start; the result appears at its end", () => {
    const w = world();
    w.put("src", "big", new Uint8Array(20 * MIB).fill(1), { Metadata: { v: "1" }, Tagging: "v=1" });
    const op = w.start("CopyObject", { Bucket: "dst", Key: "copy", CopySource: "src/big" });
    expect(op.durationMs).toBe(200);
    w.put("src", "big", "replaced", { Metadata: { v: "2" } });
    w.run("PutObjectTagging", {
      Bucket: "src",
      Key: "big",
      Tagging: { TagSet: [{ Key: "v", Value: "2" }] },
    });
    expect(w.model.current("dst", "copy")).toBeUndefined();
    op.finish();
    const copy = w.model.current("dst", "copy");
    expect(copy?.body.length).toBe(20 * MIB);
    expect(copy?.metadata).toEqual({ v: "1" });
    expect(copy?.tags).toEqual({ v: "1" });
  });

  it("a source condition fails at the start even if the source changes before the end", () => {
    const w = world();
    w.put("src", "k", "x");
    const op = w.start("CopyObject", {
      Bucket: "dst",
      Key: "c",
      CopySource: "src/k",
      CopySourceIfMatch: `"${md5("y")}"`,
    });
    w.put("src", "k", "y");
    expect(() => op.finish()).toThrow(
      expect.objectContaining({ name: "PreconditionFailed" }) as Error,
    );
  });
});

describe("archived sources and the 5 GiB limit", () => {
  it("a GLACIER, DEEP_ARCHIVE or archived INTELLIGENT_TIERING source is InvalidObjectState (403); GLACIER_IR copies", () => {
    const w = world();
    w.put("src", "g", "x", { StorageClass: "GLACIER" });
    w.put("src", "d", "x", { StorageClass: "DEEP_ARCHIVE" });
    w.put("src", "it", "x", { StorageClass: "INTELLIGENT_TIERING" });
    w.model.transition("src", "it", {
      storageClass: "INTELLIGENT_TIERING",
      archiveStatus: "ARCHIVE_ACCESS",
    });
    w.put("src", "ir", "x", { StorageClass: "GLACIER_IR" });
    for (const key of ["g", "d", "it"]) {
      const error = w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: `src/${key}` });
      expectError(error, "InvalidObjectState", 403);
      expect(error.message).toBe("Operation is not valid for the source object's storage class");
    }
    const it = w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "src/it" });
    expect(it).toMatchObject({ StorageClass: "INTELLIGENT_TIERING", AccessTier: "ARCHIVE_ACCESS" });
    w.copy({ CopySource: "src/ir" });
  });

  it("a source larger than 5 GiB is InvalidRequest (400); UploadPartCopy can copy its ranges", () => {
    const w = world();
    w.put("src", "five", new Uint8Array(5 * MIB));
    const { UploadId } = w.run("CreateMultipartUpload", { Bucket: "src", Key: "huge" });
    const parts = [];
    for (let PartNumber = 1; PartNumber <= 1025; PartNumber++) {
      const out = w.run("UploadPartCopy", {
        Bucket: "src",
        Key: "huge",
        UploadId,
        PartNumber,
        CopySource: "src/five",
      });
      parts.push({ PartNumber, ETag: resultEtag(out.CopyPartResult) });
    }
    w.run("CompleteMultipartUpload", {
      Bucket: "src",
      Key: "huge",
      UploadId,
      MultipartUpload: { Parts: parts },
    });
    const head = w.run("HeadObject", { Bucket: "src", Key: "huge" });
    expect(head.ContentLength).toBe(1025 * 5 * MIB);
    const error = w.fail("CopyObject", { Bucket: "dst", Key: "c", CopySource: "src/huge" });
    expectError(error, "InvalidRequest", 400);
    expect(error.message).toBe(
      "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
    );
    const second = w.run("CreateMultipartUpload", { Bucket: "dst", Key: "huge" });
    const ranged = w.start("UploadPartCopy", {
      Bucket: "dst",
      Key: "huge",
      UploadId: second.UploadId,
      PartNumber: 1,
      CopySource: "src/huge",
      CopySourceRange: `bytes=0-${5 * MIB - 1}`,
    });
    expect(ranged.durationMs).toBe(50);
    expect(ranged.finish().CopyPartResult).toMatchObject({
      ETag: `"${createHash("md5")
        .update(new Uint8Array(5 * MIB))
        .digest("hex")}"`,
    });
  });
});
