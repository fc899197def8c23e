/**
 * An EventBridge rule whose target is a Lambda function, invoked asynchronously, as AWS
 * documents the two services:
 * - the rule sends the events that match its pattern (event-pattern.ts) to the target;
 * - when EventBridge cannot invoke the target (e.g. it lacks the permission), "for errors that
 *   result from missing permissions to a target ... no retry attempts will happen" and
 *   "EventBridge sends these events directly to the target DLQ", with the attributes RULE_ARN,
 *   TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, ... (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html);
 * - Lambda queues the event and invokes the function; "it's possible for it to receive the same
 *   event from Lambda multiple times because the queue itself is eventually consistent", and
 *   the queue promises no order (simulated by an optional seeded shuffle and duplicates); on a
 *   function error ("errors returned by the function's code and errors returned by the
 *   function's runtime, such as timeouts") "Lambda attempts to run it two more times, with a
 *   one-minute wait between the first two attempts, and two minutes between the second and
 *   third attempts" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html),
 *   up to MaximumRetryAttempts (0-2), with the same request id; then it sends the invocation
 *   record (condition "RetriesExhausted", `requestPayload` the event, `responsePayload` the error)
 *   to the on-failure destination
 *   (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 *   a success sends a record with condition "Success" to the on-success destination (value from
 *   https://aws.amazon.com/blogs/compute/introducing-aws-lambda-destinations/).
 * Here `retryDelayMs` (default 0) stands for Lambda's wait before a retry, during which other
 * events go ahead. Not simulated: MaximumEventAgeInSeconds,
 * throttling, concurrency (one host runs one invocation at a time).
 */
import { randomUUID } from "node:crypto";
import { matchesPattern, type EventPattern } from "./event-pattern";
import { asyncFailureRecord, eventBridgeDeadLetter, functionArn, REGION } from "./events";
import type { FunctionError, InvocationLogs, LambdaHost } from "./lambda-host";
import { sendToQueue, type QueueDestination } from "./lambda-destinations";

/** What the rule needs of the function: a LambdaHost. */
export type Invoker = Pick<LambdaHost, "invoke">;

export interface AsyncInvokeSettings {
  /** FunctionEventInvokeConfig MaximumRetryAttempts, 0-2. @default 2 */
  readonly maximumRetryAttempts?: number;
  /** Stands for Lambda's wait before a retry (about 1 then 2 minutes). @default 0 */
  readonly retryDelayMs?: number;
  readonly onFailure?: QueueDestination;
  readonly onSuccess?: QueueDestination;
}

export interface DeliveryOrder {
  /** Seed of the shuffle and duplicate choices (same seed, same order). */
  readonly seed: number;
  /** Share (0-1) of successful deliveries that are delivered once more. @default 0 */
  readonly duplicateRate?: number;
}

export interface EventBridgeRuleOptions {
  readonly ruleName: string;
  readonly pattern: EventPattern;
  readonly host: Invoker;
  readonly functionName: string;
  /** @default REGION of events.ts */
  readonly region?: string;
  readonly async?: AsyncInvokeSettings;
  /** The rule target's dead-letter queue (EventBridge's own). */
  readonly deadLetterQueue?: QueueDestination;
  /** Whether EventBridge may invoke the function (its resource-based policy). @default true */
  readonly canInvoke?: boolean;
  /** Unordered delivery; without it, events are invoked in the order they arrived. */
  readonly order?: DeliveryOrder;
}

export interface AsyncInvocation {
  readonly requestId: string;
  /** `id` of the EventBridge event. */
  readonly eventId: string;
  /** 1 for the first attempt, 2 and 3 for Lambda's retries. */
  readonly attempt: number;
  readonly duplicate: boolean;
  readonly ok: boolean;
  /** What the function returned (a success). */
  readonly value?: unknown;
  readonly error?: FunctionError;
  /** What the function wrote during the invocation. */
  readonly logs: InvocationLogs;
}

export interface AsyncReport {
  readonly matched: number;
  readonly unmatched: number;
  readonly invocations: readonly AsyncInvocation[];
  /** Records sent (or that would be sent) to the on-success destination. */
  readonly successRecords: readonly unknown[];
  /** Records sent to the on-failure destination. */
  readonly failureRecords: readonly unknown[];
  /** Events EventBridge sent to the target's dead-letter queue (or dropped without one). */
  readonly deadLettered: readonly unknown[];
  /** Records or events that could not be sent to their queue. */
  readonly deliveryFailures: readonly string[];
}

export interface EventBridgeRule {
  /** An event arrives on the bus (e.g. from s3-event-source.ts `onEvent`). */
  put(event: unknown): void;
  /** Whether EventBridge may invoke the function from now on. */
  setCanInvoke(allowed: boolean): void;
  /** Resolves when every event has been delivered, retried, and recorded. */
  idle(): Promise<AsyncReport>;
  report(): AsyncReport;
}

/** A deterministic PRNG (mulberry32): a seed reproduces a delivery order. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pending {
  readonly event: unknown;
  readonly requestId: string;
  /** Invocations so far. */
  readonly attempts: number;
  readonly duplicate: boolean;
}

const eventIdOf = (event: unknown): string =>
  typeof event === "object" && event !== null && "id" in event ? String(event.id) : "";

export function startEventBridgeRule(options: EventBridgeRuleOptions): EventBridgeRule {
  const maxRetries = options.async?.maximumRetryAttempts ?? 2;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 2) {
    throw new RangeError(`maximumRetryAttempts = ${maxRetries} (Lambda allows 0, 1 or 2)`);
  }
  const region = options.region ?? REGION;
  const qualifiedArn = `${functionArn(options.functionName, region)}:$LATEST`;
  const random = options.order === undefined ? undefined : seededRandom(options.order.seed);
  let canInvoke = options.canInvoke ?? true;
  const pending: Pending[] = [];
  let delayed = 0;
  let running: Promise<void> | undefined;
  const waiting: (() => void)[] = [];
  const report = {
    matched: 0,
    unmatched: 0,
    invocations: [] as AsyncInvocation[],
    successRecords: [] as unknown[],
    failureRecords: [] as unknown[],
    deadLettered: [] as unknown[],
    deliveryFailures: [] as string[],
  };
  const snapshot = (): AsyncReport => ({
    ...report,
    invocations: [...report.invocations],
    successRecords: [...report.successRecords],
    failureRecords: [...report.failureRecords],
    deadLettered: [...report.deadLettered],
    deliveryFailures: [...report.deliveryFailures],
  });

  const send = async (
    destination: QueueDestination | undefined,
    body: unknown,
    what: string,
    attributes?: Readonly<Record<string, string>>,
  ): Promise<void> => {
    if (destination === undefined) return;
    try {
      await sendToQueue(destination, body, attributes);
    } catch (error: unknown) {
      // Lambda counts these as DestinationDeliveryFailures.
      report.deliveryFailures.push(
        `${what}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  };

  /** The on-success record: the documented invocation record with condition "Success". */
  const successRecord = (item: Pending, attempts: number, value: unknown) => ({
    version: "1.0",
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: item.requestId,
      functionArn: qualifiedArn,
      condition: "Success",
      approximateInvokeCount: attempts,
    },
    requestPayload: item.event,
    responseContext: { statusCode: 200, executedVersion: "$LATEST" },
    responsePayload: value,
  });

  const deliver = async (item: Pending): Promise<void> => {
    if (!canInvoke) {
      const letter = eventBridgeDeadLetter({
        event: item.event,
        ruleName: options.ruleName,
        functionName: options.functionName,
      });
      report.deadLettered.push(item.event);
      await send(options.deadLetterQueue, letter.body, "target DLQ", letter.attributes);
      return;
    }
    const attempt = item.attempts + 1;
    const result = await options.host.invoke(item.event, { requestId: item.requestId });
    report.invocations.push({
      requestId: item.requestId,
      eventId: eventIdOf(item.event),
      attempt,
      duplicate: item.duplicate,
      ok: result.ok,
      logs: result.logs,
      ...(result.ok ? { value: result.value } : { error: result.error }),
    });
    if (result.ok) {
      const success = successRecord(item, attempt, result.value);
      report.successRecords.push(success);
      await send(options.async?.onSuccess, success, "on-success destination");
      if (
        !item.duplicate &&
        random !== undefined &&
        random() < (options.order?.duplicateRate ?? 0)
      ) {
        pending.push({ event: item.event, requestId: randomUUID(), attempts: 0, duplicate: true });
      }
      return;
    }
    if (attempt <= maxRetries) {
      const retry = { ...item, attempts: attempt };
      const delay = options.async?.retryDelayMs ?? 0;
      if (delay <= 0) {
        pending.push(retry);
        return;
      }
      delayed += 1;
      setTimeout(() => {
        delayed -= 1;
        pending.push(retry);
        kick();
      }, delay);
      return;
    }
    const built = asyncFailureRecord({
      event: item.event,
      functionName: options.functionName,
      approximateInvokeCount: attempt,
      condition: "RetriesExhausted",
      errorMessage: result.error.errorMessage,
      timestamp: new Date().toISOString(),
    });
    const failure = {
      ...built,
      requestContext: {
        ...built.requestContext,
        requestId: item.requestId,
        functionArn: qualifiedArn,
      },
      // The function's error response, as the invocation returned it.
      responsePayload: result.error,
    };
    report.failureRecords.push(failure);
    await send(options.async?.onFailure, failure, "on-failure destination");
  };

  const settleWaiters = (): void => {
    if (pending.length > 0 || delayed > 0 || running !== undefined) return;
    for (const resolve of waiting.splice(0)) resolve();
  };

  const loop = async (): Promise<void> => {
    // Let a burst of events arrive before choosing, so that the shuffle sees them together.
    await new Promise((resolve) => setImmediate(resolve));
    while (pending.length > 0) {
      const index = random === undefined ? 0 : Math.floor(random() * pending.length);
      const [item] = pending.splice(index, 1);
      if (item === undefined) continue;
      try {
        await deliver(item);
      } catch (error: unknown) {
        report.deliveryFailures.push(
          `event ${eventIdOf(item.event)}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  };

  function kick(): void {
    running ??= loop().finally(() => {
      running = undefined;
      if (pending.length > 0) kick();
      else settleWaiters();
    });
  }

  return {
    put(event) {
      if (!matchesPattern(options.pattern, event)) {
        report.unmatched += 1;
        return;
      }
      report.matched += 1;
      pending.push({ event, requestId: randomUUID(), attempts: 0, duplicate: false });
      kick();
    },
    setCanInvoke(allowed) {
      canInvoke = allowed;
    },
    async idle() {
      if (pending.length > 0 || delayed > 0 || running !== undefined) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return snapshot();
    },
    report: snapshot,
  };
}
