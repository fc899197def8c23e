// The S3 model's archives (tools/simulation/model/s3-restore.ts): archived objects are not
// readable, RestoreObject and its errors, restores completing and expiring through
// nextDue / runDue, the Restore field, restore and transition events.
import { S3ServiceException } from "@aws-sdk/client-s3";
import { S3Model, type S3EventBridgeEvent } from "../../../tools/simulation/model/s3";

const REGION = "us-west-2";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2012, 9, 15, 10, 30, 0); // Oct 15, 2012 10:30 AM UTC, the docs' example

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

function world() {
  let now = START;
  const model = new S3Model({
    clock: { now: () => now },
    rng: mulberry32(13),
    accountId: "111122223333",
  });
  const events: S3EventBridgeEvent[] = [];
  model.onEvent((event) => events.push(event));
  model.createBucket("b", { region: REGION, eventBridge: true });
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
  /** Advances to the model's next due time and runs what is due; returns that time. */
  const tick = () => {
    const due = model.nextDue();
    if (due === undefined) throw new Error("nothing due");
    now = due;
    model.runDue();
    return due;
  };
  const restore = (key: string, RestoreRequest: Record<string, unknown>) =>
    run("RestoreObject", { Bucket: "b", Key: key, RestoreRequest });
  const head = (key: string) => run("HeadObject", { Bucket: "b", Key: key });
  return {
    model,
    events,
    run,
    fail,
    tick,
    restore,
    head,
    set: (t: number) => (now = t),
    now: () => now,
  };
}

function expectError(error: S3ServiceException, name: string, status: number) {
  expect({ name: error.name, status: error.$metadata.httpStatusCode }).toEqual({ name, status });
}

describe("GLACIER", () => {
  it("is not readable until restored: GetObject InvalidObjectState (403); HeadObject shows the class", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "GLACIER" });
    const error = w.fail("GetObject", { Bucket: "b", Key: "k" });
    expectError(error, "InvalidObjectState", 403);
    expect(error).toMatchObject({ StorageClass: "GLACIER" });
    expect(w.head("k")).toMatchObject({ StorageClass: "GLACIER" });
    expect(w.head("k")).not.toHaveProperty("Restore");
  });

  it("restores within 3–5 hours (Standard), then expires at the midnight after request time + Days", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "cold", StorageClass: "GLACIER" });
    expect(w.restore("k", { Days: 3 })).toEqual({});
    expect(w.head("k").Restore).toBe('ongoing-request="true"');
    expectError(w.fail("GetObject", { Bucket: "b", Key: "k" }), "InvalidObjectState", 403);
    expectError(
      w.fail("RestoreObject", { Bucket: "b", Key: "k", RestoreRequest: { Days: 3 } }),
      "RestoreAlreadyInProgress",
      409,
    );
    const completed = w.tick();
    expect(completed - START).toBeGreaterThanOrEqual(3 * HOUR);
    expect(completed - START).toBeLessThanOrEqual(5 * HOUR);
    expect(w.head("k")).toMatchObject({
      StorageClass: "GLACIER",
      Restore: 'ongoing-request="false", expiry-date="Fri, 19 Oct 2012 00:00:00 GMT"',
    });
    expect(bodyText(w.run("GetObject", { Bucket: "b", Key: "k" }))).toBe("cold");
    expect(w.model.current("b", "k")?.restore).toEqual({
      ongoing: false,
      expiry: new Date(Date.UTC(2012, 9, 19)),
    });
    expect(w.tick()).toBe(Date.UTC(2012, 9, 19));
    expect(w.head("k")).not.toHaveProperty("Restore");
    expectError(w.fail("GetObject", { Bucket: "b", Key: "k" }), "InvalidObjectState", 403);
    expect(w.model.nextDue()).toBeUndefined();
  });

  it("emits Object Restore Initiated, Completed and Expired with the documented fields", () => {
    const w = world();
    const { ETag } = w.run("PutObject", {
      Bucket: "b",
      Key: "k",
      Body: "cold",
      StorageClass: "GLACIER",
    });
    w.restore("k", { Days: 1, Tier: "Expedited" });
    w.tick();
    w.tick();
    const [, initiated, completed, expired] = w.events;
    const etag = String(ETag).replace(/"/g, "");
    expect(initiated?.detail).toEqual({
      version: "0",
      "event-version": "1.0",
      bucket: { name: "b" },
      object: { key: "k", size: 4, etag },
      "request-id": expect.any(String) as string,
      requester: "111122223333",
      "source-ip-address": "203.0.113.7",
      "source-storage-class": "GLACIER",
    });
    expect(completed?.detail).toEqual({
      version: "0",
      "event-version": "1.0",
      bucket: { name: "b" },
      object: { key: "k", size: 4, etag },
      "request-id": expect.any(String) as string,
      requester: "s3.amazonaws.com",
      "restore-expiry-time": "2012-10-17T00:00:00Z",
      "source-storage-class": "GLACIER",
    });
    expect(expired?.["detail-type"]).toBe("Object Restore Expired");
    expect(expired?.detail).toEqual({
      version: "0",
      "event-version": "1.0",
      bucket: { name: "b" },
      object: { key: "k", etag },
      "request-id": expect.any(String) as string,
      requester: "s3.amazonaws.com",
    });
    expect(expired?.time).toBe("2012-10-17T00:00:00Z");
  });

  it("an Expedited restore takes 1–5 minutes; a restored copy can be extended relative to now", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "GLACIER" });
    w.restore("k", { Days: 3, GlacierJobParameters: { Tier: "Expedited" } });
    expect(w.tick() - START).toBeLessThanOrEqual(5 * 60_000);
    w.set(Date.UTC(2012, 9, 16, 11, 0, 0)); // "If, on Oct 16, 2012 11:00 AM UTC, you change the number of days ... to 1"
    expect(w.restore("k", { Days: 1 })).toEqual({});
    expect(w.model.current("b", "k")?.restore?.expiry).toEqual(new Date(Date.UTC(2012, 9, 18)));
    expect(w.tick()).toBe(Date.UTC(2012, 9, 18));
    expect(w.model.current("b", "k")?.restore).toBeUndefined();
  });

  it("a restored object can be copied; the copy is STANDARD unless told", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "GLACIER" });
    w.restore("k", { Days: 1, Tier: "Bulk" });
    const completed = w.tick();
    expect(completed - START).toBeGreaterThanOrEqual(5 * HOUR);
    expect(completed - START).toBeLessThanOrEqual(12 * HOUR);
    w.run("CopyObject", { Bucket: "b", Key: "thawed", CopySource: "b/k" });
    expect(w.model.current("b", "thawed")?.storageClass).toBe("STANDARD");
  });

  it("RestoreObject needs Days for GLACIER (MalformedXML) and refuses objects not archived (InvalidObjectState)", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "GLACIER" });
    w.run("PutObject", { Bucket: "b", Key: "warm", Body: "x", StorageClass: "GLACIER_IR" });
    expectError(
      w.fail("RestoreObject", { Bucket: "b", Key: "k", RestoreRequest: {} }),
      "MalformedXML",
      400,
    );
    const error = w.fail("RestoreObject", {
      Bucket: "b",
      Key: "warm",
      RestoreRequest: { Days: 1 },
    });
    expectError(error, "InvalidObjectState", 403);
    expect(error.message).toBe("Restore is not allowed for the object's current storage class");
    expectError(
      w.fail("RestoreObject", { Bucket: "b", Key: "none", RestoreRequest: { Days: 1 } }),
      "NoSuchKey",
      404,
    );
  });

  it("a restore in progress ends with no event if the object is replaced", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "GLACIER" });
    w.restore("k", { Days: 1 });
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "new" });
    expect(w.model.nextDue()).toBeUndefined();
    expect(w.events.map((event) => event["detail-type"])).toEqual([
      "Object Created",
      "Object Restore Initiated",
      "Object Created",
    ]);
  });
});

describe("DEEP_ARCHIVE", () => {
  it("has no Expedited tier; a Standard restore finishes within 12 hours, Bulk within 48", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "DEEP_ARCHIVE" });
    expectError(
      w.fail("RestoreObject", {
        Bucket: "b",
        Key: "k",
        RestoreRequest: { Days: 1, Tier: "Expedited" },
      }),
      "InvalidArgument",
      400,
    );
    w.restore("k", { Days: 1 });
    expect(w.tick() - START).toBeLessThanOrEqual(12 * HOUR);
    w.run("PutObject", { Bucket: "b", Key: "bulk", Body: "x", StorageClass: "DEEP_ARCHIVE" });
    const requested = w.now();
    w.restore("bulk", { Days: 1, Tier: "Bulk" });
    let completedAt = 0;
    while (completedAt === 0) {
      const due = w.tick();
      if (w.model.current("b", "bulk")?.restore?.ongoing === false) completedAt = due;
    }
    expect(completedAt - requested).toBeLessThanOrEqual(48 * HOUR);
    const expiry = w.model.current("b", "bulk")?.restore?.expiry?.getTime() ?? 0;
    expect(expiry).toBeGreaterThan(completedAt);
    expect(expiry % DAY).toBe(0);
  });
});

describe("INTELLIGENT_TIERING archive tiers", () => {
  function archived(tier: "ARCHIVE_ACCESS" | "DEEP_ARCHIVE_ACCESS") {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x", StorageClass: "INTELLIGENT_TIERING" });
    w.model.transition("b", "k", { storageClass: "INTELLIGENT_TIERING", archiveStatus: tier });
    return w;
  }

  it("an archived object is not readable; HeadObject shows ArchiveStatus; the access tier change is an event", () => {
    const w = archived("ARCHIVE_ACCESS");
    const error = w.fail("GetObject", { Bucket: "b", Key: "k" });
    expect(error).toMatchObject({
      name: "InvalidObjectState",
      StorageClass: "INTELLIGENT_TIERING",
      AccessTier: "ARCHIVE_ACCESS",
    });
    expect(w.head("k")).toMatchObject({
      StorageClass: "INTELLIGENT_TIERING",
      ArchiveStatus: "ARCHIVE_ACCESS",
    });
    expect(w.events[1]).toMatchObject({
      "detail-type": "Object Access Tier Changed",
      detail: { "destination-access-tier": "ARCHIVE_ACCESS", requester: "s3.amazonaws.com" },
    });
    expect(w.events[1]?.detail).not.toHaveProperty("source-ip-address");
  });

  it("a restore takes no Days (InvalidArgument) and moves the object out of the archive tier", () => {
    const w = archived("DEEP_ARCHIVE_ACCESS");
    expectError(
      w.fail("RestoreObject", { Bucket: "b", Key: "k", RestoreRequest: { Days: 2 } }),
      "InvalidArgument",
      400,
    );
    w.restore("k", {});
    expect(w.head("k")).toMatchObject({
      ArchiveStatus: "DEEP_ARCHIVE_ACCESS",
      Restore: 'ongoing-request="true"',
    });
    expect(w.tick() - START).toBeLessThanOrEqual(12 * HOUR);
    const head = w.head("k");
    expect(head).not.toHaveProperty("ArchiveStatus");
    expect(head).not.toHaveProperty("Restore");
    w.run("GetObject", { Bucket: "b", Key: "k" });
    const completed = w.events[w.events.length - 1];
    expect(completed?.["detail-type"]).toBe("Object Restore Completed");
    expect(completed?.detail).toMatchObject({ "source-storage-class": "INTELLIGENT_TIERING" });
    expect(completed?.detail).not.toHaveProperty("restore-expiry-time");
    expect(w.model.nextDue()).toBeUndefined();
  });
});

describe("transitions", () => {
  it("emit Object Storage Class Changed and keep the ETag and LastModified", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x" });
    const before = w.head("k");
    w.set(START + 30 * DAY);
    w.model.transition("b", "k", { storageClass: "GLACIER" });
    const after = w.head("k");
    expect([after.ETag, after.LastModified, after.StorageClass]).toEqual([
      before.ETag,
      before.LastModified,
      "GLACIER",
    ]);
    expect(w.events[1]).toMatchObject({
      "detail-type": "Object Storage Class Changed",
      time: "2012-11-14T10:30:00Z",
      detail: {
        object: { key: "k", size: 1 },
        "destination-storage-class": "GLACIER",
        requester: "s3.amazonaws.com",
      },
    });
    expectError(w.fail("GetObject", { Bucket: "b", Key: "k" }), "InvalidObjectState", 403);
  });

  it("into an archive tier from another class emits the class change, then the tier change", () => {
    const w = world();
    w.run("PutObject", { Bucket: "b", Key: "k", Body: "x" });
    w.model.transition("b", "k", {
      storageClass: "INTELLIGENT_TIERING",
      archiveStatus: "ARCHIVE_ACCESS",
    });
    expect(w.events.slice(1).map((event) => event["detail-type"])).toEqual([
      "Object Storage Class Changed",
      "Object Access Tier Changed",
    ]);
    expect(() => {
      w.model.transition("b", "none", { storageClass: "GLACIER" });
    }).toThrow(/no current object/);
  });
});
