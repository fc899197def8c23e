/**
 * A resync running while production keeps changing, on the emulators: live changes (puts,
 * overwrites, deletes of objects and items) are made in the source and their events applied
 * through the replication code (createReplicator, in-process) at the same time as a resync whose
 * requests are slowed down at random, so that live writes land between its reads and its writes.
 * Afterwards every target equals the source, and no item's recorded stream sequence went back:
 * the resync never undid a newer live change.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { logger } from "../../lib/replication/logger";
import { parseItemRecord, parseObjectEvent } from "../../lib/replication/events";
import { createReplicator, isFailure } from "../../lib/replication/replicator";
import { ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "../../lib/replication/sequence";
import { runResync } from "../../tools/ops/resync";
import {
  itemKeys,
  objectCreatedEvent,
  objectDeletedEvent,
  sequencerAt,
  streamRecord,
  streamSequenceAt,
} from "../../tools/emulators/events";
import { scanAllItems } from "../../tools/emulators/inventory";
import {
  bucketState,
  deleteItem,
  deleteObject,
  itemOf,
  putItem,
  putObject,
  startWorld,
  tableState,
  worldClients,
  type CountingClients,
  type Environments,
  type World,
} from "../support/resync-world";

let world: World;
beforeAll(async () => {
  logger.setLogLevel("SILENT");
  world = await startWorld();
});
afterAll(async () => {
  await world.stop();
});

/** A small seeded generator (the run is the same every time). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Delays every request of the client by a random 0-`maxMs` ms (the resync's, not the live path's). */
function slowDown(clients: CountingClients, random: () => number, maxMs: number): void {
  clients.s3().middlewareStack.add(
    (next) => async (args) => {
      await sleep(Math.floor(random() * maxMs));
      return next(args);
    },
    { step: "initialize", name: "slowDown" },
  );
  clients.dynamodb().middlewareStack.add(
    (next) => async (args) => {
      await sleep(Math.floor(random() * maxMs));
      return next(args);
    },
    { step: "initialize", name: "slowDown" },
  );
}

const KEYS = 42;
const WRITERS = 3;
const keyName = (n: number) => `live/${String(n).padStart(3, "0")}.txt`;
const pkName = (n: number) => `user#${String(n).padStart(3, "0")}`;

async function seed(envs: Environments, s3: S3Client) {
  for (let n = 0; n < KEYS; n++) {
    await putObject(s3, envs.source.bucket, keyName(n), `v0 of ${n}`, { version: "0" });
    await putItem(
      world.dynamodb,
      envs.source.table,
      itemOf(pkName(n), "profile", { v: { N: "0" } }),
    );
    // Dev starts stale for every other key, staging empty.
    if (n % 2 === 0) {
      await putObject(s3, envs.dev.bucket, keyName(n), "stale");
      await putItem(
        world.dynamodb,
        envs.dev.table,
        itemOf(pkName(n), "profile", { v: { N: "-1" } }),
      );
    }
  }
}

/** The input of a request, as the middleware sees it. */
interface Input {
  readonly Bucket?: string;
  readonly Key?: string;
  readonly TableName?: string;
  readonly Item?: Record<string, { S?: string }>;
}

describe("a resync beside live replication", () => {
  it("leaves every target equal to the source when live changes land between its reads and writes", async () => {
    const envs = await world.environments();
    const { dev, staging, source } = envs;
    // Dev: every third key stale, every third one holding the source's body without replication
    // markers; staging empty. Items: every third one stale in dev.
    for (let n = 0; n < KEYS; n++) {
      await putObject(world.s3, source.bucket, keyName(n), `v0 of ${n}`, { version: "0" });
      await putItem(world.dynamodb, source.table, itemOf(pkName(n), "profile", { v: { N: "0" } }));
      if (n % 3 === 0) {
        await putObject(world.s3, dev.bucket, keyName(n), "stale");
        await putItem(world.dynamodb, dev.table, itemOf(pkName(n), "profile", { v: { N: "-1" } }));
      }
      if (n % 3 === 2) {
        await putObject(world.s3, dev.bucket, keyName(n), `v0 of ${n}`, { version: "0" });
      }
    }
    const liveClients = worldClients(world);
    const live = createReplicator(envs.settings, liveClients);
    let sequence = 0;
    const lastItemSequence = new Map<string, string>();

    /** A production change of object n, then its event applied to every target by the live path. */
    const liveObjectChange = async (n: number, change: "overwrite" | "delete" | "metadata") => {
      sequence += 1;
      const key = keyName(n);
      if (change === "delete") await deleteObject(world.s3, source.bucket, key);
      else {
        const body = change === "metadata" ? `v0 of ${n}` : `v${sequence} of ${n}`;
        await putObject(world.s3, source.bucket, key, body, { version: String(sequence) });
      }
      const event = (change === "delete" ? objectDeletedEvent : objectCreatedEvent)({
        bucket: source.bucket,
        key,
        sequencer: sequencerAt(sequence),
      });
      const results = await live.replicateObject(parseObjectEvent(event, source.bucket));
      expect(results.filter(isFailure)).toEqual([]);
    };
    /** The same for item n, through a KEYS_ONLY stream record. */
    const liveItemChange = async (n: number, change: "overwrite" | "delete") => {
      sequence += 1;
      const item = itemOf(pkName(n), "profile", { v: { N: String(sequence) } });
      if (change === "delete") await deleteItem(world.dynamodb, source.table, item);
      else await putItem(world.dynamodb, source.table, item);
      const sequenceNumber = streamSequenceAt(sequence);
      const record = streamRecord({
        table: source.table,
        eventName: change === "delete" ? "REMOVE" : "MODIFY",
        keys: itemKeys(pkName(n), "profile"),
        sequenceNumber,
      });
      lastItemSequence.set(pkName(n), change === "delete" ? "" : sequenceNumber);
      const results = await live.replicateItem(parseItemRecord(record, source.table));
      expect(results.filter(isFailure)).toEqual([]);
    };

    // Just before the resync writes a key or an item, production changes it and the live path
    // applies the change: an overwrite (dev, n % 3 = 0; staging n % 3 = 2), a delete (staging,
    // n % 3 = 1), or new metadata on the same body (dev, n % 3 = 2, the same ETag, so only the
    // resync's next round can tell its write was older; staging n % 3 = 0, where the live path
    // creates the replica that staging's listing did not have).
    const plan = (target: string, n: number) =>
      target === dev.bucket || target === dev.table
        ? n % 3 === 0
          ? "overwrite"
          : n % 3 === 2
            ? "metadata"
            : undefined
        : (["metadata", "delete", "overwrite"] as const)[n % 3];
    const fired = { objects: new Set<string>(), items: new Set<string>() };
    const resyncClients = worldClients(world);
    resyncClients.s3().middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Input;
        const n = Number(/(\d+)\.txt$/.exec(input.Key ?? "")?.[1]);
        const change = plan(input.Bucket ?? "", n);
        const id = `${input.Bucket ?? ""}/${input.Key ?? ""}`;
        if (context.commandName === "CopyObjectCommand" && change && !fired.objects.has(id)) {
          fired.objects.add(id);
          await liveObjectChange(n, change);
        }
        return next(args);
      },
      { step: "initialize", name: "liveChangeBeforeCopy" },
    );
    resyncClients.dynamodb().middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Input;
        const n = Number(/(\d+)$/.exec(input.Item?.pk?.S ?? "")?.[1]);
        const change = plan(input.TableName ?? "", n);
        const id = `${input.TableName ?? ""}/${n}`;
        if (context.commandName === "PutItemCommand" && change && !fired.items.has(id)) {
          fired.items.add(id);
          await liveItemChange(n, change === "metadata" ? "overwrite" : change);
        }
        return next(args);
      },
      { step: "initialize", name: "liveChangeBeforePut" },
    );

    const summary = await runResync(envs.settings, resyncClients, { concurrency: 4 });

    // Every planned race happened: one per key and target it was planned for (in dev for two
    // keys in three, in staging for every key).
    const planned = KEYS + (KEYS * 2) / 3;
    expect([fired.objects.size, fired.items.size]).toEqual([planned, planned]);
    expect(summary.failures).toEqual([]);
    const sourceObjects = await bucketState(world.s3, source.bucket);
    const sourceItems = await tableState(world.dynamodb, source.table);
    expect(Object.keys(sourceObjects)).toHaveLength(KEYS - KEYS / 3);
    expect(Object.keys(sourceItems)).toHaveLength(KEYS - KEYS / 3);
    for (const target of [dev, staging]) {
      expect(await bucketState(world.s3, target.bucket)).toEqual(sourceObjects);
      expect(await tableState(world.dynamodb, target.table)).toEqual(sourceItems);
    }
    // No item went back to an older recorded sequence than its last live change's.
    for (const target of [dev, staging]) {
      for await (const item of scanAllItems(world.dynamodb, target.table)) {
        const last = lastItemSequence.get(item.pk?.S ?? "");
        if (last === undefined || last === "") continue;
        expect([item.pk?.S, item[ITEM_SEQUENCE_ATTRIBUTE]?.S]).toEqual([
          item.pk?.S,
          paddedStreamSequence(last),
        ]);
      }
    }
    resyncClients.destroy();
    liveClients.destroy();
  });

  it("leaves every target equal to the source with production changing at random throughout", async () => {
    const envs = await world.environments();
    await seed(envs, world.s3);
    const random = seeded(42);
    const resyncClients = worldClients(world);
    const liveClients = worldClients(world);
    slowDown(resyncClients, seeded(7), 50);
    const live = createReplicator(envs.settings, liveClients);
    let sequence = 0;
    const lastItemSequence = new Map<string, string>();
    let running = true;
    let changesDuringResync = 0;
    const liveFailures: string[] = [];

    // Three writers, each on its own keys (a key's changes stay in order), 30 changes each.
    const liveChanges = async (writer: number): Promise<void> => {
      for (let round = 1; round <= 30; round++) {
        const step = round * WRITERS + writer;
        const n = Math.floor(random() * (KEYS / WRITERS)) * WRITERS + writer;
        const remove = random() < 0.25;
        sequence += 1;
        // Object: change the source, then apply its event.
        const key = keyName(n);
        if (remove) await deleteObject(world.s3, envs.source.bucket, key);
        else
          await putObject(world.s3, envs.source.bucket, key, `v${step} of ${n}`, {
            version: String(step),
          });
        const event = (remove ? objectDeletedEvent : objectCreatedEvent)({
          bucket: envs.source.bucket,
          key,
          sequencer: sequencerAt(sequence),
        });
        const objectResults = await live.replicateObject(
          parseObjectEvent(event, envs.source.bucket),
        );
        // Item: the same, through a KEYS_ONLY stream record.
        const item = itemOf(pkName(n), "profile", { v: { N: String(step) } });
        if (remove) await deleteItem(world.dynamodb, envs.source.table, item);
        else await putItem(world.dynamodb, envs.source.table, item);
        const sequenceNumber = streamSequenceAt(sequence);
        const record = streamRecord({
          table: envs.source.table,
          eventName: remove ? "REMOVE" : "MODIFY",
          keys: itemKeys(pkName(n), "profile"),
          sequenceNumber,
        });
        const itemResults = await live.replicateItem(parseItemRecord(record, envs.source.table));
        lastItemSequence.set(pkName(n), remove ? "" : sequenceNumber);
        for (const failed of [...objectResults, ...itemResults].filter(isFailure)) {
          liveFailures.push(
            `${failed.target.environment}: ${failed.error.name} ${failed.error.message}`,
          );
        }
        if (running) changesDuringResync += 1;
        await sleep(Math.floor(random() * 6));
      }
    };

    const [summary] = await Promise.all([
      runResync(envs.settings, resyncClients, { concurrency: 4 }).finally(() => {
        running = false;
      }),
      ...Array.from({ length: WRITERS }, (_unused, writer) => liveChanges(writer)),
    ]);

    // The two overlapped (the resync's requests are slowed down, the live path's are not), and
    // neither failed.
    expect(changesDuringResync).toBeGreaterThan(0);
    expect(summary.failures).toEqual([]);
    expect(liveFailures).toEqual([]);
    // Every target holds exactly the source's state.
    const source = await bucketState(world.s3, envs.source.bucket);
    const sourceItems = await tableState(world.dynamodb, envs.source.table);
    for (const target of [envs.dev, envs.staging]) {
      expect(await bucketState(world.s3, target.bucket)).toEqual(source);
      expect(await tableState(world.dynamodb, target.table)).toEqual(sourceItems);
    }
    // Each live-changed item still records its last live change's sequence: a resync write
    // keeps the recorded sequence, it never replaces a newer one with an older one.
    for (const target of [envs.dev, envs.staging]) {
      for await (const item of scanAllItems(world.dynamodb, target.table)) {
        const last = lastItemSequence.get(item.pk?.S ?? "");
        if (last === undefined || last === "") continue;
        expect([item.pk?.S, item[ITEM_SEQUENCE_ATTRIBUTE]?.S]).toEqual([
          item.pk?.S,
          paddedStreamSequence(last),
        ]);
      }
    }
    resyncClients.destroy();
    liveClients.destroy();
  });
});
