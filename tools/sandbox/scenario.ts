/**
 * The sandbox's scripted production changes, in phases: config objects (keys with spaces, `+`,
 * unicode), an overwrite, a delete; metadata items inserted, modified and removed. Applying a
 * change writes it to the prod bucket or table and returns the event AWS would emit for it
 * (EventBridge S3 event, or DynamoDB stream record with both images), numbered in order.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { DynamoDBRecord } from "aws-lambda";
import {
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  sequencerAt,
  streamRecord,
  streamSequenceAt,
  type ObjectCreatedEvent,
  type ObjectDeletedEvent,
} from "../emulators/events";

export type Item = Record<string, AttributeValue>;

export type ProductionChange =
  | {
      readonly kind: "put-object";
      readonly key: string;
      readonly body: string;
      readonly contentType: string;
      readonly metadata?: Readonly<Record<string, string>>;
    }
  | { readonly kind: "delete-object"; readonly key: string }
  | { readonly kind: "put-item"; readonly item: Item }
  | { readonly kind: "remove-item"; readonly pk: string; readonly sk: string };

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const item = (pk: string, sk: string, attributes: Item): Item => ({
  ...itemKeys(pk, sk),
  ...attributes,
});

/** Phase 1 creates; phase 2 overwrites, deletes, modifies and removes (and adds one more). */
export const SCENARIO: readonly (readonly ProductionChange[])[] = [
  [
    {
      kind: "put-object",
      key: "configs/app.json",
      body: json({ featureFlags: { search: false }, version: 1 }),
      contentType: "application/json",
      metadata: { owner: "platform", revision: "1" },
    },
    {
      kind: "put-object",
      key: "configs/with space.json",
      body: json({ note: "a key with spaces" }),
      contentType: "application/json",
    },
    {
      kind: "put-object",
      key: "configs/a+b=c&d.json",
      body: json({ note: "a key with + = &" }),
      contentType: "application/json",
      metadata: { owner: "data" },
    },
    {
      kind: "put-object",
      key: "configs/ünïcödé/設定.yaml",
      body: "greeting: こんにちは\n",
      contentType: "application/yaml",
    },
    {
      kind: "put-object",
      key: "configs/obsolete.txt",
      body: "to be deleted\n",
      contentType: "text/plain",
    },
    {
      kind: "put-item",
      item: item("config#app", "v1", { owner: { S: "platform" }, size: { N: "42" } }),
    },
    {
      kind: "put-item",
      item: item("config#with space", "v1", { tags: { SS: ["a", "b"] } }),
    },
    {
      kind: "put-item",
      item: item("config#ünïcödé", "v1", { note: { S: "設定" }, active: { BOOL: true } }),
    },
    { kind: "put-item", item: item("config#obsolete", "v1", { owner: { S: "nobody" } }) },
  ],
  [
    {
      kind: "put-object",
      key: "configs/app.json",
      body: json({ featureFlags: { search: true }, version: 2 }),
      contentType: "application/json",
      metadata: { owner: "platform", revision: "2" },
    },
    { kind: "delete-object", key: "configs/obsolete.txt" },
    {
      kind: "put-object",
      key: "reports/2026/11/summary (final).csv",
      body: "environment,objects\nprod,5\n",
      contentType: "text/csv",
    },
    {
      kind: "put-item",
      item: item("config#app", "v1", {
        owner: { S: "platform" },
        size: { N: "43" },
        reviewed: { BOOL: true },
      }),
    },
    { kind: "remove-item", pk: "config#obsolete", sk: "v1" },
    { kind: "put-item", item: item("report#2026-11", "summary", { rows: { N: "2" } }) },
  ],
];

/** An event as AWS delivers it to the function, with what the sandbox prints about it. */
export type ScenarioEvent =
  | {
      readonly source: "eventbridge";
      readonly event: ObjectCreatedEvent | ObjectDeletedEvent;
      readonly label: string;
    }
  | { readonly source: "dynamodb-stream"; readonly record: DynamoDBRecord; readonly label: string };

export interface ProductionSide {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly bucket: string;
  readonly table: string;
}

function keysOf(value: Item): { pk: string; sk: string } {
  const pk = value.pk?.S;
  const sk = value.sk?.S;
  if (pk === undefined || sk === undefined)
    throw new Error(`item without pk/sk: ${JSON.stringify(value)}`);
  return { pk, sk };
}

/** Writes one change to prod and returns the event AWS would deliver for it (change number `step`). */
export async function applyChange(
  prod: ProductionSide,
  change: ProductionChange,
  step: number,
): Promise<ScenarioEvent> {
  switch (change.kind) {
    case "put-object": {
      const out = await prod.s3.send(
        new PutObjectCommand({
          Bucket: prod.bucket,
          Key: change.key,
          Body: change.body,
          ContentType: change.contentType,
          Metadata: change.metadata,
        }),
      );
      return {
        source: "eventbridge",
        label: `Object Created "${change.key}"`,
        event: objectCreatedEvent({
          bucket: prod.bucket,
          key: change.key,
          sequencer: sequencerAt(step),
          size: Buffer.byteLength(change.body),
          etag: (out.ETag ?? "").replace(/"/g, ""),
        }),
      };
    }
    case "delete-object":
      await prod.s3.send(new DeleteObjectCommand({ Bucket: prod.bucket, Key: change.key }));
      return {
        source: "eventbridge",
        label: `Object Deleted "${change.key}"`,
        event: objectDeletedEvent({
          bucket: prod.bucket,
          key: change.key,
          sequencer: sequencerAt(step),
        }),
      };
    case "put-item":
    case "remove-item": {
      const { pk, sk } = change.kind === "put-item" ? keysOf(change.item) : change;
      const keys = itemKeys(pk, sk);
      const before = await prod.dynamodb.send(
        new GetItemCommand({ TableName: prod.table, Key: keys, ConsistentRead: true }),
      );
      if (change.kind === "put-item") {
        await prod.dynamodb.send(new PutItemCommand({ TableName: prod.table, Item: change.item }));
      } else {
        await prod.dynamodb.send(new DeleteItemCommand({ TableName: prod.table, Key: keys }));
      }
      const eventName =
        change.kind === "remove-item" ? "REMOVE" : before.Item === undefined ? "INSERT" : "MODIFY";
      return {
        source: "dynamodb-stream",
        label: `${eventName} ${pk} / ${sk}`,
        record: streamRecord({
          table: prod.table,
          eventName,
          keys,
          sequenceNumber: streamSequenceAt(step),
          ...(change.kind === "put-item" ? { newImage: change.item } : {}),
          ...(before.Item === undefined ? {} : { oldImage: before.Item }),
        }),
      };
    }
  }
}
