/**
 * Where the simulated Lambda service and EventBridge put what they could not (or did) deliver:
 * SQS queues on the SQS emulator. "Lambda passes the invocation record as the Message to the
 * destination" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * EventBridge sends an undelivered event to a target's dead-letter queue with string message
 * attributes (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** An SQS destination: the client of the queue's emulator, and the queue's URL. */
export interface QueueDestination {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
}

/** Sends `body` (JSON-encoded unless already a string) with string message attributes. */
export async function sendToQueue(
  destination: QueueDestination,
  body: unknown,
  attributes: Readonly<Record<string, string>> = {},
): Promise<void> {
  const entries = Object.entries(attributes);
  await destination.sqs.send(
    new SendMessageCommand({
      QueueUrl: destination.queueUrl,
      MessageBody: typeof body === "string" ? body : JSON.stringify(body),
      ...(entries.length === 0
        ? {}
        : {
            MessageAttributes: Object.fromEntries(
              entries.map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
            ),
          }),
    }),
  );
}

/** ISO time without milliseconds, as Lambda's records show arrival times. */
export const isoSeconds = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
