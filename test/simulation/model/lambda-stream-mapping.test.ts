// Tests of the model of Lambda's DynamoDB Streams event source mapping: reading the stream through
// DescribeStream / GetShardIterator / GetRecords, batching, one batch in flight per shard, shard
// lineage, partial batch responses, retries, bisection, the maximum record age and the on-failure
// record. The streams are a tiny fake served from fixed shards (not a model of DynamoDB Streams).
import {
  ExpiredIteratorException,
  LimitExceededException,
  TrimmedDataAccessException,
} from "@aws-sdk/client-dynamodb-streams";
import type { Invocation, InvocationOutcome } from "../../../tools/simulation/model/lambda-types";
import {
  StreamMappingModel,
  type StreamMappingOptions,
  type StreamsApi,
} from "../../../tools/simulation/model/lambda-stream-mapping";
import type { ModelCall, ModelOperation } from "../../../tools/simulation/model/types";

const region = "ca-central-1";
const streamArn =
  "arn:aws:dynamodb:ca-central-1:111122223333:table/items/stream/2024-01-02T03:04:05.678";
const functionArn = "arn:aws:lambda:ca-central-1:111122223333:function:replicator";
const epoch = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

class TestClock {
  t = epoch;
  now(): number {
    return this.t;
  }
}

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  closed: boolean;
  readonly records: Record<string, unknown>[];
}

/** A stream record in the SDK's shape (GetRecordsOutput.Records). */
function record(sequenceNumber: string, createdAt = epoch - 1000): Record<string, unknown> {
  return {
    eventID: `event-${sequenceNumber}`,
    eventName: "INSERT",
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: new Date(createdAt),
      Keys: { pk: { S: `item-${sequenceNumber}` } },
      NewImage: { pk: { S: `item-${sequenceNumber}` }, blob: { B: new Uint8Array([1, 2, 3]) } },
      SequenceNumber: sequenceNumber,
      SizeBytes: 30,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

function records(from: number, to: number): Record<string, unknown>[] {
  return Array.from({ length: to - from + 1 }, (_, i) => record(String(100 + from + i)));
}

function text(input: Readonly<Record<string, unknown>>, key: string): string {
  const value = input[key];
  return typeof value === "string" ? value : "";
}

/** Fixed shards served through the three calls, with errors and empty pages on demand. */
class FakeStreams implements StreamsApi {
  readonly calls: ModelCall[] = [];
  /** Thrown, in order, by the next calls of their command. */
  readonly failures: { command: string; error: Error }[] = [];
  emptyPages = 0;
  pageLimit = 1000;
  describePageSize = 100;
  observe: (call: ModelCall) => void = () => undefined;
  durations: Partial<Record<string, number>> = {};

  constructor(readonly shards: FakeShard[]) {}

  start(call: ModelCall): ModelOperation {
    this.calls.push(call);
    this.observe(call);
    return { durationMs: this.durations[call.command] ?? 10, finish: () => this.answer(call) };
  }

  commands(command: string): Readonly<Record<string, unknown>>[] {
    return this.calls.filter((call) => call.command === command).map((call) => call.input);
  }

  private answer(call: ModelCall): Record<string, unknown> {
    const failure = this.failures.findIndex((entry) => entry.command === call.command);
    if (failure >= 0) {
      const [entry] = this.failures.splice(failure, 1);
      if (entry) throw entry.error;
    }
    if (call.command === "DescribeStream") return this.describe(call.input);
    if (call.command === "GetShardIterator") return this.iterator(call.input);
    return this.getRecords(call.input);
  }

  private describe(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const from = text(input, "ExclusiveStartShardId");
    const start = from === "" ? 0 : this.shards.findIndex((shard) => shard.id === from) + 1;
    const page = this.shards.slice(start, start + this.describePageSize);
    const last = page[page.length - 1];
    const more = start + this.describePageSize < this.shards.length;
    return {
      StreamDescription: {
        StreamArn: streamArn,
        StreamStatus: "ENABLED",
        Shards: page.map((shard) => ({
          ShardId: shard.id,
          ...(shard.parent === undefined ? {} : { ParentShardId: shard.parent }),
          SequenceNumberRange: {
            StartingSequenceNumber: "100",
            ...(shard.closed ? { EndingSequenceNumber: "999" } : {}),
          },
        })),
        ...(more && last ? { LastEvaluatedShardId: last.id } : {}),
      },
    };
  }

  private shard(id: string): FakeShard {
    const shard = this.shards.find((candidate) => candidate.id === id);
    if (!shard) throw new Error(`no shard ${id}`);
    return shard;
  }

  private iterator(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const shard = this.shard(text(input, "ShardId"));
    const type = text(input, "ShardIteratorType");
    const at = shard.records.findIndex((entry) =>
      JSON.stringify(entry).includes(`"SequenceNumber":"${text(input, "SequenceNumber")}"`),
    );
    const index =
      type === "TRIM_HORIZON"
        ? 0
        : type === "LATEST"
          ? shard.records.length
          : type === "AFTER_SEQUENCE_NUMBER"
            ? at + 1
            : at;
    return { ShardIterator: `${shard.id}@${index}` };
  }

  private getRecords(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const [id = "", position = "0"] = text(input, "ShardIterator").split("@");
    const shard = this.shard(id);
    if (this.emptyPages > 0) {
      this.emptyPages -= 1;
      return { Records: [], NextShardIterator: `${id}@${position}` };
    }
    const limit = Math.min(this.pageLimit, Number(input.Limit));
    const start = Number(position);
    const page = shard.records.slice(start, start + limit);
    const next = start + page.length;
    const ended = shard.closed && next >= shard.records.length;
    return { Records: page, ...(ended ? {} : { NextShardIterator: `${id}@${next}` }) };
  }
}

function sequenceNumbers(invocation: Invocation | undefined): string[] {
  const payload = invocation?.payload;
  if (typeof payload !== "object" || payload === null || !("Records" in payload)) return [];
  const list: unknown = payload.Records;
  if (!Array.isArray(list)) return [];
  return list.map((entry: unknown) => {
    const json = JSON.stringify(entry);
    return /"SequenceNumber":"(\d+)"/.exec(json)?.[1] ?? "";
  });
}

const success: InvocationOutcome = { kind: "success", response: null };
const boom: InvocationOutcome = { kind: "error", errorType: "Error", errorMessage: "boom" };

function setup(shards: FakeShard[], overrides: Partial<StreamMappingOptions> = {}) {
  const clock = new TestClock();
  const fake = new FakeStreams(shards);
  const failures: Record<string, unknown>[] = [];
  const model = new StreamMappingModel({
    clock,
    rng: () => 0.5,
    streams: fake,
    region,
    streamArn,
    functionArn,
    timeoutMs: 6000,
    batchSize: 2,
    bisectBatchOnFunctionError: false,
    maximumRetryAttempts: -1,
    maximumRecordAgeSeconds: -1,
    reportBatchItemFailures: false,
    startingPosition: "TRIM_HORIZON",
    onFailure: {
      send: (sent) => {
        const copy: unknown = JSON.parse(JSON.stringify(sent));
        if (typeof copy === "object" && copy !== null)
          failures.push(Object.fromEntries(Object.entries(copy)));
      },
    },
    startupDelayMs: 0,
    redeliveryProbability: 0,
    ...overrides,
  });
  const log: { at: number; sequenceNumbers: string[]; invocation: Invocation }[] = [];
  /** Runs the mapping, answering each invocation at once, until `until` holds (default idle). */
  const drive = (
    answer: (invocation: Invocation) => InvocationOutcome,
    until: () => boolean = () => model.idle(),
    maxSteps = 20_000,
  ): void => {
    for (let step = 0; step < maxSteps; step++) {
      if (until()) return;
      const started: Invocation[] = [];
      for (let invocation = model.next(); invocation; invocation = model.next()) {
        started.push(invocation);
      }
      for (const invocation of started) {
        log.push({ at: clock.t, sequenceNumbers: sequenceNumbers(invocation), invocation });
        model.finished(invocation.id, answer(invocation));
      }
      if (started.length > 0) continue;
      const due = model.nextDue();
      if (due === undefined) return;
      clock.t = Math.max(clock.t, due);
      model.runDue();
    }
    throw new Error("the mapping did not settle");
  };
  /** Advances time without invoking anything, until `until` holds. */
  const pump = (until: () => boolean, maxSteps = 1000): void => {
    for (let step = 0; step < maxSteps && !until(); step++) {
      const due = model.nextDue();
      if (due === undefined) return;
      clock.t = Math.max(clock.t, due);
      model.runDue();
    }
  };
  const batches = () => log.map((entry) => entry.sequenceNumbers);
  return { clock, fake, model, failures, log, drive, pump, batches };
}

const openShard = (id: string, list: Record<string, unknown>[], parent?: string): FakeShard => ({
  id,
  closed: false,
  records: list,
  ...(parent === undefined ? {} : { parent }),
});
const closedShard = (id: string, list: Record<string, unknown>[], parent?: string): FakeShard => ({
  ...openShard(id, list, parent),
  closed: true,
});

describe("Lambda DynamoDB Streams event source mapping: reading and batching", () => {
  it("reads from the trim horizon and invokes batches in the shape Lambda delivers", () => {
    const { fake, drive, batches, log } = setup([openShard("shard-1", records(1, 3))]);
    drive(() => success);
    expect(batches()).toStrictEqual([["101", "102"], ["103"]]);
    expect(fake.commands("DescribeStream")[0]).toStrictEqual({ StreamArn: streamArn });
    expect(fake.commands("GetShardIterator")[0]).toStrictEqual({
      StreamArn: streamArn,
      ShardId: "shard-1",
      ShardIteratorType: "TRIM_HORIZON",
    });
    expect(fake.commands("GetRecords")[0]).toMatchObject({ ShardIterator: "shard-1@0", Limit: 2 });
    expect(
      fake.calls.every((call) => call.service === "dynamodb-streams" && call.region === region),
    );
    const first = log[0]?.invocation;
    expect(first).toMatchObject({ timeoutMs: 6000, source: "stream" });
    expect(first?.payload).toStrictEqual({
      Records: [101, 102].map((n) => ({
        eventID: `event-${n}`,
        eventName: "INSERT",
        eventVersion: "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: region,
        dynamodb: {
          ApproximateCreationDateTime: Math.floor((epoch - 1000) / 1000),
          Keys: { pk: { S: `item-${n}` } },
          NewImage: { pk: { S: `item-${n}` }, blob: { B: "AQID" } },
          SequenceNumber: String(n),
          SizeBytes: 30,
          StreamViewType: "NEW_AND_OLD_IMAGES",
        },
        eventSourceARN: streamArn,
      })),
    });
  });

  it("keeps one batch in flight per shard, in order, and runs shards side by side", () => {
    const { model, pump } = setup([
      openShard("shard-a", records(1, 4)),
      openShard("shard-b", [record("201"), record("202")]),
    ]);
    const held: Invocation[] = [];
    pump(() => {
      for (let invocation = model.next(); invocation; invocation = model.next()) {
        held.push(invocation);
      }
      return held.length >= 2;
    });
    expect(held.map(sequenceNumbers)).toEqual(
      expect.arrayContaining([
        ["101", "102"],
        ["201", "202"],
      ]),
    );
    expect(model.next()).toBeUndefined();
    const fromA = held.find((invocation) => sequenceNumbers(invocation)[0] === "101");
    model.finished(fromA?.id ?? "", success);
    // Lambda reads no further ahead than a batch: the next one is read after the checkpoint.
    let next: Invocation | undefined;
    pump(() => (next = model.next()) !== undefined);
    expect(sequenceNumbers(next)).toStrictEqual(["103", "104"]);
  });

  it("reads a child shard only after its parent's records are all processed", () => {
    const { fake, drive, batches } = setup([
      openShard("child", [record("301"), record("302")], "parent"),
      closedShard("parent", records(1, 3)),
    ]);
    let parentRecordsDone = 0;
    let doneWhenChildRead: number | undefined;
    fake.observe = (call) => {
      if (call.command === "GetShardIterator" && call.input.ShardId === "child") {
        doneWhenChildRead ??= parentRecordsDone;
      }
    };
    drive((invocation) => {
      parentRecordsDone += sequenceNumbers(invocation).filter((n) => n.startsWith("1")).length;
      return success;
    });
    expect(doneWhenChildRead).toBe(3);
    expect(batches().flat()).toStrictEqual(["101", "102", "103", "301", "302"]);
    expect(
      fake.commands("GetShardIterator").find((input) => input.ShardId === "child"),
    ).toMatchObject({ ShardIteratorType: "TRIM_HORIZON" });
  });

  it("describes the stream again when a shard ends during a describe, to find its child", () => {
    const { clock, fake, model, pump } = setup([closedShard("parent", [record("101")])]);
    fake.durations.DescribeStream = 5000;
    fake.observe = (call) => {
      if (call.command === "DescribeStream" && fake.commands("DescribeStream").length === 3) {
        fake.shards.push(openShard("child", [record("301")], "parent"));
      }
    };
    let held: Invocation | undefined;
    pump(() => (held = model.next()) !== undefined);
    // The periodic describe (60 s after the first) is under way when the parent's last batch ends.
    pump(() => fake.commands("DescribeStream").length === 2);
    expect(clock.t - epoch).toBe(65_000);
    model.finished(held?.id ?? "", success);
    let child: Invocation | undefined;
    pump(() => (child = model.next()) !== undefined);
    expect(sequenceNumbers(child)).toStrictEqual(["301"]);
    expect(clock.t - epoch).toBeLessThan(80_000);
  });

  it("pages through DescribeStream", () => {
    const { fake, drive, batches } = setup([
      openShard("shard-a", [record("101")]),
      openShard("shard-b", [record("201")]),
    ]);
    fake.describePageSize = 1;
    drive(() => success);
    expect(fake.commands("DescribeStream").slice(0, 2)).toStrictEqual([
      { StreamArn: streamArn },
      { StreamArn: streamArn, ExclusiveStartShardId: "shard-a" },
    ]);
    expect(batches().flat().sort()).toStrictEqual(["101", "201"]);
  });

  it("starts at LATEST after its start-up delay, missing what was written before", () => {
    const shard = openShard("shard-1", [record("101")]);
    const { clock, fake, model, drive, batches } = setup([shard], {
      startingPosition: "LATEST",
      startupDelayMs: 60_000,
    });
    expect(model.nextDue()).toBe(epoch + 60_000);
    clock.t += 30_000;
    shard.records.push(record("102"));
    drive(() => success);
    expect(fake.commands("GetShardIterator")[0]).toMatchObject({ ShardIteratorType: "LATEST" });
    shard.records.push(record("103"));
    drive(
      () => success,
      () => batches().length > 0,
    );
    expect(batches()).toStrictEqual([["103"]]);
  });

  it("skips shards closed before a LATEST start, and reads later children from the start", () => {
    const live = openShard("live", [record("101")]);
    const { fake, drive, batches } = setup([closedShard("old", records(5, 6)), live], {
      startingPosition: "LATEST",
    });
    drive(() => success);
    expect(fake.commands("GetShardIterator")).toStrictEqual([
      { StreamArn: streamArn, ShardId: "live", ShardIteratorType: "LATEST" },
    ]);
    // The shard splits: it closes, and its child takes the new records.
    live.closed = true;
    fake.shards.push(openShard("child", [record("301")], "live"));
    drive(
      () => success,
      () => batches().length > 0,
    );
    expect(batches()).toStrictEqual([["301"]]);
    expect(fake.commands("GetShardIterator").at(-1)).toMatchObject({
      ShardId: "child",
      ShardIteratorType: "TRIM_HORIZON",
    });
  });

  it("polls again after an empty page, four times a second", () => {
    const { fake, drive, log } = setup([openShard("shard-1", [record("101")])]);
    fake.emptyPages = 3;
    drive(
      () => success,
      () => log.length > 0,
    );
    expect(log.map((entry) => entry.sequenceNumbers)).toStrictEqual([["101"]]);
    const reads = fake.calls.filter((call) => call.command === "GetRecords").length;
    expect(reads).toBeGreaterThanOrEqual(4);
    // Three empty pages, 250 ms apart, after a describe and an iterator (10 ms each).
    expect((log[0]?.at ?? 0) - epoch).toBeGreaterThanOrEqual(3 * 250);
  });

  it("retries throttled reads, and replaces an expired or trimmed iterator", () => {
    const { fake, drive, batches } = setup([openShard("shard-1", records(1, 4))]);
    const meta = { $metadata: {} };
    fake.failures.push(
      { command: "GetRecords", error: new LimitExceededException({ message: "slow", ...meta }) },
      { command: "GetRecords", error: new LimitExceededException({ message: "slow", ...meta }) },
    );
    drive(
      () => success,
      () => batches().length >= 1,
    );
    expect(batches()).toStrictEqual([["101", "102"]]);
    expect(fake.commands("GetRecords").map((input) => input.ShardIterator)).toStrictEqual([
      "shard-1@0",
      "shard-1@0",
      "shard-1@0",
    ]);
    fake.failures.push({
      command: "GetRecords",
      error: new ExpiredIteratorException({ message: "expired", ...meta }),
    });
    drive(() => success);
    expect(batches()).toStrictEqual([
      ["101", "102"],
      ["103", "104"],
    ]);
    expect(fake.commands("GetShardIterator")[1]).toMatchObject({
      ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
      SequenceNumber: "102",
    });
    fake.failures.push({
      command: "GetRecords",
      error: new TrimmedDataAccessException({ message: "trimmed", ...meta }),
    });
    fake.emptyPages = 0;
    fake.shards[0]?.records.push(record("105"));
    drive(
      () => success,
      () => batches().length >= 3,
    );
    expect(fake.commands("GetShardIterator").at(-1)).toMatchObject({
      ShardIteratorType: "TRIM_HORIZON",
    });
  });

  it("gathers a batch for the batching window, or invokes with what one read returned", () => {
    const unbatched = setup([openShard("shard-1", records(1, 3))], { batchSize: 10 });
    unbatched.fake.pageLimit = 1;
    unbatched.drive(() => success);
    expect(unbatched.batches()).toStrictEqual([["101"], ["102"], ["103"]]);

    const windowed = setup([openShard("shard-1", records(1, 3))], {
      batchSize: 10,
      maximumBatchingWindowSeconds: 2,
    });
    windowed.fake.pageLimit = 1;
    windowed.drive(() => success);
    expect(windowed.batches()).toStrictEqual([["101", "102", "103"]]);
    // The window opens when the shard starts reading, after the 10 ms DescribeStream.
    expect((windowed.log[0]?.at ?? 0) - epoch).toBe(10 + 2000);

    const full = setup([openShard("shard-1", records(1, 3))], {
      batchSize: 2,
      maximumBatchingWindowSeconds: 300,
    });
    full.drive(
      () => success,
      () => full.batches().length > 0,
    );
    expect(full.batches()).toStrictEqual([["101", "102"]]);
    expect((full.log[0]?.at ?? 0) - epoch).toBeLessThan(1000);
  });
});

describe("Lambda DynamoDB Streams event source mapping: outcomes", () => {
  const partial = (...identifiers: unknown[]): InvocationOutcome => ({
    kind: "success",
    response: { batchItemFailures: identifiers.map((itemIdentifier) => ({ itemIdentifier })) },
  });

  it("retries from the lowest reported failure, checkpointing the records before it", () => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 6))], {
      batchSize: 5,
      reportBatchItemFailures: true,
    });
    let calls = 0;
    drive(() => (++calls === 1 ? partial("104", "103") : success));
    expect(batches()).toStrictEqual([
      ["101", "102", "103", "104", "105"],
      ["103", "104", "105"],
      ["106"],
    ]);
  });

  it("bisects at the reported failure only, when bisection is on too", () => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 4))], {
      batchSize: 4,
      reportBatchItemFailures: true,
      bisectBatchOnFunctionError: true,
    });
    let calls = 0;
    drive(() => (++calls === 1 ? partial("102") : success));
    expect(batches()).toStrictEqual([
      ["101", "102", "103", "104"],
      ["102", "103", "104"],
    ]);
  });

  it.each([
    ["an empty batchItemFailures list", { batchItemFailures: [] }],
    ["a null batchItemFailures list", { batchItemFailures: null }],
    ["an empty EventResponse", {}],
    ["a null EventResponse", null],
  ])("treats %s as a complete success", (_, response) => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 3))], {
      reportBatchItemFailures: true,
    });
    drive(() => ({ kind: "success", response }));
    expect(batches()).toStrictEqual([["101", "102"], ["103"]]);
  });

  it.each([
    ["an empty string itemIdentifier", { batchItemFailures: [{ itemIdentifier: "" }] }],
    ["a null itemIdentifier", { batchItemFailures: [{ itemIdentifier: null }] }],
    ["an itemIdentifier with a bad key name", { batchItemFailures: [{ ItemIdentifier: "102" }] }],
    ["an identifier not in the batch", { batchItemFailures: [{ itemIdentifier: "999" }] }],
    ["batchItemFailures that is not a list", { batchItemFailures: "102" }],
    ["a response that is not an object", "failed"],
  ])("treats %s as a complete failure", (_, response) => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 3))], {
      reportBatchItemFailures: true,
    });
    let calls = 0;
    drive(() => (++calls === 1 ? { kind: "success", response } : success));
    expect(batches()).toStrictEqual([["101", "102"], ["101", "102"], ["103"]]);
  });

  it("ignores a partial batch response unless ReportBatchItemFailures is on", () => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 3))]);
    drive(() => partial("101"));
    expect(batches()).toStrictEqual([["101", "102"], ["103"]]);
  });

  it("retries a failed batch whole, then discards it with an on-failure record", () => {
    const { clock, drive, batches, failures } = setup([openShard("shard-1", records(1, 3))], {
      maximumRetryAttempts: 2,
    });
    drive((invocation) => (sequenceNumbers(invocation)[0] === "101" ? boom : success));
    expect(batches()).toStrictEqual([["101", "102"], ["101", "102"], ["101", "102"], ["103"]]);
    expect(failures).toHaveLength(1);
    const requestId = JSON.stringify(failures[0]?.requestContext);
    expect(requestId).toMatch(/"requestId":"[0-9a-f-]{36}"/);
    expect(failures[0]).toMatchObject({
      requestContext: {
        functionArn,
        condition: "RetryAttemptsExhausted",
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      DDBStreamBatchInfo: {
        shardId: "shard-1",
        startSequenceNumber: "101",
        endSequenceNumber: "102",
        approximateArrivalOfFirstRecord: new Date(Math.floor((epoch - 1000) / 1000) * 1000)
          .toISOString()
          .replace(".000Z", "Z"),
        approximateArrivalOfLastRecord: "2024-01-02T03:04:04Z",
        batchSize: 2,
        streamArn,
      },
    });
    expect(Date.parse(String(failures[0]?.timestamp))).toBeLessThanOrEqual(clock.t);
  });

  it("bisects a failing batch without consuming retries, isolating the bad record", () => {
    const { drive, batches, failures } = setup([openShard("shard-1", records(1, 4))], {
      batchSize: 4,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 1,
    });
    drive((invocation) => (sequenceNumbers(invocation).includes("103") ? boom : success));
    expect(batches()).toStrictEqual([
      ["101", "102", "103", "104"],
      ["101", "102"],
      ["103", "104"],
      ["103"],
      ["103"],
      ["104"],
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 4 },
      DDBStreamBatchInfo: { startSequenceNumber: "103", endSequenceNumber: "103", batchSize: 1 },
    });
  });

  it("treats a timeout as a function error, bisected like one", () => {
    const { drive, batches } = setup([openShard("shard-1", records(1, 2))], {
      bisectBatchOnFunctionError: true,
    });
    let calls = 0;
    drive(() => (++calls === 1 ? { kind: "timeout" } : success));
    expect(batches()).toStrictEqual([["101", "102"], ["101"], ["102"]]);
  });

  it("discards the remaining records of a partial failure that exhausted its retries", () => {
    const { drive, batches, failures } = setup([openShard("shard-1", records(1, 3))], {
      batchSize: 3,
      reportBatchItemFailures: true,
      maximumRetryAttempts: 0,
    });
    drive(() => partial("102"));
    expect(batches()).toStrictEqual([["101", "102", "103"]]);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: "RetryAttemptsExhausted", approximateInvokeCount: 1 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST" },
      DDBStreamBatchInfo: { startSequenceNumber: "102", endSequenceNumber: "103", batchSize: 2 },
    });
    expect(failures[0]?.responseContext).not.toHaveProperty("functionError");
  });

  it("discards records older than the maximum age without invoking them", () => {
    const { drive, batches, failures } = setup(
      [openShard("shard-1", [record("101", epoch - 120_000), record("102")])],
      { maximumRecordAgeSeconds: 60 },
    );
    drive(() => success);
    expect(batches()).toStrictEqual([["102"]]);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: 0 },
      DDBStreamBatchInfo: { startSequenceNumber: "101", endSequenceNumber: "101", batchSize: 1 },
    });
    expect(failures[0]).not.toHaveProperty("responseContext");
  });

  it("retries a failing batch until its records pass the maximum age", () => {
    const { clock, drive, log, failures } = setup([openShard("shard-1", records(1, 1))], {
      maximumRecordAgeSeconds: 60,
    });
    let now = 0;
    drive(() => {
      clock.t += 5000;
      now = clock.t;
      return boom;
    });
    expect(now - epoch).toBeGreaterThanOrEqual(55_000);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: log.length },
      responseContext: { functionError: "Unhandled" },
    });
  });

  it("may deliver records again after they succeeded (at least once)", () => {
    const { model, drive, batches } = setup([openShard("shard-1", records(1, 3))], {
      redeliveryProbability: 1,
    });
    drive(
      () => success,
      () => batches().length >= 3,
    );
    expect(batches()).toStrictEqual([
      ["101", "102"],
      ["101", "102"],
      ["101", "102"],
    ]);
    expect(model.idle()).toBe(false);
  });

  it("carries the identity of a Time to Live deletion", () => {
    const removal = {
      ...record("101"),
      eventName: "REMOVE",
      userIdentity: { PrincipalId: "dynamodb.amazonaws.com", Type: "Service" },
    };
    const { drive, log } = setup([openShard("shard-1", [removal])]);
    drive(() => success);
    expect(JSON.stringify(log[0]?.invocation.payload)).toContain(
      '"eventName":"REMOVE","eventVersion":"1.1"',
    );
    expect(log[0]?.invocation.payload).toMatchObject({
      Records: [{ userIdentity: { type: "Service", principalId: "dynamodb.amazonaws.com" } }],
    });
  });

  it("keeps a batch within the 6 MB payload limit", () => {
    const big = (n: string) => {
      const base = record(n);
      return { ...base, dynamodb: { SequenceNumber: n, NewImage: { v: { S: "x".repeat(4e6) } } } };
    };
    const { drive, batches } = setup([openShard("shard-1", [big("101"), big("102")])], {
      batchSize: 10,
    });
    drive(() => success);
    expect(batches()).toStrictEqual([["101"], ["102"]]);
  });

  it("retries forever by default, until the record leaves the stream after 24 hours", () => {
    const { clock, drive, failures, log } = setup([openShard("shard-1", records(1, 1))]);
    drive(() => {
      clock.t += 3_600_000;
      return boom;
    });
    expect(log).toHaveLength(24);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: 24 },
    });
  });

  it("refuses an unknown invocation and settings outside the documented ranges", () => {
    const { model } = setup([]);
    expect(() => {
      model.finished("nope", success);
    }).toThrow("No stream invocation nope");
    expect(() => setup([], { batchSize: 0 })).toThrow(RangeError);
    expect(() => setup([], { batchSize: 10001 })).toThrow(RangeError);
    expect(() => setup([], { maximumRetryAttempts: -2 })).toThrow(RangeError);
    expect(() => setup([], { maximumRecordAgeSeconds: 59 })).toThrow(RangeError);
    expect(() => setup([], { maximumBatchingWindowSeconds: 301 })).toThrow(RangeError);
  });
});
