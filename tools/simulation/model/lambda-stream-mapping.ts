/**
 * A model of AWS Lambda's event source mapping for a DynamoDB stream, for the deterministic
 * simulation: it reads the stream through the DynamoDB Streams API of the streams model it is
 * given (DescribeStream, GetShardIterator, GetRecords, called as Lambda calls them), batches the
 * records of each shard, hands each batch out as an invocation, and decides what to do with each
 * outcome: checkpoint, retry, bisect, honour a partial batch response, or discard with an
 * on-failure record.
 *
 * It does not run the function: `next()` hands out what Lambda invokes now, and the scheduler
 * reports how each run ended with `finished()`.
 *
 * Sources:
 * - https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (polling, batching, starting
 *   positions, the event's shape)
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html
 * - https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html
 * - https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html (shard lineage)
 *
 * Silent choices (the docs do not say; the model takes what is hardest for a client):
 * - Silent: polling starts a random 0..180 s after the mapping is created (the docs: "it may take
 *   several minutes to start polling"), so with LATEST the records written meanwhile are missed.
 * - Silent: with LATEST, shards already closed when polling starts are not read; shards found
 *   later (children) are read from TRIM_HORIZON, so no record written after the start is missed.
 * - Silent: GetRecords asks for at most what the next batch still lacks (Limit = batch size less
 *   the records held, at most 1000); Lambda reads no further ahead.
 * - Silent: an empty GetRecords page (with a next iterator) is followed by another poll 250 ms
 *   later (the documented base rate of 4 polls a second); the mapping keeps polling.
 * - Silent: throttled or failed GetRecords / GetShardIterator / DescribeStream calls
 *   (LimitExceededException, InternalServerError, anything else not listed next) are retried
 *   after a random 0..min(10 s, 250 ms * 2^failures).
 * - Silent: ExpiredIteratorException: a new iterator AFTER_SEQUENCE_NUMBER of the last record read
 *   (or the starting position when none was read). TrimmedDataAccessException: a new
 *   TRIM_HORIZON iterator (the trimmed records are lost, as "the data expires").
 *   ResourceNotFoundException: the shard is treated as ended.
 * - Silent: DescribeStream is called again when a shard ends (to find its children) and every
 *   60 s.
 * - Silent: when several shards have a batch ready, the one invoked first is chosen at random.
 * - Silent: a retry is invoked at once (no wait between attempts).
 * - Silent: a bisected batch's first half is the larger (ceil(n/2) records); both halves keep the
 *   batch's retry count (splitting consumes none) and are invoked one after the other.
 * - Silent: a partial batch response counts as a retry of the records from the checkpoint on.
 * - Silent: with ReportBatchItemFailures, an itemIdentifier that is not a SequenceNumber of the
 *   batch is a complete failure (as the SQS page documents for "a message ID that doesn't
 *   exist"); so is a response that is neither null nor an object, or whose batchItemFailures is
 *   not an array; an object without batchItemFailures is "an empty EventResponse" (success).
 * - Silent: a complete failure that is not a function error (a malformed partial response) is
 *   bisected like a function error.
 * - Silent: a MaximumRecordAgeInSeconds of -1 discards records once they are 24 hours old (the
 *   stream's retention: "failed records are retried until the record expires").
 * - Silent: records past the maximum age are discarded when their batch is about to be invoked,
 *   with condition "RecordAgeExceeded"; batches past the retries with "RetryAttemptsExhausted"
 *   (the conditions as others read them; the docs' example shows the latter). A record that was
 *   never invoked has approximateInvokeCount 0 and no responseContext.
 * - Silent: after a success, with probability redeliveryProbability (default 0.02) the checkpoint
 *   is lost and the same records are delivered again (with-ddb.html: "Lambda will process each
 *   record at least once, but doesn't guarantee that each record will be processed only once").
 *
 * Not modelled: ParallelizationFactor above 1, tumbling windows, event filtering, throttling of
 * the function by Lambda (it only delays), on-failure destinations other than the one given.
 */

import type { Clock, ModelCall, ModelOperation, Rng, TimedModel } from "./types";
import {
  chance,
  type Destination,
  executedVersion,
  type Invocation,
  type InvocationOutcome,
  randomBelow,
  uuidFrom,
} from "./lambda-types";

/** The DynamoDB Streams API (service "dynamodb-streams") of the streams model. */
export interface StreamsApi {
  start(call: ModelCall): ModelOperation;
}

export interface StreamMappingOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly streams: StreamsApi;
  readonly region: string;
  readonly streamArn: string;
  readonly functionArn: string;
  readonly timeoutMs: number;
  /** 1-10000 (services-ddb-params.html: BatchSize "Maximum: 10,000"). */
  readonly batchSize: number;
  /** 0-300 (with-ddb.html: "buffer records for up to 5 minutes"). */
  readonly maximumBatchingWindowSeconds?: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1 (infinite) to 10000. */
  readonly maximumRetryAttempts: number;
  /** -1 (infinite) or 60-604800. */
  readonly maximumRecordAgeSeconds: number;
  readonly reportBatchItemFailures: boolean;
  readonly startingPosition: "TRIM_HORIZON" | "LATEST";
  readonly onFailure?: Destination;
  /** Silent; default a random 0..180000. */
  readonly startupDelayMs?: number;
  /** Silent; default 0.02. */
  readonly redeliveryProbability?: number;
}

// with-ddb.html: "Lambda polls shards in your DynamoDB stream for records at a base rate of 4
// times per second."
const pollIntervalMs = 250;
const describeIntervalMs = 60_000;
const backoffBaseMs = 250;
const backoffCapMs = 10_000;
const getRecordsLimit = 1000;
// with-ddb.html: "Lambda continues to read records from the event source until it has gathered a
// full batch, the batching window expires, or the batch reaches the payload limit of 6 MB."
const payloadLimitBytes = 6 * 1024 * 1024;
// services-ddb-params.html: "The data retention limit for DynamoDB Streams is 24 hours."
const retentionMs = 24 * 60 * 60 * 1000;

/** A stream record Lambda has read and holds for a batch. */
interface HeldRecord {
  readonly sequenceNumber: string;
  /** ApproximateCreationDateTime in ms, when the record carried it. */
  readonly createdAtMs: number | undefined;
  /** The record as the function receives it. */
  readonly event: Record<string, unknown>;
  readonly sizeBytes: number;
}

interface Batch {
  readonly records: readonly HeldRecord[];
  /** Invocations that carried these records. */
  invocations: number;
  /** Retries consumed (bisection consumes none). */
  retries: number;
  requestId: string | undefined;
  /** Did the last invocation end in a function error (or timeout)? */
  lastFunctionError: boolean;
}

interface PendingOp {
  readonly kind: "GetShardIterator" | "GetRecords";
  readonly operation: ModelOperation;
  readonly dueAt: number;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly startType: "TRIM_HORIZON" | "LATEST";
  phase: "waiting" | "active" | "done";
  iterator: string | undefined;
  /** The last record read, for a new iterator after the old one expired. */
  lastRead: string | undefined;
  forceTrimHorizon: boolean;
  buffer: HeldRecord[];
  /** Batches formed and not yet checkpointed: the first is the one to invoke. */
  pending: Batch[];
  inFlight: { readonly id: string; readonly batch: Batch } | undefined;
  /** The shard is closed and every record was read. */
  ended: boolean;
  /** The last GetRecords returned no record. */
  caughtUp: boolean;
  op: PendingOp | undefined;
  pollAt: number | undefined;
  failures: number;
  /** When the current batching window began. */
  windowStart: number;
}

interface DescribedShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly closed: boolean;
}

type Verdict =
  | { readonly kind: "success" }
  | { readonly kind: "partial"; readonly index: number }
  | { readonly kind: "failure"; readonly functionError: boolean };

export class StreamMappingModel implements TimedModel {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly streams: StreamsApi;
  private readonly region: string;
  private readonly streamArn: string;
  private readonly functionArn: string;
  private readonly timeoutMs: number;
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly bisect: boolean;
  private readonly maximumRetryAttempts: number;
  private readonly maximumRecordAgeMs: number;
  private readonly reportBatchItemFailures: boolean;
  private readonly startingPosition: "TRIM_HORIZON" | "LATEST";
  private readonly onFailure: Destination | undefined;
  private readonly redeliveryProbability: number;
  private readonly startAt: number;
  private started = false;
  private described = false;
  private readonly shards = new Map<string, ShardState>();
  private describeOp: { readonly operation: ModelOperation; readonly dueAt: number } | undefined;
  private describeAt: number | undefined;
  private describeFailures = 0;
  private describePages: DescribedShard[] = [];
  private describeFrom: string | undefined;
  /** A shard ended while a describe was under way: describe again when it is done. */
  private describeAgain = false;
  private nextInvocation = 0;

  constructor(options: StreamMappingOptions) {
    validateOptions(options);
    this.clock = options.clock;
    this.rng = options.rng;
    this.streams = options.streams;
    this.region = options.region;
    this.streamArn = options.streamArn;
    this.functionArn = options.functionArn;
    this.timeoutMs = options.timeoutMs;
    this.batchSize = options.batchSize;
    this.windowMs = (options.maximumBatchingWindowSeconds ?? 0) * 1000;
    this.bisect = options.bisectBatchOnFunctionError;
    this.maximumRetryAttempts = options.maximumRetryAttempts;
    this.maximumRecordAgeMs =
      options.maximumRecordAgeSeconds === -1 ? retentionMs : options.maximumRecordAgeSeconds * 1000;
    this.reportBatchItemFailures = options.reportBatchItemFailures;
    this.startingPosition = options.startingPosition;
    this.onFailure = options.onFailure;
    this.redeliveryProbability = options.redeliveryProbability ?? 0.02;
    // https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (Polling and stream starting
    // positions): "During event source mapping creation, it may take several minutes to start
    // polling events from the stream." ... "if you specify LATEST as the starting position for the
    // stream, the event source mapping could miss events during creation or updates."
    this.startAt = this.clock.now() + (options.startupDelayMs ?? this.rng() * 180_000);
  }

  /** A batch to invoke now, or undefined; call repeatedly until undefined. */
  next(): Invocation | undefined {
    const now = this.clock.now();
    for (;;) {
      const candidates = [...this.shards.values()].filter(
        (shard) => this.readyBatch(shard, now) !== undefined,
      );
      if (candidates.length === 0) return undefined;
      const shard = candidates[randomBelow(this.rng, candidates.length)];
      if (shard === undefined) return undefined;
      const invocation = this.invokeShard(shard, now);
      if (invocation !== undefined) return invocation;
    }
  }

  /** How an invocation handed out by next() ended. */
  finished(id: string, outcome: InvocationOutcome): void {
    const shard = [...this.shards.values()].find((candidate) => candidate.inFlight?.id === id);
    const flight = shard?.inFlight;
    if (shard === undefined || flight === undefined) {
      throw new Error(`No stream invocation ${id} is running`);
    }
    const now = this.clock.now();
    shard.inFlight = undefined;
    const { batch } = flight;
    const verdict = this.verdict(outcome, batch);
    batch.lastFunctionError = verdict.kind === "failure" && verdict.functionError;
    if (verdict.kind === "success") this.succeeded(shard, batch);
    else if (verdict.kind === "partial") this.partiallyFailed(shard, batch, verdict.index, now);
    else this.failed(shard, batch, now);
    // with-ddb.html: "If you configure a batching window, the next window begins as soon as the
    // previous function invocation completes."
    shard.windowStart = now;
    this.settle(shard, now);
  }

  /**
   * True when nothing is left to do until new records arrive: polling has started, every shard is
   * read to its end or caught up, and no batch is held, pending or running.
   */
  idle(): boolean {
    return (
      this.started &&
      this.described &&
      [...this.shards.values()].every(
        (shard) =>
          shard.phase === "done" ||
          (shard.phase === "active" &&
            shard.caughtUp &&
            shard.buffer.length === 0 &&
            shard.pending.length === 0 &&
            shard.inFlight === undefined),
      )
    );
  }

  nextDue(): number | undefined {
    const now = this.clock.now();
    if (!this.started) return this.startAt;
    const times: number[] = [];
    if (this.describeOp !== undefined) times.push(this.describeOp.dueAt);
    else if (this.describeAt !== undefined) times.push(this.describeAt);
    for (const shard of this.shards.values()) {
      if (shard.op !== undefined) times.push(shard.op.dueAt);
      else if (shard.pollAt !== undefined) times.push(shard.pollAt);
      if (shard.phase === "active" && shard.inFlight === undefined) {
        if (shard.pending.length > 0) times.push(now);
        else if (shard.buffer.length > 0) times.push(this.windowEnd(shard, now));
      }
    }
    return times.length === 0 ? undefined : Math.min(...times);
  }

  runDue(): void {
    const now = this.clock.now();
    if (!this.started) {
      if (now < this.startAt) return;
      this.started = true;
      this.describeAt = now;
    }
    this.runDescribe(now);
    for (const shard of [...this.shards.values()]) this.runShard(shard, now);
  }

  // -------------------------------------------------------------------------------------------
  // Batches and outcomes
  // -------------------------------------------------------------------------------------------

  /** When the shard's held records form a batch even if it is not full. */
  private windowEnd(shard: ShardState, now: number): number {
    if (this.windowMs === 0 || shard.ended || shard.buffer.length >= this.batchSize) return now;
    return Math.max(now, shard.windowStart + this.windowMs);
  }

  /** The batch the shard would invoke now, forming it from the held records if it is due. */
  private readyBatch(shard: ShardState, now: number): Batch | undefined {
    // with-ddb.html: "Lambda can process up to 10 batches in each shard simultaneously" with a
    // ParallelizationFactor; at the default of 1, one batch per shard is in flight at a time,
    // and "Lambda still ensures in-order processing at the shard level".
    if (shard.phase !== "active" || shard.inFlight !== undefined) return undefined;
    if (shard.pending.length > 0) return shard.pending[0];
    if (shard.buffer.length === 0 || this.windowEnd(shard, now) > now) return undefined;
    const batch: Batch = {
      records: this.takeBatch(shard),
      invocations: 0,
      retries: 0,
      requestId: undefined,
      lastFunctionError: false,
    };
    shard.pending.push(batch);
    return batch;
  }

  /** Up to batchSize held records, within the 6 MB payload limit. */
  private takeBatch(shard: ShardState): HeldRecord[] {
    let bytes = 0;
    let count = 0;
    for (const record of shard.buffer) {
      if (count >= this.batchSize) break;
      if (count > 0 && bytes + record.sizeBytes > payloadLimitBytes) break;
      bytes += record.sizeBytes;
      count += 1;
    }
    return shard.buffer.splice(0, count);
  }

  /** Discards the records past their age, then hands the batch out (or undefined if none left). */
  private invokeShard(shard: ShardState, now: number): Invocation | undefined {
    const batch = this.readyBatch(shard, now);
    if (batch === undefined) return undefined;
    const live = this.dropExpired(shard, batch, now);
    if (live === undefined) {
      this.settle(shard, now);
      return undefined;
    }
    live.invocations += 1;
    live.requestId = uuidFrom(this.rng);
    const id = `stream-${this.nextInvocation++}`;
    shard.inFlight = { id, batch: live };
    return {
      id,
      // with-ddb.html (Example event): { "Records": [ { "eventID", "eventVersion", "dynamodb",
      // "awsRegion", "eventName", "eventSourceARN", "eventSource" }, ... ] }
      payload: { Records: live.records.map((record) => structuredClone(record.event)) },
      timeoutMs: this.timeoutMs,
      source: "stream",
    };
  }

  /**
   * services-ddb-params.html: MaximumRecordAgeInSeconds: the records older than it are discarded
   * (with-ddb.html: "Maximum age of record – The maximum age of a record that Lambda sends to
   * your function").
   */
  private dropExpired(shard: ShardState, batch: Batch, now: number): Batch | undefined {
    const expired = batch.records.filter(
      (record) =>
        record.createdAtMs !== undefined && now - record.createdAtMs > this.maximumRecordAgeMs,
    );
    if (expired.length === 0) return batch;
    this.discard(shard, expired, batch, "RecordAgeExceeded", now);
    const kept = batch.records.filter((record) => !expired.includes(record));
    if (kept.length === 0) {
      shard.pending.shift();
      return undefined;
    }
    const live: Batch = { ...batch, records: kept };
    shard.pending[0] = live;
    return live;
  }

  /**
   * services-ddb-batchfailurereporting.html: "by default Lambda checkpoints to the highest sequence
   * number of a batch only when the batch is a complete success. Lambda treats all other results
   * as a complete failure", and the success and failure conditions of a partial batch response.
   */
  private verdict(outcome: InvocationOutcome, batch: Batch): Verdict {
    if (outcome.kind !== "success") return { kind: "failure", functionError: true };
    // "Even when your function code returns partial batch failure responses, these responses will
    // not be processed by Lambda unless the ReportBatchItemFailures feature is explicitly turned
    // on for your event source mapping."
    if (!this.reportBatchItemFailures) return { kind: "success" };
    const { response } = outcome;
    // "Lambda treats a batch as a complete success if you return any of the following: An empty
    // batchItemFailure list, A null batchItemFailure list, An empty EventResponse, A null
    // EventResponse".
    if (response === null || response === undefined) return { kind: "success" };
    if (!isRecord(response)) return { kind: "failure", functionError: false };
    const failures = response.batchItemFailures;
    if (failures === null || failures === undefined) return { kind: "success" };
    if (!Array.isArray(failures)) return { kind: "failure", functionError: false };
    if (failures.length === 0) return { kind: "success" };
    let lowest = Number.POSITIVE_INFINITY;
    for (const failure of failures) {
      // "Lambda treats a batch as a complete failure if you return any of the following: An empty
      // string itemIdentifier, A null itemIdentifier, An itemIdentifier with a bad key name".
      const identifier = isRecord(failure) ? failure.itemIdentifier : undefined;
      if (typeof identifier !== "string" || identifier === "") {
        return { kind: "failure", functionError: false };
      }
      const index = batch.records.findIndex((record) => record.sequenceNumber === identifier);
      if (index < 0) return { kind: "failure", functionError: false };
      // "If the batchItemFailures array contains multiple items, Lambda uses the record with the
      // lowest sequence number as the checkpoint. Lambda then retries all records starting from
      // that checkpoint." (The batch is in sequence order: the lowest is the first.)
      lowest = Math.min(lowest, index);
    }
    return { kind: "partial", index: lowest };
  }

  private succeeded(shard: ShardState, batch: Batch): void {
    shard.pending.shift();
    if (chance(this.rng, this.redeliveryProbability)) {
      shard.pending.unshift({
        records: batch.records,
        invocations: 0,
        retries: 0,
        requestId: undefined,
        lastFunctionError: false,
      });
    }
  }

  private exhausted(batch: Batch): boolean {
    // services-ddb-params.html: MaximumRetryAttempts "-1 means infinite".
    return this.maximumRetryAttempts !== -1 && batch.retries >= this.maximumRetryAttempts;
  }

  private partiallyFailed(shard: ShardState, batch: Batch, index: number, now: number): void {
    // services-ddb-batchfailurereporting.html: "When a partial batch success response is received
    // and both BisectBatchOnFunctionError and ReportBatchItemFailures are turned on, the batch is
    // bisected at the returned sequence number and Lambda retries only the remaining records."
    const remaining: Batch = { ...batch, records: batch.records.slice(index) };
    if (this.exhausted(batch)) {
      shard.pending.shift();
      this.discard(shard, remaining.records, batch, "RetryAttemptsExhausted", now);
      return;
    }
    remaining.retries += 1;
    shard.pending[0] = remaining;
  }

  /**
   * services-dynamodb-errors.html: "If the function is invoked but returns an error, Lambda
   * retries until the records expire, exceed the maximum age (MaximumRecordAgeInSeconds), or reach
   * the configured retry quota (MaximumRetryAttempts). For function errors, you can also configure
   * BisectBatchOnFunctionError, which splits a failed batch into two smaller batches ... Splitting
   * batches doesn't consume the retry quota."
   */
  private failed(shard: ShardState, batch: Batch, now: number): void {
    // services-ddb-batchfailurereporting.html: "If your invocation fails and
    // BisectBatchOnFunctionError is turned on, the batch is bisected regardless of your
    // ReportBatchItemFailures setting."
    if (this.bisect && batch.records.length > 1) {
      const half = Math.ceil(batch.records.length / 2);
      const split = (records: readonly HeldRecord[]): Batch => ({ ...batch, records });
      shard.pending.splice(
        0,
        1,
        split(batch.records.slice(0, half)),
        split(batch.records.slice(half)),
      );
      return;
    }
    if (this.exhausted(batch)) {
      shard.pending.shift();
      this.discard(shard, batch.records, batch, "RetryAttemptsExhausted", now);
      return;
    }
    batch.retries += 1;
  }

  /**
   * services-dynamodb-errors.html: "If the error handling measures fail, Lambda discards the
   * records and continues processing batches from the stream." and the documented invocation
   * record: requestContext { requestId, functionArn, condition, approximateInvokeCount },
   * responseContext { statusCode, executedVersion, functionError }, version, timestamp,
   * DDBStreamBatchInfo { shardId, startSequenceNumber, endSequenceNumber,
   * approximateArrivalOfFirstRecord, approximateArrivalOfLastRecord, batchSize, streamArn }.
   */
  private discard(
    shard: ShardState,
    records: readonly HeldRecord[],
    batch: Batch,
    condition: "RecordAgeExceeded" | "RetryAttemptsExhausted",
    now: number,
  ): void {
    const first = records[0];
    const last = records[records.length - 1];
    if (this.onFailure === undefined || first === undefined || last === undefined) return;
    const record: Record<string, unknown> = {
      requestContext: {
        requestId: batch.requestId ?? uuidFrom(this.rng),
        functionArn: this.functionArn,
        condition,
        approximateInvokeCount: batch.invocations,
      },
    };
    if (batch.invocations > 0) {
      record.responseContext = batch.lastFunctionError
        ? {
            statusCode: 200,
            executedVersion: executedVersion(this.functionArn),
            functionError: "Unhandled",
          }
        : { statusCode: 200, executedVersion: executedVersion(this.functionArn) };
    }
    record.version = "1.0";
    record.timestamp = new Date(now).toISOString();
    record.DDBStreamBatchInfo = {
      shardId: shard.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
      batchSize: records.length,
      streamArn: this.streamArn,
    };
    this.onFailure.send(record);
  }

  // -------------------------------------------------------------------------------------------
  // Reading the stream
  // -------------------------------------------------------------------------------------------

  /** After anything changed on a shard: is it done, and does it need to read? */
  private settle(shard: ShardState, now: number): void {
    if (shard.phase !== "active") return;
    const empty =
      shard.buffer.length === 0 && shard.pending.length === 0 && shard.inFlight === undefined;
    if (shard.ended && empty) {
      // Streams.html: "Because shards have a lineage (parent and children), an application must
      // always process a parent shard before it processes a child shard."
      shard.phase = "done";
      shard.pollAt = undefined;
      this.activateChildren(now);
      if (this.describeOp === undefined && this.describeFrom === undefined) this.describeAt = now;
      else this.describeAgain = true;
      return;
    }
    if (shard.op === undefined && shard.pollAt === undefined && this.wantsRecords(shard, now)) {
      shard.pollAt = now;
    }
  }

  private wantsRecords(shard: ShardState, now: number): boolean {
    return (
      shard.phase === "active" &&
      !shard.ended &&
      shard.inFlight === undefined &&
      shard.pending.length === 0 &&
      shard.buffer.length < this.batchSize &&
      (shard.buffer.length === 0 || (this.windowMs > 0 && now < shard.windowStart + this.windowMs))
    );
  }

  private runShard(shard: ShardState, now: number): void {
    if (shard.op !== undefined) {
      if (shard.op.dueAt > now) return;
      const op = shard.op;
      shard.op = undefined;
      this.finishShardOp(shard, op, now);
      this.settle(shard, now);
      return;
    }
    if (shard.pollAt === undefined || shard.pollAt > now || shard.phase !== "active") return;
    shard.pollAt = undefined;
    if (!this.wantsRecords(shard, now)) return;
    if (shard.iterator === undefined) this.startGetShardIterator(shard, now);
    else this.startGetRecords(shard, shard.iterator, now);
  }

  private startGetShardIterator(shard: ShardState, now: number): void {
    const input: Record<string, unknown> = { StreamArn: this.streamArn, ShardId: shard.shardId };
    if (shard.forceTrimHorizon) input.ShardIteratorType = "TRIM_HORIZON";
    else if (shard.lastRead !== undefined) {
      input.ShardIteratorType = "AFTER_SEQUENCE_NUMBER";
      input.SequenceNumber = shard.lastRead;
    } else input.ShardIteratorType = shard.startType;
    shard.op = this.call("GetShardIterator", input, now);
  }

  private startGetRecords(shard: ShardState, iterator: string, now: number): void {
    const limit = Math.max(1, Math.min(getRecordsLimit, this.batchSize - shard.buffer.length));
    shard.op = this.call("GetRecords", { ShardIterator: iterator, Limit: limit }, now);
  }

  private call(
    command: "GetShardIterator" | "GetRecords",
    input: Record<string, unknown>,
    now: number,
  ): PendingOp {
    const operation = this.streams.start({
      service: "dynamodb-streams",
      region: this.region,
      command,
      input,
    });
    return { kind: command, operation, dueAt: now + operation.durationMs };
  }

  private finishShardOp(shard: ShardState, op: PendingOp, now: number): void {
    let output: Record<string, unknown>;
    try {
      output = op.operation.finish();
    } catch (error) {
      this.readFailed(shard, error, now);
      return;
    }
    shard.failures = 0;
    if (op.kind === "GetShardIterator") {
      const iterator = output.ShardIterator;
      shard.forceTrimHorizon = false;
      if (typeof iterator === "string") shard.iterator = iterator;
      else shard.ended = true;
      return;
    }
    this.received(shard, output, now);
  }

  private received(shard: ShardState, output: Record<string, unknown>, now: number): void {
    const records = Array.isArray(output.Records) ? output.Records : [];
    for (const raw of records) {
      const held = this.hold(raw);
      if (held === undefined) continue;
      shard.buffer.push(held);
      shard.lastRead = held.sequenceNumber;
    }
    shard.caughtUp = records.length === 0;
    // GetRecordsOutput.NextShardIterator: "If set to null, the shard has been closed and the
    // requested iterator will not return any more data."
    const nextIterator = output.NextShardIterator;
    if (typeof nextIterator === "string") shard.iterator = nextIterator;
    else {
      shard.iterator = undefined;
      shard.ended = true;
    }
    if (this.wantsRecords(shard, now))
      shard.pollAt = records.length === 0 ? now + pollIntervalMs : now;
  }

  private readFailed(shard: ShardState, error: unknown, now: number): void {
    const name = error instanceof Error ? error.name : "";
    shard.caughtUp = false;
    if (name === "ExpiredIteratorException") {
      shard.iterator = undefined;
      shard.pollAt = now;
    } else if (name === "TrimmedDataAccessException") {
      shard.iterator = undefined;
      shard.forceTrimHorizon = true;
      shard.pollAt = now;
    } else if (name === "ResourceNotFoundException") {
      shard.iterator = undefined;
      shard.ended = true;
    } else {
      shard.failures += 1;
      shard.pollAt = now + this.backoff(shard.failures);
    }
  }

  private backoff(failures: number): number {
    return this.rng() * Math.min(backoffCapMs, backoffBaseMs * 2 ** failures);
  }

  // -------------------------------------------------------------------------------------------
  // Shards
  // -------------------------------------------------------------------------------------------

  private runDescribe(now: number): void {
    if (this.describeOp !== undefined) {
      if (this.describeOp.dueAt > now) return;
      const { operation } = this.describeOp;
      this.describeOp = undefined;
      this.finishDescribe(operation, now);
    }
    if (this.describeAt !== undefined && this.describeAt <= now) {
      this.describeAt = undefined;
      const input: Record<string, unknown> = { StreamArn: this.streamArn };
      if (this.describeFrom !== undefined) input.ExclusiveStartShardId = this.describeFrom;
      const operation = this.streams.start({
        service: "dynamodb-streams",
        region: this.region,
        command: "DescribeStream",
        input,
      });
      this.describeOp = { operation, dueAt: now + operation.durationMs };
    }
  }

  private finishDescribe(operation: ModelOperation, now: number): void {
    let output: Record<string, unknown>;
    try {
      output = operation.finish();
    } catch {
      this.describeFailures += 1;
      this.describeAt = now + this.backoff(this.describeFailures);
      return;
    }
    this.describeFailures = 0;
    const description = isRecord(output.StreamDescription) ? output.StreamDescription : {};
    const shards = Array.isArray(description.Shards) ? description.Shards : [];
    this.describePages.push(...shards.flatMap(describedShard));
    // DescribeStreamInput.ExclusiveStartShardId: "Use the value that was returned for
    // LastEvaluatedShardId in the previous operation."
    const lastEvaluated = description.LastEvaluatedShardId;
    if (typeof lastEvaluated === "string") {
      this.describeFrom = lastEvaluated;
      this.describeAt = now;
      return;
    }
    this.merge(this.describePages, now);
    this.describePages = [];
    this.describeFrom = undefined;
    this.describeAt = this.describeAgain ? now : now + describeIntervalMs;
    this.describeAgain = false;
  }

  private merge(described: readonly DescribedShard[], now: number): void {
    const initial = !this.described;
    this.described = true;
    for (const shard of described) {
      if (this.shards.has(shard.shardId)) continue;
      const startType = initial ? this.startingPosition : "TRIM_HORIZON";
      this.shards.set(shard.shardId, {
        shardId: shard.shardId,
        parentShardId: shard.parentShardId,
        startType,
        phase: initial && startType === "LATEST" && shard.closed ? "done" : "waiting",
        iterator: undefined,
        lastRead: undefined,
        forceTrimHorizon: false,
        buffer: [],
        pending: [],
        inFlight: undefined,
        ended: false,
        caughtUp: false,
        op: undefined,
        pollAt: undefined,
        failures: 0,
        windowStart: now,
      });
    }
    this.activateChildren(now);
  }

  /** Shards whose parent is done, or gone from the stream, start reading. */
  private activateChildren(now: number): void {
    for (const shard of this.shards.values()) {
      if (shard.phase !== "waiting") continue;
      const parent =
        shard.parentShardId === undefined ? undefined : this.shards.get(shard.parentShardId);
      if (parent !== undefined && parent.phase !== "done") continue;
      shard.phase = "active";
      shard.windowStart = now;
      shard.pollAt = now;
    }
  }

  /** A record of GetRecords' output as Lambda holds it for the function. */
  private hold(raw: unknown): HeldRecord | undefined {
    if (!isRecord(raw) || !isRecord(raw.dynamodb)) return undefined;
    const stream = raw.dynamodb;
    const sequenceNumber = stream.SequenceNumber;
    if (typeof sequenceNumber !== "string") return undefined;
    const createdAtMs = creationMs(stream.ApproximateCreationDateTime);
    const dynamodb: Record<string, unknown> = {};
    // with-ddb.html (example event): "dynamodb": { "Keys", "NewImage", "StreamViewType",
    // "SequenceNumber", "SizeBytes" }; ApproximateCreationDateTime is epoch seconds in the event.
    if (createdAtMs !== undefined)
      dynamodb.ApproximateCreationDateTime = Math.floor(createdAtMs / 1000);
    for (const key of ["Keys", "NewImage", "OldImage"] as const) {
      const image = stream[key];
      if (isRecord(image)) dynamodb[key] = attributeMap(image);
    }
    dynamodb.SequenceNumber = sequenceNumber;
    if (typeof stream.SizeBytes === "number") dynamodb.SizeBytes = stream.SizeBytes;
    if (typeof stream.StreamViewType === "string") dynamodb.StreamViewType = stream.StreamViewType;
    const event: Record<string, unknown> = {
      eventID: raw.eventID,
      eventName: raw.eventName,
      eventVersion: raw.eventVersion ?? "1.1",
      eventSource: raw.eventSource ?? "aws:dynamodb",
      awsRegion: raw.awsRegion ?? this.region,
      dynamodb,
      eventSourceARN: this.streamArn,
    };
    // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html:
    // "Items that are deleted by the Time to Live process after expiration have the following
    // fields: Records[].userIdentity.type "Service", Records[].userIdentity.principalId
    // "dynamodb.amazonaws.com"" (lower-case keys in the function's event).
    if (isRecord(raw.userIdentity)) {
      event.userIdentity = {
        type: raw.userIdentity.Type,
        principalId: raw.userIdentity.PrincipalId,
      };
    }
    return { sequenceNumber, createdAtMs, event, sizeBytes: JSON.stringify(event).length };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describedShard(raw: unknown): DescribedShard[] {
  if (!isRecord(raw) || typeof raw.ShardId !== "string") return [];
  const range = isRecord(raw.SequenceNumberRange) ? raw.SequenceNumberRange : {};
  return [
    {
      shardId: raw.ShardId,
      parentShardId: typeof raw.ParentShardId === "string" ? raw.ParentShardId : undefined,
      closed: typeof range.EndingSequenceNumber === "string",
    },
  ];
}

/** ApproximateCreationDateTime, a Date in the SDK's output (or epoch seconds). */
function creationMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value * 1000;
  return undefined;
}

/** "2019-11-14T00:13:19Z", as the documented DDBStreamBatchInfo writes arrival times. */
function arrival(record: HeldRecord): string | undefined {
  if (record.createdAtMs === undefined) return undefined;
  return new Date(Math.floor(record.createdAtMs / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** An attribute value as the function's JSON event carries it: binary values in base64. */
function attributeValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(attributeValue);
  if (isRecord(value)) return attributeMap(value);
  return value;
}

function attributeMap(map: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(map).map(([key, value]) => [key, attributeValue(value)]),
  );
}

function validateOptions(options: StreamMappingOptions): void {
  const check = (ok: boolean, message: string): void => {
    if (!ok) throw new RangeError(message);
  };
  const { batchSize, maximumRetryAttempts: retries, maximumRecordAgeSeconds: age } = options;
  const window = options.maximumBatchingWindowSeconds ?? 0;
  check(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10000, "batchSize: 1-10000");
  check(Number.isInteger(retries) && retries >= -1 && retries <= 10000, "maximumRetryAttempts");
  check(age === -1 || (Number.isInteger(age) && age >= 60 && age <= 604800), "maximumRecordAge");
  check(window >= 0 && window <= 300, "maximumBatchingWindowSeconds: 0-300");
}
