/**
 * A Lambda event source mapping on a DynamoDB stream, as AWS documents it. It reads the shard in
 * order through the DynamoDB Streams API (the real DynamoDBStreamsClient, pointed at
 * dynamodb-stream.ts), invokes the function synchronously with `{ Records }` batches of
 * `batchSize`, and handles failures:
 * - "by default Lambda checkpoints to the highest sequence number of a batch only when the batch
 *   is a complete success"; with ReportBatchItemFailures, `batchItemFailures[].itemIdentifier`
 *   names records by SequenceNumber, "Lambda uses the record with the lowest sequence number as
 *   the checkpoint. Lambda then retries all records starting from that checkpoint"; an empty or
 *   null list, or an empty or null response, is a complete success; "An empty string
 *   itemIdentifier", "A null itemIdentifier", "An itemIdentifier with a bad key name" are a
 *   complete failure; without ReportBatchItemFailures the response is ignored
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html).
 *   An itemIdentifier that is not a SequenceNumber of the batch (e.g. an eventID) is treated as
 *   a complete failure too: that page does not say, the SQS page lists "An itemIdentifier value
 *   with a message ID that doesn't exist" as one
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html);
 * - "If the function is invoked but returns an error, Lambda retries until the records expire,
 *   exceed the maximum age (MaximumRecordAgeInSeconds), or reach the configured retry quota
 *   (MaximumRetryAttempts). For function errors, you can also configure
 *   BisectBatchOnFunctionError, which splits a failed batch into two smaller batches ...
 *   Splitting batches doesn't consume the retry quota"; "If the error handling measures fail,
 *   Lambda discards the records and continues processing batches from the stream", sending the
 *   documented on-failure record (DDBStreamBatchInfo: shard, start and end sequence numbers,
 *   batch size, stream ARN; "The actual records aren't included")
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html);
 * - with both options, a partial failure "is bisected at the returned sequence number and Lambda
 *   retries only the remaining records" (services-ddb-batchfailurereporting.html).
 * Choices where the docs are silent: bisection applies to function errors (thrown, crash,
 * timeout), not to a malformed partial response; a partial failure counts as one failed
 * attempt of the records it retries; a record-age discard has condition "RecordAgeExceeded"
 * (AWS shows only "RetryAttemptsExhausted"; the name is LocalStack's, unverified). Defaults are
 * the API's: MaximumRetryAttempts and MaximumRecordAgeInSeconds -1 (infinite), so a test must
 * bound them (or `maxInvocations` stops a poison record). Not simulated: batching windows,
 * parallelization factor, tumbling windows, filters, and a mapping that falls behind the trim
 * horizon (its TrimmedDataAccessException ends `drain()`).
 */
import { randomUUID } from "node:crypto";
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type GetShardIteratorCommandInput,
  type _Record as StreamApiRecord,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";
import { functionArn, streamFailureRecord } from "./events";
import type { FunctionError, InvocationLogs } from "./lambda-host";
import type { Invoker } from "./lambda-async";
import { isoSeconds, sendToQueue, type QueueDestination } from "./lambda-destinations";

export interface StreamMappingOptions {
  readonly host: Invoker;
  readonly functionName: string;
  /** A client of the simulated stream (dynamodb-stream.ts `endpoint`). */
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  /** @default 100 (CreateEventSourceMapping's default for DynamoDB) */
  readonly batchSize?: number;
  /** @default "TRIM_HORIZON" */
  readonly startingPosition?: "TRIM_HORIZON" | "LATEST";
  /** -1 (infinite, the default) or 0-10000. */
  readonly maximumRetryAttempts?: number;
  /** -1 (infinite, the default) or 60-604800. */
  readonly maximumRecordAgeInSeconds?: number;
  /** @default false */
  readonly bisectBatchOnFunctionError?: boolean;
  /** FunctionResponseTypes ["ReportBatchItemFailures"]. @default false */
  readonly reportBatchItemFailures?: boolean;
  readonly onFailure?: QueueDestination;
  /** The stream's clock, for record ages (dynamodb-stream.ts `now`). @default Date.now */
  readonly clock?: () => number;
  /** Stops a run that never ends (infinite retries of a poison record). @default 10000 */
  readonly maxInvocations?: number;
}

export type BatchOutcome = "success" | "partial" | "function-error" | "invalid-response";

export interface StreamInvocation {
  readonly requestId: string;
  readonly sequenceNumbers: readonly string[];
  readonly outcome: BatchOutcome;
  /** The itemIdentifiers of a partial (or invalid) response. */
  readonly reported?: readonly unknown[];
  readonly error?: FunctionError;
  /** What the function wrote during the invocation. */
  readonly logs: InvocationLogs;
}

export interface DiscardedRange {
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly reason: "retries-exhausted" | "record-age";
}

export interface StreamReport {
  readonly invocations: readonly StreamInvocation[];
  /** Records delivered again after a failed or partly failed invocation. */
  readonly redeliveries: number;
  /** Batches split in two: the sequence numbers of each half. */
  readonly bisections: readonly (readonly [readonly string[], readonly string[]])[];
  readonly discarded: readonly DiscardedRange[];
  /** On-failure records sent. */
  readonly failureRecords: readonly unknown[];
  /** The last sequence number checkpointed (processed or discarded). */
  readonly checkpoint: string | undefined;
  readonly deliveryFailures: readonly string[];
}

export interface StreamMapping {
  /** Reads every record now in the shard and processes them all; then reports. */
  drain(): Promise<StreamReport>;
  report(): StreamReport;
}

/** The mapping's settings are ones CreateEventSourceMapping would refuse. */
export class MappingConfigError extends Error {
  override readonly name = "MappingConfigError";
}

/** Every reason the API would refuse these settings (API_CreateEventSourceMapping.html). */
export function mappingProblems(options: StreamMappingOptions): string[] {
  const problems: string[] = [];
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean) => {
    if (value !== undefined && !(Number.isInteger(value) && ok(value))) {
      problems.push(`${name} = ${value}`);
    }
  };
  check("batchSize", options.batchSize, (v) => v >= 1 && v <= 10000);
  check("maximumRetryAttempts", options.maximumRetryAttempts, (v) => v >= -1 && v <= 10000);
  check(
    "maximumRecordAgeInSeconds",
    options.maximumRecordAgeInSeconds,
    (v) => v === -1 || (v >= 60 && v <= 604800),
  );
  return problems;
}

/** A record as the Streams API returns it, made into the record Lambda delivers. */
function lambdaRecord(record: StreamApiRecord, streamArn: string): DynamoDBRecord {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as NonNullable<DynamoDBRecord["dynamodb"]>),
      ...(created === undefined ? {} : { ApproximateCreationDateTime: created.getTime() / 1000 }),
    },
  };
}

const sequenceOf = (record: DynamoDBRecord): string => record.dynamodb?.SequenceNumber ?? "";
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

type Verdict =
  | { readonly kind: "success" }
  | { readonly kind: "partial"; readonly from: number; readonly reported: readonly unknown[] }
  | { readonly kind: "invalid-response"; readonly reported: readonly unknown[] };

/** How Lambda reads a successful invocation's response for `batch`. */
export function readResponse(
  value: unknown,
  batch: readonly DynamoDBRecord[],
  reportBatchItemFailures: boolean,
): Verdict {
  if (!reportBatchItemFailures || value === null || value === undefined) return { kind: "success" };
  if (!isObject(value)) return { kind: "invalid-response", reported: [value] };
  const failures = value.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: "success" };
  if (!Array.isArray(failures)) return { kind: "invalid-response", reported: [failures] };
  if (failures.length === 0) return { kind: "success" };
  const reported = failures.map((entry: unknown) =>
    isObject(entry) ? entry.itemIdentifier : undefined,
  );
  const positions = reported.map((id) =>
    typeof id === "string" && id !== ""
      ? batch.findIndex((record) => sequenceOf(record) === id)
      : -1,
  );
  if (positions.some((position) => position < 0)) {
    return { kind: "invalid-response", reported };
  }
  return { kind: "partial", from: Math.min(...positions), reported };
}

export function startStreamEventSourceMapping(options: StreamMappingOptions): StreamMapping {
  const problems = mappingProblems(options);
  if (problems.length > 0) {
    throw new MappingConfigError(`Invalid event source mapping: ${problems.join("; ")}`);
  }
  const batchSize = options.batchSize ?? 100;
  const maxRetries = options.maximumRetryAttempts ?? -1;
  const maxAgeSeconds = options.maximumRecordAgeInSeconds ?? -1;
  const bisect = options.bisectBatchOnFunctionError ?? false;
  const reportFailures = options.reportBatchItemFailures ?? false;
  const clock = options.clock ?? Date.now;
  const maxInvocations = options.maxInvocations ?? 10_000;
  const table = /:table\/([^/]+)\/stream\//.exec(options.streamArn)?.[1] ?? "";
  const buffer: DynamoDBRecord[] = [];
  let iterator: string | undefined;
  let lastRequestId = "";
  let queue: Promise<unknown> = Promise.resolve();
  const state = {
    invocations: [] as StreamInvocation[],
    redeliveries: 0,
    bisections: [] as (readonly [readonly string[], readonly string[]])[],
    discarded: [] as DiscardedRange[],
    failureRecords: [] as unknown[],
    checkpoint: undefined as string | undefined,
    deliveryFailures: [] as string[],
  };
  const report = (): StreamReport => ({
    ...state,
    invocations: [...state.invocations],
    bisections: [...state.bisections],
    discarded: [...state.discarded],
    failureRecords: [...state.failureRecords],
    deliveryFailures: [...state.deliveryFailures],
  });

  /** The sequence number of the last record read from the shard. */
  let position: string | undefined;

  /**
   * An iterator from the mapping's position: the starting position at first, then right after
   * the last record read (an iterator "expires 15 minutes after it is retrieved", so a poller
   * that waited longer asks for a new one, as Lambda's does;
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html).
   */
  const freshIterator = async (): Promise<string | undefined> => {
    const described = await options.streams.send(
      new DescribeStreamCommand({ StreamArn: options.streamArn }),
    );
    const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
    const from = (
      start: Pick<GetShardIteratorCommandInput, "ShardIteratorType" | "SequenceNumber">,
    ) =>
      options.streams.send(
        new GetShardIteratorCommand({ StreamArn: options.streamArn, ShardId: shardId, ...start }),
      );
    if (position === undefined) {
      return (await from({ ShardIteratorType: options.startingPosition ?? "TRIM_HORIZON" }))
        .ShardIterator;
    }
    try {
      return (await from({ ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: position }))
        .ShardIterator;
    } catch (error: unknown) {
      // The position itself aged out of the stream (24 hours): what follows it may have too;
      // reading resumes at the oldest record still there.
      if (!(error instanceof Error && error.name === "TrimmedDataAccessException")) throw error;
      return (await from({ ShardIteratorType: "TRIM_HORIZON" })).ShardIterator;
    }
  };

  /** Reads every record the shard holds past the mapping's position into the buffer. */
  const poll = async (): Promise<void> => {
    iterator ??= await freshIterator();
    for (;;) {
      let out;
      try {
        out = await options.streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      } catch (error: unknown) {
        if (!(error instanceof Error && error.name === "ExpiredIteratorException")) throw error;
        iterator = await freshIterator();
        continue;
      }
      iterator = out.NextShardIterator;
      const records = out.Records ?? [];
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last !== undefined) position = last;
      buffer.push(...records.map((record) => lambdaRecord(record, options.streamArn)));
      if (records.length === 0 || iterator === undefined) return;
    }
  };

  /** The documented on-failure record for `records`, sent to the destination. */
  const discard = async (
    records: readonly DynamoDBRecord[],
    reason: DiscardedRange["reason"],
    attempts: number,
  ): Promise<void> => {
    const first = records[0];
    const last = records.at(-1);
    if (first === undefined || last === undefined) return;
    const range: DiscardedRange = {
      startSequenceNumber: sequenceOf(first),
      endSequenceNumber: sequenceOf(last),
      batchSize: records.length,
      reason,
    };
    state.discarded.push(range);
    state.checkpoint = range.endSequenceNumber;
    const built = streamFailureRecord({
      table,
      functionName: options.functionName,
      startSequenceNumber: range.startSequenceNumber,
      endSequenceNumber: range.endSequenceNumber,
      batchSize: range.batchSize,
      condition: reason === "record-age" ? "RecordAgeExceeded" : "RetryAttemptsExhausted",
      timestamp: new Date(clock()).toISOString(),
    });
    const arrival = (record: DynamoDBRecord) =>
      isoSeconds((record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000);
    const failureRecord = {
      ...built,
      requestContext: {
        ...built.requestContext,
        requestId: lastRequestId,
        functionArn: functionArn(options.functionName, options.streamArn.split(":")[3]),
        approximateInvokeCount: attempts,
      },
      DDBStreamBatchInfo: {
        ...built.DDBStreamBatchInfo,
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        streamArn: options.streamArn,
      },
    };
    state.failureRecords.push(failureRecord);
    if (options.onFailure === undefined) return;
    try {
      await sendToQueue(options.onFailure, failureRecord);
    } catch (error: unknown) {
      state.deliveryFailures.push(error instanceof Error ? error.message : String(error));
    }
  };

  /** One synchronous invocation with `records`; what Lambda makes of its result. */
  const invoke = async (
    records: readonly DynamoDBRecord[],
  ): Promise<Verdict | { readonly kind: "function-error" }> => {
    if (state.invocations.length >= maxInvocations) {
      throw new Error(
        `the event source mapping invoked the function ${maxInvocations} times: set MaximumRetryAttempts or MaximumRecordAgeInSeconds`,
      );
    }
    const requestId = randomUUID();
    lastRequestId = requestId;
    const result = await options.host.invoke({ Records: records }, { requestId });
    const sequenceNumbers = records.map(sequenceOf);
    if (!result.ok) {
      state.invocations.push({
        requestId,
        sequenceNumbers,
        outcome: "function-error",
        error: result.error,
        logs: result.logs,
      });
      return { kind: "function-error" };
    }
    const verdict = readResponse(result.value, records, reportFailures);
    state.invocations.push({
      requestId,
      sequenceNumbers,
      outcome: verdict.kind,
      logs: result.logs,
      ...(verdict.kind === "success" ? {} : { reported: verdict.reported }),
    });
    return verdict;
  };

  const tooOld = (record: DynamoDBRecord): boolean =>
    maxAgeSeconds >= 0 &&
    clock() / 1000 - (record.dynamodb?.ApproximateCreationDateTime ?? 0) > maxAgeSeconds;

  /** Processes `batch` until it is checkpointed, retried out, aged out, or bisected. */
  const processBatch = async (batch: readonly DynamoDBRecord[], retriesUsed: number) => {
    let pending = batch;
    let used = retriesUsed;
    let attempts = 0;
    while (pending.length > 0) {
      const aged = pending.findIndex((record) => !tooOld(record));
      if (aged !== 0) {
        const expired = aged < 0 ? pending : pending.slice(0, aged);
        await discard(expired, "record-age", attempts);
        pending = pending.slice(expired.length);
        continue;
      }
      attempts += 1;
      const verdict = await invoke(pending);
      if (verdict.kind === "success") {
        state.checkpoint = sequenceOf(pending[pending.length - 1] ?? {});
        return;
      }
      if (verdict.kind === "function-error" && bisect && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        const halves = [pending.slice(0, half), pending.slice(half)] as const;
        state.bisections.push([halves[0].map(sequenceOf), halves[1].map(sequenceOf)]);
        state.redeliveries += pending.length;
        await processBatch(halves[0], used);
        await processBatch(halves[1], used);
        return;
      }
      if (verdict.kind === "partial" && verdict.from > 0) {
        state.checkpoint = sequenceOf(pending[verdict.from - 1] ?? {});
        pending = pending.slice(verdict.from);
      }
      used += 1;
      if (maxRetries >= 0 && used > maxRetries) {
        await discard(pending, "retries-exhausted", attempts);
        return;
      }
      state.redeliveries += pending.length;
    }
  };

  /** Polls and processes until the shard has nothing new (writes made meanwhile included). */
  const drainOnce = async (): Promise<StreamReport> => {
    for (;;) {
      await poll();
      if (buffer.length === 0) return report();
      while (buffer.length > 0) await processBatch(buffer.splice(0, batchSize), 0);
    }
  };

  return {
    drain() {
      const run = queue.then(drainOnce);
      queue = run.catch(() => undefined);
      return run;
    },
    report,
  };
}
