/**
 * What the environments hold before the sandbox switches replication on: prod's objects and items
 * from before the pipeline was adopted (one object with user metadata and tags, one with a space
 * and a `+` in its key), and a drifted dev (an older version of one prod object and of one prod
 * item, an item equal to prod's, and an object and an item that only dev has). Staging starts
 * empty. The resync that follows (tools/sandbox/run.ts) brings both targets to prod's state.
 */
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { itemKeys } from "../emulators/events";
import type { Item } from "./scenario";

export interface ExistingObject {
  readonly key: string;
  readonly body: string;
  readonly contentType: string;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface ExistingData {
  readonly objects: readonly ExistingObject[];
  readonly items: readonly Item[];
}

const item = (pk: string, sk: string, attributes: Item): Item => ({
  ...itemKeys(pk, sk),
  ...attributes,
});

const OWNERS = item("history#owners", "v1", { owners: { SS: ["data", "platform"] } });

/** In prod since before replication. */
export const EXISTING_PROD: ExistingData = {
  objects: [
    {
      key: "history/2025/summary.csv",
      body: "month,objects\n2025-12,1204\n",
      contentType: "text/csv",
    },
    {
      key: "history/owners.json",
      body: '{"owners":["data","platform"]}\n',
      contentType: "application/json",
      metadata: { owner: "data", retention: "long" },
      tags: { team: "data", classification: "internal" },
    },
    {
      key: "history/Q4 report+final.txt",
      body: "Q4: every environment in step\n",
      contentType: "text/plain",
    },
    {
      key: "history/legacy.yaml",
      body: "version: 2\nowner: platform\n",
      contentType: "application/yaml",
    },
  ],
  items: [
    item("history#2025", "summary", { rows: { N: "12" } }),
    item("legacy#app", "config", { version: { N: "2" }, owner: { S: "platform" } }),
    OWNERS,
  ],
};

/** In the drifted target (dev): stale copies, one equal item, and keys only it has. */
export const EXISTING_DRIFTED: ExistingData = {
  objects: [
    {
      key: "history/legacy.yaml",
      body: "version: 1\n",
      contentType: "application/yaml",
    },
    { key: "scratch/dev-only.txt", body: "a test file\n", contentType: "text/plain" },
  ],
  items: [
    item("legacy#app", "config", { version: { N: "1" } }),
    OWNERS,
    item("scratch#dev", "tmp", { note: { S: "only in dev" } }),
  ],
};

/** Writes `data` into a bucket and a table, as someone did before replication existed. */
export async function writeExistingData(
  clients: { readonly s3: S3Client; readonly dynamodb: DynamoDBClient },
  where: { readonly bucket: string; readonly table: string },
  data: ExistingData,
): Promise<void> {
  for (const object of data.objects) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: where.bucket,
        Key: object.key,
        Body: object.body,
        ContentType: object.contentType,
        Metadata: object.metadata,
        Tagging:
          object.tags === undefined ? undefined : new URLSearchParams(object.tags).toString(),
      }),
    );
  }
  for (const entry of data.items) {
    await clients.dynamodb.send(new PutItemCommand({ TableName: where.table, Item: entry }));
  }
}
