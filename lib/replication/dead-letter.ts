/**
 * Dead-letter messages: one JSON message per event that cannot be replicated (foreign or
 * malformed) or per target that still failed after the SDK's retries. It carries everything
 * the redrive command needs to replay it through the same code.
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { z } from "zod";
import type { ErrorSummary } from "./errors";
import type { ReplicationTarget } from "./contract";

export type DeadLetterSource = "eventbridge" | "dynamodb-stream";

/** Why a message was dead-lettered. */
export type DeadLetterReason = "malformed-event" | "foreign-source" | "target-failed";

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  readonly source: DeadLetterSource;
  /** The original EventBridge event, or the original stream record. */
  readonly event: unknown;
  /** The one target that failed (absent when the whole event was rejected). */
  readonly target?: ReplicationTarget;
  readonly error?: ErrorSummary;
  /** Attempts the SDK made before giving up. */
  readonly attempts?: number;
  /** ISO time of the failure. */
  readonly failedAt: string;
}

/** Schema of a message body, for the redrive command. */
export const DeadLetterSchema = z.object({
  reason: z.enum(["malformed-event", "foreign-source", "target-failed"]),
  source: z.enum(["eventbridge", "dynamodb-stream"]),
  event: z.unknown(),
  target: z.object({ environment: z.string(), bucket: z.string(), table: z.string() }).optional(),
  error: z.object({ name: z.string(), message: z.string() }).optional(),
  attempts: z.number().int().optional(),
  failedAt: z.string(),
});

export async function sendDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  letter: DeadLetter,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(letter) }),
  );
}
