/**
 * Parsing at the boundary (lib/replication/events.ts), from events shaped as AWS documents
 * them (tools/emulators/events.ts names the page of each).
 */
import { ForeignSourceError, MalformedEventError } from "../../lib/replication/errors";
import {
  candidateKeys,
  classifyEvent,
  parseItemRecord,
  parseObjectEvent,
  rawEventId,
  rawKey,
  rawSequenceNumber,
  tableNameFromStreamArn,
} from "../../lib/replication/events";
import {
  IPV6_CLIENT,
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  objectRestoreCompletedEvent,
  objectTagsEvent,
  streamArn,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";

const bucket = "prod-bucket";
const table = "prod-table";

describe("parseObjectEvent", () => {
  it("reads an Object Created event: key, sequencer, time", () => {
    const created = objectCreatedEvent({
      bucket,
      key: "a/b.txt",
      sequencer: "0055AED6DCD90281E5",
      time: "2026-11-28T12:00:00Z",
    });

    expect(parseObjectEvent(created, bucket)).toEqual({
      kind: "object",
      eventId: created.id,
      bucket,
      key: "a/b.txt",
      sequencer: "0055AED6DCD90281E5",
      time: "2026-11-28T12:00:00Z",
      description: "Object Created (PutObject)",
      keyAsGiven: true,
    });
  });

  it.each([
    ["a/b.txt", ["a/b.txt"]],
    ["a b+c%2B.txt", ["a b+c%2B.txt", "a b c+.txt"]],
    ["100%", ["100%"]],
  ])("converges %p as itself and as its form-URL decoding, whichever S3 sent", (key, keys) => {
    expect(
      candidateKeys(parseObjectEvent(objectCreatedEvent({ bucket, key, sequencer: "01" }), bucket)),
    ).toEqual(keys);
    // A key from a listing or a task is exact.
    expect(candidateKeys({ key })).toEqual([key]);
  });

  it.each([
    ["DeleteObject", "Delete Marker Created"],
    ["DeleteObject", "Permanently Deleted"],
    ["Lifecycle Expiration", "Delete Marker Created"],
    ["Lifecycle Expiration", "Permanently Deleted"],
  ] as const)(
    "reads an Object Deleted event (%s, %s) as a contents change",
    (reason, deletionType) => {
      const deleted = objectDeletedEvent({
        bucket,
        key: "k",
        sequencer: "0A",
        reason,
        deletionType,
      });

      expect(parseObjectEvent(deleted, bucket)).toMatchObject({
        sequencer: "0A",
        description: `Object Deleted (${reason}, ${deletionType})`,
      });
    },
  );

  it.each(["added", "deleted"] as const)(
    "reads an Object Tags %s event, which has no sequencer",
    (tags) => {
      const event = objectTagsEvent({ bucket, key: "k", change: tags });

      expect(parseObjectEvent(event, bucket)).toMatchObject({
        sequencer: undefined,
        description: tags === "added" ? "Object Tags Added" : "Object Tags Deleted",
      });
    },
  );

  it("reads an Object Restore Completed event, which has no sequencer, as a change of its key", () => {
    const event = objectRestoreCompletedEvent({ bucket, key: "cold/a.parquet" });

    expect(parseObjectEvent(event, bucket)).toMatchObject({
      key: "cold/a.parquet",
      sequencer: undefined,
      description: "Object Restore Completed",
    });
  });

  it("accepts an event from a client on S3's dual-stack (IPv6) endpoint, and fields it does not use", () => {
    const event = {
      ...objectCreatedEvent({ bucket, key: "k", sequencer: "0A", sourceIp: IPV6_CLIENT }),
      "new-envelope-field": { anything: true },
    };

    expect(parseObjectEvent(event, bucket).key).toBe("k");
  });

  it("accepts an event without the optional version-id, etag and size", () => {
    const event = objectCreatedEvent({ bucket, key: "k", sequencer: "0A" });
    const { key, sequencer } = event.detail.object;

    expect(
      parseObjectEvent(
        { ...event, detail: { ...event.detail, object: { key, sequencer } } },
        bucket,
      ).key,
    ).toBe("k");
  });

  it.each([
    "with space.txt",
    "plus+sign.txt",
    "percent%20literal.txt",
    "ünïcødé/日本語/ファイル.txt",
    "deep/a/b/c/d/e/f/g/h/i/j/k.txt",
    "special &=,:@$;?#.txt",
  ])("keeps the key %p exactly as EventBridge gives it (no decoding)", (key) => {
    expect(parseObjectEvent(objectCreatedEvent({ bucket, key, sequencer: "01" }), bucket).key).toBe(
      key,
    );
  });

  it("rejects an event for another bucket as foreign", () => {
    const event = objectCreatedEvent({ bucket: "other", key: "k", sequencer: "01" });
    expect(() => parseObjectEvent(event, bucket)).toThrow(ForeignSourceError);
    expect(() => parseObjectEvent(event, bucket)).toThrow(
      'event for bucket "other", not the source bucket "prod-bucket"',
    );
  });

  const created = objectCreatedEvent({ bucket, key: "k", sequencer: "0A" });
  it.each([
    ["a non-object", "oops", /not an S3 EventBridge event: \(root\)/],
    ["another source", { ...created, source: "aws.ec2" }, /unexpected event source "aws.ec2"/],
    [
      "an event type it does not replicate",
      { ...created, "detail-type": "Object Restore Expired" },
      /unsupported detail-type "Object Restore Expired"/,
    ],
    [
      "an empty key",
      { ...created, detail: { ...created.detail, object: { key: "", sequencer: "0A" } } },
      /detail.object.key: must not be empty/,
    ],
    [
      "a sequencer that is not hexadecimal",
      { ...created, detail: { ...created.detail, object: { key: "k", sequencer: "xyz" } } },
      /detail.object.sequencer: must be a hexadecimal sequencer/,
    ],
    [
      "a created event without a sequencer",
      { ...created, detail: { ...created.detail, object: { key: "k" } } },
      /Object Created event without a sequencer/,
    ],
  ])("rejects %s as malformed", (_name, event, message) => {
    expect(() => parseObjectEvent(event, bucket)).toThrow(MalformedEventError);
    expect(() => parseObjectEvent(event, bucket)).toThrow(message);
  });
});

describe("parseItemRecord", () => {
  const keys = itemKeys("user#1", "profile");
  const record = streamRecord({
    table,
    eventName: "MODIFY",
    keys,
    sequenceNumber: streamSequenceAt(5),
    approximateCreationDateTime: 1795000000,
  });

  it("reads a KEYS_ONLY record: keys, sequence number, creation time", () => {
    expect(parseItemRecord(record, table)).toEqual({
      kind: "item",
      eventId: record.eventID,
      eventName: "MODIFY",
      table,
      keys,
      sequenceNumber: streamSequenceAt(5),
      time: new Date(1795000000 * 1000).toISOString(),
    });
  });

  it("rejects a record of another table as foreign", () => {
    const other = { ...record, eventSourceARN: streamArn("other") };
    expect(() => parseItemRecord(other, table)).toThrow(
      'record from table "other", not the source table "prod-table"',
    );
  });

  it.each([
    [
      "without keys",
      { ...record, dynamodb: { ...record.dynamodb, Keys: {} } },
      /record has no Keys/,
    ],
    [
      "with a bad sequence number",
      { ...record, dynamodb: { ...record.dynamodb, SequenceNumber: "12a" } },
      /dynamodb.SequenceNumber: must be a decimal sequence number/,
    ],
    ["with a bad ARN", { ...record, eventSourceARN: "arn:nope" }, /unrecognised eventSourceARN/],
    [
      "with a bad attribute value",
      { ...record, dynamodb: { ...record.dynamodb, Keys: { pk: { S: "a", N: "1" } } } },
      /not a DynamoDB attribute value/,
    ],
    ["of another event name", { ...record, eventName: "TOUCH" }, /eventName/],
  ])("rejects a record %s as malformed", (_name, bad, message) => {
    expect(() => parseItemRecord(bad, table)).toThrow(MalformedEventError);
    expect(() => parseItemRecord(bad, table)).toThrow(message);
  });
});

describe("helpers", () => {
  it("takes the table name from a stream ARN", () => {
    expect(tableNameFromStreamArn(streamArn("t-1"))).toBe("t-1");
    expect(tableNameFromStreamArn("arn:aws:s3:::b")).toBeUndefined();
  });

  it("finds a raw event's key, id and sequence number for log lines and batch responses", () => {
    const record = streamRecord({
      table,
      eventName: "INSERT",
      keys: itemKeys("a", "b"),
      sequenceNumber: streamSequenceAt(9),
      eventID: "ev-9",
    });
    expect(rawKey(objectCreatedEvent({ bucket, key: "k", sequencer: "0A", id: "id-1" }))).toBe("k");
    expect(rawKey(record)).toBe(JSON.stringify(itemKeys("a", "b")));
    expect(rawKey(42)).toBeUndefined();
    expect(rawEventId(record)).toBe("ev-9");
    expect(rawEventId(objectCreatedEvent({ bucket, key: "k", sequencer: "0A", id: "id-1" }))).toBe(
      "id-1",
    );
    expect(rawEventId(null)).toBe("unknown");
    expect(rawSequenceNumber(record)).toBe(streamSequenceAt(9));
    expect(rawSequenceNumber({ dynamodb: { SequenceNumber: "" } })).toBeUndefined();
  });

  it("classifies stream batches, EventBridge events and anything else", () => {
    expect(classifyEvent(streamEvent([])).shape).toBe("dynamodb-stream");
    expect(classifyEvent(objectCreatedEvent({ bucket, key: "k", sequencer: "0A" })).shape).toBe(
      "eventbridge",
    );
    expect(classifyEvent({ Records: "nope" }).shape).toBe("unknown");
    expect(classifyEvent(undefined).shape).toBe("unknown");
  });
});
