// The S3 model's versioning and EventBridge events (tools/simulation/model/s3-write.ts,
// s3-events.ts): version IDs, delete markers, the EventBridge envelope and details, which fields
// each event has, URL-encoded keys, sequencers.
import { S3ServiceException } from "@aws-sdk/client-s3";
import {
  compareSequencers,
  S3Model,
  type S3EventBridgeEvent,
} from "../../../tools/simulation/model/s3";
import { decodeEventKey } from "../../../tools/simulation/model/s3-events";

const REGION = "eu-central-1";
const START = Date.UTC(2025, 4, 6, 7, 8, 9, 500);

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

function world(seed = 5) {
  let now = START;
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(seed),
    accountId: "123456789012",
  });
  const events: S3EventBridgeEvent[] = [];
  model.onEvent((event) => events.push(event));
  model.createBucket("v", { region: REGION, versioning: true, eventBridge: true });
  model.createBucket("u", { region: REGION, eventBridge: true });
  model.createBucket("quiet", { region: REGION });
  const run = (command: string, input: Record<string, unknown>) => {
    const op = model.start({ service: "s3", region: REGION, command, input });
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
  return { model, events, run, fail, advance: (ms: number) => (now += ms) };
}

function expectError(error: S3ServiceException, name: string, status: number) {
  expect({ name: error.name, status: error.$metadata.httpStatusCode }).toEqual({ name, status });
}

describe("versioning", () => {
  it("gives every write a version ID; older versions stay readable by version ID", () => {
    const w = world();
    const first = w.run("PutObject", { Bucket: "v", Key: "k", Body: "one" });
    const second = w.run("PutObject", { Bucket: "v", Key: "k", Body: "two" });
    expect(first.VersionId).toMatch(/^[A-Za-z0-9._]{32}$/);
    expect(second.VersionId).not.toBe(first.VersionId);
    const old = w.run("GetObject", { Bucket: "v", Key: "k", VersionId: first.VersionId });
    expect(bodyText(old)).toBe("one");
    expect(w.run("HeadObject", { Bucket: "v", Key: "k" }).VersionId).toBe(second.VersionId);
    expectError(
      w.fail("GetObject", { Bucket: "v", Key: "k", VersionId: "nope" }),
      "NoSuchVersion",
      404,
    );
  });

  it("DeleteObject without a version ID creates a delete marker: HeadObject 404 with x-amz-delete-marker", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "one" });
    const marker = w.run("DeleteObject", { Bucket: "v", Key: "k" });
    expect(marker).toEqual({
      DeleteMarker: true,
      VersionId: expect.stringMatching(/^[A-Za-z0-9._]{32}$/) as string,
    });
    const head = w.fail("HeadObject", { Bucket: "v", Key: "k" });
    expectError(head, "NotFound", 404);
    expect(head.$response?.headers).toMatchObject({
      "x-amz-delete-marker": "true",
      "x-amz-version-id": marker.VersionId,
    });
    const get = w.fail("GetObject", { Bucket: "v", Key: "k" });
    expectError(get, "NoSuchKey", 404);
    expect(get.$response?.headers["x-amz-delete-marker"]).toBe("true");
    expectError(
      w.fail("GetObject", { Bucket: "v", Key: "k", VersionId: marker.VersionId }),
      "MethodNotAllowed",
      405,
    );
    expect(w.model.current("v", "k")).toBeUndefined();
    expect(w.model.keys("v")).toEqual([]);
  });

  it("deleting a delete marker by version ID brings the previous version back", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "one" });
    const marker = w.run("DeleteObject", { Bucket: "v", Key: "k" });
    expect(w.run("DeleteObject", { Bucket: "v", Key: "k", VersionId: marker.VersionId })).toEqual({
      DeleteMarker: true,
      VersionId: marker.VersionId,
    });
    expect(new TextDecoder().decode(w.model.current("v", "k")?.body)).toBe("one");
  });

  it("deleting a version by ID removes it for good", () => {
    const w = world();
    const first = w.run("PutObject", { Bucket: "v", Key: "k", Body: "one" });
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "two" });
    expect(w.run("DeleteObject", { Bucket: "v", Key: "k", VersionId: first.VersionId })).toEqual({
      VersionId: first.VersionId,
    });
    expectError(
      w.fail("GetObject", { Bucket: "v", Key: "k", VersionId: first.VersionId }),
      "NoSuchVersion",
      404,
    );
  });

  it("If-None-Match: * writes over a delete marker (it is no object)", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "one" });
    w.run("DeleteObject", { Bucket: "v", Key: "k" });
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "two", IfNoneMatch: "*" });
    expect(new TextDecoder().decode(w.model.current("v", "k")?.body)).toBe("two");
  });
});

describe("EventBridge events", () => {
  it("an Object Created has the full envelope and the documented detail", () => {
    const w = world();
    const { ETag, VersionId } = w.run("PutObject", { Bucket: "v", Key: "k", Body: "hello" });
    expect(w.events).toEqual([
      {
        version: "0",
        id: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        ) as string,
        "detail-type": "Object Created",
        source: "aws.s3",
        account: "123456789012",
        time: "2025-05-06T07:08:09Z",
        region: REGION,
        resources: ["arn:aws:s3:::v"],
        detail: {
          version: "0",
          "event-version": "1.0",
          bucket: { name: "v" },
          object: {
            key: "k",
            size: 5,
            etag: String(ETag).replace(/"/g, ""),
            "version-id": VersionId,
            sequencer: expect.stringMatching(/^[0-9a-f]{16,20}$/) as string,
          },
          "request-id": expect.stringMatching(/^[A-Z0-9]{16}$/) as string,
          requester: "123456789012",
          "source-ip-address": "203.0.113.7",
          reason: "PutObject",
        },
      },
    ]);
  });

  it("a delete marker's Object Deleted names the marker and the empty body's ETag", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "hello" });
    const { VersionId } = w.run("DeleteObject", { Bucket: "v", Key: "k" });
    expect(w.events[1]?.detail).toMatchObject({
      object: { key: "k", etag: "d41d8cd98f00b204e9800998ecf8427e", "version-id": VersionId },
      reason: "DeleteObject",
      "deletion-type": "Delete Marker Created",
    });
    w.run("DeleteObject", { Bucket: "v", Key: "k", VersionId });
    expect(w.events[2]?.detail).toMatchObject({
      object: { "version-id": VersionId },
      "deletion-type": "Permanently Deleted",
    });
  });

  it("a bucket without versioning has no version-id in its events", () => {
    const w = world();
    w.run("PutObject", { Bucket: "u", Key: "k", Body: "x" });
    w.run("PutObjectTagging", { Bucket: "u", Key: "k", Tagging: { TagSet: [] } });
    for (const event of w.events) expect(event.detail.object).not.toHaveProperty("version-id");
    expect(w.events.map((event) => event["detail-type"])).toEqual([
      "Object Created",
      "Object Tags Added",
    ]);
  });

  it("tag events carry key, etag and version-id, no size and no sequencer", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "k", Body: "x" });
    w.run("PutObjectTagging", {
      Bucket: "v",
      Key: "k",
      Tagging: { TagSet: [{ Key: "a", Value: "b" }] },
    });
    w.run("DeleteObjectTagging", { Bucket: "v", Key: "k" });
    for (const event of w.events.slice(1)) {
      expect(Object.keys(event.detail.object).sort()).toEqual(["etag", "key", "version-id"]);
      expect(event.detail).not.toHaveProperty("reason");
    }
  });

  it("a bucket without EventBridge emits nothing", () => {
    const w = world();
    w.run("PutObject", { Bucket: "quiet", Key: "k", Body: "x" });
    w.run("DeleteObject", { Bucket: "quiet", Key: "k" });
    expect(w.events).toEqual([]);
  });

  it("URL-encodes the key as S3's event messages do", () => {
    const w = world();
    w.run("PutObject", { Bucket: "u", Key: "dir/red flower+ü=1.jpg", Body: "x" });
    expect(w.events[0]?.detail.object.key).toBe("dir%2Fred+flower%2B%C3%BC%3D1.jpg");
    // What the invariants read back from an event: the source key.
    expect(decodeEventKey("dir%2Fred+flower%2B%C3%BC%3D1.jpg")).toBe("dir/red flower+ü=1.jpg");
  });

  it("emits each event when its change takes effect: a slow copy's event follows a later fast put", () => {
    const w = world();
    w.run("PutObject", { Bucket: "v", Key: "src", Body: new Uint8Array(1024 * 1024) });
    const copy = w.model.start({
      service: "s3",
      region: REGION,
      command: "CopyObject",
      input: { Bucket: "v", Key: "a", CopySource: "v/src" },
    });
    w.run("PutObject", { Bucket: "v", Key: "b", Body: "x" });
    copy.finish();
    expect(w.events.map((event) => [event["detail-type"], event.detail.object.key])).toEqual([
      ["Object Created", "src"],
      ["Object Created", "b"],
      ["Object Created", "a"],
    ]);
  });
});

describe("sequencers", () => {
  function sequencers(seed: number) {
    const w = world(seed);
    for (let i = 0; i < 60; i++) {
      if (i % 3 === 2) w.run("DeleteObject", { Bucket: "v", Key: "k" });
      else w.run("PutObject", { Bucket: "v", Key: "k", Body: String(i) });
      w.advance(i % 4 === 0 ? 0 : 1500);
    }
    return w.events.map((event) => {
      const object = event.detail.object;
      if (!("sequencer" in object)) throw new Error("no sequencer");
      return object.sequencer;
    });
  }

  it("increase with every change of a key when compared by right-padding the shorter with zeros", () => {
    for (const seed of [1, 2, 3]) {
      const values = sequencers(seed);
      expect(values).toHaveLength(60);
      for (let i = 1; i < values.length; i++) {
        expect(compareSequencers(values[i - 1] ?? "", values[i] ?? "")).toBe(-1);
      }
    }
  });

  it("have different lengths, so comparing them as hexadecimal numbers orders some wrongly", () => {
    const values = sequencers(9);
    expect(new Set(values.map((value) => value.length)).size).toBeGreaterThan(1);
    const asNumber = (value: string) => BigInt(`0x${value}`);
    const misordered = values.some(
      (value, i) => i > 0 && asNumber(values[i - 1] ?? "0") > asNumber(value),
    );
    expect(misordered).toBe(true);
  });

  it("compareSequencers pads with zeros", () => {
    expect(compareSequencers("617f0829", "617f08290000")).toBe(0);
    expect(compareSequencers("617f0829", "617f08290001")).toBe(-1);
    expect(compareSequencers("617f083", "617f08299")).toBe(1);
  });
});
