/**
 * Masking benchmarks. Items: changes per second of the built handler replicating DynamoDB stream
 * batches (KEYS_ONLY records of customer items, 10 to a batch as the program's mapping sends them)
 * into two targets, once loaded without masking and once with the README's kind of item rules
 * (a key attribute hashed, an address, a nested phone number, a card number, a note), the key in
 * a Secrets Manager stand-in: the same bundle, the same items, the same emulators, in the order
 * A B B A within a run (A alternating from run to run), so that a drift of the machine's speed
 * during a run weighs on both alike. Each also reports the CPU time of the function's process
 * per item (the emulators' is not in it): masking's own cost, which the emulators' time hides
 * from the rate. Objects: masking-transform.ts (a JSON Lines object through the object
 * transform, in a child process of its own for its peak RSS).
 *
 * The emulators run in a child process (resync-processes.ts), as DynamoDB is not in the
 * function's process.
 */
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { Item, MaskingRules } from "../../lib/replication/masking";
import { writeContract, type ReplicationTarget } from "../../lib/replication/contract";
import { importHandler, type ReplicationHandler } from "../common/bundle-file";
import {
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  createQueue,
  createTable,
  emulatorEnvironment,
} from "../emulators/emulators";
import { itemKeys, streamEvent, streamRecord, streamSequenceAt } from "../emulators/events";
import { startSecretsManager, type SecretsManagerEmulator } from "../emulators/secrets-manager";
import { dropStdout } from "./replication";
import { startEmulatorProcess, type EmulatorProcess } from "./resync-processes";

/** The masking key of the benchmark (not a secret: the data is made up). */
export const BENCH_MASKING_KEY = "bench-masking-key-not-a-secret-0123456789";

/** The item rules the masked handler runs with. */
export const BENCH_ITEM_RULES: MaskingRules = {
  items: {
    pk: "hash",
    name: "hash",
    email: "email",
    "contact.phone": "hash",
    card: "redact",
    notes: "drop",
  },
  objects: [],
  unmaskedTargets: [],
};

/** Records per stream batch: the program's default (`batchSize`). */
export const BENCH_STREAM_BATCH = 10;

const SOURCE_TABLE = "masking-bench-source";
const sides = ["unmasked", "masked"] as const;
type Side = (typeof sides)[number];

const targetsOf = (side: Side): ReplicationTarget[] =>
  ["dev", "staging"].map((environment) => ({
    environment,
    bucket: `masking-bench-${side}-${environment}`,
    table: `masking-bench-${side}-${environment}`,
  }));

/** Customer `index`'s item: personal attributes the rules mask, and others they leave. */
export function benchItem(index: number): Item {
  const n = String(index).padStart(5, "0");
  return {
    ...itemKeys(`customer#${n}`, "profile"),
    name: { S: `Customer ${n}` },
    email: { S: `customer.${n}@example.com` },
    contact: { M: { phone: { S: `+44 20 7946 ${n}` }, city: { S: "London" } } },
    card: { S: `4111 1111 1${n.slice(0, 3)} ${n.slice(3)}00` },
    notes: { S: `Call customer.${n}@example.com after 5pm` },
    plan: { S: index % 3 === 0 ? "pro" : "basic" },
    orders: { N: String(index % 40) },
    tags: { SS: ["newsletter", "eu"] },
  };
}

export interface ItemsPass {
  /** Items per second into two targets. */
  readonly rate: number;
  /** CPU time of this process (the function's) per item, in microseconds. */
  readonly cpuMicrosPerItem: number;
}

export interface ItemsRun {
  readonly unmasked: ItemsPass;
  readonly masked: ItemsPass;
}

export interface MaskingItemsBench {
  /** One run: every item's change through each handler, in turn; `run` picks which goes first. */
  run(run: number): Promise<ItemsRun>;
  stop(): Promise<void>;
}

/** Two passes of one side as one: the rate over both (items over total time), the mean CPU. */
export function combined(passes: readonly ItemsPass[]): ItemsPass {
  if (passes.length === 0) throw new Error("combined needs at least one pass");
  const seconds = passes.reduce((sum, pass) => sum + 1 / pass.rate, 0);
  const cpu = passes.reduce((sum, pass) => sum + pass.cpuMicrosPerItem, 0);
  return { rate: passes.length / seconds, cpuMicrosPerItem: cpu / passes.length };
}

/** Throws unless every masked target holds `count` items and none holds a source address. */
async function checkMasked(dynamodb: DynamoDBClient, count: number): Promise<void> {
  for (const target of targetsOf("masked")) {
    const page = await dynamodb.send(new ScanCommand({ TableName: target.table }));
    const items = page.Items ?? [];
    if (items.length !== count || page.LastEvaluatedKey !== undefined) {
      throw new Error(
        `the masked handler left ${items.length} of ${count} items in ${target.table}`,
      );
    }
    const raw = items.find((item) => !(item.email?.S ?? "").endsWith("@example.invalid"));
    if (raw !== undefined) {
      throw new Error(`the masked handler wrote an unmasked item into ${target.table}`);
    }
  }
}

/**
 * Emulators (in a child process) with a source table of `count` customer items and two target
 * tables per side, the masking key in a Secrets Manager stand-in, and the built handler loaded
 * twice: without masking and with `BENCH_ITEM_RULES`. A warm-up pass writes every replica.
 */
export async function startMaskingItemsBench(count: number): Promise<MaskingItemsBench> {
  const emulators: EmulatorProcess = await startEmulatorProcess();
  let secrets: SecretsManagerEmulator | undefined;
  const restores: (() => void)[] = [];
  const dynamodb = new DynamoDBClient({
    region: EMULATOR_REGION,
    endpoint: emulators.dynamodb.endpoint,
    credentials: EMULATOR_CREDENTIALS,
  });
  const stop = async (): Promise<void> => {
    for (const restore of restores.reverse()) restore();
    dynamodb.destroy();
    await secrets?.stop();
    await emulators.stop();
  };
  try {
    const targetTables = sides.flatMap((side) => targetsOf(side).map((target) => target.table));
    for (const table of [SOURCE_TABLE, ...targetTables]) await createTable(emulators, table);
    for (let start = 0; start < count; start += 25) {
      const batch = Array.from({ length: Math.min(25, count - start) }, (_unused, offset) => ({
        PutRequest: { Item: benchItem(start + offset) },
      }));
      await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [SOURCE_TABLE]: batch } }));
    }
    const dlqUrl = await createQueue(emulators, "masking-bench-dlq");
    secrets = await startSecretsManager(EMULATOR_REGION);
    const maskingSecretArn = secrets.create("masking-bench-key", BENCH_MASKING_KEY);
    const environment = (side: Side): Record<string, string> => ({
      ...emulatorEnvironment(emulators),
      ...(side === "masked" && secrets !== undefined
        ? { AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint }
        : {}),
      ...writeContract({
        region: EMULATOR_REGION,
        sourceEnvironment: "prod",
        sourceBucket: "masking-bench-source",
        sourceTable: SOURCE_TABLE,
        targets: targetsOf(side),
        dlqUrl,
        serviceName: "replication",
        logLevel: "SILENT",
        ...(side === "masked" ? { masking: BENCH_ITEM_RULES, maskingSecretArn } : {}),
      }),
    });
    // The contract is read when the bundle loads: each handler keeps its own.
    const handlers = new Map<Side, ReplicationHandler>();
    for (const side of sides) {
      const loaded = await importHandler(environment(side));
      restores.push(loaded.restore);
      handlers.set(side, loaded.handler);
    }
    let sequence = 0;
    const pass = async (side: Side): Promise<ItemsPass> => {
      const handler = handlers.get(side);
      if (handler === undefined) throw new Error(`no ${side} handler`);
      const cpu = process.cpuUsage();
      const started = process.hrtime.bigint();
      for (let start = 0; start < count; start += BENCH_STREAM_BATCH) {
        const records = [];
        for (let index = start; index < Math.min(count, start + BENCH_STREAM_BATCH); index++) {
          const { pk, sk } = benchItem(index);
          records.push(
            streamRecord({
              table: SOURCE_TABLE,
              eventName: "MODIFY",
              keys: itemKeys(pk?.S ?? "", sk?.S ?? ""),
              sequenceNumber: streamSequenceAt((sequence += 1)),
              region: EMULATOR_REGION,
            }),
          );
        }
        const result = (await handler(streamEvent(records))) as {
          batchItemFailures?: readonly unknown[];
        };
        if ((result.batchItemFailures ?? []).length > 0) {
          throw new Error(`the ${side} handler failed records: ${JSON.stringify(result)}`);
        }
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpu);
      return { rate: count / seconds, cpuMicrosPerItem: (used.user + used.system) / count };
    };
    const restoreStdout = dropStdout();
    try {
      for (const side of sides) await pass(side);
    } finally {
      restoreStdout();
    }
    await checkMasked(dynamodb, count);
    return {
      async run(run) {
        const [first, second] = run % 2 === 0 ? sides : [...sides].reverse();
        const passes = new Map<Side, ItemsPass[]>(sides.map((side) => [side, []]));
        const restore = dropStdout();
        try {
          for (const side of [first, second, second, first]) {
            passes.get(side)?.push(await pass(side));
          }
        } finally {
          restore();
        }
        return {
          unmasked: combined(passes.get("unmasked") ?? []),
          masked: combined(passes.get("masked") ?? []),
        };
      },
      stop,
    };
  } catch (error: unknown) {
    await stop();
    throw error;
  }
}
