/**
 * Replication benchmarks against the emulators: throughput (changes per second) of the built
 * handler and of the naive baseline on the same emulators and the same changes, in one run; and
 * the bytes that pass through the function per replicated object: all bytes on its sockets,
 * counted by a TCP proxy in front of S3, and the object bytes among them (bodies that carry object
 * data), counted by an HTTP proxy behind it.
 */
import { randomBytes } from "node:crypto";
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  createBucket,
  createQueue,
  emulatorEnvironment,
  s3Client,
  startEmulators,
  type Emulators,
} from "../emulators/emulators";
import { objectCreatedEvent, sequencerAt } from "../emulators/events";
import { importHandler, type ReplicationHandler } from "../common/bundle-file";
import { startByteCounter } from "./byte-counter";
import { startObjectByteMeter } from "./object-bytes";
import { naiveHandler } from "./naive-handler";

const SOURCE_BUCKET = "bench-source";
const HANDLER_TARGETS = [
  { environment: "dev", bucket: "bench-handler-dev", table: "bench-handler-dev" },
  { environment: "staging", bucket: "bench-handler-staging", table: "bench-handler-staging" },
] as const;
const NAIVE_TARGETS = [{ bucket: "bench-naive-dev" }, { bucket: "bench-naive-staging" }] as const;
export const TARGET_COUNT = HANDLER_TARGETS.length;

export const KB = 1024;
export const MB = 1024 * KB;

export interface ReplicationBench {
  readonly emulators: Emulators;
  /** Loads the handler against `s3Endpoint` (the naive baseline follows the same env). */
  withEndpoint<T>(s3Endpoint: string, run: (handler: ReplicationHandler) => Promise<T>): Promise<T>;
  putSource(key: string, body: Uint8Array): Promise<void>;
  /** Deletes every object under `prefix` in every bucket. */
  clear(prefix: string): Promise<void>;
  replicaExists(implementation: "handler" | "naive", key: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The function writes its metrics to stdout (EMF lines, which CloudWatch reads on Lambda); the
 * bench prints its report there. While the handler runs, stdout writes still happen (the function
 * does the same work) but are dropped. Returns what puts stdout back.
 */
export function dropStdout(): () => void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = () => true;
  return () => {
    process.stdout.write = write;
  };
}

export async function startReplicationBench(): Promise<ReplicationBench> {
  const emulators = await startEmulators();
  const s3: S3Client = s3Client(emulators);
  const buckets = [
    SOURCE_BUCKET,
    ...HANDLER_TARGETS.map((t) => t.bucket),
    ...NAIVE_TARGETS.map((t) => t.bucket),
  ];
  for (const bucket of buckets) await createBucket(emulators, bucket);
  const dlqUrl = await createQueue(emulators, "bench-dlq");
  return {
    emulators,
    async withEndpoint(s3Endpoint, run) {
      const { handler, restore } = await importHandler({
        ...emulatorEnvironment({ ...emulators, s3: { endpoint: s3Endpoint } }),
        REGION: "us-east-1",
        SOURCE_ENVIRONMENT: "prod",
        SOURCE_BUCKET,
        SOURCE_TABLE: "bench-source-table",
        TARGETS: JSON.stringify(HANDLER_TARGETS),
        DLQ_URL: dlqUrl,
        POWERTOOLS_LOG_LEVEL: "SILENT",
      });
      const restoreStdout = dropStdout();
      try {
        return await run(handler);
      } finally {
        restoreStdout();
        restore();
      }
    },
    async putSource(key, body) {
      await s3.send(
        new PutObjectCommand({
          Bucket: SOURCE_BUCKET,
          Key: key,
          Body: body,
          ContentType: "application/octet-stream",
          Metadata: { origin: "bench" },
        }),
      );
    },
    async clear(prefix) {
      for (const bucket of buckets) {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
        for (const object of page.Contents ?? []) {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
        }
      }
    },
    async replicaExists(implementation, key) {
      const targets = implementation === "handler" ? HANDLER_TARGETS : NAIVE_TARGETS;
      try {
        for (const target of targets) {
          await s3.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
        }
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      s3.destroy();
      await emulators.stop();
    },
  };
}

type NaiveEvent = Parameters<typeof naiveHandler>[0];

function eventFor(key: string, size: number, sequence: number) {
  return objectCreatedEvent({ bucket: SOURCE_BUCKET, key, sequencer: sequencerAt(sequence), size });
}

let sequence = 0;

async function runHandler(handler: ReplicationHandler, event: unknown): Promise<void> {
  const result = (await handler(event)) as { status?: string };
  if (result.status !== "replicated") {
    throw new Error(`handler did not replicate: ${JSON.stringify(result)}`);
  }
}

async function runNaive(event: unknown): Promise<void> {
  await naiveHandler(event as NaiveEvent, NAIVE_TARGETS);
}

export interface ThroughputRun {
  /** Changes per second. */
  readonly handler: number;
  readonly naive: number;
}

/**
 * One run: `count` new objects of `size` bytes in the source, then the same Object Created
 * events through the handler and through the baseline (one invocation at a time, as one Lambda
 * instance works); which goes first alternates with `run`.
 */
export async function throughputRun(
  bench: ReplicationBench,
  handler: ReplicationHandler,
  size: number,
  count: number,
  run: number,
  body: Uint8Array,
): Promise<ThroughputRun> {
  const prefix = `throughput/${size}/${run}/`;
  const events: ReturnType<typeof eventFor>[] = [];
  for (let index = 0; index < count; index++) {
    const key = `${prefix}object ${index}.bin`;
    await bench.putSource(key, body.subarray(0, size));
    events.push(eventFor(key, size, (sequence += 1)));
  }
  const time = async (implementation: "handler" | "naive"): Promise<number> => {
    const started = process.hrtime.bigint();
    for (const event of events) {
      if (implementation === "handler") await runHandler(handler, event);
      else await runNaive(event);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const last = events.at(-1)?.detail.object.key ?? "";
    if (!(await bench.replicaExists(implementation, last))) {
      throw new Error(`${implementation} left no replica of ${last}`);
    }
    return count / seconds;
  };
  const order: ("handler" | "naive")[] =
    run % 2 === 0 ? ["handler", "naive"] : ["naive", "handler"];
  const result: Record<string, number> = {};
  for (const implementation of order) result[implementation] = await time(implementation);
  await bench.clear(prefix);
  return { handler: result.handler ?? 0, naive: result.naive ?? 0 };
}

/** Bytes of one replicated object, per target. */
export interface ObjectTraffic {
  /** Everything on the S3 sockets, both directions, headers included. */
  readonly socket: number;
  /** Bodies that carry object data (PutObject, UploadPart, GetObject). */
  readonly object: number;
}

export interface BytesSample {
  readonly handler: ObjectTraffic;
  readonly naive: ObjectTraffic;
}

/**
 * For each size, `runs` times: one new object replicated by the handler, then by the baseline,
 * with the function's S3 endpoint behind a byte counter (both directions, headers included) and an
 * object byte meter behind that (handler -> counter -> meter -> S3).
 */
export async function bytesThroughFunction(
  bench: ReplicationBench,
  sizes: readonly number[],
  runs: number,
  body: Uint8Array,
): Promise<Map<number, BytesSample[]>> {
  const meter = await startObjectByteMeter(bench.emulators.s3.endpoint);
  const counter = await startByteCounter(Number(new URL(meter.endpoint).port));
  const perTarget = (): ObjectTraffic => ({
    socket: counter.total() / TARGET_COUNT,
    object: meter.objectBytes() / TARGET_COUNT,
  });
  const reset = (): void => {
    counter.reset();
    meter.reset();
  };
  try {
    return await bench.withEndpoint(counter.endpoint, async (handler) => {
      const samples = new Map<number, BytesSample[]>();
      for (const size of sizes) {
        const list: BytesSample[] = [];
        for (let run = 0; run < runs; run++) {
          const prefix = `bytes/${size}/${run}/`;
          const key = `${prefix}object.bin`;
          await bench.putSource(key, body.subarray(0, size));
          const event = eventFor(key, size, (sequence += 1));
          reset();
          await runHandler(handler, event);
          const handlerTraffic = perTarget();
          reset();
          await runNaive(event);
          list.push({ handler: handlerTraffic, naive: perTarget() });
          await bench.clear(prefix);
        }
        samples.set(size, list);
      }
      return samples;
    });
  } finally {
    await counter.close();
    await meter.close();
  }
}

/** Random bytes to replicate (incompressible, so nothing can shortcut them). */
export function benchBody(size: number): Uint8Array {
  return randomBytes(size);
}
