/**
 * Delivers scenario events to the replication handler the way AWS does: in a shuffled order,
 * with duplicates, S3 events one per invocation (a failed async invocation is retried twice, as
 * Lambda does) and stream records in small batches whose reported `batchItemFailures` are
 * delivered again (as the event source mapping does).
 */
import type { DynamoDBRecord } from "aws-lambda";
import type { ScenarioEvent } from "./scenario";

/** Lambda retries a failed asynchronous invocation twice. */
export const ASYNC_RETRIES = 2;
/** Stream records per invocation in the sandbox (small, so that batches interleave). */
export const STREAM_BATCH_SIZE = 3;
/** Deliveries of a stream record before the sandbox gives up on it. */
export const STREAM_MAX_DELIVERIES = 4;

export type Handler = (event: unknown) => Promise<unknown>;

/** A deterministic PRNG (mulberry32), so that a seed reproduces a delivery order. */
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

export function shuffle<T>(values: readonly T[], random: () => number): T[] {
  const result = [...values];
  for (let index = result.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [result[index], result[other]] = [result[other] as T, result[index] as T];
  }
  return result;
}

/** One invocation: an S3 event, or a batch of stream records. */
export type Delivery =
  | { readonly kind: "eventbridge"; readonly event: ScenarioEvent & { source: "eventbridge" } }
  | {
      readonly kind: "stream";
      readonly records: readonly (ScenarioEvent & { source: "dynamodb-stream" })[];
    };

/**
 * Shuffles the events, adds `duplicates` (delivered again at a random later point), and groups
 * stream records into batches; returns the invocations in delivery order.
 */
export function planDeliveries(
  events: readonly ScenarioEvent[],
  random: () => number,
  duplicates: readonly ScenarioEvent[] = [],
): Delivery[] {
  const shuffled = shuffle(events, random);
  for (const duplicate of duplicates) {
    shuffled.splice(Math.floor(random() * (shuffled.length + 1)), 0, duplicate);
  }
  const deliveries: Delivery[] = [];
  let batch: (ScenarioEvent & { source: "dynamodb-stream" })[] = [];
  const flush = (): void => {
    if (batch.length > 0) deliveries.push({ kind: "stream", records: batch });
    batch = [];
  };
  for (const event of shuffled) {
    if (event.source === "eventbridge") {
      deliveries.push({ kind: "eventbridge", event });
    } else {
      batch.push(event);
      if (batch.length >= STREAM_BATCH_SIZE) flush();
    }
  }
  flush();
  return shuffle(deliveries, random);
}

function describeResult(result: unknown): string {
  if (typeof result === "object" && result !== null && "results" in result) {
    const results = (result as { results: readonly { environment: string; action: string }[] })
      .results;
    return results.map(({ environment, action }) => `${environment} ${action}`).join(", ");
  }
  return JSON.stringify(result);
}

function failedIds(result: unknown): string[] {
  if (typeof result === "object" && result !== null && "batchItemFailures" in result) {
    const failures = (result as { batchItemFailures: readonly { itemIdentifier: string }[] })
      .batchItemFailures;
    return failures.map((failure) => failure.itemIdentifier);
  }
  throw new Error(`stream invocation returned no batchItemFailures: ${JSON.stringify(result)}`);
}

export interface DeliveryReport {
  readonly invocations: number;
  /** Invocations or records that had to be delivered again. */
  readonly redeliveries: number;
  /** Events that still failed after every retry. */
  readonly undelivered: readonly string[];
}

/** Invokes the handler for every delivery, retrying as Lambda would; prints one line each. */
export async function deliver(
  handler: Handler,
  deliveries: readonly Delivery[],
  print: (line: string) => void,
): Promise<DeliveryReport> {
  let invocations = 0;
  let redeliveries = 0;
  const undelivered: string[] = [];
  let index = 0;
  for (const delivery of deliveries) {
    index += 1;
    const prefix = `  [${index}/${deliveries.length}]`;
    if (delivery.kind === "eventbridge") {
      for (let attempt = 0; ; attempt++) {
        invocations += 1;
        try {
          const result = await handler(delivery.event.event);
          print(`${prefix} ${delivery.event.label} -> ${describeResult(result)}`);
          break;
        } catch (error: unknown) {
          const message = error instanceof Error ? error.message : String(error);
          if (attempt >= ASYNC_RETRIES) {
            print(
              `${prefix} ${delivery.event.label} -> FAILED after ${attempt + 1} invocations: ${message}`,
            );
            undelivered.push(delivery.event.label);
            break;
          }
          redeliveries += 1;
          print(`${prefix} ${delivery.event.label} -> failed (${message}); Lambda retries it`);
        }
      }
      continue;
    }
    let pending: readonly DynamoDBRecord[] = delivery.records.map((entry) => entry.record);
    const labels = new Map(delivery.records.map((entry) => [entry.record.eventID, entry.label]));
    const describe = delivery.records.map((entry) => entry.label).join("; ");
    for (let round = 1; pending.length > 0; round++) {
      invocations += 1;
      const failed = new Set(failedIds(await handler({ Records: pending })));
      const again = pending.filter((record) => failed.has(record.eventID ?? ""));
      print(
        `${prefix} stream batch (${round === 1 ? describe : `${pending.length} redelivered`}) -> ` +
          `${pending.length - again.length} applied, ${again.length} to retry`,
      );
      if (again.length > 0 && round >= STREAM_MAX_DELIVERIES) {
        undelivered.push(...again.map((record) => labels.get(record.eventID) ?? "record"));
        break;
      }
      redeliveries += again.length;
      pending = again;
    }
  }
  return { invocations, redeliveries, undelivered };
}
