/**
 * Parses what invokes the function at the boundary, checking strictly only the fields the code
 * uses and treating the rest as opaque (AWS adds fields, and e.g. `source-ip-address` is IPv6 for
 * clients of S3's dual-stack endpoints). The core works on the typed changes returned here.
 *
 * - S3 events through EventBridge: "EventBridge event message structure",
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html. Object keys are used
 *   exactly as given, never decoded: that page shows no URL-encoding for EventBridge events,
 *   unlike S3 notifications sent straight to SQS/SNS/Lambda
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
 *   The README states this as an assumption, with the commands that confirm it.
 * - DynamoDB stream records (KEYS_ONLY): https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import * as z from "zod/mini";
import { ForeignSourceError, MalformedEventError } from "./errors";
import { isS3Sequencer, isStreamSequence } from "./sequence";

/** S3 event types that change a key's body and metadata, and the ones that change its tags. */
export const CONTENT_DETAIL_TYPES = ["Object Created", "Object Deleted"] as const;
export const TAG_DETAIL_TYPES = ["Object Tags Added", "Object Tags Deleted"] as const;
type DetailType = (typeof CONTENT_DETAIL_TYPES)[number] | (typeof TAG_DETAIL_TYPES)[number];

/**
 * "Key K of the source bucket changed": its contents (created, deleted, or a resync that
 * converges it whatever happened), or only its tags.
 */
export interface ObjectChange {
  readonly kind: "object";
  /** What changed: body and metadata (with tags), or tags only. */
  readonly scope: "contents" | "tags";
  /** The EventBridge event id, or an id the caller gives (resync, Batch Operations task). */
  readonly eventId: string;
  readonly bucket: string;
  readonly key: string;
  /** S3's ordering of changes to this key; absent from tag events and resyncs. */
  readonly sequencer: string | undefined;
  /** When the change happened at the source (the event's `time`), for the latency metric. */
  readonly time: string | undefined;
  /** For the logs: the event type, and `reason` / `deletion-type` when S3 gave them. */
  readonly description: string;
}

export type ItemKey = Record<string, AttributeValue>;

/** "Item with key K of the source table changed at sequence number S". */
export interface ItemChange {
  readonly kind: "item";
  readonly eventId: string;
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly table: string;
  readonly keys: ItemKey;
  readonly sequenceNumber: string;
  /** When the change happened at the source (`ApproximateCreationDateTime`), for latency. */
  readonly time: string | undefined;
}

const nonEmpty = z.string().check(z.minLength(1, "must not be empty"));

const S3EventSchema = z.object({
  id: z.string(),
  source: z.string(),
  "detail-type": z.string(),
  time: z.optional(z.string()),
  detail: z.object({
    bucket: z.object({ name: nonEmpty }),
    object: z.object({
      key: nonEmpty,
      sequencer: z.optional(
        z.string().check(z.refine(isS3Sequencer, "must be a hexadecimal sequencer")),
      ),
    }),
    reason: z.optional(z.string()),
    "deletion-type": z.optional(z.string()),
  }),
});

const AttributeMap = z.record(
  z.string(),
  z.custom<AttributeValue>(
    (value: unknown) =>
      typeof value === "object" && value !== null && Object.keys(value).length === 1,
    { error: "not a DynamoDB attribute value" },
  ),
);

const StreamRecordSchema = z.object({
  eventID: z.string(),
  eventName: z.enum(["INSERT", "MODIFY", "REMOVE"]),
  eventSourceARN: z.string(),
  dynamodb: z.object({
    Keys: AttributeMap,
    SequenceNumber: z
      .string()
      .check(z.refine(isStreamSequence, "must be a decimal sequence number")),
    ApproximateCreationDateTime: z.optional(z.number()),
  }),
});

function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

const isDetailType = (value: string): value is DetailType =>
  (CONTENT_DETAIL_TYPES as readonly string[]).includes(value) ||
  (TAG_DETAIL_TYPES as readonly string[]).includes(value);

/** Parses an S3 event (through EventBridge) for the source bucket. */
export function parseObjectEvent(event: unknown, sourceBucket: string): ObjectChange {
  const parsed = S3EventSchema.safeParse(event);
  if (!parsed.success) {
    throw new MalformedEventError(`not an S3 EventBridge event: ${describeIssues(parsed.error)}`);
  }
  const { id, source, time, detail } = parsed.data;
  const detailType = parsed.data["detail-type"];
  if (source !== "aws.s3") {
    throw new MalformedEventError(`unexpected event source "${source}"`);
  }
  if (!isDetailType(detailType)) {
    throw new MalformedEventError(`unsupported detail-type "${detailType}"`);
  }
  if (detail.bucket.name !== sourceBucket) {
    throw new ForeignSourceError(
      `event for bucket "${detail.bucket.name}", not the source bucket "${sourceBucket}"`,
    );
  }
  const scope = (TAG_DETAIL_TYPES as readonly string[]).includes(detailType) ? "tags" : "contents";
  const { key, sequencer } = detail.object;
  if (scope === "contents" && sequencer === undefined) {
    throw new MalformedEventError(`${detailType} event without a sequencer`);
  }
  const details = [detail.reason, detail["deletion-type"]].filter((part) => part !== undefined);
  return {
    kind: "object",
    scope,
    eventId: id,
    bucket: detail.bucket.name,
    key,
    sequencer,
    time,
    description: details.length > 0 ? `${detailType} (${details.join(", ")})` : detailType,
  };
}

/** `arn:aws:dynamodb:region:account:table/NAME/stream/LABEL` -> NAME. */
export function tableNameFromStreamArn(arn: string): string | undefined {
  const match = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([^/]+)\/stream\//.exec(arn);
  return match?.[1];
}

/** Parses one DynamoDB stream record for the source table. */
export function parseItemRecord(record: unknown, sourceTable: string): ItemChange {
  const parsed = StreamRecordSchema.safeParse(record);
  if (!parsed.success) {
    throw new MalformedEventError(`not a DynamoDB stream record: ${describeIssues(parsed.error)}`);
  }
  const { eventID, eventName, eventSourceARN, dynamodb } = parsed.data;
  const table = tableNameFromStreamArn(eventSourceARN);
  if (table === undefined) {
    throw new MalformedEventError(`unrecognised eventSourceARN "${eventSourceARN}"`);
  }
  if (table !== sourceTable) {
    throw new ForeignSourceError(
      `record from table "${table}", not the source table "${sourceTable}"`,
    );
  }
  if (Object.keys(dynamodb.Keys).length === 0) {
    throw new MalformedEventError("record has no Keys");
  }
  const created = dynamodb.ApproximateCreationDateTime;
  return {
    kind: "item",
    eventId: eventID,
    eventName,
    table,
    keys: dynamodb.Keys,
    sequenceNumber: dynamodb.SequenceNumber,
    time: created === undefined ? undefined : new Date(created * 1000).toISOString(),
  };
}

const at = (value: unknown, name: string): unknown =>
  typeof value === "object" && value !== null && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined;

/**
 * Best-effort key of a raw event or record, for log lines about events that were rejected:
 * `detail.object.key` of an EventBridge event, the JSON of a stream record's `dynamodb.Keys`.
 */
export function rawKey(event: unknown): string | undefined {
  const objectKey = at(at(at(event, "detail"), "object"), "key");
  if (typeof objectKey === "string") return objectKey;
  const keys = at(at(event, "dynamodb"), "Keys");
  return keys === undefined ? undefined : JSON.stringify(keys);
}

/** The stream record's `dynamodb.SequenceNumber` (what Lambda checkpoints on), when it has one. */
export function rawSequenceNumber(record: unknown): string | undefined {
  const sequence = at(at(record, "dynamodb"), "SequenceNumber");
  return typeof sequence === "string" && sequence !== "" ? sequence : undefined;
}

/** The envelope id of an EventBridge event, or the `eventID` of a stream record. */
export function rawEventId(event: unknown): string {
  const id = at(event, "id") ?? at(event, "eventID");
  return typeof id === "string" ? id : "unknown";
}

/** Which kind of invocation the function got. */
export type EventShape =
  | { readonly shape: "dynamodb-stream"; readonly records: readonly unknown[] }
  | { readonly shape: "eventbridge"; readonly event: unknown }
  | { readonly shape: "unknown"; readonly event: unknown };

export function classifyEvent(event: unknown): EventShape {
  const records = at(event, "Records");
  if (Array.isArray(records)) return { shape: "dynamodb-stream", records };
  if (at(event, "detail-type") !== undefined && at(event, "detail") !== undefined) {
    return { shape: "eventbridge", event };
  }
  return { shape: "unknown", event };
}
