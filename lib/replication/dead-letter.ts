/**
 * The function's own dead letters: one JSON message per change and failed target (or per change
 * that cannot be replicated at all), carrying everything redrive needs to replay it through the
 * same code. lib/replication/README.md documents this and every other shape the DLQ receives.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ReplicationTarget } from "./contract";
import type { ErrorSummary, PermanentChangeError } from "./errors";

/** Where the change came from. */
export type DeadLetterSource = "eventbridge" | "dynamodb-stream" | "batch-operations";

/**
 * Why it was dead-lettered: the event is not one this function replicates (malformed, foreign),
 * a target failed after the SDK's retries, or the change cannot be applied as it stands.
 */
export type DeadLetterReason =
  "malformed-event" | "foreign-source" | "target-failed" | PermanentChangeError["reason"];

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  "malformed-event",
  "foreign-source",
  "target-failed",
  "metadata-too-large",
  "time-budget",
  "masking-key",
  "unparseable",
];

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly source: DeadLetterSource;
  /** The original EventBridge event, stream record or Batch Operations task. */
  readonly event: unknown;
  /** The one target that failed (absent when the whole event was rejected). */
  readonly target?: ReplicationTarget;
  readonly error?: ErrorSummary;
  /** Attempts the SDK made before giving up. */
  readonly attempts?: number;
  /** ISO time of the failure. */
  readonly failedAt: string;
}

export async function sendDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  letter: DeadLetter,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(letter) }),
  );
}
