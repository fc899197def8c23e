/**
 * Bounded load test: 1,000 mixed changes (new objects, overwrites, deletes, items) made in the
 * source, their events delivered shuffled with 10 % duplicates through the built bundle while
 * 10 % of S3 and DynamoDB requests fail transiently (and one key per kind fails permanently on
 * one target). Afterwards every target equals the source except the permanently failing keys,
 * which are in the DLQ; a redrive then makes every target equal the source.
 */
import type { DynamoDBRecord } from "aws-lambda";
import { createClients } from "../../lib/replication/clients";
import { readContract } from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { runRedrive } from "../../tools/ops/redrive";
import { createReplicator } from "../../lib/replication/replicator";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import {
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  sequencerAt,
  streamEvent,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";
import type { Fault, FaultDecider } from "../../tools/emulators/fault-proxy";
import {
  SOURCE,
  TARGETS,
  bucketContents,
  deleteSourceItem,
  deleteSourceObject,
  drainQueue,
  listQueue,
  putSourceItem,
  putSourceObject,
  startHarness,
  tableContents,
  type Harness,
} from "../support/replication-harness";

const CHANGES = 1_000;
const OBJECT_KEYS = 100;
const ITEM_KEYS = 80;
const DUPLICATE_RATE = 0.1;
const FAULT_RATE = 0.1;
const CONCURRENCY = 16;
const STREAM_BATCH = 25;

/** Deterministic PRNG (mulberry32) so a failure can be reproduced. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20261128);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;

function shuffle<T>(values: T[]): T[] {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [values[i], values[j]] = [values[j] as T, values[i] as T];
  }
  return values;
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const objectKey = (i: number) => `load/${i % 7}/obj ${i} +%ü.txt`;
const PERMANENT_OBJECT = objectKey(7);
const PERMANENT_ITEM = `item#7`;

let harness: Harness;
beforeAll(async () => {
  logger.setLogLevel("SILENT");
  harness = await startHarness();
});
afterAll(async () => {
  await harness.stop();
});

type Delivery = { kind: "object"; event: unknown } | { kind: "item"; record: DynamoDBRecord };

test("1,000 shuffled changes with duplicates and 10 % transient faults converge, and a redrive finishes the job", async () => {
  // Prepare: make the changes in the source, one key after another per key, keys in parallel.
  const perKey = new Map<string, (() => Promise<Delivery>)[]>();
  const objectExists = new Set<number>();
  const itemExists = new Set<number>();
  let sequence = 0;
  for (let n = 0; n < CHANGES; n++) {
    if (n % 5 < 3) {
      const i = Math.floor(random() * OBJECT_KEYS);
      const key = objectKey(i);
      const remove = objectExists.has(i) && random() < 0.3;
      const sequencer = sequencerAt(++sequence);
      const body = `v${sequence}`;
      if (remove) objectExists.delete(i);
      else objectExists.add(i);
      const steps = perKey.get(key) ?? [];
      steps.push(async () => {
        if (remove) await deleteSourceObject(harness.s3, key);
        else await putSourceObject(harness.s3, key, body, { version: body });
        const input = { bucket: SOURCE.bucket, key, sequencer };
        return {
          kind: "object",
          event: remove ? objectDeletedEvent(input) : objectCreatedEvent(input),
        };
      });
      perKey.set(key, steps);
    } else {
      const i = Math.floor(random() * ITEM_KEYS);
      const pk = `item#${i}`;
      const keys = itemKeys(pk, "sk");
      const remove = itemExists.has(i) && random() < 0.3;
      const eventName = remove ? "REMOVE" : itemExists.has(i) ? "MODIFY" : "INSERT";
      const sequenceNumber = streamSequenceAt(++sequence);
      const item = { ...keys, version: { N: String(sequence) } };
      if (remove) itemExists.delete(i);
      else itemExists.add(i);
      const steps = perKey.get(pk) ?? [];
      steps.push(async () => {
        if (remove) await deleteSourceItem(harness.dynamodb, keys);
        else await putSourceItem(harness.dynamodb, item);
        const record = streamRecord({
          table: SOURCE.table,
          eventName,
          keys,
          sequenceNumber,
          ...(remove ? {} : { newImage: item }),
        });
        return { kind: "item", record };
      });
      perKey.set(pk, steps);
    }
  }
  const deliveries: Delivery[] = [];
  await inPool([...perKey.values()], 8, async (steps) => {
    for (const step of steps) deliveries.push(await step());
  });
  expect(deliveries).toHaveLength(CHANGES);
  const duplicates = deliveries.filter(() => random() < DUPLICATE_RATE);
  const shuffled = shuffle([...deliveries, ...duplicates]);

  // Faults: 10 % transient everywhere; permanent AccessDenied for one key per kind on staging.
  const s3Faults: FaultDecider = (request) => {
    if (
      request.method !== "HEAD" &&
      request.url.startsWith(`/staging-bucket/`) &&
      decodeURIComponent(request.url.split("?")[0] ?? "").endsWith(PERMANENT_OBJECT)
    ) {
      return "s3-access-denied";
    }
    return random() < FAULT_RATE
      ? pick<Fault>(["s3-slow-down", "s3-internal-error", "connection-reset"])
      : undefined;
  };
  const dynamodbFaults: FaultDecider = (request) => {
    if (
      request.table === "staging-table" &&
      request.operation !== "GetItem" &&
      request.body.includes(`"${PERMANENT_ITEM}"`)
    ) {
      return "dynamodb-access-denied";
    }
    return random() < FAULT_RATE
      ? pick<Fault>(["dynamodb-throttling", "dynamodb-throughput-exceeded", "connection-reset"])
      : undefined;
  };
  harness.s3Proxy.setDecider(s3Faults);
  harness.dynamodbProxy.setDecider(dynamodbFaults);

  // Act: deliver like EventBridge (async invoke, up to 2 retries) and a stream mapping
  // (batches; records in batchItemFailures retried).
  const objectEvents = shuffled.flatMap((d) => (d.kind === "object" ? [d.event] : []));
  const itemRecords = shuffled.flatMap((d) => (d.kind === "item" ? [d.record] : []));
  let failedInvocations = 0;
  const deliverObjects = inPool(objectEvents, CONCURRENCY, async (event) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await harness.bundle.handler(event);
        return;
      } catch {
        failedInvocations += 1;
      }
    }
  });
  const batches: DynamoDBRecord[][] = [];
  for (let i = 0; i < itemRecords.length; i += STREAM_BATCH) {
    batches.push(itemRecords.slice(i, i + STREAM_BATCH));
  }
  const unfinished: DynamoDBRecord[] = [];
  const deliverItems = inPool(batches, 4, async (batch) => {
    let pending = batch;
    for (let round = 0; round < 5 && pending.length > 0; round++) {
      const result = (await harness.bundle.handler(streamEvent(pending))) as {
        batchItemFailures: { itemIdentifier: string }[];
      };
      const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
      pending = pending.filter((record) => failed.has(record.eventID ?? ""));
    }
    unfinished.push(...pending);
  });
  await Promise.all([deliverObjects, deliverItems]);
  expect(unfinished).toEqual([]);
  harness.s3Proxy.setDecider(() => undefined);
  harness.dynamodbProxy.setDecider(() => undefined);

  // Assess: faults happened, targets equal the source except the permanently failing keys.
  const injected = { ...harness.s3Proxy.stats.injected, ...harness.dynamodbProxy.stats.injected };
  expect(injected["s3-slow-down"]).toBeGreaterThan(20);
  expect(injected["dynamodb-throttling"]).toBeGreaterThan(10);
  expect(failedInvocations).toBeGreaterThan(0);

  const sourceObjects = await bucketContents(harness.s3, SOURCE.bucket);
  const sourceItems = await tableContents(harness.dynamodb, SOURCE.table, ITEM_SEQUENCE_ATTRIBUTE);
  expect(sourceObjects.size).toBe(objectExists.size);
  expect(sourceItems.size).toBe(itemExists.size);
  const withoutPermanent = <V>(map: Map<string, V>, key: string) =>
    new Map([...map].filter(([name]) => name !== key && !name.startsWith(`${key}|`)));
  const dev = TARGETS[0];
  const staging = TARGETS[1];
  expect(await bucketContents(harness.s3, dev.bucket)).toEqual(sourceObjects);
  expect(await tableContents(harness.dynamodb, dev.table, ITEM_SEQUENCE_ATTRIBUTE)).toEqual(
    sourceItems,
  );
  expect(
    withoutPermanent(await bucketContents(harness.s3, staging.bucket), PERMANENT_OBJECT),
  ).toEqual(withoutPermanent(sourceObjects, PERMANENT_OBJECT));
  expect(
    withoutPermanent(
      await tableContents(harness.dynamodb, staging.table, ITEM_SEQUENCE_ATTRIBUTE),
      PERMANENT_ITEM,
    ),
  ).toEqual(withoutPermanent(sourceItems, PERMANENT_ITEM));

  // Every permanent failure is in the DLQ, naming its target and error.
  const letters = await listQueue(harness.sqs, harness.dlqUrl);
  const permanent = letters.filter((letter) =>
    (letter.error as { name?: string } | undefined)?.name?.startsWith("AccessDenied"),
  );
  expect(permanent.length).toBeGreaterThan(0);
  for (const letter of permanent) expect(letter.target).toEqual(staging);
  expect(permanent.some((letter) => letter.source === "eventbridge")).toBe(true);
  expect(permanent.some((letter) => letter.source === "dynamodb-stream")).toBe(true);

  // A redrive converges: every target equals the source, the DLQ is empty.
  const config = readContract(process.env);
  const clients = createClients(config);
  const summary = await runRedrive(
    { queueUrl: harness.dlqUrl, dryRun: false, maxMessages: undefined },
    { sqs: clients.sqs, replicator: createReplicator(config, clients), targets: config.targets },
  );
  expect(summary).toMatchObject({ failed: 0, failures: [] });
  expect(summary.replayed).toBeGreaterThanOrEqual(permanent.length);
  for (const target of TARGETS) {
    expect(await bucketContents(harness.s3, target.bucket)).toEqual(sourceObjects);
    expect(await tableContents(harness.dynamodb, target.table, ITEM_SEQUENCE_ATTRIBUTE)).toEqual(
      sourceItems,
    );
  }
  expect(await drainQueue(harness.sqs, harness.dlqUrl)).toEqual([]);
  // Bounded by the test timeout below; its speed is a benchmark's business, not an assertion's.
}, 90_000);
