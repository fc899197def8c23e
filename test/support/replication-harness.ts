/**
 * Harness for replication integration tests: emulators behind fault proxies, source/target
 * buckets and tables, a DLQ, the built bundle configured only through the environment
 * contract, and helpers to read state and drain the DLQ.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { loadBundle, setEnvironment, type BundleModule } from "./bundle";
import {
  createBucket,
  createQueue,
  createTable,
  dynamodbClient,
  emulatorEnvironment,
  s3Client,
  sqsClient,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { startFaultProxy, type FaultProxy } from "../../tools/emulators/fault-proxy";
import { listAllObjects, scanAllItems } from "../../tools/emulators/inventory";

export const SOURCE = { environment: "prod", bucket: "prod-bucket", table: "prod-table" };
export const TARGETS = [
  { environment: "dev", bucket: "dev-bucket", table: "dev-table" },
  { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
] as const;

export interface Harness {
  readonly emulators: Emulators;
  readonly s3Proxy: FaultProxy;
  readonly dynamodbProxy: FaultProxy;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly bundle: BundleModule;
  stop(): Promise<void>;
}

export async function startHarness(extraEnv: Record<string, string> = {}): Promise<Harness> {
  const emulators = await startEmulators();
  const [s3Proxy, dynamodbProxy] = await Promise.all([
    startFaultProxy(emulators.s3.endpoint),
    startFaultProxy(emulators.dynamodb.endpoint),
  ]);
  const all = [SOURCE, ...TARGETS];
  await Promise.all([
    ...all.map((env) => createBucket(emulators, env.bucket)),
    ...all.map((env) => createTable(emulators, env.table)),
  ]);
  const dlqUrl = await createQueue(emulators, "replication-dlq");
  const restore = setEnvironment({
    ...emulatorEnvironment({
      s3: { endpoint: s3Proxy.endpoint },
      dynamodb: { endpoint: dynamodbProxy.endpoint },
      sqs: emulators.sqs,
    }),
    REGION: "us-east-1",
    SOURCE_ENVIRONMENT: SOURCE.environment,
    SOURCE_BUCKET: SOURCE.bucket,
    SOURCE_TABLE: SOURCE.table,
    TARGETS: JSON.stringify(TARGETS),
    DLQ_URL: dlqUrl,
    MAX_ATTEMPTS: "4",
    RETRY_BASE_DELAY_MS: "2",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1",
    ...extraEnv,
  });
  const bundle = await loadBundle();
  const s3 = s3Client(emulators);
  const dynamodb = dynamodbClient(emulators);
  const sqs = sqsClient(emulators);
  return {
    emulators,
    s3Proxy,
    dynamodbProxy,
    s3,
    dynamodb,
    sqs,
    dlqUrl,
    bundle,
    async stop() {
      restore();
      s3.destroy();
      dynamodb.destroy();
      sqs.destroy();
      await Promise.all([s3Proxy.stop(), dynamodbProxy.stop()]);
      await emulators.stop();
    },
  };
}

export interface ObjectState {
  readonly body: string;
  readonly contentType: string | undefined;
  readonly metadata: Record<string, string>;
}

export async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<ObjectState | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return {
      body: (await out.Body?.transformToString()) ?? "",
      contentType: out.ContentType,
      metadata: out.Metadata ?? {},
    };
  } catch (error: unknown) {
    if (error instanceof Error && error.name === "NoSuchKey") return undefined;
    throw error;
  }
}

export async function objectExists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

export async function putSourceObject(
  s3: S3Client,
  key: string,
  body: string,
  metadata: Record<string, string> = {},
  contentType = "text/plain",
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: SOURCE.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      Metadata: metadata,
    }),
  );
}

export async function deleteSourceObject(s3: S3Client, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: SOURCE.bucket, Key: key }));
}

/** Every key and body of a bucket (small test buckets: one page of up to 1,000 keys each). */
export async function bucketContents(s3: S3Client, bucket: string): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for await (const object of listAllObjects(s3, bucket)) {
    if (object.Key === undefined) continue;
    const state = await readObject(s3, bucket, object.Key);
    if (state) contents.set(object.Key, state.body);
  }
  return contents;
}

export type Item = Record<string, AttributeValue>;

export async function putSourceItem(dynamodb: DynamoDBClient, item: Item): Promise<void> {
  await dynamodb.send(new PutItemCommand({ TableName: SOURCE.table, Item: item }));
}

export async function deleteSourceItem(dynamodb: DynamoDBClient, keys: Item): Promise<void> {
  await dynamodb.send(new DeleteItemCommand({ TableName: SOURCE.table, Key: keys }));
}

export async function readItem(
  dynamodb: DynamoDBClient,
  table: string,
  keys: Item,
): Promise<Item | undefined> {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: keys, ConsistentRead: true }),
  );
  return out.Item;
}

/** Every item of a table, keyed by `pk|sk`, without the replication bookkeeping attribute. */
export async function tableContents(
  dynamodb: DynamoDBClient,
  table: string,
  ignore: string,
): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for await (const item of scanAllItems(dynamodb, table)) {
    const rest = Object.fromEntries(Object.entries(item).filter(([name]) => name !== ignore));
    contents.set(
      `${item.pk?.S ?? ""}|${item.sk?.S ?? ""}`,
      JSON.stringify(rest, Object.keys(rest).sort()),
    );
  }
  return contents;
}

/** Reads (without consuming) up to 10 messages of the queue, returning the parsed bodies. */
export async function peekQueue(
  sqs: SQSClient,
  queueUrl: string,
): Promise<Record<string, unknown>[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      VisibilityTimeout: 0,
    }),
  );
  // With VisibilityTimeout 0 the emulator may hand the same message out several times.
  const unique = new Map((out.Messages ?? []).map((message) => [message.MessageId, message]));
  return [...unique.values()].map(
    (message) => JSON.parse(message.Body ?? "{}") as Record<string, unknown>,
  );
}

/** Every message of the queue (received, then released again), as parsed bodies. */
export async function listQueue(
  sqs: SQSClient,
  queueUrl: string,
): Promise<Record<string, unknown>[]> {
  const seen = new Map<string, { body: Record<string, unknown>; receipt: string | undefined }>();
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      seen.set(message.MessageId ?? "", {
        body: JSON.parse(message.Body ?? "{}") as Record<string, unknown>,
        receipt: message.ReceiptHandle,
      });
    }
  }
  await Promise.all(
    [...seen.values()].map(({ receipt }) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receipt,
          VisibilityTimeout: 0,
        }),
      ),
    ),
  );
  return [...seen.values()].map(({ body }) => body);
}

/** Receives and deletes every message in the DLQ, returning the parsed bodies. */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
): Promise<Record<string, unknown>[]> {
  const bodies: Record<string, unknown>[] = [];
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const message of messages) {
      bodies.push(JSON.parse(message.Body ?? "{}") as Record<string, unknown>);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}
