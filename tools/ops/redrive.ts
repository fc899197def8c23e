/**
 * The redrive command's core: receives dead-letter messages in batches, replays each through the
 * same replication code (only to the failed target when the message names one), deletes a
 * message only after its replay succeeded, and returns a summary. `--dry-run` only reports.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { tokenProblems } from "../common/cli-args";
import { DeadLetterSchema } from "../../lib/replication/dead-letter";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { summarizeError } from "../../lib/replication/errors";
import type { Replicator } from "../../lib/replication/replicator";

export const REDRIVE_USAGE =
  "usage: npm run redrive -- --queue-url URL [--dry-run] [--max-messages N]";

/** Bad command-line arguments; the message lists every problem. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface RedriveOptions {
  readonly queueUrl: string;
  readonly dryRun: boolean;
  /** Stop after this many messages. @default unlimited */
  readonly maxMessages: number | undefined;
}

const OPTIONS = {
  "queue-url": { type: "string" },
  "dry-run": { type: "boolean" },
  "max-messages": { type: "string" },
} as const;

export function parseRedriveArgs(argv: readonly string[]): RedriveOptions {
  const { values, problems } = tokenProblems(argv, OPTIONS);
  const queueUrl = values["queue-url"];
  if (queueUrl === undefined) {
    problems.push("--queue-url is required");
  } else if (typeof queueUrl === "string" && !/^https?:\/\/[^/]+\/.+/.test(queueUrl)) {
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
  if (problems.length > 0 || typeof queueUrl !== "string") {
    throw new UsageError(`${problems.join("; ")}\n${REDRIVE_USAGE}`);
  }
  return { queueUrl, dryRun: values["dry-run"] === true, maxMessages };
}

export interface RedriveSummary {
  received: number;
  replayed: number;
  /** Would have been replayed (dry run). */
  skipped: number;
  /** Kept in the queue: replay failed, or the message cannot be replayed. */
  failed: number;
  /** One line per message that failed, with the reason. */
  failures: string[];
}

export interface RedriveDependencies {
  readonly sqs: SQSClient;
  readonly replicator: Replicator;
  readonly targets: readonly ReplicationTarget[];
}

/**
 * Seconds a received message stays invisible, so one run sees each message at most once.
 * Messages the run keeps (dry run, failed replay) are made visible again when it ends.
 */
export const REDRIVE_VISIBILITY_TIMEOUT_SECONDS = 120;

type Verdict = { ok: true } | { ok: false; reason: string };

async function replay(message: Message, deps: RedriveDependencies): Promise<Verdict> {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? "");
  } catch {
    return { ok: false, reason: "body is not JSON" };
  }
  const parsed = DeadLetterSchema.safeParse(body);
  if (!parsed.success) return { ok: false, reason: "body is not a dead-letter message" };
  const letter = parsed.data;
  if (letter.reason !== "target-failed") {
    return {
      ok: false,
      reason: `not replayable (${letter.reason}): ${letter.error?.message ?? ""}`,
    };
  }
  let targets = deps.targets;
  if (letter.target !== undefined) {
    const named = letter.target;
    targets = deps.targets.filter(
      (target) =>
        target.environment === named.environment &&
        target.bucket === named.bucket &&
        target.table === named.table,
    );
    if (targets.length === 0) {
      return { ok: false, reason: `target ${JSON.stringify(named)} is not configured` };
    }
  }
  const outcome =
    letter.source === "eventbridge"
      ? await deps.replicator.replicateObjectEvent(letter.event, targets)
      : await deps.replicator.replicateItemRecord(letter.event, targets);
  if (outcome.kind === "rejected") {
    return { ok: false, reason: `${outcome.reason}: ${outcome.error.message}` };
  }
  const failures = outcome.results.filter((result) => !result.ok);
  if (failures.length > 0) {
    return {
      ok: false,
      reason: failures
        .map(
          (failure) =>
            `${failure.target.environment}: ${failure.error.name} ${failure.error.message}`,
        )
        .join("; "),
    };
  }
  return { ok: true };
}

/** Replays one message and deletes it when the replay succeeded. */
async function replayAndDelete(
  message: Message,
  queueUrl: string,
  deps: RedriveDependencies,
): Promise<Verdict> {
  try {
    const verdict = await replay(message, deps);
    if (verdict.ok) {
      await deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
    return verdict;
  } catch (error: unknown) {
    const { name, message: text } = summarizeError(error);
    return { ok: false, reason: `${name}: ${text}` };
  }
}

export async function runRedrive(
  options: RedriveOptions,
  deps: RedriveDependencies,
): Promise<RedriveSummary> {
  const summary: RedriveSummary = { received: 0, replayed: 0, skipped: 0, failed: 0, failures: [] };
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const kept: string[] = [];
  while (summary.received < limit) {
    const batch = await deps.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, limit - summary.received),
        VisibilityTimeout: REDRIVE_VISIBILITY_TIMEOUT_SECONDS,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = batch.Messages ?? [];
    if (messages.length === 0) break;
    summary.received += messages.length;
    // One message at a time: several messages often concern the same key, and a redrive is
    // an operator's repair tool, not a throughput path.
    for (const message of messages) {
      const verdict: Verdict | "dry-run" = options.dryRun
        ? "dry-run"
        : await replayAndDelete(message, options.queueUrl, deps);
      if (verdict === "dry-run") {
        summary.skipped += 1;
      } else if (verdict.ok) {
        summary.replayed += 1;
        continue;
      } else {
        summary.failed += 1;
        summary.failures.push(`${message.MessageId ?? "(no id)"}: ${verdict.reason}`);
      }
      if (message.ReceiptHandle !== undefined) kept.push(message.ReceiptHandle);
    }
  }
  // Release what this run kept, so that the next run (or the real one after a dry run) sees it.
  await Promise.all(
    kept.map((receiptHandle) =>
      deps.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: options.queueUrl,
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: 0,
          }),
        )
        .catch(() => undefined),
    ),
  );
  return summary;
}
