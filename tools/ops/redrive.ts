/**
 * The redrive command's core: receives dead-letter messages in batches, tells their shape apart
 * (tools/ops/dead-letters.ts), replays each through the same convergence code as the function
 * (only to the failed target when the message names one), deletes a message only after its
 * replay succeeded, and keeps (and lists) every message it cannot replay, with the reason.
 * Replays are safe beside live replication: every write is guarded exactly as the function's.
 */
import type { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { summarizeError } from "../../lib/replication/errors";
import { parseItemRecord, parseObjectEvent } from "../../lib/replication/events";
import type { TargetResult } from "../../lib/replication/outcome";
import { unsealRecord, type Masking } from "../../lib/replication/masking-key";
import { isFailure, type Replicator } from "../../lib/replication/replicator";
import { tokenProblems } from "../common/cli-args";
import { classifyLetter, type QueuedLetter } from "./dead-letters";
import { readStreamRange } from "./stream-range";

export const REDRIVE_USAGE =
  "usage: npm run redrive -- (--function NAME | --queue-url URL) [--queue-url URL] [--dry-run] [--max-messages N]\n" +
  "  --function NAME     the replication function: its settings (source, targets, DLQ) are read\n" +
  "                      from its configuration (GetFunctionConfiguration)\n" +
  "  --queue-url URL     the dead-letter queue (default: the function's DLQ_URL); without\n" +
  "                      --function, the settings come from the environment contract\n" +
  "  --dry-run           only report what each message is and whether it can be replayed\n" +
  "  --max-messages N    stop after N messages";

/** Bad command-line arguments; the message lists every problem. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface RedriveOptions {
  readonly functionName: string | undefined;
  readonly queueUrl: string | undefined;
  readonly dryRun: boolean;
  /** Stop after this many messages. @default unlimited */
  readonly maxMessages: number | undefined;
  readonly help: boolean;
}

const OPTIONS = {
  function: { type: "string" },
  "queue-url": { type: "string" },
  "dry-run": { type: "boolean" },
  "max-messages": { type: "string" },
  help: { type: "boolean" },
} as const;

export function parseRedriveArgs(argv: readonly string[]): RedriveOptions {
  const { values, problems } = tokenProblems(argv, OPTIONS);
  const help = values.help === true;
  const functionName = typeof values.function === "string" ? values.function : undefined;
  const queueUrl = typeof values["queue-url"] === "string" ? values["queue-url"] : undefined;
  if (!help && functionName === undefined && queueUrl === undefined) {
    problems.push("--function or --queue-url is required");
  }
  if (queueUrl !== undefined && !/^https?:\/\/[^/]+\/.+/.test(queueUrl)) {
    problems.push(`--queue-url must be an http(s) queue URL: "${queueUrl}"`);
  }
  const rawMax = values["max-messages"];
  let maxMessages: number | undefined;
  if (typeof rawMax === "string") {
    maxMessages = Number(rawMax);
    if (!Number.isInteger(maxMessages) || maxMessages < 1) {
      problems.push(`--max-messages must be a positive integer: "${rawMax}"`);
    }
  }
  if (problems.length > 0) throw new UsageError(`${problems.join("; ")}\n${REDRIVE_USAGE}`);
  return { functionName, queueUrl, dryRun: values["dry-run"] === true, maxMessages, help };
}

export interface RedriveSummary {
  received: number;
  replayed: number;
  /** Would have been replayed (dry run). */
  skipped: number;
  /** Kept in the queue: replay failed, or the message cannot be replayed. */
  failed: number;
  /** Messages by shape. */
  shapes: Partial<Record<QueuedLetter["shape"], number>>;
  /** One line per message kept, with the reason. */
  failures: string[];
}

export interface RedriveDependencies {
  readonly sqs: SQSClient;
  readonly replicator: Replicator;
  /** A DynamoDB Streams client for a stream's region. */
  readonly streams: (region: string) => DynamoDBStreamsClient;
  /** Opens the keys the function sealed in its dead letters (the masking key). @default none */
  readonly masking?: Masking;
}

/**
 * Seconds a received message stays invisible, renewed while the run holds it: the run sees each
 * message once. Messages the run keeps (dry run, failed replay) are made visible again when it
 * ends. "If you don't know how long it takes to process a message, create a heartbeat for your
 * consumer process: Specify the initial visibility timeout (for example, 2 minutes) and then, as
 * long as your consumer still works on the message, keep extending the visibility timeout by 2
 * minutes every minute" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html).
 */
export const REDRIVE_VISIBILITY_TIMEOUT_SECONDS = 300;

/**
 * Long polling: "Long polling helps reduce the cost of using Amazon SQS by eliminating the number
 * of empty responses (when there are no messages available for a ReceiveMessage request) and
 * false empty responses (when messages are available but aren't included in a response)"; "Amazon
 * SQS sends a response after it collects at least one available message ... or the polling wait
 * time expires"; with short polling "you might not receive any messages in a particular
 * ReceiveMessage response" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html).
 * So the run ends at the first empty long poll, which costs this wait once.
 */
export const REDRIVE_WAIT_SECONDS = 2;

/** Receives in a row with nothing new after which a run stops (and says it is not done). */
export const MAX_STALE_RECEIVES = 10;

type Verdict = { ok: true } | { ok: false; reason: string };

const failed = (reason: string): Verdict => ({ ok: false, reason });

function verdictOf(results: readonly TargetResult[]): Verdict {
  const failures = results.filter(isFailure);
  if (failures.length === 0) return { ok: true };
  return failed(
    failures.map((f) => `${f.target.environment}: ${f.error.name} ${f.error.message}`).join("; "),
  );
}

/** The targets a dead letter names (one), or every target. */
function targetsOf(
  named: ReplicationTarget | undefined,
  all: readonly ReplicationTarget[],
): readonly ReplicationTarget[] | string {
  if (named === undefined) return all;
  const found = all.filter(
    (target) =>
      target.environment === named.environment &&
      target.bucket === named.bucket &&
      target.table === named.table,
  );
  return found.length > 0 ? found : `target ${JSON.stringify(named)} is not configured`;
}

const regionOfArn = (arn: string): string => arn.split(":")[3] ?? "";

async function replayObjectEvent(
  event: unknown,
  deps: RedriveDependencies,
  targets?: readonly ReplicationTarget[],
): Promise<Verdict> {
  const change = parseObjectEvent(event, deps.replicator.settings.sourceBucket);
  return verdictOf(await deps.replicator.replicateObject(change, targets && { targets }));
}

async function replayItemRecord(
  record: unknown,
  deps: RedriveDependencies,
  targets?: readonly ReplicationTarget[],
): Promise<Verdict> {
  const change = parseItemRecord(record, deps.replicator.settings.sourceTable);
  // A replay, outside the stream's order: a put whose key is deleted meanwhile is taken back.
  return verdictOf(
    await deps.replicator.replicateItem(change, { ...(targets && { targets }), replay: true }),
  );
}

/** Replays one message; never throws (a failure is a verdict). */
async function replay(letter: QueuedLetter, deps: RedriveDependencies): Promise<Verdict> {
  try {
    switch (letter.shape) {
      case "replication": {
        const { reason, source, event, target } = letter.letter;
        if (reason === "malformed-event" || reason === "foreign-source") {
          return failed(`not replayable (${reason}): ${letter.letter.error?.message ?? ""}`);
        }
        const targets = targetsOf(target, deps.replicator.settings.targets);
        if (typeof targets === "string") return failed(targets);
        if (source === "dynamodb-stream") {
          return await replayItemRecord(await unsealRecord(deps.masking, event), deps, targets);
        }
        return await replayObjectEvent(event, deps, targets);
      }
      case "eventbridge-target":
      case "async-invocation":
        return await replayObjectEvent(letter.event, deps);
      case "stream-batch": {
        const { batch } = letter;
        const records = await readStreamRange(deps.streams(regionOfArn(batch.streamArn)), batch);
        for (const record of records) {
          const verdict = await replayItemRecord(record, deps);
          if (!verdict.ok) return verdict;
        }
        return { ok: true };
      }
      case "unknown":
        return failed(`unknown shape: ${letter.why}`);
    }
  } catch (error: unknown) {
    const { name, message } = summarizeError(error);
    return failed(`${name}: ${message}`);
  }
}

/** A one-line description of what a message is, for the dry run and the failure list. */
export function describeLetter(letter: QueuedLetter): string {
  switch (letter.shape) {
    case "replication":
      return `replication dead letter (${letter.letter.reason}, ${letter.letter.source}${
        letter.letter.target === undefined ? "" : `, target ${letter.letter.target.environment}`
      })`;
    case "eventbridge-target":
      return `EventBridge target dead letter (${letter.errorCode}: ${letter.errorMessage})`;
    case "async-invocation":
      return `asynchronous invocation record (${letter.condition}${letter.error ? `: ${letter.error}` : ""})`;
    case "stream-batch":
      return `stream batch record (${letter.condition}: ${letter.batch.shardId} ${letter.batch.startSequenceNumber}..${letter.batch.endSequenceNumber})`;
    case "unknown":
      return "unknown message";
  }
}

export interface RedriveRun {
  readonly queueUrl: string;
  readonly dryRun: boolean;
  readonly maxMessages: number | undefined;
  /** Long-poll wait of each receive (1-20). @default REDRIVE_WAIT_SECONDS */
  readonly waitSeconds?: number;
  /** The clock the visibility renewals go by (milliseconds). @default Date.now */
  readonly now?: () => number;
}

/** A message the run holds invisible: its latest receipt handle and when its visibility ends. */
interface Held {
  receiptHandle: string;
  visibleAt: number;
}

/**
 * The messages the run holds invisible, by message id: extended before they become visible
 * again (a heartbeat between replays), released at the end. ChangeMessageVisibilityBatch takes
 * at most 10 entries per call (API_ChangeMessageVisibilityBatch).
 */
function heldMessages(sqs: SQSClient, queueUrl: string, now: () => number) {
  const held = new Map<string, Held>();
  const timeoutMs = REDRIVE_VISIBILITY_TIMEOUT_SECONDS * 1000;
  const change = async (ids: readonly string[], seconds: number): Promise<string[]> => {
    const failed: string[] = [];
    for (let start = 0; start < ids.length; start += 10) {
      const slice = ids.slice(start, start + 10);
      const out = await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: slice.map((id, index) => ({
              Id: String(index),
              ReceiptHandle: held.get(id)?.receiptHandle,
              VisibilityTimeout: seconds,
            })),
          }),
        )
        .catch(() => ({ Failed: slice.map((_id, index) => ({ Id: String(index) })) }));
      for (const entry of out.Failed ?? []) {
        const id = slice[Number(entry.Id)];
        if (id !== undefined) failed.push(id);
      }
    }
    return failed;
  };
  return {
    /** A message received (again): its newest receipt handle is the one that counts. */
    hold(id: string, receiptHandle: string): void {
      held.set(id, { receiptHandle, visibleAt: now() + timeoutMs });
    },
    has: (id: string): boolean => held.has(id),
    receiptHandle: (id: string): string | undefined => held.get(id)?.receiptHandle,
    forget(id: string): void {
      held.delete(id);
    },
    /** Extends every message whose visibility ends within half the timeout. */
    async renew(): Promise<void> {
      const due = [...held].filter(([, each]) => each.visibleAt - now() < timeoutMs / 2);
      if (due.length === 0) return;
      const ids = due.map(([id]) => id);
      const failed = await change(ids, REDRIVE_VISIBILITY_TIMEOUT_SECONDS);
      for (const id of ids) {
        const each = held.get(id);
        if (each !== undefined && !failed.includes(id)) each.visibleAt = now() + timeoutMs;
      }
    },
    /** Makes every held message visible again. */
    async release(): Promise<void> {
      await change([...held.keys()], 0);
      held.clear();
    },
  };
}

export async function runRedrive(
  options: RedriveRun,
  deps: RedriveDependencies,
): Promise<RedriveSummary> {
  const summary: RedriveSummary = {
    received: 0,
    replayed: 0,
    skipped: 0,
    failed: 0,
    shapes: {},
    failures: [],
  };
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const held = heldMessages(deps.sqs, options.queueUrl, options.now ?? Date.now);
  /** Messages this run has settled (replayed and deleted, or kept): seen again, not replayed again. */
  const settled = new Map<string, "deleted" | "kept">();
  let stale = 0;
  try {
    while (summary.received < limit) {
      if (stale >= MAX_STALE_RECEIVES) {
        // Only messages it already settled, again and again: stop, and say the run is not done.
        summary.failed += 1;
        summary.failures.push(
          `stopped after ${MAX_STALE_RECEIVES} receives in a row brought only messages this run had settled; run redrive again`,
        );
        break;
      }
      await held.renew();
      const batch = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.min(10, limit - summary.received),
          VisibilityTimeout: REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
          WaitTimeSeconds: options.waitSeconds ?? REDRIVE_WAIT_SECONDS,
          MessageAttributeNames: ["All"],
        }),
      );
      const messages = batch.Messages ?? [];
      if (messages.length === 0) break;
      const fresh: Message[] = [];
      for (const message of messages) {
        const id = message.MessageId ?? message.ReceiptHandle ?? "";
        const again = settled.get(id);
        if (again === undefined) {
          fresh.push(message);
          if (message.ReceiptHandle !== undefined) held.hold(id, message.ReceiptHandle);
        } else {
          // Delivered again ("at-least-once delivery", or its visibility lapsed during a long
          // replay): not replayed or counted twice.
          await settleAgain(deps.sqs, options.queueUrl, message, again, held);
        }
      }
      stale = fresh.length === 0 ? stale + 1 : 0;
      summary.received += fresh.length;
      // One message at a time: several messages often concern the same key, and a redrive is
      // an operator's repair tool, not a throughput path.
      for (const message of fresh) {
        await held.renew();
        settled.set(
          message.MessageId ?? message.ReceiptHandle ?? "",
          await redriveOne(message, options, deps, summary, held),
        );
      }
    }
  } finally {
    // Release what this run kept, so that the next run (or the real one after a dry run) sees it.
    await held.release();
  }
  return summary;
}

/** A message seen again after this run settled it: deleted again, or held again. */
async function settleAgain(
  sqs: SQSClient,
  queueUrl: string,
  message: Message,
  settled: "deleted" | "kept",
  held: ReturnType<typeof heldMessages>,
): Promise<void> {
  const id = message.MessageId ?? message.ReceiptHandle ?? "";
  if (message.ReceiptHandle === undefined) return;
  if (settled === "kept") {
    held.hold(id, message.ReceiptHandle);
    return;
  }
  await sqs.send(
    new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
  );
}

/** Replays one received message and deletes it when its replay converged; else keeps it. */
async function redriveOne(
  message: Message,
  options: RedriveRun,
  deps: RedriveDependencies,
  summary: RedriveSummary,
  held: ReturnType<typeof heldMessages>,
): Promise<"deleted" | "kept"> {
  const letter = classifyLetter(message);
  summary.shapes[letter.shape] = (summary.shapes[letter.shape] ?? 0) + 1;
  const id = message.MessageId ?? "(no id)";
  if (options.dryRun) {
    summary.skipped += 1;
    summary.failures.push(`${id}: ${describeLetter(letter)} (dry run, kept)`);
    return "kept";
  }
  const verdict = await replay(letter, deps);
  if (!verdict.ok) {
    summary.failed += 1;
    summary.failures.push(`${id}: ${describeLetter(letter)}: ${verdict.reason}`);
    return "kept";
  }
  const key = message.MessageId ?? message.ReceiptHandle ?? "";
  // The newest receipt handle: the message may have been received again meanwhile.
  await deps.sqs.send(
    new DeleteMessageCommand({
      QueueUrl: options.queueUrl,
      ReceiptHandle: held.receiptHandle(key) ?? message.ReceiptHandle,
    }),
  );
  held.forget(key);
  summary.replayed += 1;
  return "deleted";
}
