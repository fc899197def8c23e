/**
 * Parses events at the boundary with Powertools Parser schemas: S3 `Object Created` /
 * `Object Deleted` events as EventBridge delivers them, and DynamoDB stream records
 * (NEW_AND_OLD_IMAGES). The core works on the typed values returned here.
 *
 * Object keys: S3 -> EventBridge events carry the key as stored, NOT URL-encoded (unlike S3
 * event notifications delivered straight to Lambda/SQS/SNS, which encode it and turn spaces
 * into '+'; see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 * versus https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html, whose
 * `object.key` has no such note). So the key is used exactly as given: never decoded.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBStreamChangeRecordBase,
  DynamoDBStreamRecord,
} from "@aws-lambda-powertools/parser/schemas/dynamodb";
import { S3EventNotificationEventBridgeSchema } from "@aws-lambda-powertools/parser/schemas/s3";
import { z } from "zod";
import { ForeignSourceError, MalformedEventError } from "./errors";
import { isS3Sequencer, isStreamSequence } from "./sequence";

/** "Key K of the source bucket changed at sequencer S". */
export interface ObjectChange {
  readonly kind: "object";
  readonly eventId: string;
  readonly detailType: "Object Created" | "Object Deleted";
  readonly bucket: string;
  readonly key: string;
  readonly sequencer: string;
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
}

const DETAIL_TYPES = ["Object Created", "Object Deleted"] as const;

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

/** Parses an EventBridge S3 event for the source bucket; throws Malformed/ForeignSource errors. */
export function parseObjectEvent(event: unknown, sourceBucket: string): ObjectChange {
  const parsed = S3EventNotificationEventBridgeSchema.safeParse(event);
  if (!parsed.success) {
    throw new MalformedEventError(`not an S3 EventBridge event: ${describeIssues(parsed.error)}`);
  }
  const { id, detail } = parsed.data;
  const detailType = parsed.data["detail-type"];
  if (parsed.data.source !== "aws.s3") {
    throw new MalformedEventError(`unexpected event source "${parsed.data.source}"`);
  }
  const knownType = DETAIL_TYPES.find((type) => type === detailType);
  if (knownType === undefined) {
    throw new MalformedEventError(`unsupported detail-type "${detailType}"`);
  }
  if (detail.bucket.name !== sourceBucket) {
    throw new ForeignSourceError(
      `event for bucket "${detail.bucket.name}", not the source bucket "${sourceBucket}"`,
    );
  }
  const { key, sequencer } = detail.object;
  if (key === "") {
    throw new MalformedEventError("empty object key");
  }
  if (sequencer === undefined || !isS3Sequencer(sequencer)) {
    throw new MalformedEventError(`missing or invalid sequencer "${String(sequencer)}"`);
  }
  return {
    kind: "object",
    eventId: id,
    detailType: knownType,
    bucket: detail.bucket.name,
    key,
    sequencer,
  };
}

const AttributeMap = z.record(
  z.string(),
  z.custom<AttributeValue>(
    (value) => typeof value === "object" && value !== null && Object.keys(value).length === 1,
    { error: "not a DynamoDB attribute value" },
  ),
);

/** The stream record schema, keeping attribute values in wire form (we write them as-is). */
const StreamRecordSchema = DynamoDBStreamRecord.extend({
  dynamodb: DynamoDBStreamChangeRecordBase.extend({
    Keys: AttributeMap,
    NewImage: AttributeMap.optional(),
    OldImage: AttributeMap.optional(),
  }),
});

/** `arn:aws:dynamodb:region:account:table/NAME/stream/LABEL` -> NAME. */
export function tableNameFromStreamArn(arn: string): string | undefined {
  const match = /^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/([^/]+)\/stream\//.exec(arn);
  return match?.[1];
}

/**
 * Best-effort key of a raw event or record, for log lines about events that were rejected:
 * `detail.object.key` of an EventBridge event, the JSON of a stream record's `dynamodb.Keys`.
 */
export function rawKey(event: unknown): string | undefined {
  const at = (value: unknown, name: string): unknown =>
    typeof value === "object" && value !== null && name in value
      ? (value as Record<string, unknown>)[name]
      : undefined;
  const objectKey = at(at(at(event, "detail"), "object"), "key");
  if (typeof objectKey === "string") return objectKey;
  const keys = at(at(event, "dynamodb"), "Keys");
  return keys === undefined ? undefined : JSON.stringify(keys);
}

/** Best-effort id of a raw stream record (for batchItemFailures of records that do not parse). */
export function rawRecordId(record: unknown): string | undefined {
  if (typeof record === "object" && record !== null && "eventID" in record) {
    const id = record.eventID;
    return typeof id === "string" ? id : undefined;
  }
  return undefined;
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
  if (!isStreamSequence(dynamodb.SequenceNumber)) {
    throw new MalformedEventError(`invalid SequenceNumber "${dynamodb.SequenceNumber}"`);
  }
  if (Object.keys(dynamodb.Keys).length === 0) {
    throw new MalformedEventError("record has no Keys");
  }
  return {
    kind: "item",
    eventId: eventID,
    eventName,
    table,
    keys: dynamodb.Keys,
    sequenceNumber: dynamodb.SequenceNumber,
  };
}

/** Which kind of event the handler got: a stream batch, an EventBridge event, or neither. */
export type EventShape =
  | { readonly shape: "dynamodb-stream"; readonly records: readonly unknown[] }
  | { readonly shape: "eventbridge"; readonly event: unknown }
  | { readonly shape: "unknown"; readonly event: unknown };

export function classifyEvent(event: unknown): EventShape {
  if (typeof event === "object" && event !== null) {
    if ("Records" in event && Array.isArray(event.Records)) {
      return { shape: "dynamodb-stream", records: (event as { Records: unknown[] }).Records };
    }
    if ("detail-type" in event && "detail" in event) {
      return { shape: "eventbridge", event };
    }
  }
  return { shape: "unknown", event };
}
