/**
 * Events and dead-letter messages shaped as AWS documents them, each builder naming its source.
 * Shared by the unit and integration tests, the event-source emulation, the sandbox (`npm start`)
 * and the benchmarks (`npm run bench`). Values that AWS varies (ids, sequencers, addresses) are
 * parameters; the rest is the documented example.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

/** A documentation IPv4 address, and an IPv6 one (clients of S3's dual-stack endpoints). */
export const IPV4_CLIENT = "1.2.3.4";
export const IPV6_CLIENT = "2001:db8:85a3::8a2e:370:7334";

let counter = 0;
const nextId = (): string => {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
};

/** An S3-style sequencer (hex, 16 or 18 characters) that grows with `n`. */
export function sequencerAt(n: number, width = 18): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/** The EventBridge envelope of every S3 event. */
export interface S3EventEnvelope<DetailType extends string, Detail> {
  readonly version: "0";
  readonly id: string;
  readonly "detail-type": DetailType;
  readonly source: "aws.s3";
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Detail;
}

interface ObjectEventInput {
  readonly bucket: string;
  readonly key: string;
  readonly id?: string;
  /** ISO time of the change (`time` of the envelope). */
  readonly time?: string;
  readonly region?: string;
  readonly versionId?: string;
  /** The requester's address; absent from lifecycle events. @default IPV4_CLIENT */
  readonly sourceIp?: string;
}

function envelope<T extends string, D>(
  detailType: T,
  input: ObjectEventInput,
  detail: D,
): S3EventEnvelope<T, D> {
  return {
    version: "0",
    id: input.id ?? nextId(),
    "detail-type": detailType,
    source: "aws.s3",
    account: ACCOUNT,
    time: input.time ?? "2026-11-28T12:00:00Z",
    region: input.region ?? REGION,
    resources: [`arn:aws:s3:::${input.bucket}`],
    detail,
  };
}

const versionOf = (input: ObjectEventInput): { "version-id"?: string } =>
  input.versionId === undefined ? {} : { "version-id": input.versionId };

export interface ObjectCreatedDetail {
  readonly version: "0";
  readonly "event-version": "1.1";
  readonly bucket: { readonly name: string };
  readonly object: {
    readonly key: string;
    readonly size: number;
    readonly etag: string;
    readonly "version-id"?: string;
    readonly sequencer: string;
  };
  readonly "request-id": string;
  readonly requester: string;
  readonly "source-ip-address": string;
  readonly reason: "PutObject" | "POST Object" | "CopyObject" | "CompleteMultipartUpload";
}
export type ObjectCreatedEvent = S3EventEnvelope<"Object Created", ObjectCreatedDetail>;

/**
 * "Object Created", as in the example of "EventBridge event message structure"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). The key is given as
 * stored: that page shows no URL-encoding for EventBridge events (see the README's assumption).
 * `version-id` is absent for unversioned buckets (the emulators have no versioning).
 */
export function objectCreatedEvent(
  input: ObjectEventInput & {
    readonly sequencer: string;
    readonly size?: number;
    readonly etag?: string;
    readonly reason?: ObjectCreatedDetail["reason"];
  },
): ObjectCreatedEvent {
  return envelope("Object Created", input, {
    version: "0",
    "event-version": "1.1",
    bucket: { name: input.bucket },
    object: {
      key: input.key,
      size: input.size ?? 5,
      etag: input.etag ?? "b1946ac92492d2347c6235b4d2611184",
      ...versionOf(input),
      sequencer: input.sequencer,
    },
    "request-id": "N4N7GDK58NMKJ12R",
    requester: ACCOUNT,
    "source-ip-address": input.sourceIp ?? IPV4_CLIENT,
    reason: input.reason ?? "PutObject",
  });
}

export interface ObjectDeletedDetail {
  readonly version: "0";
  readonly "event-version": "1.1";
  readonly bucket: { readonly name: string };
  readonly object: {
    readonly key: string;
    readonly etag?: string;
    readonly "version-id"?: string;
    readonly sequencer: string;
  };
  readonly "request-id": string;
  readonly requester: string;
  readonly "source-ip-address"?: string;
  readonly reason: "DeleteObject" | "Lifecycle Expiration";
  readonly "deletion-type": "Permanently Deleted" | "Delete Marker Created";
}
export type ObjectDeletedEvent = S3EventEnvelope<"Object Deleted", ObjectDeletedDetail>;

/**
 * "Object Deleted", as in the two examples of "EventBridge event message structure"
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html): `reason`
 * "DeleteObject" (an API call, with the requester's address) or "Lifecycle Expiration" (requester
 * `s3.amazonaws.com`, no address); `deletion-type` "Delete Marker Created" (versioned bucket,
 * with the marker's etag) or "Permanently Deleted" (unversioned bucket, or a version deleted for
 * good; "Some object attributes (such as etag and size) are present only when a delete marker is
 * created"). Defaults: a DeleteObject on an unversioned bucket, as the emulators do.
 */
export function objectDeletedEvent(
  input: ObjectEventInput & {
    readonly sequencer: string;
    readonly reason?: ObjectDeletedDetail["reason"];
    readonly deletionType?: ObjectDeletedDetail["deletion-type"];
  },
): ObjectDeletedEvent {
  const reason = input.reason ?? "DeleteObject";
  const deletionType = input.deletionType ?? "Permanently Deleted";
  const lifecycle = reason === "Lifecycle Expiration";
  return envelope("Object Deleted", input, {
    version: "0",
    "event-version": "1.1",
    bucket: { name: input.bucket },
    object: {
      key: input.key,
      ...(deletionType === "Delete Marker Created"
        ? { etag: "d41d8cd98f00b204e9800998ecf8427e" }
        : {}),
      ...versionOf(input),
      sequencer: input.sequencer,
    },
    "request-id": lifecycle ? "20EB74C14654DC47" : "0BH729840619AG5K",
    requester: lifecycle ? "s3.amazonaws.com" : ACCOUNT,
    ...(lifecycle ? {} : { "source-ip-address": input.sourceIp ?? IPV4_CLIENT }),
    reason,
    "deletion-type": deletionType,
  });
}

export interface ObjectTagsDetail {
  readonly version: "0";
  readonly bucket: { readonly name: string };
  readonly object: { readonly key: string; readonly "version-id"?: string; readonly etag: string };
  readonly "request-id": string;
  readonly requester: string;
  readonly "source-ip-address": string;
}
export type ObjectTagsEvent = S3EventEnvelope<
  "Object Tags Added" | "Object Tags Deleted",
  ObjectTagsDetail
>;

/**
 * "Object Tags Added" / "Object Tags Deleted". AWS lists these event types
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html) but shows no example;
 * this shape is @types/aws-lambda's (`S3ObjectTagsAddedNotificationEventDetail` and its test
 * fixture): no `reason`, no `sequencer`, no `size`. The handler relies on neither.
 */
export function objectTagsEvent(
  input: ObjectEventInput & { readonly change: "added" | "deleted"; readonly etag?: string },
): ObjectTagsEvent {
  return envelope(input.change === "added" ? "Object Tags Added" : "Object Tags Deleted", input, {
    version: "0",
    bucket: { name: input.bucket },
    object: {
      key: input.key,
      ...versionOf(input),
      etag: input.etag ?? "b1946ac92492d2347c6235b4d2611184",
    },
    "request-id": "5EQMSMKAMC3Z1NH9",
    requester: ACCOUNT,
    "source-ip-address": input.sourceIp ?? IPV4_CLIENT,
  });
}

export interface ObjectRestoreCompletedDetail {
  readonly version: "0";
  readonly bucket: { readonly name: string };
  readonly object: {
    readonly key: string;
    readonly size: number;
    readonly "version-id"?: string;
    readonly etag: string;
  };
  readonly "request-id": string;
  readonly requester: "s3.amazonaws.com";
  readonly "restore-expiry-time": string;
  readonly "source-storage-class": string;
}
export type ObjectRestoreCompletedEvent = S3EventEnvelope<
  "Object Restore Completed",
  ObjectRestoreCompletedDetail
>;

/**
 * "Object Restore Completed": S3 restored a temporary copy of an archived object
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html lists the type;
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html shows the detail:
 * `restore-expiry-time`, `source-storage-class`, requester `s3.amazonaws.com`, no `sequencer`
 * and no `reason`), as @types/aws-lambda types it (`S3ObjectRestoreCompletedNotificationEventDetail`).
 */
export function objectRestoreCompletedEvent(
  input: ObjectEventInput & { readonly storageClass?: string; readonly size?: number },
): ObjectRestoreCompletedEvent {
  return envelope("Object Restore Completed", input, {
    version: "0",
    bucket: { name: input.bucket },
    object: {
      key: input.key,
      size: input.size ?? 5,
      ...versionOf(input),
      etag: "b1946ac92492d2347c6235b4d2611184",
    },
    "request-id": "189F19CB7FB1B6A4",
    requester: "s3.amazonaws.com",
    "restore-expiry-time": "2026-12-14T00:00:00.000Z",
    "source-storage-class": input.storageClass ?? "GLACIER",
  });
}

export type Image = Record<string, AttributeValue>;

export function streamArn(table: string, region = REGION): string {
  return `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${table}/stream/2026-11-28T00:00:00.000`;
}

/** A stream sequence number (decimal, 21+ digits, as in AWS's examples) that grows with `n`. */
export function streamSequenceAt(n: number): string {
  return (8n * 10n ** 20n + BigInt(n)).toString();
}

/** The shard of the simulated streams (one shard, as a small table has). */
export const SHARD_ID = "shardId-00000001573689847184-864758bb";

/**
 * One DynamoDB stream record as Lambda delivers it, stream view type KEYS_ONLY ("Only the key
 * attributes of the modified item are written to the stream", StreamSpecification,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html);
 * record layout as in "Using AWS Lambda with Amazon DynamoDB"
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html).
 */
export function streamRecord(input: {
  table: string;
  eventName: "INSERT" | "MODIFY" | "REMOVE";
  keys: Image;
  sequenceNumber: string;
  eventID?: string;
  /** Seconds since the epoch. */
  approximateCreationDateTime?: number;
  region?: string;
}): DynamoDBRecord {
  return {
    eventID: input.eventID ?? nextId().replace(/-/g, ""),
    eventName: input.eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: input.region ?? REGION,
    eventSourceARN: streamArn(input.table, input.region),
    dynamodb: {
      ApproximateCreationDateTime: input.approximateCreationDateTime ?? 1795000000,
      Keys: input.keys as NonNullable<DynamoDBRecord["dynamodb"]>["Keys"],
      SequenceNumber: input.sequenceNumber,
      SizeBytes: 64,
      StreamViewType: "KEYS_ONLY",
    },
  };
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

export function itemKeys(pk: string, sk: string): Image {
  return { pk: { S: pk }, sk: { S: sk } };
}

/** The function's ARN in the simulated account. */
export function functionArn(name: string, region = REGION): string {
  return `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;
}

/**
 * The record Lambda sends to an on-failure destination of an asynchronous invocation, as in
 * "Capturing records of Lambda asynchronous invocations"
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html): the
 * original event is `requestPayload`. `condition` "RetriesExhausted" is the documented value.
 */
export function asyncFailureRecord(input: {
  readonly event: unknown;
  readonly functionName: string;
  readonly approximateInvokeCount?: number;
  readonly condition?: string;
  readonly errorMessage?: string;
  readonly timestamp?: string;
}) {
  return {
    version: "1.0",
    timestamp: input.timestamp ?? "2026-11-28T12:00:05.568Z",
    requestContext: {
      requestId: nextId(),
      functionArn: `${functionArn(input.functionName)}:$LATEST`,
      condition: input.condition ?? "RetriesExhausted",
      approximateInvokeCount: input.approximateInvokeCount ?? 3,
    },
    requestPayload: input.event,
    responseContext: {
      statusCode: 200,
      executedVersion: "$LATEST",
      functionError: "Unhandled",
    },
    responsePayload: {
      errorMessage: input.errorMessage ?? "Task timed out after 120.00 seconds",
    },
  };
}

/**
 * The record a DynamoDB stream event source mapping sends to its on-failure destination (SQS),
 * as in "Retain discarded records for a DynamoDB event source in Lambda"
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html): batch metadata
 * only; "The actual records aren't included".
 */
export function streamFailureRecord(input: {
  readonly table: string;
  readonly functionName: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly shardId?: string;
  readonly condition?: string;
  readonly timestamp?: string;
}) {
  return {
    requestContext: {
      requestId: nextId(),
      functionArn: functionArn(input.functionName),
      condition: input.condition ?? "RetryAttemptsExhausted",
      approximateInvokeCount: 1,
    },
    responseContext: {
      statusCode: 200,
      executedVersion: "$LATEST",
      functionError: "Unhandled",
    },
    version: "1.0",
    timestamp: input.timestamp ?? "2026-11-28T12:00:49.717Z",
    DDBStreamBatchInfo: {
      shardId: input.shardId ?? SHARD_ID,
      startSequenceNumber: input.startSequenceNumber,
      endSequenceNumber: input.endSequenceNumber,
      approximateArrivalOfFirstRecord: "2026-11-28T12:00:19Z",
      approximateArrivalOfLastRecord: "2026-11-28T12:00:19Z",
      batchSize: input.batchSize,
      streamArn: streamArn(input.table),
    },
  };
}

/** An SQS message as a test puts it in a queue: body and string message attributes. */
export interface QueuedMessage {
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * What an EventBridge rule target's dead-letter queue receives: the event, with the attributes
 * listed in "Using dead-letter queues to process undelivered events in EventBridge"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): RULE_ARN,
 * TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS. The page
 * shows no message body; the body being the event itself is an assumption the README states.
 */
export function eventBridgeDeadLetter(input: {
  readonly event: unknown;
  readonly ruleName: string;
  readonly functionName: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly retryAttempts?: number;
  readonly exhaustedRetryCondition?: string;
}): QueuedMessage {
  return {
    body: JSON.stringify(input.event),
    attributes: {
      RULE_ARN: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${input.ruleName}`,
      TARGET_ARN: functionArn(input.functionName),
      ERROR_CODE: input.errorCode ?? "NO_PERMISSIONS",
      ERROR_MESSAGE:
        input.errorMessage ??
        "User: events.amazonaws.com is not authorized to perform: lambda:InvokeFunction",
      ...(input.exhaustedRetryCondition === undefined
        ? {}
        : { EXHAUSTED_RETRY_CONDITION: input.exhaustedRetryCondition }),
      RETRY_ATTEMPTS: String(input.retryAttempts ?? 0),
    },
  };
}

/**
 * An S3 Batch Operations "Invoke AWS Lambda function" event, invocation schema 2.0
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-invoke-lambda.html; 2.0
 * shape as in Powertools for AWS Lambda's fixture): `s3Bucket` is a bucket name, `s3Key` is
 * URL-encoded ("keys from S3 Batch Operations are URL encoded"), spaces as "+".
 */
export function batchOperationsEvent(input: {
  readonly bucket: string;
  readonly keys: readonly string[];
  readonly jobId?: string;
  readonly userArguments?: Readonly<Record<string, string>>;
}) {
  return {
    invocationSchemaVersion: "2.0",
    invocationId: "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
    job: {
      id: input.jobId ?? "f3cc4f60-61f6-4a2b-8a21-d07600c373ce",
      userArguments: input.userArguments ?? {},
    },
    tasks: input.keys.map((key, index) => ({
      taskId: `task-${index}`,
      // URL-encoded, a space as "+": what Batch Operations sends in practice (Powertools for AWS
      // Lambda's S3 Batch Operations event reader decodes with unquote_plus for that reason).
      s3Key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"),
      s3VersionId: null,
      s3Bucket: input.bucket,
    })),
  };
}
