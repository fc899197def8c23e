/**
 * What the environments hold before the sandbox switches replication on: prod's objects and items
 * from before the pipeline was adopted (one object with user metadata and tags, one with a space
 * and a `+` in its key, a customer item and a JSON Lines export of customers holding personal
 * data), and a drifted dev (an older version of one prod object and of one prod item, written
 * before masking, a replica of a prod item as replication wrote it, and an object and an item
 * that only dev has). Staging starts empty. The resync that follows (tools/sandbox/run.ts) brings
 * both targets to what they must hold of prod's state (masking.ts).
 */
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { AS_IS, type ItemView } from "../../lib/replication/items";
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
  /**
   * Items replication wrote there earlier: replicas of prod's, written as the target sees prod's
   * items (masked, with the masking version, in a masked target).
   */
  readonly replicas?: readonly Item[];
}

const item = (pk: string, sk: string, attributes: Item): Item => ({
  ...itemKeys(pk, sk),
  ...attributes,
});

const jsonLines = (...records: readonly unknown[]): string =>
  records.map((record) => `${JSON.stringify(record)}\n`).join("");

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
    {
      key: "exports/customers.jsonl",
      body: jsonLines(
        {
          id: 1001,
          name: "Ada Lovelace",
          email: "ada.lovelace@example.com",
          plan: "pro",
          note: "Renewal questions: write to ada@analytical.example",
        },
        { id: 1003, name: "Grace Hopper", email: "grace.hopper@example.com", plan: "basic" },
      ),
      contentType: "application/x-ndjson",
      metadata: { "uploaded-by": "exports.robot@example.com", source: "crm" },
    },
  ],
  items: [
    item("history#2025", "summary", { rows: { N: "12" } }),
    item("legacy#app", "config", { version: { N: "2" }, owner: { S: "platform" } }),
    OWNERS,
    item("customer#1001", "profile", {
      name: { S: "Ada Lovelace" },
      email: { S: "ada.lovelace@example.com" },
      contact: { M: { phone: { S: "+44 20 7946 0958" }, city: { S: "London" } } },
      card: { S: "4111 1111 1111 1111" },
      notes: { S: "Prefers email, ada@analytical.example, after 5pm" },
      plan: { S: "pro" },
    }),
  ],
};

/** In the drifted target (dev): stale copies, a replica as replication wrote it, keys only it has. */
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
    item("scratch#dev", "tmp", { note: { S: "only in dev" } }),
  ],
  replicas: [OWNERS],
};

/**
 * Writes `data` into a bucket and a table, as someone did before replication existed; its
 * `replicas` as `view` (how the target sees prod's items) has replication write them.
 */
export async function writeExistingData(
  clients: { readonly s3: S3Client; readonly dynamodb: DynamoDBClient },
  where: { readonly bucket: string; readonly table: string },
  data: ExistingData,
  view: ItemView = AS_IS,
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
  const replicas = (data.replicas ?? []).flatMap((replica): Item[] => {
    const written = view.item(replica);
    return written === undefined ? [] : [written];
  });
  for (const entry of [...data.items, ...replicas]) {
    await clients.dynamodb.send(new PutItemCommand({ TableName: where.table, Item: entry }));
  }
}
