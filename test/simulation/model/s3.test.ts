// The S3 model (tools/simulation/model/s3.ts): objects, ETags, LastModified, metadata, tags, ranges,
// buckets and Regions, transient faults, conditional reads, writes and deletes.
import { createHash } from "node:crypto";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { S3Model, type S3EventBridgeEvent } from "../../../tools/simulation/model/s3";

const START = Date.UTC(2025, 0, 15, 10, 30, 0, 250);
const REGION = "us-east-1";

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The text of a GetObject output's Body (a Uint8Array in the model). */
function bodyText(out: Record<string, unknown>): string {
  const body = out.Body;
  if (!(body instanceof Uint8Array)) throw new Error("Body is not a Uint8Array");
  return new TextDecoder().decode(body);
}

function world(options: { versioning?: boolean } = {}) {
  let now = START;
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(7),
    accountId: "111122223333",
  });
  const events: S3EventBridgeEvent[] = [];
  model.onEvent((event) => events.push(event));
  model.createBucket("b", { region: REGION, versioning: options.versioning, eventBridge: true });
  const run = (command: string, input: Record<string, unknown>, region = REGION) => {
    const op = model.start({ service: "s3", region, command, input });
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
  return {
    model,
    events,
    run,
    fail,
    advance: (ms: number) => (now += ms),
    now: () => now,
    put: (key: string, body: string, input: Record<string, unknown> = {}) =>
      run("PutObject", { Bucket: "b", Key: key, Body: body, ...input }),
  };
}

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

function expectError(error: S3ServiceException, name: string, status: number) {
  expect({ name: error.name, status: error.$metadata.httpStatusCode }).toEqual({ name, status });
}

describe("PutObject, HeadObject, GetObject", () => {
  it("stores the body; the ETag of a single-part object is the MD5 of its body, in quotes", () => {
    const w = world();
    const out = w.put("k", "hello");
    expect(out).toEqual({ ETag: `"${md5("hello")}"`, ServerSideEncryption: "AES256" });
    const got = w.run("GetObject", { Bucket: "b", Key: "k" });
    expect(bodyText(got)).toBe("hello");
    expect(got.ETag).toBe(`"${md5("hello")}"`);
    expect(got.ContentLength).toBe(5);
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("hello"));
  });

  it("accepts a Uint8Array body", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: new Uint8Array([1, 2, 3]) });
    expect(w.run("GetObject", { Bucket: "b", Key: "k" }).Body).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("keeps the ETag when identical bytes are put again", () => {
    const w = world();
    const first = w.put("k", "same");
    w.advance(5000);
    const second = w.put("k", "same");
    expect(second.ETag).toBe(first.ETag);
  });

  it("reports LastModified at whole seconds, the resolution of the Last-Modified header", () => {
    const w = world();
    w.put("k", "x");
    const head = w.run("HeadObject", { Bucket: "b", Key: "k" });
    expect(head.LastModified).toEqual(new Date(Math.floor(START / 1000) * 1000));
    expect(w.model.current("b", "k")?.lastModified.getMilliseconds()).toBe(0);
  });

  it("lower-cases user metadata keys and returns the content headers, Expires and redirect", () => {
    const w = world();
    const expires = new Date(Date.UTC(2030, 1, 2, 3, 4, 5, 678));
    w.put("k", "x", {
      Metadata: { "Mixed-Case": "V" },
      ContentType: "text/plain",
      CacheControl: "no-cache",
      ContentDisposition: "attachment",
      ContentEncoding: "gzip",
      ContentLanguage: "en",
      Expires: expires,
      WebsiteRedirectLocation: "/other",
      StorageClass: "STANDARD_IA",
    });
    expect(w.run("HeadObject", { Bucket: "b", Key: "k" })).toMatchObject({
      Metadata: { "mixed-case": "V" },
      ContentType: "text/plain",
      CacheControl: "no-cache",
      ContentDisposition: "attachment",
      ContentEncoding: "gzip",
      ContentLanguage: "en",
      Expires: new Date(Date.UTC(2030, 1, 2, 3, 4, 5)),
      ExpiresString: "Sat, 02 Feb 2030 03:04:05 GMT",
      WebsiteRedirectLocation: "/other",
      StorageClass: "STANDARD_IA",
      AcceptRanges: "bytes",
    });
  });

  it("omits StorageClass for STANDARD and defaults ContentType to what the SDK sends", () => {
    const w = world();
    w.put("k", "x");
    const head = w.run("HeadObject", { Bucket: "b", Key: "k" });
    expect(head).not.toHaveProperty("StorageClass");
    expect(head.ContentType).toBe("application/octet-stream");
    expect(head).not.toHaveProperty("VersionId");
  });

  it("combines metadata keys that differ only in case into one comma-delimited value", () => {
    const w = world();
    w.put("k", "x", { Metadata: { Tag: "a", tag: "b" } });
    expect(w.run("HeadObject", { Bucket: "b", Key: "k" }).Metadata).toEqual({ tag: "a,b" });
  });

  it("refuses user metadata over 2 KB of UTF-8 keys and values with MetadataTooLarge (400)", () => {
    const w = world();
    const atLimit = { kk: "é".repeat(1023) }; // 2 + 2046 = 2048 bytes
    w.put("ok", "x", { Metadata: atLimit });
    expect(w.model.current("b", "ok")?.metadata).toEqual(atLimit);
    const error = w.fail("PutObject", {
      Bucket: "b",
      Key: "no",
      Body: "x",
      Metadata: { kk: "é".repeat(1023) + "x" },
    });
    expectError(error, "MetadataTooLarge", 400);
    expect(w.model.current("b", "no")).toBeUndefined();
  });

  it("answers an unknown storage class with InvalidStorageClass (400)", () => {
    const w = world();
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "k", StorageClass: "COLD" }),
      "InvalidStorageClass",
      400,
    );
  });

  it("serves byte ranges and answers an unsatisfiable one with InvalidRange (416)", () => {
    const w = world();
    w.put("k", "0123456789");
    const part = w.run("GetObject", { Bucket: "b", Key: "k", Range: "bytes=2-4" });
    expect(bodyText(part)).toBe("234");
    expect(part).toMatchObject({ ContentLength: 3, ContentRange: "bytes 2-4/10" });
    const suffix = w.run("GetObject", { Bucket: "b", Key: "k", Range: "bytes=-3" });
    expect(bodyText(suffix)).toBe("789");
    const open = w.run("GetObject", { Bucket: "b", Key: "k", Range: "bytes=8-" });
    expect(bodyText(open)).toBe("89");
    expectError(
      w.fail("GetObject", { Bucket: "b", Key: "k", Range: "bytes=10-12" }),
      "InvalidRange",
      416,
    );
  });
});

describe("missing objects, buckets and other Regions", () => {
  it("GetObject of a missing key throws NoSuchKey (404); HeadObject NotFound (404), no body", () => {
    const w = world();
    expectError(w.fail("GetObject", { Bucket: "b", Key: "nope" }), "NoSuchKey", 404);
    const head = w.fail("HeadObject", { Bucket: "b", Key: "nope" });
    expectError(head, "NotFound", 404);
    expect(head.message).toBe("UnknownError");
  });

  it("a missing bucket is NoSuchBucket (404)", () => {
    const w = world();
    expectError(w.fail("PutObject", { Bucket: "none", Key: "k", Body: "x" }), "NoSuchBucket", 404);
    expectError(w.fail("HeadObject", { Bucket: "none", Key: "k" }), "NotFound", 404);
  });

  it("HeadBucket answers the bucket's Region, a missing bucket NotFound (404) with no body", () => {
    const w = world();
    expect(w.run("HeadBucket", { Bucket: "b" })).toEqual({ BucketRegion: REGION });
    const missing = w.fail("HeadBucket", { Bucket: "none" });
    expectError(missing, "NotFound", 404);
    expect(missing.message).toBe("UnknownError");
    expectError(w.fail("HeadBucket", { Bucket: "b" }, "eu-west-1"), "Unknown", 301);
  });

  it("an ExpectedBucketOwner other than the bucket's account is 403 AccessDenied", () => {
    const w = world();
    expectError(
      w.fail("PutObject", {
        Bucket: "b",
        Key: "k",
        Body: "x",
        ExpectedBucketOwner: "999999999999",
      }),
      "AccessDenied",
      403,
    );
    w.put("k", "x", { ExpectedBucketOwner: "111122223333" });
    expectError(
      w.fail("CopyObject", {
        Bucket: "b",
        Key: "c",
        CopySource: "b/k",
        ExpectedSourceBucketOwner: "999999999999",
      }),
      "AccessDenied",
      403,
    );
  });

  it("a bucket of another Region answers 301 PermanentRedirect (HeadObject: no code)", () => {
    const w = world();
    w.put("k", "x");
    const error = w.fail("GetObject", { Bucket: "b", Key: "k" }, "eu-west-1");
    expectError(error, "PermanentRedirect", 301);
    expect(error.$response?.headers["x-amz-bucket-region"]).toBe(REGION);
    expectError(w.fail("HeadObject", { Bucket: "b", Key: "k" }, "eu-west-1"), "Unknown", 301);
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "k", Body: "y" }, "eu-west-1"),
      "PermanentRedirect",
      301,
    );
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("x"));
  });
});

describe("faults", () => {
  it("offers InternalError (500), SlowDown (503), ServiceUnavailable (503) as the SDK throws them", () => {
    const w = world();
    const faults = w.model.faults({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: {},
    });
    expect(faults.map((fault) => [fault.name, fault.httpStatusCode])).toEqual([
      ["InternalError", 500],
      ["SlowDown", 503],
      ["ServiceUnavailable", 503],
    ]);
    const error = faults[1]?.error();
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error).toMatchObject({
      name: "SlowDown",
      $fault: "server",
      $metadata: { httpStatusCode: 503 },
    });
    const head = w.model.faults({
      service: "s3",
      region: REGION,
      command: "HeadObject",
      input: {},
    });
    expect(head[0]?.error()).toMatchObject({ name: "Unknown", $metadata: { httpStatusCode: 500 } });
    expect(
      w.model.faults({ service: "sqs", region: REGION, command: "SendMessage", input: {} }),
    ).toEqual([]);
  });
});

describe("tags", () => {
  it("takes Tagging as a URL query string and answers GetObjectTagging; HeadObject counts them", () => {
    const w = world();
    w.put("k", "x", { Tagging: "a=1&b=two%20words&c=x+y" });
    expect(w.run("GetObjectTagging", { Bucket: "b", Key: "k" })).toEqual({
      TagSet: [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "two words" },
        { Key: "c", Value: "x y" },
      ],
    });
    expect(w.run("HeadObject", { Bucket: "b", Key: "k" }).TagCount).toBe(3);
  });

  it("refuses more than 10 tags, long keys or values, duplicates: InvalidTag (400)", () => {
    const w = world();
    const eleven = Array.from({ length: 11 }, (_, i) => `k${i}=v`).join("&");
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "k", Body: "x", Tagging: eleven }),
      "InvalidTag",
      400,
    );
    w.put("k", "x");
    const set = (TagSet: { Key: string; Value: string }[]) =>
      w.fail("PutObjectTagging", { Bucket: "b", Key: "k", Tagging: { TagSet } });
    expectError(set([{ Key: "k".repeat(129), Value: "v" }]), "InvalidTag", 400);
    expectError(set([{ Key: "k", Value: "v".repeat(257) }]), "InvalidTag", 400);
    expectError(
      set([
        { Key: "k", Value: "1" },
        { Key: "k", Value: "2" },
      ]),
      "InvalidTag",
      400,
    );
    w.run("PutObjectTagging", {
      Bucket: "b",
      Key: "k",
      Tagging: { TagSet: [{ Key: "😀".repeat(128), Value: "v" }] },
    });
  });

  it("changing tags keeps the ETag and LastModified (a sub-resource), and emits tag events", () => {
    const w = world();
    w.put("k", "x");
    const before = w.run("HeadObject", { Bucket: "b", Key: "k" });
    w.advance(10_000);
    w.run("PutObjectTagging", {
      Bucket: "b",
      Key: "k",
      Tagging: { TagSet: [{ Key: "t", Value: "1" }] },
    });
    w.run("DeleteObjectTagging", { Bucket: "b", Key: "k" });
    const after = w.run("HeadObject", { Bucket: "b", Key: "k" });
    expect([after.ETag, after.LastModified]).toEqual([before.ETag, before.LastModified]);
    expect(w.events.map((event) => event["detail-type"])).toEqual([
      "Object Created",
      "Object Tags Added",
      "Object Tags Deleted",
    ]);
    const added = w.events[1];
    expect(added?.detail).toEqual({
      version: "0",
      "event-version": "1.0",
      bucket: { name: "b" },
      object: { key: "k", etag: md5("x") },
      "request-id": expect.any(String) as string,
      requester: "111122223333",
      "source-ip-address": "203.0.113.7",
    });
    expect(w.model.current("b", "k")?.tags).toEqual({});
  });
});

describe("conditional reads", () => {
  function fixture() {
    const w = world();
    const { ETag } = w.put("k", "x");
    const lastModified = (
      w.run("HeadObject", { Bucket: "b", Key: "k" }).LastModified as Date
    ).getTime();
    w.advance(60_000);
    return { w, etag: ETag as string, lastModified };
  }

  it("If-Match fails with 412 PreconditionFailed (GetObject) / 412 without code (HeadObject)", () => {
    const { w } = fixture();
    const error = w.fail("GetObject", { Bucket: "b", Key: "k", IfMatch: '"other"' });
    expectError(error, "PreconditionFailed", 412);
    expect(error).toMatchObject({ Condition: "If-Match" });
    expectError(
      w.fail("HeadObject", { Bucket: "b", Key: "k", IfMatch: '"other"' }),
      "Unknown",
      412,
    );
  });

  it("If-None-Match on the current ETag answers 304, quoted or not", () => {
    const { w, etag } = fixture();
    expectError(w.fail("GetObject", { Bucket: "b", Key: "k", IfNoneMatch: etag }), "Unknown", 304);
    expectError(
      w.fail("HeadObject", { Bucket: "b", Key: "k", IfNoneMatch: etag.replace(/"/g, "") }),
      "Unknown",
      304,
    );
  });

  it("If-Match true wins over If-Unmodified-Since false: 200", () => {
    const { w, etag, lastModified } = fixture();
    const out = w.run("GetObject", {
      Bucket: "b",
      Key: "k",
      IfMatch: etag,
      IfUnmodifiedSince: new Date(lastModified - 3_600_000),
    });
    expect(out.ETag).toBe(etag);
    const error = w.fail("GetObject", {
      Bucket: "b",
      Key: "k",
      IfUnmodifiedSince: new Date(lastModified - 1000),
    });
    expect(error).toMatchObject({ name: "PreconditionFailed", Condition: "If-Unmodified-Since" });
  });

  it("If-None-Match false with If-Modified-Since true: 304; If-Modified-Since compares whole seconds", () => {
    const { w, etag, lastModified } = fixture();
    expectError(
      w.fail("GetObject", {
        Bucket: "b",
        Key: "k",
        IfNoneMatch: etag,
        IfModifiedSince: new Date(lastModified - 3_600_000),
      }),
      "Unknown",
      304,
    );
    expectError(
      w.fail("GetObject", { Bucket: "b", Key: "k", IfModifiedSince: new Date(lastModified + 999) }),
      "Unknown",
      304,
    );
    w.run("GetObject", { Bucket: "b", Key: "k", IfModifiedSince: new Date(lastModified - 1000) });
  });

  it("ignores an If-Modified-Since in the future", () => {
    const { w } = fixture();
    w.run("GetObject", { Bucket: "b", Key: "k", IfModifiedSince: new Date(w.now() + 86_400_000) });
  });
});

describe("conditional writes", () => {
  it("If-None-Match: * creates only when the key has no object (412 otherwise)", () => {
    const w = world();
    w.put("k", "one", { IfNoneMatch: "*" });
    const error = w.fail("PutObject", { Bucket: "b", Key: "k", Body: "two", IfNoneMatch: "*" });
    expect(error).toMatchObject({ name: "PreconditionFailed", Condition: "If-None-Match" });
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("one"));
  });

  it("If-Match writes only over the same ETag: 412 on another, 404 NoSuchKey on a missing key", () => {
    const w = world();
    const { ETag } = w.put("k", "one");
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "k", Body: "x", IfMatch: '"nope"' }),
      "PreconditionFailed",
      412,
    );
    w.put("k", "two", { IfMatch: ETag });
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("two"));
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "missing", Body: "x", IfMatch: "*" }),
      "NoSuchKey",
      404,
    );
  });

  it("answers 409 ConditionalRequestConflict when another write took effect during a conditional write", () => {
    const w = world();
    const slow = w.model.start({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: { Bucket: "b", Key: "k", Body: "slow", IfNoneMatch: "*" },
    });
    w.put("k", "fast");
    expect(() => slow.finish()).toThrow(
      expect.objectContaining({
        name: "ConditionalRequestConflict",
        $metadata: { httpStatusCode: 409 },
      }) as Error,
    );
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("fast"));
  });

  it("an If-Match write whose object was deleted meanwhile answers 404", () => {
    const w = world();
    const { ETag } = w.put("k", "one");
    const op = w.model.start({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: { Bucket: "b", Key: "k", Body: "two", IfMatch: ETag },
    });
    w.run("DeleteObject", { Bucket: "b", Key: "k" });
    expect(() => op.finish()).toThrow(expect.objectContaining({ name: "NoSuchKey" }) as Error);
  });

  it("an unconditional write racing another: the last to take effect wins", () => {
    const w = world();
    const first = w.model.start({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: { Bucket: "b", Key: "k", Body: "first" },
    });
    w.put("k", "second");
    first.finish();
    expect(w.model.current("b", "k")?.body).toEqual(new TextEncoder().encode("first"));
  });

  it("takes time proportional to the body (100 MiB/s)", () => {
    const w = world();
    const op = w.model.start({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: { Bucket: "b", Key: "k", Body: new Uint8Array(10 * 1024 * 1024) },
    });
    expect(op.durationMs).toBe(100);
  });
});

describe("DeleteObject", () => {
  it("deletes permanently without versioning and emits Object Deleted, Permanently Deleted", () => {
    const w = world();
    w.put("k", "x");
    expect(w.run("DeleteObject", { Bucket: "b", Key: "k" })).toEqual({});
    expect(w.model.current("b", "k")).toBeUndefined();
    expect(w.model.keys("b")).toEqual([]);
    const deleted = w.events[1];
    expect(deleted?.["detail-type"]).toBe("Object Deleted");
    expect(deleted?.detail).toMatchObject({
      reason: "DeleteObject",
      "deletion-type": "Permanently Deleted",
    });
    expect(Object.keys(deleted?.detail.object ?? {}).sort()).toEqual(["key", "sequencer"]);
  });

  it("a delete of nothing answers {} and emits nothing", () => {
    const w = world();
    expect(w.run("DeleteObject", { Bucket: "b", Key: "k" })).toEqual({});
    expect(w.events).toEqual([]);
  });

  it("If-Match deletes only the same ETag (412), a missing key is 404 NoSuchKey, * matches any", () => {
    const w = world();
    w.put("k", "x");
    expectError(
      w.fail("DeleteObject", { Bucket: "b", Key: "k", IfMatch: '"nope"' }),
      "PreconditionFailed",
      412,
    );
    expectError(
      w.fail("DeleteObject", { Bucket: "b", Key: "other", IfMatch: "*" }),
      "NoSuchKey",
      404,
    );
    w.run("DeleteObject", { Bucket: "b", Key: "k", IfMatch: "*" });
    expect(w.model.current("b", "k")).toBeUndefined();
  });

  it("a conditional delete racing a write answers 409", () => {
    const w = world();
    const { ETag } = w.put("k", "x");
    const op = w.model.start({
      service: "s3",
      region: REGION,
      command: "DeleteObject",
      input: { Bucket: "b", Key: "k", IfMatch: ETag },
    });
    w.put("k", "y");
    expect(() => op.finish()).toThrow(
      expect.objectContaining({ name: "ConditionalRequestConflict" }) as Error,
    );
  });

  it("a conditional delete on a versioned key whose current version is a delete marker is 404", () => {
    const w = world({ versioning: true });
    w.put("k", "x");
    w.run("DeleteObject", { Bucket: "b", Key: "k" });
    expectError(w.fail("DeleteObject", { Bucket: "b", Key: "k", IfMatch: "*" }), "NoSuchKey", 404);
  });
});

describe("edges", () => {
  it("If-None-Match with an ETag on a write answers 501 NotImplemented (only * is supported)", () => {
    const w = world();
    w.put("k", "x");
    expectError(
      w.fail("PutObject", { Bucket: "b", Key: "k", Body: "y", IfNoneMatch: '"abc"' }),
      "NotImplemented",
      501,
    );
  });

  it("a malformed CopySource answers InvalidArgument (400)", () => {
    const w = world();
    expectError(
      w.fail("CopyObject", { Bucket: "b", Key: "c", CopySource: "b/%E0%A4%A" }),
      "InvalidArgument",
      400,
    );
    expectError(
      w.fail("CopyObject", { Bucket: "b", Key: "c", CopySource: "only-a-bucket" }),
      "InvalidArgument",
      400,
    );
  });

  it("Range and PartNumber together are InvalidRequest; an unparsable Range returns the whole object", () => {
    const w = world();
    w.put("k", "0123");
    expectError(
      w.fail("GetObject", { Bucket: "b", Key: "k", Range: "bytes=0-1", PartNumber: 1 }),
      "InvalidRequest",
      400,
    );
    expect(bodyText(w.run("GetObject", { Bucket: "b", Key: "k", Range: "lines=1-2" }))).toBe(
      "0123",
    );
    expect(w.run("HeadObject", { Bucket: "b", Key: "k", PartNumber: 1 })).not.toHaveProperty(
      "PartsCount",
    );
  });

  it("HeadObject of a delete marker by version ID answers 405 without a code", () => {
    const w = world({ versioning: true });
    w.put("k", "x");
    const { VersionId } = w.run("DeleteObject", { Bucket: "b", Key: "k" });
    const error = w.fail("HeadObject", { Bucket: "b", Key: "k", VersionId });
    expectError(error, "Unknown", 405);
    expect(error.$response?.headers["x-amz-delete-marker"]).toBe("true");
  });

  it("a negative MaxKeys is InvalidArgument", () => {
    const w = world();
    expectError(w.fail("ListObjectsV2", { Bucket: "b", MaxKeys: -1 }), "InvalidArgument", 400);
  });

  it("RestoreObject refuses an unknown tier and a Days that is not a positive integer", () => {
    const w = world();
    w.put("k", "x", { StorageClass: "GLACIER" });
    const restore = (RestoreRequest: Record<string, unknown>) =>
      w.fail("RestoreObject", { Bucket: "b", Key: "k", RestoreRequest });
    expectError(restore({ Days: 1, Tier: "Fast" }), "MalformedXML", 400);
    expectError(restore({ Days: 0 }), "InvalidArgument", 400);
  });

  it("an unmodelled command fails when it finishes, not when it starts", () => {
    const w = world();
    const op = w.model.start({ service: "s3", region: REGION, command: "ListBuckets", input: {} });
    expect(op.durationMs).toBe(0);
    expect(() => op.finish()).toThrow(/not modelled/);
    expect(
      w.model.faults({ service: "s3", region: REGION, command: "ListBuckets", input: {} }),
    ).toEqual([]);
  });

  it("a Body that is neither bytes nor a string fails when the call finishes", () => {
    const w = world();
    const op = w.model.start({
      service: "s3",
      region: REGION,
      command: "PutObject",
      input: { Bucket: "b", Key: "k", Body: 42 },
    });
    expect(() => op.finish()).toThrow(/Body must be/);
  });

  it("the inspection methods refuse an unknown bucket; createBucket refuses a second bucket of a name", () => {
    const w = world();
    expect(() => w.model.keys("none")).toThrow(/no bucket/);
    expect(() => {
      w.model.createBucket("b", { region: REGION });
    }).toThrow(/exists/);
  });
});
