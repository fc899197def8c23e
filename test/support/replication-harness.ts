/**
 * The replication tests' world: the replicating stack as deployed, simulated end to end
 * (tools/emulators/deployment.ts: emulators, event sources, the built bundle in the Lambda host,
 * the rule and the stream mapping), plus what the tests read and write with: the source's
 * writes, every environment's contents, the DLQ, and a redrive in this process.
 */
import { DeleteItemCommand, PutItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createClients, type ReplicationClients } from "../../lib/replication/clients";
import { readContract } from "../../lib/replication/contract";
import { maskingOf, secretsReader } from "../../lib/replication/masking-key";
import { createReplicator } from "../../lib/replication/replicator";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import {
  startDeployment,
  type Deployment,
  type DeploymentOptions,
} from "../../tools/emulators/deployment";
import { EMULATOR_CREDENTIALS } from "../../tools/emulators/emulators";
import type { FaultDecider, ProxiedRequest } from "../../tools/emulators/fault-proxy";
import { listAllObjects, scanAllItems } from "../../tools/emulators/inventory";
import { runRedrive, type RedriveSummary } from "../../tools/ops/redrive";
import { runResync, type ResyncOptions } from "../../tools/ops/resync";
import type { ResyncSummary } from "../../tools/ops/resync-progress";
import { setEnvironment } from "./environment";

export const REGION = "us-east-1";
export const SOURCE = {
  environment: "prod",
  bucket: "prod-bucket",
  table: "prod-table",
  region: REGION,
};
export const TARGETS = [
  { environment: "dev", bucket: "dev-bucket", table: "dev-table", region: REGION },
  { environment: "staging", bucket: "staging-bucket", table: "staging-table", region: REGION },
] as const;

export type Harness = Deployment;

/** The deployment with the test layout, a fast retry backoff and silent logs. */
export function startHarness(options: Partial<DeploymentOptions> = {}): Promise<Harness> {
  return startDeployment({
    source: SOURCE,
    targets: TARGETS,
    contract: { retryBaseDelayMs: 2, maxAttempts: 4, logLevel: "SILENT" },
    ...options,
  });
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

/** An object's tags as `key=value` pairs, sorted. */
export async function objectTags(s3: S3Client, bucket: string, key: string): Promise<string[]> {
  const out = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  return (out.TagSet ?? []).map((tag) => `${tag.Key ?? ""}=${tag.Value ?? ""}`).sort();
}

/** Writes an object to the source bucket (through its event source: S3 sends the event). */
export async function putSourceObject(
  harness: Harness,
  key: string,
  body: string | Uint8Array,
  extra: Omit<PutObjectCommandInput, "Bucket" | "Key" | "Body"> = {},
): Promise<void> {
  await harness.source.s3.send(
    new PutObjectCommand({
      Bucket: SOURCE.bucket,
      Key: key,
      Body: body,
      ContentType: "text/plain",
      ...extra,
    }),
  );
}

export async function deleteSourceObject(harness: Harness, key: string): Promise<void> {
  await harness.source.s3.send(new DeleteObjectCommand({ Bucket: SOURCE.bucket, Key: key }));
}

/** Every key and body of a bucket. */
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

/** Writes an item to the source table (through its stream: DynamoDB records the change). */
export async function putSourceItem(harness: Harness, item: Item): Promise<void> {
  await harness.source.dynamodb.send(new PutItemCommand({ TableName: SOURCE.table, Item: item }));
}

export async function deleteSourceItem(harness: Harness, keys: Item): Promise<void> {
  await harness.source.dynamodb.send(new DeleteItemCommand({ TableName: SOURCE.table, Key: keys }));
}

/** Every item of a table, keyed by `pk|sk`, without the replication bookkeeping attribute. */
export async function tableContents(
  harness: Harness,
  environment: string,
  table: string,
): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for await (const item of scanAllItems(harness.clientsOf(environment).dynamodb, table)) {
    const rest = Object.fromEntries(
      Object.entries(item).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
    );
    // Attributes in name order (a replacer list would also drop the nested attribute values).
    const sorted = Object.fromEntries(Object.entries(rest).sort(([x], [y]) => (x < y ? -1 : 1)));
    contents.set(`${item.pk?.S ?? ""}|${item.sk?.S ?? ""}`, JSON.stringify(sorted));
  }
  return contents;
}

/** Every environment's objects and items equal the source's. */
export async function expectTargetsEqualSource(harness: Harness): Promise<void> {
  const objects = await bucketContents(harness.source.s3, SOURCE.bucket);
  const items = await tableContents(harness, SOURCE.environment, SOURCE.table);
  for (const target of TARGETS) {
    expect(await bucketContents(harness.clientsOf(target.environment).s3, target.bucket)).toEqual(
      objects,
    );
    expect(await tableContents(harness, target.environment, target.table)).toEqual(items);
  }
}

/** A queued message: its body (parsed when JSON) and string attributes. */
export interface QueuedMessage {
  readonly body: unknown;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Every message of the queue (received, then released again). */
export async function listQueue(sqs: SQSClient, queueUrl: string): Promise<QueuedMessage[]> {
  const seen = new Map<string, { message: QueuedMessage; receipt: string | undefined }>();
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      let body: unknown = message.Body;
      try {
        body = JSON.parse(message.Body ?? "");
      } catch {
        // not JSON: keep the text
      }
      seen.set(message.MessageId ?? "", {
        message: {
          body,
          attributes: Object.fromEntries(
            Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              value.StringValue ?? "",
            ]),
          ),
        },
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
  return [...seen.values()].map(({ message }) => message);
}

/** Receives and deletes every message of the queue. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<number> {
  let count = 0;
  for (;;) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return count;
    for (const message of messages) {
      count += 1;
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

/**
 * Runs a redrive in this process with the function's own settings (its environment, as an
 * operator's redrive reads it from the deployed function), against the emulators; with the
 * function's masking (rules and key, read from the deployment's Secrets Manager stand-in), as
 * `npm run redrive` (tools/cli/redrive.ts) replays.
 */
export async function redrive(
  harness: Harness,
  options: {
    /** Called with redrive's clients before it starts (a test adds middleware to them). */
    readonly prepare?: (clients: ReplicationClients) => void;
  } = {},
): Promise<RedriveSummary> {
  const restore = setEnvironment({
    ...harness.pipeline.runtimeEnvironment,
    ...harness.environment,
  });
  const settings = readContract(process.env);
  const clients = createClients(settings);
  const masking = maskingOf(settings, secretsReader(settings));
  options.prepare?.(clients);
  const streams = new DynamoDBStreamsClient({
    region: REGION,
    endpoint: harness.environment.AWS_ENDPOINT_URL_DYNAMODB_STREAMS,
    credentials: { ...EMULATOR_CREDENTIALS },
  });
  try {
    return await runRedrive(
      // Long polling (as the command does), with the shortest wait: the queue is local.
      { queueUrl: harness.dlqUrl, dryRun: false, maxMessages: undefined, waitSeconds: 1 },
      {
        sqs: clients.sqs,
        replicator: createReplicator(settings, clients, masking),
        ...(masking === undefined ? {} : { masking }),
        streams: () => streams,
      },
    );
  } finally {
    clients.destroy();
    streams.destroy();
    restore();
  }
}

/**
 * Runs a resync (the local engine) in this process with the function's own settings and
 * masking, as `npm run resync` (tools/cli/resync.ts) does, against the emulators.
 */
export async function resync(
  harness: Harness,
  options: Omit<ResyncOptions, "masking"> = {},
): Promise<ResyncSummary> {
  const restore = setEnvironment({
    ...harness.pipeline.runtimeEnvironment,
    ...harness.environment,
  });
  const settings = readContract(process.env);
  const clients = createClients(settings);
  try {
    return await runResync(settings, clients, {
      ...options,
      masking: maskingOf(settings, secretsReader(settings)),
    });
  } finally {
    clients.destroy();
    restore();
  }
}

/** A fault decider that also counts the requests matching `counted`. */
export function counting(
  counted: (request: ProxiedRequest) => boolean,
  decide: FaultDecider = () => undefined,
): { decider: FaultDecider; count: () => number } {
  let count = 0;
  return {
    decider: (request) => {
      if (counted(request)) count += 1;
      return decide(request);
    },
    count: () => count,
  };
}

/** A CopyObject request (S3 PUT with a copy source). */
export const isCopy = (request: ProxiedRequest): boolean =>
  request.method === "PUT" && request.headers["x-amz-copy-source"] !== undefined;
