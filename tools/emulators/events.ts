/**
 * Event fixtures, shaped exactly as AWS delivers them: S3 `Object Created` / `Object Deleted`
 * events through EventBridge (keys as stored, not URL-encoded; sequencers as hex strings) and
 * DynamoDB stream records (NEW_AND_OLD_IMAGES). Shared by the unit and integration tests, the
 * sandbox (`npm start`) and the benchmarks (`npm run bench`).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  S3ObjectCreatedNotificationEvent,
  S3ObjectDeletedNotificationEvent,
} from "aws-lambda";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** Created event; `version-id` is absent for unversioned buckets. */
export type ObjectCreatedEvent = Omit<S3ObjectCreatedNotificationEvent, "detail"> & {
  detail: Omit<S3ObjectCreatedNotificationEvent["detail"], "object"> & {
    object: Optional<S3ObjectCreatedNotificationEvent["detail"]["object"], "version-id">;
  };
};

/** Deleted event (DeleteObject); no etag or size, `version-id` absent for unversioned buckets. */
export type ObjectDeletedEvent = Omit<S3ObjectDeletedNotificationEvent, "detail"> & {
  detail: {
    version: "0";
    bucket: { name: string };
    object: { key: string; sequencer: string; "version-id"?: string };
    "request-id": string;
    requester: string;
    "source-ip-address": string;
    reason: "DeleteObject";
    "deletion-type": "Permanently Deleted";
  };
};

let counter = 0;
const nextId = (): string => {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
};

/** An S3-style sequencer (hex, 16 or 18 characters) that grows with `n`. */
export function sequencerAt(n: number, width = 18): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

interface ObjectEventInput {
  readonly bucket: string;
  readonly key: string;
  readonly sequencer: string;
  readonly id?: string;
}

export function objectCreatedEvent(
  input: ObjectEventInput & { size?: number; etag?: string },
): ObjectCreatedEvent {
  return {
    version: "0",
    id: input.id ?? nextId(),
    "detail-type": "Object Created",
    source: "aws.s3",
    account: ACCOUNT,
    time: "2026-11-28T12:00:00Z",
    region: REGION,
    resources: [`arn:aws:s3:::${input.bucket}`],
    detail: {
      version: "0",
      bucket: { name: input.bucket },
      object: {
        key: input.key,
        size: input.size ?? 1,
        etag: input.etag ?? "d41d8cd98f00b204e9800998ecf8427e",
        sequencer: input.sequencer,
      },
      "request-id": "57H08PA84AB1JZW0",
      requester: ACCOUNT,
      "source-ip-address": "34.252.34.74",
      reason: "PutObject",
    },
  };
}

export function objectDeletedEvent(input: ObjectEventInput): ObjectDeletedEvent {
  return {
    version: "0",
    id: input.id ?? nextId(),
    "detail-type": "Object Deleted",
    source: "aws.s3",
    account: ACCOUNT,
    time: "2026-11-28T12:00:00Z",
    region: REGION,
    resources: [`arn:aws:s3:::${input.bucket}`],
    detail: {
      version: "0",
      bucket: { name: input.bucket },
      object: { key: input.key, sequencer: input.sequencer },
      "request-id": "0BH729840619AG5K",
      requester: ACCOUNT,
      "source-ip-address": "34.252.34.74",
      reason: "DeleteObject",
      "deletion-type": "Permanently Deleted",
    },
  };
}

export type Image = Record<string, AttributeValue>;

export function streamArn(table: string): string {
  return `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}/stream/2026-11-28T00:00:00.000`;
}

/** A stream sequence number (decimal, 21+ digits) that grows with `n`. */
export function streamSequenceAt(n: number): string {
  return (10n ** 20n + BigInt(n)).toString();
}

export function streamRecord(input: {
  table: string;
  eventName: "INSERT" | "MODIFY" | "REMOVE";
  keys: Image;
  sequenceNumber: string;
  newImage?: Image;
  oldImage?: Image;
  eventID?: string;
}): DynamoDBRecord {
  const images = {
    ...(input.newImage ? { NewImage: input.newImage } : {}),
    ...(input.oldImage ? { OldImage: input.oldImage } : {}),
  };
  return {
    eventID: input.eventID ?? nextId().replace(/-/g, ""),
    eventName: input.eventName,
    eventVersion: "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: REGION,
    eventSourceARN: streamArn(input.table),
    dynamodb: {
      ApproximateCreationDateTime: 1795000000,
      Keys: input.keys as NonNullable<DynamoDBRecord["dynamodb"]>["Keys"],
      ...(images as Pick<NonNullable<DynamoDBRecord["dynamodb"]>, "NewImage" | "OldImage">),
      SequenceNumber: input.sequenceNumber,
      SizeBytes: 64,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    },
  };
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

export function itemKeys(pk: string, sk: string): Image {
  return { pk: { S: pk }, sk: { S: sk } };
}
