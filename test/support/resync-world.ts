/**
 * A world for resync tests: the emulators behind fault proxies, and on demand a fresh set of
 * environments (source, dev, staging: a bucket and a table each, unique names per set) with
 * replication settings and clients for them. The clients count the requests they send, by
 * command, so a test can assert that a second run copies nothing.
 */
import {
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ReplicationClients } from "../../lib/replication/clients";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  createBucket,
  createTable,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { startFaultProxy, type FaultProxy } from "../../tools/emulators/fault-proxy";
import { listAllObjects, scanAllItems } from "../../tools/emulators/inventory";

export type Item = Record<string, AttributeValue>;

/** Clients of the replication code, counting requests by command name. */
export interface CountingClients extends ReplicationClients {
  readonly requests: Map<string, number>;
  count(command: string): number;
}

/** Replication clients on the proxies (every region is the one emulator), counting requests. */
export function worldClients(world: Pick<World, "s3Proxy" | "dynamodbProxy">): CountingClients {
  const requests = new Map<string, number>();
  const common = { region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, maxAttempts: 2 };
  const count = (command: string | undefined): void => {
    const name = command ?? "unknown";
    requests.set(name, (requests.get(name) ?? 0) + 1);
  };
  const s3 = new S3Client({ ...common, endpoint: world.s3Proxy.endpoint, forcePathStyle: true });
  s3.middlewareStack.add(
    (next, context) => (args) => {
      count(context.commandName);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  const dynamodb = new DynamoDBClient({ ...common, endpoint: world.dynamodbProxy.endpoint });
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      count(context.commandName);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  return {
    region: EMULATOR_REGION,
    s3: () => s3,
    dynamodb: () => dynamodb,
    // Resync never sends dead letters; a client that is never used.
    sqs: undefined as never,
    requests,
    count: (command) => requests.get(command) ?? 0,
    destroy() {
      s3.destroy();
      dynamodb.destroy();
    },
  };
}

export interface Environments {
  readonly settings: ReplicationSettings;
  readonly source: { readonly bucket: string; readonly table: string };
  readonly dev: ReplicationTarget;
  readonly staging: ReplicationTarget;
}

export interface World {
  readonly emulators: Emulators;
  readonly s3Proxy: FaultProxy;
  readonly dynamodbProxy: FaultProxy;
  /** Direct clients (not through the proxies) for setting up and reading state. */
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  /** A fresh source, dev and staging, each with a bucket and a table. */
  environments(): Promise<Environments>;
  stop(): Promise<void>;
}

let sets = 0;

export async function startWorld(): Promise<World> {
  const emulators = await startEmulators();
  const [s3Proxy, dynamodbProxy] = await Promise.all([
    startFaultProxy(emulators.s3.endpoint),
    startFaultProxy(emulators.dynamodb.endpoint),
  ]);
  const direct = { region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  const s3 = new S3Client({ ...direct, endpoint: emulators.s3.endpoint, forcePathStyle: true });
  const dynamodb = new DynamoDBClient({ ...direct, endpoint: emulators.dynamodb.endpoint });
  return {
    emulators,
    s3Proxy,
    dynamodbProxy,
    s3,
    dynamodb,
    async environments() {
      sets += 1;
      const name = (environment: string) => `rs${sets}-${environment}`;
      const [source, dev, staging] = ["prod", "dev", "staging"].map((environment) => ({
        environment,
        bucket: name(environment),
        table: name(environment),
      })) as [ReplicationTarget, ReplicationTarget, ReplicationTarget];
      await Promise.all(
        [source, dev, staging].flatMap((env) => [
          createBucket(emulators, env.bucket),
          createTable(emulators, env.table),
        ]),
      );
      return {
        source,
        dev,
        staging,
        settings: {
          region: EMULATOR_REGION,
          sourceEnvironment: "prod",
          sourceBucket: source.bucket,
          sourceTable: source.table,
          targets: [dev, staging],
          dlqUrl: "http://127.0.0.1:1/unused",
          maxAttempts: 2,
          forcePathStyle: true,
          retryBaseDelayMs: 1,
          serviceName: "replication",
          logLevel: "SILENT",
          regionEndpoints: undefined,
          masking: undefined,
          maskingSecretArn: undefined,
        },
      };
    },
    async stop() {
      s3.destroy();
      dynamodb.destroy();
      await Promise.all([s3Proxy.stop(), dynamodbProxy.stop()]);
      await emulators.stop();
    },
  };
}

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string,
  metadata: Record<string, string> = {},
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      Metadata: metadata,
      ContentType: "text/plain",
    }),
  );
}

export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Key -> body and user metadata (without the replication markers) of every object. */
export async function bucketState(
  s3: S3Client,
  bucket: string,
): Promise<Record<string, { body: string; metadata: Record<string, string> }>> {
  const state: Record<string, { body: string; metadata: Record<string, string> }> = {};
  for await (const object of listAllObjects(s3, bucket)) {
    const key = object.Key ?? "";
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const metadata = Object.fromEntries(
      Object.entries(out.Metadata ?? {}).filter(([name]) => !name.startsWith("replication-")),
    );
    state[key] = { body: (await out.Body?.transformToString()) ?? "", metadata };
  }
  return state;
}

export const itemOf = (pk: string, sk: string, attributes: Item = {}): Item => ({
  pk: { S: pk },
  sk: { S: sk },
  ...attributes,
});

export async function putItem(dynamodb: DynamoDBClient, table: string, item: Item): Promise<void> {
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
}

export async function deleteItem(
  dynamodb: DynamoDBClient,
  table: string,
  item: Item,
): Promise<void> {
  await dynamodb.send(
    new DeleteItemCommand({
      TableName: table,
      Key: { pk: item.pk ?? { S: "" }, sk: item.sk ?? { S: "" } },
    }),
  );
}

/** `pk|sk` -> item without the bookkeeping attribute, for every item of the table. */
export async function tableState(
  dynamodb: DynamoDBClient,
  table: string,
): Promise<Record<string, Item>> {
  const state: Record<string, Item> = {};
  for await (const item of scanAllItems(dynamodb, table)) {
    state[`${item.pk?.S ?? ""}|${item.sk?.S ?? ""}`] = Object.fromEntries(
      Object.entries(item).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
    );
  }
  return state;
}

/** Creates a table whose key schema differs from the stack's (hash key `id` only). */
export async function createOtherTable(dynamodb: DynamoDBClient, name: string): Promise<void> {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}
