/** Unit tests of event parsing at the boundary (lib/replication/events.ts). */
import { ForeignSourceError, MalformedEventError } from "../../lib/replication/errors";
import {
  classifyEvent,
  parseItemRecord,
  parseObjectEvent,
  rawKey,
  rawRecordId,
  tableNameFromStreamArn,
} from "../../lib/replication/events";
import {
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  streamArn,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";

const bucket = "prod-bucket";
const table = "prod-table";

describe("parseObjectEvent", () => {
  it("parses Object Created and Object Deleted events", () => {
    const created = objectCreatedEvent({ bucket, key: "a/b.txt", sequencer: "0055AED6DCD90281E5" });
    expect(parseObjectEvent(created, bucket)).toEqual({
      kind: "object",
      eventId: created.id,
      detailType: "Object Created",
      bucket,
      key: "a/b.txt",
      sequencer: "0055AED6DCD90281E5",
    });
    const deleted = objectDeletedEvent({ bucket, key: "a/b.txt", sequencer: "0055AED6DCD90281E6" });
    expect(parseObjectEvent(deleted, bucket).detailType).toBe("Object Deleted");
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

  it.each([
    ["not an object", "hello", /not an S3 EventBridge event/],
    [
      "missing detail",
      { ...objectCreatedEvent({ bucket, key: "k", sequencer: "01" }), detail: undefined },
      /not an S3 EventBridge event: detail/,
    ],
    [
      "another source",
      { ...objectCreatedEvent({ bucket, key: "k", sequencer: "01" }), source: "aws.ec2" },
      /unexpected event source "aws.ec2"/,
    ],
    [
      "another detail-type",
      {
        ...objectCreatedEvent({ bucket, key: "k", sequencer: "01" }),
        "detail-type": "Object Tags Added",
      },
      /unsupported detail-type "Object Tags Added"/,
    ],
    ["an empty key", objectCreatedEvent({ bucket, key: "", sequencer: "01" }), /empty object key/],
    [
      "a non-hex sequencer",
      objectCreatedEvent({ bucket, key: "k", sequencer: "XYZ" }),
      /missing or invalid sequencer "XYZ"/,
    ],
  ])("rejects %s as malformed", (_name, event, message) => {
    expect(() => parseObjectEvent(event, bucket)).toThrow(MalformedEventError);
    expect(() => parseObjectEvent(event, bucket)).toThrow(message);
  });

  it("rejects an event without a sequencer", () => {
    const event = objectDeletedEvent({ bucket, key: "k", sequencer: "01" });
    const object = { key: event.detail.object.key };
    expect(() =>
      parseObjectEvent({ ...event, detail: { ...event.detail, object } }, bucket),
    ).toThrow(/missing or invalid sequencer "undefined"/);
  });
});

describe("parseItemRecord", () => {
  const record = streamRecord({
    table,
    eventName: "MODIFY",
    keys: itemKeys("user#1", "profile"),
    sequenceNumber: streamSequenceAt(5),
    eventID: "evt-1",
  });

  it("parses a stream record, keeping keys in attribute-value form", () => {
    expect(parseItemRecord(record, table)).toEqual({
      kind: "item",
      eventId: "evt-1",
      eventName: "MODIFY",
      table,
      keys: { pk: { S: "user#1" }, sk: { S: "profile" } },
      sequenceNumber: streamSequenceAt(5),
    });
  });

  it("rejects a record from another table as foreign", () => {
    const foreign = { ...record, eventSourceARN: streamArn("other-table") };
    expect(() => parseItemRecord(foreign, table)).toThrow(ForeignSourceError);
    expect(() => parseItemRecord(foreign, table)).toThrow(/record from table "other-table"/);
  });

  it.each([
    ["not a record", 42, /not a DynamoDB stream record/],
    ["an unknown eventName", { ...record, eventName: "UPSERT" }, /eventName/],
    [
      "a bad ARN",
      { ...record, eventSourceARN: "arn:aws:sqs:us-east-1:1:q" },
      /unrecognised eventSourceARN/,
    ],
    [
      "a non-decimal sequence",
      { ...record, dynamodb: { ...record.dynamodb, SequenceNumber: "12ab" } },
      /invalid SequenceNumber "12ab"/,
    ],
    ["no keys", { ...record, dynamodb: { ...record.dynamodb, Keys: {} } }, /record has no Keys/],
    [
      "keys that are not attribute values",
      { ...record, dynamodb: { ...record.dynamodb, Keys: { pk: "plain" } } },
      /not a DynamoDB attribute value/,
    ],
  ])("rejects %s as malformed", (_name, bad, message) => {
    expect(() => parseItemRecord(bad, table)).toThrow(MalformedEventError);
    expect(() => parseItemRecord(bad, table)).toThrow(message);
  });

  it("reads the table name from a stream ARN", () => {
    expect(tableNameFromStreamArn(streamArn("t-1"))).toBe("t-1");
    expect(tableNameFromStreamArn("arn:aws:dynamodb:us-east-1:1:table/t-1")).toBeUndefined();
  });

  it("reads a raw record id when there is one", () => {
    expect(rawRecordId(record)).toBe("evt-1");
    expect(rawRecordId({ eventID: 7 })).toBeUndefined();
    expect(rawRecordId(null)).toBeUndefined();
  });
});

describe("rawKey", () => {
  it("finds the key of raw events and records, when there is one", () => {
    expect(rawKey(objectCreatedEvent({ bucket, key: "a b", sequencer: "1" }))).toBe("a b");
    const record = streamRecord({
      table,
      eventName: "REMOVE",
      keys: itemKeys("p", "s"),
      sequenceNumber: "1",
    });
    expect(rawKey(record)).toBe('{"pk":{"S":"p"},"sk":{"S":"s"}}');
    expect(rawKey({ detail: { object: { key: 7 } } })).toBeUndefined();
    expect(rawKey("x")).toBeUndefined();
  });
});

describe("classifyEvent", () => {
  it("tells stream batches, EventBridge events and anything else apart", () => {
    expect(classifyEvent(streamEvent([])).shape).toBe("dynamodb-stream");
    expect(classifyEvent(objectCreatedEvent({ bucket, key: "k", sequencer: "1" })).shape).toBe(
      "eventbridge",
    );
    expect(classifyEvent({ Records: "nope" }).shape).toBe("unknown");
    expect(classifyEvent(undefined).shape).toBe("unknown");
  });
});
