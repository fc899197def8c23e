/**
 * The four shapes the replication DLQ receives, told apart from a received SQS message, each as
 * AWS documents it:
 * - the function's own dead letters (lib/replication/dead-letter.ts): one change, one target;
 * - EventBridge rule target dead letters: the event itself, with ERROR_CODE / ERROR_MESSAGE /
 *   RULE_ARN / TARGET_ARN message attributes (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html);
 * - Lambda asynchronous invocation records from the on-failure destination, carrying the event
 *   as `requestPayload` (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * - stream event source mapping on-failure records: batch metadata only (`DDBStreamBatchInfo`:
 *   shard, first and last sequence numbers, stream ARN), the records themselves to be read from
 *   the stream (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).
 */
import type { Message } from "@aws-sdk/client-sqs";
import * as z from "zod/mini";
import { DEAD_LETTER_REASONS, type DeadLetter } from "../../lib/replication/dead-letter";

const OwnLetterSchema = z.object({
  reason: z.enum(DEAD_LETTER_REASONS as [DeadLetter["reason"], ...DeadLetter["reason"][]]),
  source: z.enum(["eventbridge", "dynamodb-stream", "batch-operations"]),
  event: z.unknown(),
  target: z.optional(
    z.object({
      environment: z.string(),
      bucket: z.string(),
      table: z.string(),
      region: z.optional(z.string()),
    }),
  ),
  error: z.optional(z.object({ name: z.string(), message: z.string() })),
  attempts: z.optional(z.number()),
  failedAt: z.string(),
});

const AsyncRecordSchema = z.object({
  version: z.string(),
  requestContext: z.object({
    condition: z.string(),
    functionArn: z.optional(z.string()),
    approximateInvokeCount: z.optional(z.number()),
  }),
  requestPayload: z.unknown(),
  responsePayload: z.optional(z.unknown()),
});

const StreamRecordSchema = z.object({
  requestContext: z.object({ condition: z.string() }),
  DDBStreamBatchInfo: z.object({
    shardId: z.string(),
    startSequenceNumber: z.string(),
    endSequenceNumber: z.string(),
    batchSize: z.optional(z.number()),
    streamArn: z.string(),
  }),
});

export type StreamBatchInfo = z.output<typeof StreamRecordSchema>["DDBStreamBatchInfo"];

/** A dead-letter message, by shape. */
export type QueuedLetter =
  | { readonly shape: "replication"; readonly letter: z.output<typeof OwnLetterSchema> }
  | {
      readonly shape: "eventbridge-target";
      readonly event: unknown;
      readonly errorCode: string;
      readonly errorMessage: string;
    }
  | {
      readonly shape: "async-invocation";
      readonly event: unknown;
      readonly condition: string;
      readonly error: string;
    }
  | { readonly shape: "stream-batch"; readonly batch: StreamBatchInfo; readonly condition: string }
  | { readonly shape: "unknown"; readonly why: string };

const attribute = (message: Message, name: string): string | undefined =>
  message.MessageAttributes?.[name]?.StringValue;

const errorOf = (responsePayload: unknown): string => {
  if (typeof responsePayload === "object" && responsePayload !== null) {
    const { errorType, errorMessage } = responsePayload as Record<string, unknown>;
    return [errorType, errorMessage].filter((part) => typeof part === "string").join(": ");
  }
  return "";
};

/** Which shape a message is; `unknown` (with why) when it is none of the four. */
export function classifyLetter(message: Message): QueuedLetter {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? "");
  } catch {
    return { shape: "unknown", why: "body is not JSON" };
  }
  const errorCode = attribute(message, "ERROR_CODE");
  if (errorCode !== undefined) {
    return {
      shape: "eventbridge-target",
      event: body,
      errorCode,
      errorMessage: attribute(message, "ERROR_MESSAGE") ?? "",
    };
  }
  const own = OwnLetterSchema.safeParse(body);
  if (own.success) return { shape: "replication", letter: own.data };
  const stream = StreamRecordSchema.safeParse(body);
  if (stream.success) {
    return {
      shape: "stream-batch",
      batch: stream.data.DDBStreamBatchInfo,
      condition: stream.data.requestContext.condition,
    };
  }
  const invocation = AsyncRecordSchema.safeParse(body);
  if (invocation.success) {
    return {
      shape: "async-invocation",
      event: invocation.data.requestPayload,
      condition: invocation.data.requestContext.condition,
      error: errorOf(invocation.data.responsePayload),
    };
  }
  return {
    shape: "unknown",
    why: "neither a replication dead letter, an EventBridge target dead letter, an asynchronous invocation record nor a stream batch record",
  };
}
