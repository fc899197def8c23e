/** Unit tests of the replication core with mocked AWS clients (lib/replication/replicator.ts). */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CopyObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationSettings } from "../../lib/replication/contract";
import { ReplicationFailedError } from "../../lib/replication/errors";
import { logger } from "../../lib/replication/logger";
import { createReplicator, rawEventId } from "../../lib/replication/replicator";
import {
  itemKeys,
  objectCreatedEvent,
  streamArn,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";

const config: ReplicationSettings = {
  region: "us-east-1",
  sourceEnvironment: "prod",
  sourceBucket: "prod-bucket",
  sourceTable: "prod-table",
  targets: [
    { environment: "dev", bucket: "dev-bucket", table: "dev-table" },
    { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
  ],
  dlqUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
  maxAttempts: 3,
  forcePathStyle: false,
  retryBaseDelayMs: undefined,
  serviceName: "replication",
  logLevel: "SILENT",
};
const clients = {
  s3: new S3Client({ region: "us-east-1" }),
  dynamodb: new DynamoDBClient({ region: "us-east-1" }),
  sqs: new SQSClient({ region: "us-east-1" }),
};
const s3 = mockClient(clients.s3);
const dynamodb = mockClient(clients.dynamodb);
const sqs = mockClient(clients.sqs);
const replicator = createReplicator(config, clients);

const awsError = (name: string, status: number, attempts = 3): Error =>
  Object.assign(new Error(`${name} message`), {
    name,
    $metadata: { httpStatusCode: status, attempts },
  });
const notFound = () => awsError("NotFound", 404, 1);

interface LogLine {
  level: string;
  message: string;
  eventId?: string;
  key?: string;
  target?: string;
  [name: string]: unknown;
}
let lines: LogLine[];

beforeEach(() => {
  s3.reset();
  dynamodb.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: "m" });
  lines = [];
  logger.setLogLevel("INFO");
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(JSON.parse(String(chunk)) as LogLine);
    return true;
  };
  jest.spyOn(process.stdout, "write").mockImplementation(capture);
  jest.spyOn(process.stderr, "write").mockImplementation(capture);
});
afterEach(() => jest.restoreAllMocks());

function deadLetters(): Record<string, unknown>[] {
  return sqs
    .commandCalls(SendMessageCommand)
    .map((call) => JSON.parse(call.args[0].input.MessageBody ?? "") as Record<string, unknown>);
}

describe("EventBridge S3 events", () => {
  const event = objectCreatedEvent({ bucket: "prod-bucket", key: "a b/c.txt", sequencer: "0A" });

  it("copies into every target and returns a summary", async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves({ ETag: '"e"', ContentLength: 1 });
    s3.on(CopyObjectCommand).resolves({});
    await expect(replicator.handle(event)).resolves.toEqual({
      eventId: event.id,
      key: "a b/c.txt",
      status: "replicated",
      results: [
        { environment: "dev", action: "copied" },
        { environment: "staging", action: "copied" },
      ],
    });
    expect(s3).toHaveReceivedCommandTimes(CopyObjectCommand, 2);
    // The source is read once per event, not once per target.
    expect(s3.commandCalls(HeadObjectCommand, { Bucket: "prod-bucket" })).toHaveLength(1);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("logs structured lines carrying event id, key and target", async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves({ ETag: '"e"', ContentLength: 1 });
    s3.on(CopyObjectCommand).resolves({});
    await replicator.handle(event);
    const replicated = lines.filter((line) => line.message === "target replicated");
    expect(replicated).toHaveLength(2);
    for (const line of replicated) {
      expect(line).toMatchObject({ service: "replication", eventId: event.id, key: "a b/c.txt" });
    }
    expect(replicated.map((line) => line.target).sort()).toEqual(["dev", "staging"]);
  });

  it("dead-letters a failed target, still serves the other, then throws", async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves({ ETag: '"e"', ContentLength: 1 });
    s3.on(CopyObjectCommand, { Bucket: "dev-bucket" }).rejects(awsError("AccessDenied", 403, 1));
    s3.on(CopyObjectCommand, { Bucket: "staging-bucket" }).resolves({});
    await expect(replicator.handle(event)).rejects.toThrow(ReplicationFailedError);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, { Bucket: "staging-bucket" });
    const [letter, ...others] = deadLetters();
    expect(others).toEqual([]);
    expect(letter).toEqual({
      reason: "target-failed",
      source: "eventbridge",
      event,
      target: config.targets[0],
      error: { name: "AccessDenied", message: "AccessDenied message" },
      attempts: 1,
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
    });
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: config.dlqUrl });
    const failed = lines.find((line) => line.message === "target failed");
    expect(failed).toMatchObject({
      level: "ERROR",
      eventId: event.id,
      key: "a b/c.txt",
      target: "dev",
    });
  });

  it("names every failed target in the error", async () => {
    s3.on(HeadObjectCommand).rejects(awsError("SlowDown", 503, 5));
    await expect(replicator.handle(event)).rejects.toThrow(
      /2 of 2 targets failed for a b\/c.txt .*: dev, staging/,
    );
    expect(deadLetters().map((letter) => letter.attempts)).toEqual([5, 5]);
  });

  it("dead-letters an event for a foreign bucket without throwing or touching S3", async () => {
    const foreign = objectCreatedEvent({ bucket: "other", key: "k", sequencer: "01" });
    await expect(replicator.handle(foreign)).resolves.toEqual({
      eventId: foreign.id,
      status: "dead-lettered",
      results: [],
    });
    expect(s3.calls()).toHaveLength(0);
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        reason: "foreign-source",
        source: "eventbridge",
        event: foreign,
        error: expect.objectContaining({ name: "ForeignSourceError" }) as unknown,
      }),
    ]);
    expect(lines.find((line) => line.message === "event rejected")).toMatchObject({
      level: "ERROR",
      eventId: foreign.id,
      key: "k",
      reason: "foreign-source",
    });
  });

  it("dead-letters a malformed EventBridge event", async () => {
    const malformed = { ...event, detail: { ...event.detail, object: { key: "k" } } };
    await expect(replicator.handle(malformed)).resolves.toMatchObject({ status: "dead-lettered" });
    expect(deadLetters()).toEqual([expect.objectContaining({ reason: "malformed-event" })]);
  });

  it("dead-letters an event of unknown shape", async () => {
    await expect(replicator.handle({ hello: "world" })).resolves.toEqual({
      eventId: "unknown",
      status: "dead-lettered",
      results: [],
    });
    expect(deadLetters()).toEqual([
      expect.objectContaining({ reason: "malformed-event", event: { hello: "world" } }),
    ]);
  });

  it("throws when the dead letter itself cannot be sent (so Lambda retries)", async () => {
    sqs.on(SendMessageCommand).rejects(awsError("InternalError", 500));
    await expect(
      replicator.handle(objectCreatedEvent({ bucket: "other", key: "k", sequencer: "01" })),
    ).rejects.toThrow("InternalError");
  });

  it("replays to the given targets only", async () => {
    s3.on(HeadObjectCommand).rejects(notFound());
    s3.on(HeadObjectCommand, { Bucket: "prod-bucket" }).resolves({ ETag: '"e"', ContentLength: 1 });
    s3.on(CopyObjectCommand).resolves({});
    const outcome = await replicator.replicateObjectEvent(event, config.targets.slice(1));
    expect(outcome).toMatchObject({ kind: "applied", results: [{ ok: true, action: "copied" }] });
    expect(s3).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, { Bucket: "staging-bucket" });
  });
});

describe("DynamoDB stream batches", () => {
  const keys = itemKeys("user#1", "profile");
  const record = (id: string, table = "prod-table") =>
    streamRecord({
      table,
      eventName: "INSERT",
      keys,
      sequenceNumber: streamSequenceAt(1),
      eventID: id,
    });

  it("puts into every target and reports no failures", async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: keys });
    dynamodb.on(PutItemCommand).resolves({});
    await expect(replicator.handle(streamEvent([record("r1"), record("r2")]))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 4);
    expect(lines.find((line) => line.message === "target replicated")).toMatchObject({
      eventId: "r1",
      key: JSON.stringify(keys),
    });
  });

  it("reports a record that failed with a retryable error, without dead-lettering it", async () => {
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb
      .on(DeleteItemCommand, { TableName: "dev-table" })
      .rejects(awsError("ProvisionedThroughputExceededException", 400));
    dynamodb.on(DeleteItemCommand, { TableName: "staging-table" }).resolves({});
    await expect(replicator.handle(streamEvent([record("r1")]))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: "r1" }],
    });
    expect(dynamodb).toHaveReceivedCommandWith(DeleteItemCommand, { TableName: "staging-table" });
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("dead-letters a permanent failure and does not report it", async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: keys });
    dynamodb
      .on(PutItemCommand, { TableName: "dev-table" })
      .rejects(awsError("AccessDeniedException", 400, 1));
    dynamodb.on(PutItemCommand, { TableName: "staging-table" }).resolves({});
    await expect(replicator.handle(streamEvent([record("r1")]))).resolves.toEqual({
      batchItemFailures: [],
    });
    expect(deadLetters()).toEqual([
      expect.objectContaining({
        reason: "target-failed",
        source: "dynamodb-stream",
        event: record("r1"),
        target: config.targets[0],
        error: { name: "AccessDeniedException", message: "AccessDeniedException message" },
        attempts: 1,
      }),
    ]);
  });

  it("reports the record when the source read fails transiently", async () => {
    dynamodb.on(GetItemCommand).rejects(awsError("ThrottlingException", 400));
    await expect(replicator.handle(streamEvent([record("r1"), record("r2")]))).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: "r1" }, { itemIdentifier: "r2" }],
    });
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it("dead-letters foreign and malformed records and reports neither", async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: keys });
    dynamodb.on(PutItemCommand).resolves({});
    const foreign = record("r-foreign", "other-table");
    const malformed = { ...record("r-bad"), eventSourceARN: "nope" };
    await expect(
      replicator.handle(streamEvent([record("r1"), foreign, malformed])),
    ).resolves.toEqual({ batchItemFailures: [] });
    expect(deadLetters().map((letter) => [letter.reason, letter.source])).toEqual(
      expect.arrayContaining([
        ["foreign-source", "dynamodb-stream"],
        ["malformed-event", "dynamodb-stream"],
      ]),
    );
    expect(foreign.eventSourceARN).toBe(streamArn("other-table"));
  });

  it("reports a record whose dead letter cannot be sent", async () => {
    sqs.on(SendMessageCommand).rejects(awsError("InternalError", 500));
    const result = await replicator.handle(streamEvent([record("r-foreign", "other-table")]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "r-foreign" }] });
    expect(
      lines.find((line) => line.message === "record could not be dead-lettered"),
    ).toMatchObject({
      eventId: "r-foreign",
    });
  });

  it("cannot report a record without an id, but still dead-letters it", async () => {
    const result = await replicator.handle(streamEvent([{}]));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(deadLetters()).toEqual([
      expect.objectContaining({ reason: "malformed-event", event: {} }),
    ]);
  });

  it("handles an empty batch", async () => {
    await expect(replicator.handle(streamEvent([]))).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe("rawEventId", () => {
  it("reads the envelope id when it is a string", () => {
    expect(rawEventId({ id: "x" })).toBe("x");
    expect(rawEventId({ id: 1 })).toBe("unknown");
    expect(rawEventId("x")).toBe("unknown");
  });
});
