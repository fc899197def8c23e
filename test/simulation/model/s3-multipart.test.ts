// The S3 model's multipart uploads (tools/simulation/model/s3-multipart.ts): the multipart ETag,
// part sizes and numbers, the parts list, conditional completes, retries, aborts, UploadPartCopy
// ranges, reading a part.
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

/** The text of a GetObject output's Body (a Uint8Array in the model). */
function bodyText(out: Record<string, unknown>): string {
  const body = out.Body;
  if (!(body instanceof Uint8Array)) throw new Error("Body is not a Uint8Array");
  return new TextDecoder().decode(body);
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
  let now = Date.UTC(2025, 3, 1, 8, 0, 0);
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(3),
    accountId: "111122223333",
  });
  const events: S3EventBridgeEvent[] = [];
  model.onEvent((event) => events.push(event));
  model.createBucket("b", { region: REGION, versioning: true, eventBridge: true });
  const start = (command: string, input: Record<string, unknown>) =>
    model.start({ service: "s3", region: REGION, command, input });
  const run = (command: string, input: Record<string, unknown>) => {
    const op = start(command, input);
    now += op.durationMs;
    return op.finish();
  };
  const fail = (command: string, input: Record<string, unknown>) => {
    try {
      run(command, input);
    } catch (error) {
      if (error instanceof S3ServiceException) return error;
      throw error;
    }
    throw new Error(`${command} did not fail`);
  };
  const create = (input: Record<string, unknown> = {}) => {
    const { UploadId } = run("CreateMultipartUpload", { Bucket: "b", Key: "k", ...input });
    if (typeof UploadId !== "string") throw new Error("no UploadId");
    return UploadId;
  };
  const part = (UploadId: string, PartNumber: number, Body: Uint8Array | string) => {
    const { ETag } = run("UploadPart", { Bucket: "b", Key: "k", UploadId, PartNumber, Body });
    return { PartNumber, ETag: String(ETag) };
  };
  const complete = (
    UploadId: string,
    Parts: { PartNumber: number; ETag: string }[],
    input: Record<string, unknown> = {},
  ) =>
    run("CompleteMultipartUpload", {
      Bucket: "b",
      Key: "k",
      UploadId,
      MultipartUpload: { Parts },
      ...input,
    });
  return {
    model,
    events,
    start,
    run,
    fail,
    create,
    part,
    complete,
    advance: (ms: number) => (now += ms),
  };
}

const big = (fill: number) => new Uint8Array(5 * MIB).fill(fill);
const md5 = (data: Uint8Array | string) => createHash("md5").update(data);

function expectError(error: S3ServiceException, name: string, status: number) {
  expect({ name: error.name, status: error.$metadata.httpStatusCode }).toEqual({ name, status });
}

describe("CompleteMultipartUpload", () => {
  it("concatenates the parts; the ETag is the MD5 of the concatenated part MD5s, a dash, the number of parts", () => {
    const w = world();
    const id = w.create({
      Metadata: { m: "v" },
      ContentType: "text/csv",
      Tagging: "t=1",
      StorageClass: "STANDARD_IA",
    });
    const one = w.part(id, 1, big(1));
    const two = w.part(id, 2, "tail");
    expect(one.ETag).toBe(`"${md5(big(1)).digest("hex")}"`);
    const out = w.complete(id, [one, two]);
    const expected = createHash("md5")
      .update(Buffer.concat([md5(big(1)).digest(), md5("tail").digest()]))
      .digest("hex");
    expect(out).toMatchObject({
      ETag: `"${expected}-2"`,
      Bucket: "b",
      Key: "k",
      Location: "https://b.s3.us-east-1.amazonaws.com/k",
      ServerSideEncryption: "AES256",
      VersionId: expect.any(String) as string,
    });
    const current = w.model.current("b", "k");
    expect(current).toMatchObject({
      metadata: { m: "v" },
      contentType: "text/csv",
      tags: { t: "1" },
      storageClass: "STANDARD_IA",
      partsCount: 2,
    });
    expect(current?.body.length).toBe(5 * MIB + 4);
    expect(w.events.map((event) => event.detail)).toMatchObject([
      { reason: "CompleteMultipartUpload", object: { etag: `${expected}-2`, size: 5 * MIB + 4 } },
    ]);
  });

  it("dates the object from the initiation of the upload, not from its completion", () => {
    const w = world();
    const id = w.create();
    const created = Date.UTC(2025, 3, 1, 8, 0, 0);
    w.advance(3_600_000);
    w.complete(id, [w.part(id, 1, "x")]);
    expect(w.run("HeadObject", { Bucket: "b", Key: "k" }).LastModified).toEqual(new Date(created));
    expect(w.events[0]?.time).toBe("2025-04-01T09:00:00Z");
  });

  it("defaults the content type to binary/octet-stream (the SDK sends none)", () => {
    const w = world();
    const id = w.create();
    w.complete(id, [w.part(id, 1, "x")]);
    expect(w.model.current("b", "k")?.contentType).toBe("binary/octet-stream");
  });

  it("answers EntityTooSmall when a part but the last is under 5 MiB", () => {
    const w = world();
    const id = w.create();
    const parts = [w.part(id, 1, "small"), w.part(id, 2, "tail")];
    expectError(
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts: parts },
      }),
      "EntityTooSmall",
      400,
    );
  });

  it("answers InvalidPartOrder for parts out of order, InvalidPart for a wrong ETag or a missing part", () => {
    const w = world();
    const id = w.create();
    const one = w.part(id, 1, big(1));
    const two = w.part(id, 2, "tail");
    const attempt = (Parts: unknown[]) =>
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts },
      });
    expectError(attempt([two, one]), "InvalidPartOrder", 400);
    expectError(attempt([one, { PartNumber: 2, ETag: '"0000"' }]), "InvalidPart", 400);
    expectError(attempt([one, { PartNumber: 3, ETag: two.ETag }]), "InvalidPart", 400);
    expectError(attempt([]), "MalformedXML", 400);
    w.complete(id, [one, { PartNumber: 2, ETag: two.ETag.replace(/"/g, "") }]);
  });

  it("uses only the listed parts; a part uploaded again replaces the earlier one", () => {
    const w = world();
    const id = w.create();
    w.part(id, 1, "first");
    const again = w.part(id, 1, "again");
    w.part(id, 2, "unlisted");
    w.complete(id, [again]);
    expect(new TextDecoder().decode(w.model.current("b", "k")?.body)).toBe("again");
  });

  it("a completed upload is gone: a retried CompleteMultipartUpload answers NoSuchUpload (404)", () => {
    const w = world();
    const id = w.create();
    const parts = [w.part(id, 1, "x")];
    w.complete(id, parts);
    expectError(
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts: parts },
      }),
      "NoSuchUpload",
      404,
    );
    expectError(
      w.fail("UploadPart", { Bucket: "b", Key: "k", UploadId: id, PartNumber: 2, Body: "y" }),
      "NoSuchUpload",
      404,
    );
  });

  it("If-None-Match: * fails with 412 over an existing object and leaves the upload in place", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "existing" });
    const id = w.create();
    const parts = [w.part(id, 1, "x")];
    expectError(
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts: parts },
        IfNoneMatch: "*",
      }),
      "PreconditionFailed",
      412,
    );
    w.complete(id, parts);
  });

  it("a write that takes effect during a conditional complete answers 409 and ends the upload", () => {
    const w = world();
    const id = w.create();
    const parts = [w.part(id, 1, "x")];
    const op = w.start("CompleteMultipartUpload", {
      Bucket: "b",
      Key: "k",
      UploadId: id,
      MultipartUpload: { Parts: parts },
      IfNoneMatch: "*",
    });
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "racer" });
    expect(() => op.finish()).toThrow(
      expect.objectContaining({ name: "ConditionalRequestConflict" }) as Error,
    );
    expectError(
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts: parts },
      }),
      "NoSuchUpload",
      404,
    );
  });

  it("If-Match completes only over the same ETag", () => {
    const w = world();
    const { ETag } = w.run("PutObject", { Bucket: "b", Key: "k", Body: "existing" });
    const id = w.create();
    const parts = [w.part(id, 1, "x")];
    expectError(
      w.fail("CompleteMultipartUpload", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        MultipartUpload: { Parts: parts },
        IfMatch: '"nope"',
      }),
      "PreconditionFailed",
      412,
    );
    w.complete(id, parts, { IfMatch: ETag });
  });
});

describe("parts", () => {
  it("part numbers run from 1 to 10,000 (InvalidArgument otherwise)", () => {
    const w = world();
    const id = w.create();
    for (const PartNumber of [0, 10001, 1.5]) {
      expectError(
        w.fail("UploadPart", { Bucket: "b", Key: "k", UploadId: id, PartNumber, Body: "x" }),
        "InvalidArgument",
        400,
      );
    }
    w.part(id, 10000, "last");
  });

  it("an unknown upload ID, or one for another key, is NoSuchUpload", () => {
    const w = world();
    const id = w.create();
    expectError(
      w.fail("UploadPart", { Bucket: "b", Key: "k", UploadId: "nope", PartNumber: 1, Body: "x" }),
      "NoSuchUpload",
      404,
    );
    expectError(
      w.fail("UploadPart", { Bucket: "b", Key: "other", UploadId: id, PartNumber: 1, Body: "x" }),
      "NoSuchUpload",
      404,
    );
  });

  it("AbortMultipartUpload ends the upload; parts uploading meanwhile answer NoSuchUpload", () => {
    const w = world();
    const id = w.create();
    const pending = w.start("UploadPart", {
      Bucket: "b",
      Key: "k",
      UploadId: id,
      PartNumber: 1,
      Body: "x",
    });
    expect(w.run("AbortMultipartUpload", { Bucket: "b", Key: "k", UploadId: id })).toEqual({});
    expect(() => pending.finish()).toThrow(
      expect.objectContaining({ name: "NoSuchUpload" }) as Error,
    );
    expectError(
      w.fail("AbortMultipartUpload", { Bucket: "b", Key: "k", UploadId: id }),
      "NoSuchUpload",
      404,
    );
    expect(w.model.current("b", "k")).toBeUndefined();
  });
});

describe("UploadPartCopy", () => {
  it("copies a byte range of a source over 5 MB, and reports the source version", () => {
    const w = world();
    const source = new Uint8Array(6 * MIB).map((_, i) => i % 251);
    const { VersionId } = w.run("PutObject", { Bucket: "b", Key: "src", Body: source });
    const id = w.create();
    const out = w.run("UploadPartCopy", {
      Bucket: "b",
      Key: "k",
      UploadId: id,
      PartNumber: 1,
      CopySource: "b/src",
      CopySourceRange: "bytes=10-19",
    });
    expect(out).toMatchObject({
      CopySourceVersionId: VersionId,
      CopyPartResult: { ETag: `"${md5(source.subarray(10, 20)).digest("hex")}"` },
    });
    w.complete(id, [{ PartNumber: 1, ETag: resultEtag(out.CopyPartResult) }]);
    expect(w.model.current("b", "k")?.body).toEqual(source.subarray(10, 20));
  });

  it("refuses a range of a source of 5 MB or less, a range past the end, a malformed range", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "small", Body: "0123456789" });
    w.run("PutObject", { Bucket: "b", Key: "large", Body: new Uint8Array(6 * MIB) });
    const id = w.create();
    const copy = (CopySource: string, CopySourceRange: string) =>
      w.fail("UploadPartCopy", {
        Bucket: "b",
        Key: "k",
        UploadId: id,
        PartNumber: 1,
        CopySource,
        CopySourceRange,
      });
    expectError(copy("b/small", "bytes=0-1"), "InvalidRequest", 400);
    expectError(copy("b/large", `bytes=0-${6 * MIB}`), "InvalidArgument", 400);
    expectError(copy("b/large", "bytes=5-"), "InvalidArgument", 400);
  });

  it("checks the CopySourceIf* conditions and refuses archived sources", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "src", Body: "x" });
    w.run("PutObject", { Bucket: "b", Key: "cold", Body: "x", StorageClass: "DEEP_ARCHIVE" });
    const id = w.create();
    const base = { Bucket: "b", Key: "k", UploadId: id, PartNumber: 1 };
    expectError(
      w.fail("UploadPartCopy", { ...base, CopySource: "b/src", CopySourceIfMatch: '"nope"' }),
      "PreconditionFailed",
      412,
    );
    expectError(
      w.fail("UploadPartCopy", { ...base, CopySource: "b/cold" }),
      "InvalidObjectState",
      403,
    );
  });
});

describe("reading by part number", () => {
  it("GetObject / HeadObject with PartNumber read that part and report PartsCount", () => {
    const w = world();
    const id = w.create();
    const parts = [w.part(id, 1, big(1)), w.part(id, 2, "tail")];
    w.complete(id, parts);
    const head = w.run("HeadObject", { Bucket: "b", Key: "k", PartNumber: 2 });
    expect(head).toMatchObject({
      ContentLength: 4,
      PartsCount: 2,
      ContentRange: `bytes ${5 * MIB}-${5 * MIB + 3}/${5 * MIB + 4}`,
    });
    expect(bodyText(w.run("GetObject", { Bucket: "b", Key: "k", PartNumber: 2 }))).toBe("tail");
    expect(w.run("HeadObject", { Bucket: "b", Key: "k" })).not.toHaveProperty("PartsCount");
    expectError(
      w.fail("GetObject", { Bucket: "b", Key: "k", PartNumber: 3 }),
      "InvalidPartNumber",
      416,
    );
  });
});
