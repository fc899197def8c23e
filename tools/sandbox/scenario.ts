/**
 * The sandbox's scripted production changes, in phases: config objects (keys with spaces, `+`,
 * unicode), an overwrite, a tag change, a delete, a lifecycle expiration of an old version, a CSV
 * of customer sign-ups; metadata items inserted, modified and removed, a customer's item with
 * personal data inserted and modified. Applying a change writes it to the prod bucket or
 * table; the emulators emit the events AWS would.
 */
import {
  DeleteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { itemKeys } from "../emulators/events";

export type Item = Record<string, AttributeValue>;

export type ProductionChange =
  | {
      readonly kind: "put-object";
      readonly key: string;
      readonly body: string;
      readonly contentType: string;
      readonly metadata?: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: "tag-object";
      readonly key: string;
      readonly tags: Readonly<Record<string, string>>;
    }
  | { readonly kind: "delete-object"; readonly key: string }
  | { readonly kind: "expire-noncurrent"; readonly key: string }
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
    {
      kind: "put-object",
      key: "customers/signups-2026-11.csv",
      body: "Name,Email,Card,Plan\nAlan Turing,alan.turing@example.com,5500 0000 0000 0004,basic\n",
      contentType: "text/csv",
    },
    {
      kind: "put-item",
      item: item("customer#1002", "profile", {
        name: { S: "Alan Turing" },
        email: { S: "alan.turing@example.com" },
        contact: { M: { phone: { S: "+44 161 496 0321" }, city: { S: "Manchester" } } },
        plan: { S: "basic" },
      }),
    },
  ],
  [
    {
      kind: "put-object",
      key: "configs/app.json",
      body: json({ featureFlags: { search: true }, version: 2 }),
      contentType: "application/json",
      metadata: { owner: "platform", revision: "2" },
    },
    { kind: "tag-object", key: "configs/with space.json", tags: { team: "platform" } },
    { kind: "delete-object", key: "configs/obsolete.txt" },
    { kind: "expire-noncurrent", key: "configs/app.json" },
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
    {
      kind: "put-item",
      item: item("customer#1002", "profile", {
        name: { S: "Alan Turing" },
        email: { S: "a.turing@example.org" },
        contact: { M: { phone: { S: "+44 161 496 0321" }, city: { S: "Manchester" } } },
        card: { S: "3782 822463 10005" },
        plan: { S: "pro" },
      }),
    },
  ],
];

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

/** What the sandbox prints about a change. */
export function describeChange(change: ProductionChange): string {
  switch (change.kind) {
    case "put-object":
      return `put "${change.key}"`;
    case "tag-object":
      return `tag "${change.key}"`;
    case "delete-object":
      return `delete "${change.key}"`;
    case "expire-noncurrent":
      return `lifecycle expiration of an old version of "${change.key}"`;
    case "put-item": {
      const { pk, sk } = keysOf(change.item);
      return `put item ${pk} / ${sk}`;
    }
    case "remove-item":
      return `remove item ${change.pk} / ${change.sk}`;
  }
}

/**
 * Writes one change to prod, as a user would: the emulated S3 and DynamoDB emit the event and
 * the stream record themselves (tools/emulators/s3-event-source.ts, dynamodb-stream.ts). A
 * lifecycle expiration is S3's own doing: `expire` emits its event.
 */
export async function applyChange(
  prod: ProductionSide,
  change: ProductionChange,
  expire: (key: string) => Promise<unknown>,
): Promise<void> {
  switch (change.kind) {
    case "put-object":
      await prod.s3.send(
        new PutObjectCommand({
          Bucket: prod.bucket,
          Key: change.key,
          Body: change.body,
          ContentType: change.contentType,
          Metadata: change.metadata,
        }),
      );
      return;
    case "tag-object":
      await prod.s3.send(
        new PutObjectTaggingCommand({
          Bucket: prod.bucket,
          Key: change.key,
          Tagging: {
            TagSet: Object.entries(change.tags).map(([Key, Value]) => ({ Key, Value })),
          },
        }),
      );
      return;
    case "delete-object":
      await prod.s3.send(new DeleteObjectCommand({ Bucket: prod.bucket, Key: change.key }));
      return;
    case "expire-noncurrent":
      await expire(change.key);
      return;
    case "put-item":
      await prod.dynamodb.send(new PutItemCommand({ TableName: prod.table, Item: change.item }));
      return;
    case "remove-item":
      await prod.dynamodb.send(
        new DeleteItemCommand({ TableName: prod.table, Key: itemKeys(change.pk, change.sk) }),
      );
      return;
  }
}
