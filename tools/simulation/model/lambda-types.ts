/**
 * Types and helpers shared by the models of how AWS Lambda hands events to a function
 * (lambda-async.ts: asynchronous invocation; lambda-stream-mapping.ts: the DynamoDB Streams event
 * source mapping) and by the EventBridge model (eventbridge.ts).
 *
 * The models do not run the function: they decide what Lambda hands the function (an
 * `Invocation`) and what Lambda does with each outcome the scheduler reports back.
 *
 * Silent choices made here:
 * - Silent: request IDs are version-4 UUIDs drawn from the scheduler's rng, so that a run is
 *   reproducible from its seed (AWS documents the field, not how it is generated).
 * - Silent: the error payload of a function that threw carries `errorType`, `errorMessage` and an
 *   empty `trace` (the Node.js runtime's shape; the stack itself is not known to the model).
 */

import type { Rng } from "./types";

/** One run of the function that Lambda starts now. */
export interface Invocation {
  /** The scheduler's handle for this run: unique per invocation handed out. */
  readonly id: string;
  /** The event the function receives. */
  readonly payload: unknown;
  /** Virtual ms the function may run (the function's timeout). */
  readonly timeoutMs: number;
  readonly source: "async" | "stream";
}

/** How an invocation ended, as the scheduler observed it. */
export type InvocationOutcome =
  | { readonly kind: "success"; readonly response: unknown }
  /** The handler threw or its promise rejected. */
  | { readonly kind: "error"; readonly errorType: string; readonly errorMessage: string }
  /** It ran past `timeoutMs`. */
  | { readonly kind: "timeout" };

/**
 * A failure destination: an SQS queue that the scheduler wires to the SQS model.
 *
 * What each model sends:
 * - Lambda (asynchronous invocation and the stream event source mapping): the invocation record,
 *   a JSON object that is the message body. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html:
 *   "For Amazon SQS and Amazon SNS ... the invocation record is passed as the Message to the
 *   destination."
 * - EventBridge (a rule target's dead-letter queue): a `DeadLetterMessage`, the event as the body
 *   and the documented message attributes.
 */
export interface Destination {
  send(record: unknown): void;
}

/** The message an EventBridge dead-letter queue receives: SendMessage's body and attributes. */
export interface DeadLetterMessage {
  /** The event, as JSON. */
  readonly MessageBody: string;
  readonly MessageAttributes: Readonly<
    Record<string, { readonly DataType: "String"; readonly StringValue: string }>
  >;
}

/** A version-4 UUID whose random bits come from the rng. */
export function uuidFrom(rng: Rng): string {
  const bytes = Array.from({ length: 16 }, () => Math.floor(rng() * 256) & 0xff);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    hex.slice(12, 16),
    hex.slice(16, 20),
    hex.slice(20, 32),
  ].join("-");
}

/** A uniform integer in [0, bound). */
export function randomBelow(rng: Rng, bound: number): number {
  return Math.min(bound - 1, Math.floor(rng() * bound));
}

/** True with the given probability (consumes one rng draw). */
export function chance(rng: Rng, probability: number): boolean {
  return rng() < probability;
}

/** The runtime's error payload, as Lambda returns it for a failed invocation. */
export function functionErrorPayload(
  outcome: Exclude<InvocationOutcome, { kind: "success" }>,
  context: { readonly requestId: string; readonly timeoutMs: number; readonly now: number },
): Record<string, unknown> {
  if (outcome.kind === "timeout") {
    // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html (example
    // record): a failed invocation's "responsePayload": { "errorMessage": "RequestId: ... ..." };
    // the runtime's wording for a timeout is "Task timed out after N.NN seconds".
    const seconds = (context.timeoutMs / 1000).toFixed(2);
    return {
      errorMessage: `${new Date(context.now).toISOString()} ${context.requestId} Task timed out after ${seconds} seconds`,
    };
  }
  return { errorType: outcome.errorType, errorMessage: outcome.errorMessage, trace: [] };
}

/**
 * The function ARN as an invocation record names it: qualified, `$LATEST` when the caller gave an
 * unqualified ARN. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * (example): "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:my-function:$LATEST".
 */
export function qualifiedFunctionArn(functionArn: string): string {
  return functionArn.split(":").length >= 8 ? functionArn : `${functionArn}:$LATEST`;
}

/** The version that ran: the ARN's numeric qualifier, else `$LATEST`. */
export function executedVersion(functionArn: string): string {
  const qualifier = functionArn.split(":")[7];
  return qualifier !== undefined && /^\d+$/.test(qualifier) ? qualifier : "$LATEST";
}
