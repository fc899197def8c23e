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
 * - S3 Batch Operations LambdaInvoke tasks (schema 2.0, and 1.0): keys URL-decoded, '+' a space
 *   (see `decodeBatchOperationsKey`); used by `npm run resync -- --engine batch-operations`.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import * as z from "zod/mini";
import { ForeignSourceError, MalformedEventError } from "./errors";
import { isS3Sequencer, isStreamSequence } from "./sequence";

/**
 * S3 event types the function replicates (lib/delivery.ts has the rule's list), and those of them
 * that carry a `sequencer` ("Object Created" and "Object Deleted" do; tag and restore events do
 * not: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). Every one of them
 * means the same thing to the function: converge the key to the source's current state.
 */
export const SEQUENCED_DETAIL_TYPES = ["Object Created", "Object Deleted"] as const;
export const OBJECT_DETAIL_TYPES = [
  ...SEQUENCED_DETAIL_TYPES,
  "Object Tags Added",
  "Object Tags Deleted",
  // An archived object restored: it can be copied now (objects.ts, "archived").
  "Object Restore Completed",
] as const;
type DetailType = (typeof OBJECT_DETAIL_TYPES)[number];

/**
 * "Key K of the source bucket changed" (created, deleted, tagged, restored, or a resync that
 * converges it whatever happened): every target converges to the source's current state of K.
 */
export interface ObjectChange {
  readonly kind: "object";
  /** The EventBridge event id, or an id the caller gives (resync, Batch Operations task). */
  readonly eventId: string;
  readonly bucket: string;
  readonly key: string;
  /**
   * S3's ordering of changes to this key (absent from tag and restore events and resyncs):
   * recorded on the replica, for the record; convergence goes by the source's current state.
   */
  readonly sequencer: string | undefined;
  /** When the change happened at the source (the event's `time`), for the latency metric. */
  readonly time: string | undefined;
  /** For the logs: the event type, and `reason` / `deletion-type` when S3 gave them. */
  readonly description: string;
  /**
   * The key as an S3 event gives it, which may be form-URL-encoded (S3's notifications encode it:
   * "red flower.jpg" becomes "red+flower.jpg"; the EventBridge page shows no encoding either way).
   * Set by `parseObjectEvent`; absent for keys read from a listing or a Batch Operations task,
   * which are exact.
   */
  readonly keyAsGiven?: true;
}

/**
 * The keys an event's key may stand for: itself, and its form-URL decoding when that differs
 * ('+' a space, %XX a byte). Converging a key to the source's current state is right for any key
 * (a key the source does not have is absent from the targets), so converging both is right
 * whichever S3 sent, and costs more only for keys with `+` or `%`.
 */
export function candidateKeys(change: Pick<ObjectChange, "key" | "keyAsGiven">): string[] {
  if (change.keyAsGiven !== true) return [change.key];
  const decoded = decodedKey(change.key);
  return decoded === undefined || decoded === change.key ? [change.key] : [change.key, decoded];
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
  (OBJECT_DETAIL_TYPES as readonly string[]).includes(value);

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
  const { key, sequencer } = detail.object;
  if (
    (SEQUENCED_DETAIL_TYPES as readonly string[]).includes(detailType) &&
    sequencer === undefined
  ) {
    throw new MalformedEventError(`${detailType} event without a sequencer`);
  }
  const details = [detail.reason, detail["deletion-type"]].filter((part) => part !== undefined);
  return {
    kind: "object",
    eventId: id,
    bucket: detail.bucket.name,
    key,
    sequencer,
    time,
    description: details.length > 0 ? `${detailType} (${details.join(", ")})` : detailType,
    keyAsGiven: true,
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

/** A raw stream record's `dynamodb.Keys`, when it has a map there. */
export function rawKeys(event: unknown): Record<string, AttributeValue> | undefined {
  const keys = at(at(event, "dynamodb"), "Keys");
  return typeof keys === "object" && keys !== null && !Array.isArray(keys)
    ? (keys as Record<string, AttributeValue>)
    : undefined;
}

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

/**
 * The envelope id of an EventBridge event, the `eventID` of a stream record, or the
 * `invocationId` of a Batch Operations invocation.
 */
export function rawEventId(event: unknown): string {
  const id = at(event, "id") ?? at(event, "eventID") ?? at(event, "invocationId");
  return typeof id === "string" ? id : "unknown";
}

/** Which kind of invocation the function got. */
export type EventShape =
  | { readonly shape: "dynamodb-stream"; readonly records: readonly unknown[] }
  | { readonly shape: "eventbridge"; readonly event: unknown }
  | { readonly shape: "batch-operations"; readonly event: unknown }
  | { readonly shape: "unknown"; readonly event: unknown };

export function classifyEvent(event: unknown): EventShape {
  const records = at(event, "Records");
  if (Array.isArray(records)) return { shape: "dynamodb-stream", records };
  if (
    typeof at(event, "invocationSchemaVersion") === "string" &&
    Array.isArray(at(event, "tasks"))
  ) {
    return { shape: "batch-operations", event };
  }
  if (at(event, "detail-type") !== undefined && at(event, "detail") !== undefined) {
    return { shape: "eventbridge", event };
  }
  return { shape: "unknown", event };
}

// S3 Batch Operations "Invoke AWS Lambda function" (LambdaInvoke), invocation schema 2.0 (1.0 is
// read too): https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html
// and https://docs.aws.amazon.com/lambda/latest/dg/services-s3-batch.html. Each task names one
// key of the source bucket; the function converges that key in every target (a resync).

/**
 * The job's user argument naming the targets to resync (comma-separated environments); without
 * it, every target. Set by `npm run resync -- --engine batch-operations --targets ...`.
 */
export const BATCH_TARGETS_ARGUMENT = "targets";

/** The invocation schema versions this function answers. */
export const BATCH_SCHEMA_VERSIONS = ["1.0", "2.0"] as const;
export type BatchSchemaVersion = (typeof BATCH_SCHEMA_VERSIONS)[number];

const BatchEventSchema = z.object({
  invocationSchemaVersion: z.enum(BATCH_SCHEMA_VERSIONS),
  invocationId: nonEmpty,
  job: z.object({
    id: nonEmpty,
    // 2.0 only: the job's `UserArguments` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_LambdaInvokeOperation.html).
    userArguments: z.optional(z.nullable(z.record(z.string(), z.string()))),
  }),
  tasks: z.array(z.object({ taskId: nonEmpty })),
});

const BatchTaskSchema = z.object({
  taskId: nonEmpty,
  s3Key: nonEmpty,
  s3VersionId: z.optional(z.nullable(z.string())),
  /** 2.0: the bucket's name. */
  s3Bucket: z.optional(nonEmpty),
  /** 1.0: the bucket's ARN, `arn:aws:s3:::NAME`. */
  s3BucketArn: z.optional(nonEmpty),
});

/** One task of a Batch Operations invocation: the change it asks for, or why it cannot run. */
export type BatchOperationsTask =
  | { readonly taskId: string; readonly ok: true; readonly change: ObjectChange }
  | {
      readonly taskId: string;
      readonly ok: false;
      readonly error: MalformedEventError | ForeignSourceError;
    };

export interface BatchOperationsInvocation {
  readonly invocationSchemaVersion: BatchSchemaVersion;
  readonly invocationId: string;
  readonly jobId: string;
  /** The job's user arguments (empty for schema 1.0). */
  readonly userArguments: Readonly<Record<string, string>>;
  readonly tasks: readonly BatchOperationsTask[];
}

/**
 * Decodes a Batch Operations `s3Key`. AWS: "keys from S3 Batch Operations are URL encoded. ...
 * it's important that you URL decode the key" (batch-ops-invoke-lambda.html, 1.0 example), and
 * in practice a space arrives as '+': "The key is url encoded with %20 in the inventory file but
 * in the event it is sent with +. So use unquote_plus" (Powertools for AWS Lambda (Python),
 * aws_lambda_powertools/utilities/data_classes/s3_batch_operation_event.py). So '+' is a space
 * and a literal '+' arrives as %2B; a key sent with %20 decodes the same. Throws
 * `MalformedEventError` on an invalid escape.
 */
export function decodeBatchOperationsKey(raw: string): string {
  const key = decodedKey(raw);
  if (key === undefined) throw notEncoded(raw);
  return key;
}

/** A form-URL-encoded key decoded ('+' a space); `undefined` on an invalid escape. */
function decodedKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

const notEncoded = (raw: string) =>
  new MalformedEventError(`s3Key ${JSON.stringify(raw)} is not URL-encoded`);

/** `arn:aws:s3:::NAME` -> NAME (a 1.0 task's `s3BucketArn`). */
export function bucketNameFromArn(arn: string): string | undefined {
  return /^arn:[^:]+:s3:::([^/]+)$/.exec(arn)?.[1];
}

function parseBatchTask(
  task: unknown,
  taskId: string,
  jobId: string,
  sourceBucket: string,
): BatchOperationsTask {
  const failed = (error: MalformedEventError | ForeignSourceError): BatchOperationsTask => ({
    taskId,
    ok: false,
    error,
  });
  const parsed = BatchTaskSchema.safeParse(task);
  if (!parsed.success) {
    return failed(
      new MalformedEventError(`not a Batch Operations task: ${describeIssues(parsed.error)}`),
    );
  }
  const { s3Key, s3Bucket, s3BucketArn } = parsed.data;
  const bucket =
    s3Bucket ?? (s3BucketArn === undefined ? undefined : bucketNameFromArn(s3BucketArn));
  if (bucket === undefined) {
    return failed(
      new MalformedEventError(
        `task names no bucket: s3Bucket ${JSON.stringify(s3Bucket)}, s3BucketArn ${JSON.stringify(s3BucketArn)}`,
      ),
    );
  }
  if (bucket !== sourceBucket) {
    return failed(
      new ForeignSourceError(
        `task for bucket "${bucket}", not the source bucket "${sourceBucket}"`,
      ),
    );
  }
  const key = decodedKey(s3Key);
  if (key === undefined) return failed(notEncoded(s3Key));
  const change: ObjectChange = {
    kind: "object",
    eventId: `${jobId}/${taskId}`,
    bucket,
    key,
    // A resync: no S3 sequencer; the replica keeps its own as a lower bound.
    sequencer: undefined,
    time: undefined,
    description: `S3 Batch Operations task (job ${jobId})`,
  };
  return { taskId, ok: true, change };
}

/**
 * Parses an S3 Batch Operations invocation for the source bucket. Throws `MalformedEventError`
 * when the envelope cannot be answered (no invocation id, a task without a task id); a task that
 * is malformed or names another bucket is returned as failed, to be answered as such.
 */
export function parseBatchOperationsEvent(
  event: unknown,
  sourceBucket: string,
): BatchOperationsInvocation {
  const parsed = BatchEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new MalformedEventError(
      `not an S3 Batch Operations invocation: ${describeIssues(parsed.error)}`,
    );
  }
  const { invocationSchemaVersion, invocationId, job } = parsed.data;
  const tasks = at(event, "tasks") as readonly unknown[];
  return {
    invocationSchemaVersion,
    invocationId,
    jobId: job.id,
    userArguments: job.userArguments ?? {},
    // The same tasks, each with the task id the schema checked.
    tasks: parsed.data.tasks.map(({ taskId }, index) =>
      parseBatchTask(tasks[index], taskId, job.id, sourceBucket),
    ),
  };
}
