/**
 * Resync benchmarks against the emulators: throughput of `npm run resync`'s local engine
 * (tools/ops/resync.ts) bringing two empty targets to a source of small objects and items,
 * against a naive baseline on the same emulators (list the source, then GetObject + PutObject per
 * key and target, one at a time; Scan, then PutItem per item and target), once as they are and
 * once with S3 behind a proxy that adds network latency to every request; and the bytes that
 * pass through the process per object and target, counted on the sockets by a proxy in front of
 * S3, for two object sizes (constant for the resync: it copies server-side). Each run also
 * counts the S3 requests per key of both.
 *
 * The emulators and the latency proxy run in child processes (resync-processes.ts), as AWS is
 * not in the tool's process; both sides run against the same ones. Without latency the emulator
 * is the bottleneck: its one thread spends about as much CPU on each request as the client's SDK
 * does, whoever sends it, so a tool that sends as many requests per key as the baseline (4 for a
 * new key into two targets: a HEAD of the source, two copies, a HEAD to check) cannot be much
 * faster however many it keeps in flight, and a copy costs s3rver more than a PUT. With latency
 * the measurement is what parallel requests are for: S3 answers small requests in tens of
 * milliseconds ("small requests (for example, less than 512 KB), where median latencies are
 * often in the tens of milliseconds range",
 * https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html;
 * "Horizontal Scaling and Request Parallelization for High Throughput", same whitepaper).
 */
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ReplicationClients } from "../../lib/replication/clients";
import { logger } from "../../lib/replication/logger";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  createBucket,
  createTable,
  type Emulators,
} from "../emulators/emulators";
import { runResync } from "../ops/resync";
import { inPool, listKeys } from "../ops/resync-objects";
import { startByteCounter } from "./byte-counter";
import { startEmulatorProcess, startLatencyProcess } from "./resync-processes";

/** Network latency added to every S3 request in the latency measurement (the low end of S3's). */
export const BENCH_LATENCY_MS = 20;

/**
 * A loopback TCP proxy in a child process that delays everything the client sends by `delayMs`
 * (tools/bench/resync-processes.ts `listenWithLatency`): one round trip of network latency per
 * request, outside the process being measured.
 */
export function startLatencyProxy(
  targetPort: number,
  delayMs: number,
): Promise<{ readonly endpoint: string; close(): Promise<void> }> {
  return startLatencyProcess(targetPort, delayMs);
}

const SOURCE = { environment: "prod", bucket: "resync-bench-source", table: "resync-bench-source" };
export const RESYNC_TARGET_COUNT = 2;
/** The resync's concurrency in the benchmark (the command's default). */
export const RESYNC_BENCH_CONCURRENCY = 16;

/**
 * Replication clients on explicit endpoints (the bench does not touch the environment), with the
 * number of S3 requests sent so far.
 */
function benchClients(
  s3Endpoint: string,
  dynamodbEndpoint: string,
): ReplicationClients & { readonly s3Requests: () => number } {
  const common = { region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS };
  const s3 = new S3Client({ ...common, endpoint: s3Endpoint, forcePathStyle: true });
  const dynamodb = new DynamoDBClient({ ...common, endpoint: dynamodbEndpoint });
  let s3Requests = 0;
  s3.middlewareStack.add(
    (next) => (args) => {
      s3Requests += 1;
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  return {
    s3Requests: () => s3Requests,
    region: EMULATOR_REGION,
    s3: () => s3,
    dynamodb: () => dynamodb,
    sqs: undefined as never,
    destroy() {
      s3.destroy();
      dynamodb.destroy();
    },
  };
}

export interface ResyncBench {
  readonly emulators: Emulators;
  /** Puts `count` objects of `size` bytes (under `prefix`) and `items` items in the source. */
  seed(prefix: string, count: number, size: number, items: number): Promise<void>;
  /** Fresh, empty targets (buckets and tables, unique names) for one run. */
  targets(label: string): Promise<ReplicationTarget[]>;
  settings(targets: readonly ReplicationTarget[]): ReplicationSettings;
  stop(): Promise<void>;
}

export async function startResyncBench(): Promise<ResyncBench> {
  // As `npm run resync` does: the function's per-key log lines would only measure the logger.
  logger.setLogLevel("SILENT");
  const emulators = await startEmulatorProcess();
  await createBucket(emulators, SOURCE.bucket);
  await createTable(emulators, SOURCE.table);
  const clients = benchClients(emulators.s3.endpoint, emulators.dynamodb.endpoint);
  let sets = 0;
  return {
    emulators,
    async seed(prefix, count, size, items) {
      const body = Buffer.alloc(size, "r");
      const keys = (function* () {
        for (let index = 0; index < count; index++) yield `${prefix}object ${index}.bin`;
      })();
      await inPool(keys, 32, async (key) => {
        await clients.s3().send(
          new PutObjectCommand({
            Bucket: SOURCE.bucket,
            Key: key,
            Body: body,
            Metadata: { origin: "bench" },
          }),
        );
      });
      for (let start = 0; start < items; start += 25) {
        const batch = Array.from({ length: Math.min(25, items - start) }, (_unused, offset) => ({
          PutRequest: {
            Item: {
              pk: { S: `${prefix}item#${start + offset}` },
              sk: { S: "profile" },
              n: { N: String(start + offset) },
            },
          },
        }));
        await clients
          .dynamodb()
          .send(new BatchWriteItemCommand({ RequestItems: { [SOURCE.table]: batch } }));
      }
    },
    async targets(label) {
      sets += 1;
      const targets = ["dev", "staging"].map((environment) => ({
        environment,
        bucket: `resync-bench-${sets}${label}-${environment}`,
        table: `resync-bench-${sets}${label}-${environment}`,
      }));
      for (const target of targets) {
        await createBucket(emulators, target.bucket);
        await createTable(emulators, target.table);
      }
      return targets;
    },
    settings: (targets) => ({
      region: EMULATOR_REGION,
      sourceEnvironment: SOURCE.environment,
      sourceBucket: SOURCE.bucket,
      sourceTable: SOURCE.table,
      targets,
      dlqUrl: "http://127.0.0.1:9/unused",
      maxAttempts: 5,
      forcePathStyle: true,
      retryBaseDelayMs: undefined,
      serviceName: "replication",
      logLevel: "SILENT",
      regionEndpoints: undefined,
      masking: undefined,
      maskingSecretArn: undefined,
    }),
    async stop() {
      clients.destroy();
      await emulators.stop();
    },
  };
}

const seconds = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;

/** The naive baseline for objects: list, then GetObject + PutObject per key and target, in turn. */
async function naiveObjects(
  clients: ReplicationClients,
  prefix: string | undefined,
  targets: readonly ReplicationTarget[],
): Promise<number> {
  const s3 = clients.s3();
  const keys: string[] = [];
  for await (const key of listKeys(s3, SOURCE.bucket, prefix)) keys.push(key);
  for (const key of keys) {
    for (const target of targets) {
      const out = await s3.send(new GetObjectCommand({ Bucket: SOURCE.bucket, Key: key }));
      await s3.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: await out.Body?.transformToByteArray(),
          ContentType: out.ContentType,
          Metadata: out.Metadata,
        }),
      );
    }
  }
  return keys.length;
}

/** The naive baseline for items: Scan, then PutItem per item and target, in turn. */
async function naiveItems(
  clients: ReplicationClients,
  targets: readonly ReplicationTarget[],
): Promise<number> {
  const dynamodb = clients.dynamodb();
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({ TableName: SOURCE.table, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      for (const target of targets) {
        await dynamodb.send(new PutItemCommand({ TableName: target.table, Item: item }));
      }
      count += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

export interface ResyncThroughputRun {
  /** Objects (keys) per second into two targets. */
  readonly resyncObjects: number;
  readonly naiveObjects: number;
  /** S3 requests per key (both targets, listings included). */
  readonly resyncRequestsPerObject: number;
  readonly naiveRequestsPerObject: number;
  /** Items per second into two targets. */
  readonly resyncItems: number;
  readonly naiveItems: number;
}

/**
 * One run over the seeded source (`objects` keys under `prefix`, and the `items` items; 0: none):
 * the resync into two fresh targets (objects, then items, each timed alone), and the baseline
 * into two others, both through `s3Endpoint`; which goes first alternates with `run`. Checks that
 * every target got every key.
 */
export async function resyncThroughputRun(
  bench: ResyncBench,
  prefix: string,
  objects: number,
  items: number,
  run: number,
  s3Endpoint = bench.emulators.s3.endpoint,
): Promise<ResyncThroughputRun> {
  const clients = benchClients(s3Endpoint, bench.emulators.dynamodb.endpoint);
  try {
    const resync = async () => {
      const settings = bench.settings(await bench.targets(`r${run}`));
      const requestsBefore = clients.s3Requests();
      let started = process.hrtime.bigint();
      const objectRun = await runResync(settings, clients, {
        prefix,
        items: false,
        concurrency: RESYNC_BENCH_CONCURRENCY,
      });
      const objectSeconds = seconds(started);
      const requests = clients.s3Requests() - requestsBefore;
      started = process.hrtime.bigint();
      const itemRun =
        items === 0
          ? { targets: [] }
          : await runResync(settings, clients, {
              objects: false,
              concurrency: RESYNC_BENCH_CONCURRENCY,
            });
      const itemSeconds = seconds(started);
      for (const target of [...objectRun.targets, ...itemRun.targets]) {
        const done = target.objects?.copied ?? target.items?.put;
        const wanted = target.objects === undefined ? items : objects;
        if (done !== wanted) {
          throw new Error(`resync into ${target.environment} wrote ${String(done)} of ${wanted}`);
        }
      }
      return {
        objects: objects / objectSeconds,
        items: items / itemSeconds,
        requests: requests / objects,
      };
    };
    const naive = async () => {
      const targets = await bench.targets(`n${run}`);
      const requestsBefore = clients.s3Requests();
      let started = process.hrtime.bigint();
      const copied = await naiveObjects(clients, prefix, targets);
      const objectSeconds = seconds(started);
      const requests = clients.s3Requests() - requestsBefore;
      started = process.hrtime.bigint();
      const put = items === 0 ? 0 : await naiveItems(clients, targets);
      const itemSeconds = seconds(started);
      if (copied !== objects || put !== items) {
        throw new Error(`baseline wrote ${copied} of ${objects} objects, ${put} of ${items} items`);
      }
      return {
        objects: objects / objectSeconds,
        items: items / itemSeconds,
        requests: requests / objects,
      };
    };
    const first = run % 2 === 0 ? await resync() : await naive();
    const second = run % 2 === 0 ? await naive() : await resync();
    const [ours, theirs] = run % 2 === 0 ? [first, second] : [second, first];
    return {
      resyncObjects: ours.objects,
      naiveObjects: theirs.objects,
      resyncRequestsPerObject: ours.requests,
      naiveRequestsPerObject: theirs.requests,
      resyncItems: ours.items,
      naiveItems: theirs.items,
    };
  } finally {
    clients.destroy();
  }
}

export interface ResyncBytesSample {
  /** Bytes on the process's S3 sockets per object and target. */
  readonly resync: number;
  readonly naive: number;
}

/**
 * Bytes through the process per object and target: `count` objects of `size` bytes (seeded under
 * `prefix`) resynced into two fresh targets, then copied by the baseline into two others, with
 * S3 behind a byte counter (both directions, headers included).
 */
export async function resyncBytes(
  bench: ResyncBench,
  prefix: string,
  count: number,
  label: string,
): Promise<ResyncBytesSample> {
  const counter = await startByteCounter(Number(new URL(bench.emulators.s3.endpoint).port));
  const clients = benchClients(counter.endpoint, bench.emulators.dynamodb.endpoint);
  try {
    const settings = bench.settings(await bench.targets(`b${label}`));
    const naiveTargets = await bench.targets(`bn${label}`);
    counter.reset();
    await runResync(settings, clients, {
      prefix,
      items: false,
      concurrency: RESYNC_BENCH_CONCURRENCY,
    });
    const resync = counter.total() / (count * RESYNC_TARGET_COUNT);
    counter.reset();
    await naiveObjects(clients, prefix, naiveTargets);
    const naive = counter.total() / (count * RESYNC_TARGET_COUNT);
    return { resync, naive };
  } finally {
    clients.destroy();
    await counter.close();
  }
}
