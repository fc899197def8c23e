/**
 * The DynamoDB stream event source mapping simulation: a stub function (run by the Lambda host)
 * reads batches from the simulated stream; partial batch responses checkpoint below the lowest
 * reported SequenceNumber, identifiers that are not sequence numbers of the batch fail it whole,
 * function errors are retried or bisected, old records and exhausted batches go to the
 * on-failure queue as the documented record.
 */
import * as path from "node:path";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBRecord } from "aws-lambda";
import { startDynamoDBStream, type DynamoDBStream } from "../../tools/emulators/dynamodb-stream";
import {
  createQueue,
  createTable,
  EMULATOR_CREDENTIALS,
  sqsClient,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { itemKeys, SHARD_ID, streamSequenceAt } from "../../tools/emulators/events";
import { startLambdaHost, type LambdaHost } from "../../tools/emulators/lambda-host";
import {
  mappingProblems,
  MappingConfigError,
  readResponse,
  startStreamEventSourceMapping,
  type StreamMapping,
  type StreamMappingOptions,
  type StreamReport,
} from "../../tools/emulators/lambda-service";

const stub = path.join(__dirname, "../fixtures/lambda/stream-stub.mjs");

let emulators: Emulators;
let sqs: SQSClient;
let count = 0;

beforeAll(async () => {
  emulators = await startEmulators();
  sqs = sqsClient(emulators);
});

afterAll(async () => {
  sqs.destroy();
  await emulators.stop();
});

interface Setup {
  readonly stream: DynamoDBStream;
  readonly mapping: StreamMapping;
  readonly onFailureUrl: string;
  write(...keys: string[]): Promise<void>;
  stop(): Promise<void>;
}

type MappingSettings = Omit<
  StreamMappingOptions,
  "host" | "functionName" | "streams" | "streamArn"
>;

async function setup(stubEnv: Record<string, string>, settings: MappingSettings): Promise<Setup> {
  count += 1;
  const table = `stream-table-${count}`;
  await createTable(emulators, table);
  const onFailureUrl = await createQueue(emulators, `on-failure-${count}`);
  const stream = await startDynamoDBStream({ upstream: emulators.dynamodb.endpoint, table });
  const config = {
    endpoint: stream.endpoint,
    region: "us-east-1",
    credentials: EMULATOR_CREDENTIALS,
  };
  const dynamodb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const host: LambdaHost = startLambdaHost({
    handlerFile: stub,
    functionName: "replication",
    region: "us-east-1",
    timeoutSeconds: 10,
    environment: stubEnv,
  });
  const mapping = startStreamEventSourceMapping({
    host,
    functionName: "replication",
    streams,
    streamArn: stream.streamArn,
    clock: stream.now,
    onFailure: { sqs, queueUrl: onFailureUrl },
    ...settings,
  });
  return {
    stream,
    mapping,
    onFailureUrl,
    async write(...keys) {
      for (const key of keys) {
        await dynamodb.send(new PutItemCommand({ TableName: table, Item: itemKeys(key, "meta") }));
      }
    },
    async stop() {
      await host.stop();
      dynamodb.destroy();
      streams.destroy();
      await stream.stop();
    },
  };
}

const seq = (n: number): string => streamSequenceAt(n);

/** The keys the stub applied, in order, over every invocation. */
const applied = (report: StreamReport): string[] =>
  report.invocations.flatMap((call) =>
    call.logs.stdout.map((line) => (JSON.parse(line) as { applied: string }).applied),
  );

async function onFailureMessages(queueUrl: string): Promise<unknown[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (out.Messages ?? []).map((message) => JSON.parse(message.Body ?? "null") as unknown);
}

describe("batches of a healthy stream", () => {
  it("delivers every record in order, in batches of batchSize, as Lambda's records", async () => {
    const s = await setup({}, { batchSize: 2, reportBatchItemFailures: true });
    try {
      await s.write("a", "b", "c", "d", "e");
      const report = await s.mapping.drain();
      expect(report.invocations.map((call) => call.sequenceNumbers)).toEqual([
        [seq(1), seq(2)],
        [seq(3), seq(4)],
        [seq(5)],
      ]);
      expect(report.invocations.every((call) => call.outcome === "success")).toBe(true);
      expect(applied(report)).toEqual(["a", "b", "c", "d", "e"]);
      expect(report.checkpoint).toBe(seq(5));
      expect(report.redeliveries).toBe(0);
      await s.write("f");
      const next = await s.mapping.drain();
      expect(next.invocations.at(-1)?.sequenceNumbers).toEqual([seq(6)]);
    } finally {
      await s.stop();
    }
  });

  it("takes a new iterator from its position when its own expired (15 minutes)", async () => {
    const s = await setup({}, { batchSize: 10, reportBatchItemFailures: true });
    try {
      await s.write("a");
      await s.mapping.drain();
      s.stream.ageRecords(20 * 60 * 1000);
      await s.write("b");

      const report = await s.mapping.drain();

      expect(applied(report)).toEqual(["a", "b"]);
      expect(report.redeliveries).toBe(0);
    } finally {
      await s.stop();
    }
  });

  it("starts after the records already there with LATEST", async () => {
    const s = await setup({}, { startingPosition: "LATEST" });
    try {
      await s.write("old");
      expect((await s.mapping.drain()).invocations).toEqual([]);
      await s.write("new");
      expect(applied(await s.mapping.drain())).toEqual(["new"]);
    } finally {
      await s.stop();
    }
  });
});

describe("partial batch responses (ReportBatchItemFailures)", () => {
  it("checkpoints below the lowest reported SequenceNumber and redelivers from it", async () => {
    const s = await setup(
      { STUB_FAIL_KEYS: "c", STUB_MODE: "sequence-number" },
      { batchSize: 5, reportBatchItemFailures: true, maximumRetryAttempts: 2 },
    );
    try {
      await s.write("a", "b", "c", "d", "e");
      const report = await s.mapping.drain();
      expect(report.invocations.map((call) => [call.outcome, call.sequenceNumbers])).toEqual([
        ["partial", [seq(1), seq(2), seq(3), seq(4), seq(5)]],
        ["partial", [seq(3), seq(4), seq(5)]],
        ["partial", [seq(3), seq(4), seq(5)]],
      ]);
      expect(report.invocations[0]?.reported).toEqual([seq(3)]);
      expect(applied(report).filter((key) => key === "a" || key === "b")).toEqual(["a", "b"]);
      expect(report.redeliveries).toBe(6);
      expect(report.discarded).toEqual([
        {
          startSequenceNumber: seq(3),
          endSequenceNumber: seq(5),
          batchSize: 3,
          reason: "retries-exhausted",
        },
      ]);
      expect(report.checkpoint).toBe(seq(5));
      const [record] = await onFailureMessages(s.onFailureUrl);
      expect(record).toMatchObject({
        requestContext: {
          requestId: report.invocations.at(-1)?.requestId,
          functionArn: "arn:aws:lambda:us-east-1:123456789012:function:replication",
          condition: "RetryAttemptsExhausted",
          approximateInvokeCount: 3,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: "$LATEST",
          functionError: "Unhandled",
        },
        version: "1.0",
        DDBStreamBatchInfo: {
          shardId: SHARD_ID,
          startSequenceNumber: seq(3),
          endSequenceNumber: seq(5),
          batchSize: 3,
          streamArn: s.stream.streamArn,
        },
      });
      expect(record).not.toHaveProperty("Records");
    } finally {
      await s.stop();
    }
  });

  it.each([
    ["an eventID", "event-id"],
    ["an empty string", "empty-identifier"],
  ])("fails the whole batch when an itemIdentifier is %s", async (_, mode) => {
    const s = await setup(
      { STUB_FAIL_KEYS: "b", STUB_MODE: mode },
      { batchSize: 3, reportBatchItemFailures: true, maximumRetryAttempts: 1 },
    );
    try {
      await s.write("a", "b", "c");
      const report = await s.mapping.drain();
      expect(report.invocations.map((call) => [call.outcome, call.sequenceNumbers.length])).toEqual(
        [
          ["invalid-response", 3],
          ["invalid-response", 3],
        ],
      );
      expect(report.discarded).toEqual([
        expect.objectContaining({ startSequenceNumber: seq(1), endSequenceNumber: seq(3) }),
      ]);
    } finally {
      await s.stop();
    }
  });

  it.each(["empty-list", "null"])(
    "reads the response of mode %s as a complete success",
    async (mode) => {
      const s = await setup({ STUB_MODE: mode }, { batchSize: 3, reportBatchItemFailures: true });
      try {
        await s.write("a", "b");
        const report = await s.mapping.drain();
        expect(report.invocations.map((call) => call.outcome)).toEqual(["success"]);
        expect(report.checkpoint).toBe(seq(2));
      } finally {
        await s.stop();
      }
    },
  );

  it("ignores batchItemFailures when ReportBatchItemFailures is off", async () => {
    const s = await setup(
      { STUB_FAIL_KEYS: "a", STUB_MODE: "sequence-number" },
      { batchSize: 3, maximumRetryAttempts: 0 },
    );
    try {
      await s.write("a", "b");
      const report = await s.mapping.drain();
      expect(report.invocations.map((call) => call.outcome)).toEqual(["success"]);
      expect(report.discarded).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});

describe("function errors", () => {
  it("retries the whole batch up to MaximumRetryAttempts, then discards it", async () => {
    const s = await setup(
      { STUB_FAIL_KEYS: "b", STUB_MODE: "throw" },
      { batchSize: 3, maximumRetryAttempts: 2 },
    );
    try {
      await s.write("a", "b", "c");
      const report = await s.mapping.drain();
      expect(report.invocations.map((call) => call.outcome)).toEqual([
        "function-error",
        "function-error",
        "function-error",
      ]);
      expect(report.invocations[0]?.error).toMatchObject({
        errorMessage: "poison record in batch",
      });
      expect(report.discarded).toEqual([
        {
          startSequenceNumber: seq(1),
          endSequenceNumber: seq(3),
          batchSize: 3,
          reason: "retries-exhausted",
        },
      ]);
    } finally {
      await s.stop();
    }
  });

  it("bisects a failing batch without using the retry quota, isolating the bad record", async () => {
    const s = await setup(
      { STUB_FAIL_KEYS: "c", STUB_MODE: "throw" },
      { batchSize: 4, maximumRetryAttempts: 0, bisectBatchOnFunctionError: true },
    );
    try {
      await s.write("a", "b", "c", "d");
      const report = await s.mapping.drain();
      expect(report.bisections).toEqual([
        [
          [seq(1), seq(2)],
          [seq(3), seq(4)],
        ],
        [[seq(3)], [seq(4)]],
      ]);
      expect(report.invocations.map((call) => [call.outcome, call.sequenceNumbers])).toEqual([
        ["function-error", [seq(1), seq(2), seq(3), seq(4)]],
        ["success", [seq(1), seq(2)]],
        ["function-error", [seq(3), seq(4)]],
        ["function-error", [seq(3)]],
        ["success", [seq(4)]],
      ]);
      expect(report.discarded).toEqual([
        {
          startSequenceNumber: seq(3),
          endSequenceNumber: seq(3),
          batchSize: 1,
          reason: "retries-exhausted",
        },
      ]);
      expect(applied(report)).toEqual(["a", "b", "d"]);
      expect(report.checkpoint).toBe(seq(4));
    } finally {
      await s.stop();
    }
  });

  it("stops a poison record that infinite retries would replay forever", async () => {
    const s = await setup(
      { STUB_FAIL_KEYS: "a", STUB_MODE: "throw" },
      { batchSize: 1, maxInvocations: 5 },
    );
    try {
      await s.write("a");
      await expect(s.mapping.drain()).rejects.toThrow(/invoked the function 5 times/);
    } finally {
      await s.stop();
    }
  });
});

describe("record age", () => {
  it("discards records older than MaximumRecordAgeInSeconds without invoking", async () => {
    const s = await setup({}, { batchSize: 10, maximumRecordAgeInSeconds: 60 });
    try {
      await s.write("a", "b");
      s.stream.ageRecords(61_000);
      await s.write("c");
      const report = await s.mapping.drain();
      expect(report.discarded).toEqual([
        {
          startSequenceNumber: seq(1),
          endSequenceNumber: seq(2),
          batchSize: 2,
          reason: "record-age",
        },
      ]);
      expect(report.invocations.map((call) => call.sequenceNumbers)).toEqual([[seq(3)]]);
      const [record] = await onFailureMessages(s.onFailureUrl);
      expect(record).toMatchObject({
        requestContext: { condition: "RecordAgeExceeded" },
        DDBStreamBatchInfo: { startSequenceNumber: seq(1), endSequenceNumber: seq(2) },
      });
    } finally {
      await s.stop();
    }
  });
});

describe("readResponse", () => {
  const batch: DynamoDBRecord[] = [1, 2, 3].map((n) => ({
    eventID: `id-${n}`,
    dynamodb: { SequenceNumber: seq(n) },
  }));

  it.each<[string, string, unknown]>([
    ["undefined", "success", undefined],
    ["null", "success", null],
    ["an empty response", "success", {}],
    ["a null list", "success", { batchItemFailures: null }],
    ["an empty list", "success", { batchItemFailures: [] }],
    ["sequence numbers", "partial", { batchItemFailures: [{ itemIdentifier: seq(2) }] }],
    ["an eventID", "invalid-response", { batchItemFailures: [{ itemIdentifier: "id-2" }] }],
    ["an empty identifier", "invalid-response", { batchItemFailures: [{ itemIdentifier: "" }] }],
    ["a null identifier", "invalid-response", { batchItemFailures: [{ itemIdentifier: null }] }],
    ["a bad key name", "invalid-response", { batchItemFailures: [{ ItemIdentifier: seq(2) }] }],
    ["a list that is no list", "invalid-response", { batchItemFailures: "x" }],
    ["a response that is no object", "invalid-response", "ok"],
  ])("reads %s as %s", (_, kind, value) => {
    expect(readResponse(value, batch, true).kind).toBe(kind);
  });

  it("checkpoints at the lowest of several reported records", () => {
    const value = { batchItemFailures: [{ itemIdentifier: seq(3) }, { itemIdentifier: seq(2) }] };
    expect(readResponse(value, batch, true)).toMatchObject({ kind: "partial", from: 1 });
  });
});

describe("settings CreateEventSourceMapping would refuse", () => {
  const base = {
    host: { invoke: () => Promise.reject(new Error("unused")) },
    functionName: "f",
    streams: new DynamoDBStreamsClient({ region: "us-east-1" }),
    streamArn: "arn",
  };

  afterAll(() => {
    base.streams.destroy();
  });

  it("names every bad value", () => {
    const options = {
      ...base,
      batchSize: 0,
      maximumRetryAttempts: -2,
      maximumRecordAgeInSeconds: 30,
    };
    expect(mappingProblems(options)).toEqual([
      "batchSize = 0",
      "maximumRetryAttempts = -2",
      "maximumRecordAgeInSeconds = 30",
    ]);
    expect(() => startStreamEventSourceMapping(options)).toThrow(MappingConfigError);
  });

  it("accepts the API's ranges", () => {
    expect(() =>
      startStreamEventSourceMapping({
        ...base,
        batchSize: 10000,
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: 604800,
      }),
    ).not.toThrow();
  });
});
