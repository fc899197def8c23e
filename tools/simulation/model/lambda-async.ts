/**
 * A model of AWS Lambda's asynchronous invocation for the deterministic simulation: the internal
 * event queue, the retries of function errors and timeouts, the retries of throttles, the maximum
 * event age, duplicate deliveries, and the on-failure destination's invocation record.
 *
 * It does not run the function: `next()` hands out what Lambda starts now, and the scheduler
 * reports how each run ended with `finished()`.
 *
 * Sources:
 * - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 * - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * - https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 *
 * Silent choices (the docs do not say; the model takes what is hardest for a client):
 * - Silent: an event waits in the queue a uniform random 0..maxQueueDelayMs (default 1 s) before
 *   its first attempt, and events that are ready together start in a random order (the queue is
 *   not FIFO), so events invoked in order can run in any order and at once.
 * - Silent: with probability duplicateProbability (default 0.05) the eventually consistent queue
 *   hands the same event (same request ID) out a second time, as an independent copy that may run
 *   at the same time as the first; each copy is retried on its own.
 * - Silent: with probability throttleProbability (default 0.05) an attempt is throttled before it
 *   reaches the function; the event goes back to the queue after 1 s, then 2, 4, ... up to 5 min.
 * - Silent: the waits of 1 and 2 minutes between attempts run from the end of the failed attempt
 *   (the moment `finished` reports it).
 * - Silent: the maximum event age is checked when an event comes off the queue (for its first
 *   attempt, a retry, or after a throttle): an event older than maximumEventAgeSeconds is then
 *   discarded with condition "EventAgeExceeded".
 * - Silent: an EventAgeExceeded record of an event that never reached the function has
 *   approximateInvokeCount 0 and no responseContext nor responsePayload (there was no response).
 * - Silent: functionError is "Unhandled" for every error and timeout (as the documented example).
 *
 * Not modelled: on-success destinations and dead-letter queues (only the on-failure destination);
 * "events might also be deleted from the queue without being sent to the function" when it "can't
 * keep up" (this model has no concurrency limit to fall behind); reserved concurrency of zero.
 */

import type { Clock, Rng, TimedModel } from "./types";
import {
  chance,
  type Destination,
  executedVersion,
  functionErrorPayload,
  type Invocation,
  type InvocationOutcome,
  qualifiedFunctionArn,
  randomBelow,
  uuidFrom,
} from "./lambda-types";

export interface AsyncInvocationOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly functionArn: string;
  readonly timeoutMs: number;
  /** 0-2 (invocation-async-error-handling.html: "Retry attempts ... between 0 and 2"). */
  readonly maximumRetryAttempts: number;
  /** 60-21600 (API_PutFunctionEventInvokeConfig: "Minimum value of 60. Maximum value of 21600"). */
  readonly maximumEventAgeSeconds: number;
  readonly onFailure?: Destination;
  /** Silent; default 1000. */
  readonly maxQueueDelayMs?: number;
  /** Silent; default 0.05. */
  readonly duplicateProbability?: number;
  /** Silent; default 0.05. */
  readonly throttleProbability?: number;
}

/** An error's or timeout's response, kept for the invocation record. */
interface FailedResponse {
  readonly payload: Record<string, unknown>;
}

interface QueuedEvent {
  readonly requestId: string;
  readonly event: unknown;
  readonly enqueuedAt: number;
  dueAt: number;
  /** Times the function was invoked with this copy. */
  invocations: number;
  /** Throttles in a row, for the back off. */
  throttles: number;
  lastResponse: FailedResponse | undefined;
}

// invocation-async-error-handling.html: "If the function returns an error, by default Lambda
// attempts to run it two more times, with a one-minute wait between the first two attempts, and
// two minutes between the second and third attempts."
const retryWaitsMs = [60_000, 120_000];
// "For throttling errors (429) and system errors (500-series), Lambda returns the event to the
// queue and attempts to run the function again for up to 6 hours by default. The retry interval
// increases exponentially from 1 second after the first attempt to a maximum of 5 minutes."
const throttleFirstWaitMs = 1000;
const throttleMaxWaitMs = 300_000;

export class AsyncInvocationModel implements TimedModel {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly functionArn: string;
  private readonly timeoutMs: number;
  private readonly maximumRetryAttempts: number;
  private readonly maximumEventAgeMs: number;
  private readonly onFailure: Destination | undefined;
  private readonly maxQueueDelayMs: number;
  private readonly duplicateProbability: number;
  private readonly throttleProbability: number;
  /** Events waiting in the queue (for a first attempt, a retry, or after a throttle). */
  private queued: QueuedEvent[] = [];
  /** Events whose attempt is due and that Lambda starts at the next `next()`. */
  private ready: QueuedEvent[] = [];
  private readonly running = new Map<string, QueuedEvent>();
  private nextInvocation = 0;

  constructor(options: AsyncInvocationOptions) {
    validateOptions(options);
    this.clock = options.clock;
    this.rng = options.rng;
    this.functionArn = options.functionArn;
    this.timeoutMs = options.timeoutMs;
    this.maximumRetryAttempts = options.maximumRetryAttempts;
    this.maximumEventAgeMs = options.maximumEventAgeSeconds * 1000;
    this.onFailure = options.onFailure;
    this.maxQueueDelayMs = options.maxQueueDelayMs ?? 1000;
    this.duplicateProbability = options.duplicateProbability ?? 0.05;
    this.throttleProbability = options.throttleProbability ?? 0.05;
  }

  /**
   * The event as EventBridge (or any async caller) hands it to Lambda's queue.
   * invocation-async.html: "For asynchronous invocation, Lambda places the event in a queue and
   * returns a success response without additional information. A separate process reads events
   * from the queue and sends them to your function."
   */
  invoke(event: unknown): void {
    const now = this.clock.now();
    const requestId = uuidFrom(this.rng);
    this.enqueue(requestId, event, now);
    // invocation-async-error-handling.html: "Even if your function doesn't return an error, it's
    // possible for it to receive the same event from Lambda multiple times because the queue
    // itself is eventually consistent."
    if (chance(this.rng, this.duplicateProbability)) this.enqueue(requestId, event, now);
  }

  /** An invocation Lambda starts now, or undefined; call repeatedly until undefined. */
  next(): Invocation | undefined {
    this.runDue();
    if (this.ready.length === 0) return undefined;
    const [entry] = this.ready.splice(randomBelow(this.rng, this.ready.length), 1);
    if (entry === undefined) return undefined;
    entry.invocations += 1;
    const id = `async-${this.nextInvocation++}`;
    this.running.set(id, entry);
    return {
      id,
      payload: structuredClone(entry.event),
      timeoutMs: this.timeoutMs,
      source: "async",
    };
  }

  /** How an invocation handed out by next() ended. */
  finished(id: string, outcome: InvocationOutcome): void {
    const entry = this.running.get(id);
    if (entry === undefined) throw new Error(`No asynchronous invocation ${id} is running`);
    this.running.delete(id);
    if (outcome.kind === "success") return;
    const now = this.clock.now();
    entry.lastResponse = {
      payload: functionErrorPayload(outcome, {
        requestId: entry.requestId,
        timeoutMs: this.timeoutMs,
        now,
      }),
    };
    // "Function errors include errors returned by the function's code and errors returned by the
    // function's runtime, such as timeouts."
    const retriesMade = entry.invocations - 1;
    if (retriesMade >= this.maximumRetryAttempts) {
      this.discard(entry, "RetriesExhausted", now);
      return;
    }
    entry.throttles = 0;
    entry.dueAt = now + (retryWaitsMs[retriesMade] ?? retryWaitsMs[1] ?? 0);
    this.queued.push(entry);
  }

  /** Events not yet done: queued, ready or running. */
  pendingEvents(): number {
    return this.queued.length + this.ready.length + this.running.size;
  }

  nextDue(): number | undefined {
    if (this.ready.length > 0) return this.clock.now();
    let due: number | undefined;
    for (const entry of this.queued) if (due === undefined || entry.dueAt < due) due = entry.dueAt;
    return due;
  }

  runDue(): void {
    const now = this.clock.now();
    const due = this.queued.filter((entry) => entry.dueAt <= now);
    if (due.length === 0) return;
    this.queued = this.queued.filter((entry) => entry.dueAt > now);
    for (const entry of due) this.dequeue(entry, now);
  }

  private enqueue(requestId: string, event: unknown, now: number): void {
    this.queued.push({
      requestId,
      event: structuredClone(event),
      enqueuedAt: now,
      dueAt: now + this.rng() * this.maxQueueDelayMs,
      invocations: 0,
      throttles: 0,
      lastResponse: undefined,
    });
  }

  private dequeue(entry: QueuedEvent, now: number): void {
    // invocation-async-error-handling.html: "When the queue is very long, new events might age out
    // before Lambda has a chance to send them to your function. When an event expires or fails all
    // processing attempts, Lambda discards it."
    if (now - entry.enqueuedAt > this.maximumEventAgeMs) {
      this.discard(entry, "EventAgeExceeded", now);
      return;
    }
    if (chance(this.rng, this.throttleProbability)) {
      const wait = Math.min(throttleMaxWaitMs, throttleFirstWaitMs * 2 ** entry.throttles);
      entry.throttles += 1;
      entry.dueAt = now + wait;
      this.queued.push(entry);
      return;
    }
    this.ready.push(entry);
  }

  /**
   * invocation-async-retain-records.html: "The invocation record contains details about the
   * request and response in JSON format"; the documented example record has version, timestamp,
   * requestContext { requestId, functionArn, condition, approximateInvokeCount }, requestPayload,
   * responseContext { statusCode, executedVersion, functionError } and responsePayload.
   */
  private discard(
    entry: QueuedEvent,
    condition: "RetriesExhausted" | "EventAgeExceeded",
    now: number,
  ): void {
    if (this.onFailure === undefined) return;
    const record: Record<string, unknown> = {
      version: "1.0",
      timestamp: new Date(now).toISOString(),
      requestContext: {
        requestId: entry.requestId,
        functionArn: qualifiedFunctionArn(this.functionArn),
        condition,
        approximateInvokeCount: entry.invocations,
      },
      requestPayload: structuredClone(entry.event),
    };
    if (entry.lastResponse !== undefined) {
      record.responseContext = {
        statusCode: 200,
        executedVersion: executedVersion(this.functionArn),
        functionError: "Unhandled",
      };
      record.responsePayload = entry.lastResponse.payload;
    }
    this.onFailure.send(record);
  }
}

function validateOptions(options: AsyncInvocationOptions): void {
  const { maximumRetryAttempts: retries, maximumEventAgeSeconds: age } = options;
  if (!Number.isInteger(retries) || retries < 0 || retries > 2) {
    throw new RangeError(`maximumRetryAttempts must be 0-2, not ${retries}`);
  }
  if (!Number.isInteger(age) || age < 60 || age > 21600) {
    throw new RangeError(`maximumEventAgeSeconds must be 60-21600, not ${age}`);
  }
}
