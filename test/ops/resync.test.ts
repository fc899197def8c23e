/**
 * The resync command's core (tools/ops/resync.ts, local engine) on the emulators: targets
 * converge from any starting point (missing, stale, extra), a second run copies nothing, a dry
 * run changes nothing and predicts the real run, extras are kept unless --delete-extra, and every
 * problem with the settings is listed before anything is changed.
 */
import type { ReplicationTarget } from "../../lib/replication/contract";
import { logger } from "../../lib/replication/logger";
import { runResync, ResyncSettingsError } from "../../tools/ops/resync";
import { compareKeys, inPool, mergeListings } from "../../tools/ops/resync-objects";
import {
  bucketState,
  createOtherTable,
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
const opened: CountingClients[] = [];
const clientsFor = (): CountingClients => {
  const clients = worldClients(world);
  opened.push(clients);
  return clients;
};

beforeAll(async () => {
  logger.setLogLevel("SILENT");
  world = await startWorld();
});
afterEach(() => {
  world.s3Proxy.setDecider(() => undefined);
  world.dynamodbProxy.setDecider(() => undefined);
});
afterAll(async () => {
  for (const clients of opened) clients.destroy();
  await world.stop();
});

const SOURCE_KEYS = ["a.txt", "b.txt", "docs/c.txt", "docs/d d.txt", "e+f.txt"];

/**
 * Prod holds five objects and five items. Dev drifted: one object and one item stale, one of
 * each equal but written by hand (no replication markers), one of each that prod never had.
 * Staging is empty.
 */
async function drifted(): Promise<Environments> {
  const envs = await world.environments();
  const { s3, dynamodb } = world;
  for (const key of SOURCE_KEYS) {
    await putObject(s3, envs.source.bucket, key, `body of ${key}`, { owner: "ada" });
  }
  for (let n = 1; n <= 5; n++) {
    await putItem(
      dynamodb,
      envs.source.table,
      itemOf(`user#${n}`, "profile", { n: { N: `${n}` } }),
    );
  }
  await putObject(s3, envs.dev.bucket, "a.txt", "stale body", { owner: "bob" });
  await putObject(s3, envs.dev.bucket, "b.txt", "body of b.txt", { owner: "ada" });
  await putObject(s3, envs.dev.bucket, "x-only-in-dev.txt", "extra");
  await putItem(dynamodb, envs.dev.table, itemOf("user#1", "profile", { n: { N: "100" } }));
  await putItem(dynamodb, envs.dev.table, itemOf("user#2", "profile", { n: { N: "2" } }));
  await putItem(dynamodb, envs.dev.table, itemOf("user#9", "profile", { n: { N: "9" } }));
  return envs;
}

async function snapshot(envs: Environments) {
  const { s3, dynamodb } = world;
  return {
    objects: await Promise.all(
      [envs.source, envs.dev, envs.staging].map((env) => bucketState(s3, env.bucket)),
    ),
    items: await Promise.all(
      [envs.source, envs.dev, envs.staging].map((env) => tableState(dynamodb, env.table)),
    ),
  };
}

const WRITES = ["CopyObjectCommand", "DeleteObjectCommand", "PutItemCommand", "DeleteItemCommand"];

describe("a resync", () => {
  it("brings every target to the source's state from any starting point, keeping extras", async () => {
    const envs = await drifted();
    const clients = clientsFor();

    const summary = await runResync(envs.settings, clients);

    expect(summary).toEqual({
      dryRun: false,
      targets: [
        {
          environment: "dev",
          objects: { copied: 5, deleted: 0, unchanged: 0, archived: 0, extra: 1, failed: 0 },
          items: { put: 4, deleted: 0, unchanged: 1, extra: 1, failed: 0 },
        },
        {
          environment: "staging",
          objects: { copied: 5, deleted: 0, unchanged: 0, archived: 0, extra: 0, failed: 0 },
          items: { put: 5, deleted: 0, unchanged: 0, extra: 0, failed: 0 },
        },
      ],
      failures: [],
      durationMs: expect.any(Number) as number,
    });
    const state = await snapshot(envs);
    const [source, dev, staging] = state.objects;
    expect(staging).toEqual(source);
    expect(dev).toEqual({ ...source, "x-only-in-dev.txt": { body: "extra", metadata: {} } });
    const [sourceItems, devItems, stagingItems] = state.items;
    expect(stagingItems).toEqual(sourceItems);
    expect(devItems).toEqual({
      ...sourceItems,
      "user#9|profile": itemOf("user#9", "profile", { n: { N: "9" } }),
    });
    // Per key: a HEAD of the source, a copy per target, a HEAD of the source to check the copies;
    // a HEAD of the replica only where the target's listing has the key (dev's a.txt and b.txt);
    // the extra key one HEAD of the source (confirmed absent there).
    expect(clients.count("CopyObjectCommand")).toBe(SOURCE_KEYS.length * 2);
    expect(clients.count("HeadObjectCommand")).toBe(SOURCE_KEYS.length * 2 + 2 + 1);
  });

  it("copies nothing the second time: every key is unchanged, no write request is sent", async () => {
    const envs = await drifted();
    await runResync(envs.settings, clientsFor());
    const clients = clientsFor();
    let keysRead = 0;
    clients.dynamodb().middlewareStack.add(
      (next, context) => (args) => {
        const input = args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> };
        if (context.commandName === "BatchGetItemCommand") {
          for (const table of Object.values(input.RequestItems ?? {})) {
            keysRead += table.Keys?.length ?? 0;
          }
        }
        return next(args);
      },
      { step: "initialize", name: "countKeysRead" },
    );

    const summary = await runResync(envs.settings, clients);

    expect(summary.targets).toEqual([
      {
        environment: "dev",
        objects: { copied: 0, deleted: 0, unchanged: 5, archived: 0, extra: 1, failed: 0 },
        items: { put: 0, deleted: 0, unchanged: 5, extra: 1, failed: 0 },
      },
      {
        environment: "staging",
        objects: { copied: 0, deleted: 0, unchanged: 5, archived: 0, extra: 0, failed: 0 },
        items: { put: 0, deleted: 0, unchanged: 5, extra: 0, failed: 0 },
      },
    ]);
    expect(WRITES.map((command) => [command, clients.count(command)])).toEqual(
      WRITES.map((command) => [command, 0]),
    );
    // An unchanged key costs a HEAD per side, an unchanged item one read of the replica; the
    // extra key and item one read of the source each (it is confirmed absent there). Item reads
    // go out as BatchGetItem (resync-item-reads.ts), as many at once as the workers ask for.
    expect(clients.count("HeadObjectCommand")).toBe(SOURCE_KEYS.length * 3 + 1);
    expect(clients.count("GetItemCommand")).toBe(0);
    expect(keysRead).toBe(5 * 2 + 1);
  });

  it("changes nothing in a dry run, and reports what the real run then does", async () => {
    const envs = await drifted();
    const before = await snapshot(envs);
    const clients = clientsFor();

    const dry = await runResync(envs.settings, clients, { dryRun: true, deleteExtra: true });

    expect(await snapshot(envs)).toEqual(before);
    expect(WRITES.map((command) => clients.count(command))).toEqual([0, 0, 0, 0]);
    const real = await runResync(envs.settings, clientsFor(), { deleteExtra: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.targets).toEqual(real.targets);
    // Once converged, a dry run predicts nothing to do.
    const after = await runResync(envs.settings, clientsFor(), { dryRun: true });
    expect(after.targets.map((t) => [t.objects?.unchanged, t.items?.unchanged])).toEqual([
      [5, 5],
      [5, 5],
    ]);
    expect(real.targets[0]).toEqual({
      environment: "dev",
      objects: { copied: 5, deleted: 1, unchanged: 0, archived: 0, extra: 1, failed: 0 },
      items: { put: 4, deleted: 1, unchanged: 1, extra: 1, failed: 0 },
    });
  });

  it("deletes what only a target has with deleteExtra, through the same guard", async () => {
    const envs = await drifted();

    await runResync(envs.settings, clientsFor(), { deleteExtra: true });

    const state = await snapshot(envs);
    expect(state.objects[1]).toEqual(state.objects[0]);
    expect(state.items[1]).toEqual(state.items[0]);
  });

  it.each([
    ["with deleteExtra", true],
    ["without deleteExtra", false],
  ])(
    "copies, rather than deletes or reports, a key put in the source after it was listed (%s)",
    async (_name, deleteExtra) => {
      const envs = await world.environments();
      await putObject(world.s3, envs.dev.bucket, "late.txt", "old");
      const clients = clientsFor();
      // The key reaches the source right after the source's listing came back without it.
      clients.s3().middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          const input = args.input as { Bucket?: string };
          if (
            context.commandName === "ListObjectsV2Command" &&
            input.Bucket === envs.source.bucket
          ) {
            await putObject(world.s3, envs.source.bucket, "late.txt", "late");
          }
          return out;
        },
        { step: "initialize", name: "lateSourceKey" },
      );

      const summary = await runResync(envs.settings, clients, { deleteExtra, items: false });

      expect(summary.targets[0]?.objects).toEqual({
        copied: 1,
        deleted: 0,
        unchanged: 0,
        archived: 0,
        extra: 0,
        failed: 0,
      });
      expect((await bucketState(world.s3, envs.dev.bucket))["late.txt"]?.body).toBe("late");
    },
  );

  it("resyncs only keys under the prefix, and only the named targets", async () => {
    const envs = await drifted();

    const summary = await runResync(envs.settings, clientsFor(), {
      prefix: "docs/",
      targets: ["staging"],
      objects: true,
      items: false,
    });

    expect(summary.targets).toEqual([
      {
        environment: "staging",
        objects: { copied: 2, deleted: 0, unchanged: 0, archived: 0, extra: 0, failed: 0 },
      },
    ]);
    expect(Object.keys(await bucketState(world.s3, envs.staging.bucket))).toEqual([
      "docs/c.txt",
      "docs/d d.txt",
    ]);
    expect(await tableState(world.dynamodb, envs.staging.table)).toEqual({});
    expect(Object.keys(await bucketState(world.s3, envs.dev.bucket))).toEqual([
      "a.txt",
      "b.txt",
      "x-only-in-dev.txt",
    ]);
  });

  it("resyncs items only, leaving the buckets alone", async () => {
    const envs = await drifted();

    const summary = await runResync(envs.settings, clientsFor(), { objects: false });

    expect(summary.targets.map((t) => [t.environment, t.objects, t.items?.put])).toEqual([
      ["dev", undefined, 4],
      ["staging", undefined, 5],
    ]);
    expect(await bucketState(world.s3, envs.staging.bucket)).toEqual({});
  });

  it("lists every failure with its key and error, and converges the rest", async () => {
    const envs = await drifted();
    world.s3Proxy.setDecider((request) =>
      request.method === "PUT" &&
      request.url.startsWith(`/${envs.staging.bucket}/docs/`) &&
      request.headers["x-amz-copy-source"] !== undefined
        ? "s3-access-denied"
        : undefined,
    );
    world.dynamodbProxy.setDecider((request) =>
      request.operation === "PutItem" &&
      request.table === envs.staging.table &&
      request.body.includes("user#3")
        ? "dynamodb-access-denied"
        : undefined,
    );

    const summary = await runResync(envs.settings, clientsFor());

    expect(summary.targets[1]).toEqual({
      environment: "staging",
      objects: { copied: 3, deleted: 0, unchanged: 0, archived: 0, extra: 0, failed: 2 },
      items: { put: 4, deleted: 0, unchanged: 0, extra: 0, failed: 1 },
    });
    const byKey = [...summary.failures].sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(byKey).toEqual([
      {
        environment: "staging",
        kind: "item",
        key: '[["pk",{"S":"user#3"}],["sk",{"S":"profile"}]]',
        error: "AccessDeniedException: User is not authorized to perform this action",
      },
      {
        environment: "staging",
        kind: "object",
        key: "docs/c.txt",
        error: "AccessDenied: Access Denied",
      },
      {
        environment: "staging",
        kind: "object",
        key: "docs/d d.txt",
        error: "AccessDenied: Access Denied",
      },
    ]);
    expect(summary.targets[0]?.objects?.failed).toBe(0);
  });
});

describe("checks before a resync changes anything", () => {
  it("lists every problem at once: unknown targets, a source used as a target, missing buckets and tables", async () => {
    const envs = await world.environments();
    const settings = {
      ...envs.settings,
      targets: [
        { environment: "dev", bucket: "no-such-bucket", table: "no-such-table" },
        { environment: "qa", bucket: envs.source.bucket, table: envs.source.table },
      ],
    };
    const clients = clientsFor();

    const run = runResync(settings, clients, { targets: ["dev", "qa", "uat", "prod"] });

    await expect(run).rejects.toThrow(ResyncSettingsError);
    await expect(run).rejects.toMatchObject({
      problems: [
        'unknown target "uat" (known: dev, qa)',
        'unknown target "prod" (known: dev, qa)',
        `target "qa" is the source: bucket "${envs.source.bucket}" is the source bucket`,
        `target "qa" is the source: table "${envs.source.table}" is the source table`,
        'table "no-such-table" (dev) does not exist',
        'bucket "no-such-bucket" (dev) does not exist',
      ],
    });
    expect(WRITES.map((command) => clients.count(command))).toEqual([0, 0, 0, 0]);
    expect(clients.count("ListObjectsV2Command") + clients.count("ScanCommand")).toBe(0);
  });

  it("refuses a target table whose key schema is not the source's", async () => {
    const envs = await world.environments();
    await createOtherTable(world.dynamodb, `${envs.dev.table}-other`);
    const settings = {
      ...envs.settings,
      targets: [{ ...envs.dev, table: `${envs.dev.table}-other` }],
    };

    await expect(runResync(settings, clientsFor())).rejects.toMatchObject({
      problems: [
        `table "${envs.dev.table}-other" (dev) has the key schema id (HASH), not the source's pk (HASH), sk (RANGE)`,
      ],
    });
  });

  it("names a bucket it cannot read, with the status and the error", async () => {
    const envs = await world.environments();
    world.s3Proxy.setDecider((request) =>
      request.method === "HEAD" && request.url === `/${envs.dev.bucket}/`
        ? "s3-access-denied"
        : undefined,
    );

    await expect(runResync(envs.settings, clientsFor(), { items: false })).rejects.toMatchObject({
      problems: [
        expect.stringMatching(
          new RegExp(`^bucket "${envs.dev.bucket}" \\(dev\\) cannot be read \\(HTTP 403, `),
        ),
      ],
    });
  });

  it("checks only what the run touches: a missing table does not stop an objects-only run", async () => {
    const envs = await world.environments();
    const settings = { ...envs.settings, sourceTable: "no-such-table" };

    await expect(runResync(settings, clientsFor(), { items: false })).resolves.toMatchObject({
      failures: [],
    });
    await expect(runResync(settings, clientsFor(), { objects: false })).rejects.toMatchObject({
      problems: ['table "no-such-table" (source) does not exist'],
    });
  });
});

describe("S3 key order and the merged listings", () => {
  async function* listing(keys: readonly string[]): AsyncGenerator<string> {
    for (const key of keys) {
      await Promise.resolve();
      yield key;
    }
  }

  it("orders keys as S3 lists them (UTF-8 bytes), also outside the BMP", () => {
    // U+FF5E (3 UTF-8 bytes) sorts before U+1F680 (4 bytes), though its UTF-16 unit is higher.
    const [fullwidth, rocket] = ["\uFF5E", "🚀"] as string[];
    expect(compareKeys(fullwidth ?? "", rocket ?? "")).toBeLessThan(0);
    expect([fullwidth, rocket].sort()).toEqual([rocket, fullwidth]);
    expect(compareKeys("a", "b")).toBe(-1);
    expect(compareKeys("b", "a")).toBe(1);
    expect(compareKeys("a", "a")).toBe(0);
  });

  it("yields every source key once and each target's own keys as extras", async () => {
    const [dev, staging] = (await world.environments()).settings.targets as [
      ReplicationTarget,
      ReplicationTarget,
    ];
    const work: string[] = [];

    for await (const item of mergeListings(listing(["b", "d", "f"]), [
      { target: dev, keys: listing(["a", "b", "c", "e"]) },
      { target: staging, keys: listing(["d", "z"]) },
    ])) {
      work.push(
        item.kind === "source"
          ? `${item.key} (not in ${item.unlisted.map((t) => t.environment).join(", ") || "-"})`
          : `${item.target.environment}:${item.key}`,
      );
    }

    expect(work).toEqual([
      "dev:a",
      "b (not in staging)",
      "dev:c",
      "d (not in dev)",
      "dev:e",
      "f (not in dev, staging)",
      "staging:z",
    ]);
  });
});

describe("inPool", () => {
  it("runs every item, at most `concurrency` at once, from an array or an async generator", async () => {
    for (const items of [
      [1, 2, 3, 4, 5],
      (async function* () {
        for (const n of [1, 2, 3, 4, 5]) {
          await Promise.resolve();
          yield n;
        }
      })(),
    ]) {
      const done: number[] = [];
      let running = 0;
      let most = 0;
      await inPool(items, 2, async (n) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        done.push(n);
        running -= 1;
      });
      expect([done.sort(), most]).toEqual([[1, 2, 3, 4, 5], 2]);
    }
  });
});

describe("a resync's less common paths", () => {
  it("lists reads that fail in a dry run, and extras it cannot confirm, as failures", async () => {
    const envs = await drifted();
    world.s3Proxy.setDecider((request) =>
      request.method === "HEAD" &&
      (request.url.startsWith(`/${envs.staging.bucket}/docs/c.txt`) ||
        request.url.startsWith(`/${envs.source.bucket}/x-only-in-dev.txt`) ||
        request.url.startsWith(`/${envs.source.bucket}/e%2Bf.txt`))
        ? "s3-access-denied"
        : undefined,
    );
    // Item reads are batched (BatchGetItem names its tables in the body): every read of
    // staging's table, and the one of user#9 in the source (an extra of dev, read alone).
    const reads = (request: { operation?: string; body: string }, table: string) =>
      request.operation === "BatchGetItem" && request.body.includes(`"${table}"`);
    world.dynamodbProxy.setDecider((request) =>
      reads(request, envs.staging.table) ||
      (reads(request, envs.source.table) && request.body.includes("user#9"))
        ? "dynamodb-access-denied"
        : undefined,
    );

    const dry = await runResync(envs.settings, clientsFor(), { dryRun: true });
    const dryDeleting = await runResync(envs.settings, clientsFor(), {
      dryRun: true,
      deleteExtra: true,
    });
    const real = await runResync(envs.settings, clientsFor(), { targets: ["dev"] });

    const failed = (summary: typeof dry) =>
      summary.failures.map((f) => `${f.environment} ${f.kind} ${f.key}`).sort();
    expect(failed(dry)).toEqual([
      'dev item [["pk",{"S":"user#9"}],["sk",{"S":"profile"}]]',
      "dev object e+f.txt",
      "dev object x-only-in-dev.txt",
      ...[1, 2, 3, 4, 5].map(
        (n) => `staging item [["pk",{"S":"user#${n}"}],["sk",{"S":"profile"}]]`,
      ),
      "staging object docs/c.txt",
      "staging object e+f.txt",
    ]);
    // With deleteExtra, the extras are planned through the source's state: the same failures.
    expect(failed(dryDeleting)).toEqual(failed(dry));
    expect(failed(real)).toEqual([
      'dev item [["pk",{"S":"user#9"}],["sk",{"S":"profile"}]]',
      "dev object e+f.txt",
      "dev object x-only-in-dev.txt",
    ]);
    // Nothing changed in the dry run; the real run wrote what it could.
    expect(Object.keys(await bucketState(world.s3, envs.staging.bucket))).toEqual([]);
    expect(Object.keys(await bucketState(world.s3, envs.dev.bucket))).toHaveLength(5);
  });

  it("converges, rather than reports, an item put in the source after the scan", async () => {
    for (const deleteExtra of [false, true]) {
      const envs = await world.environments();
      await putItem(world.dynamodb, envs.dev.table, itemOf("late", "profile", { v: { S: "old" } }));
      const clients = clientsFor();
      // The item reaches the source right after the source's scan came back without it.
      clients.dynamodb().middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          const input = args.input as { TableName?: string };
          if (context.commandName === "ScanCommand" && input.TableName === envs.source.table) {
            await putItem(
              world.dynamodb,
              envs.source.table,
              itemOf("late", "profile", { v: { S: "new" } }),
            );
          }
          return out;
        },
        { step: "initialize", name: "lateSourceItem" },
      );

      const summary = await runResync(envs.settings, clients, {
        objects: false,
        deleteExtra,
        concurrency: 1,
        targets: ["dev"],
      });

      expect([deleteExtra, summary.targets[0]?.items]).toEqual([
        deleteExtra,
        { put: 1, deleted: 0, unchanged: 0, extra: 0, failed: 0 },
      ]);
      expect(await tableState(world.dynamodb, envs.dev.table)).toEqual({
        "late|profile": itemOf("late", "profile", { v: { S: "new" } }),
      });
    }
  });

  it("names a table it cannot describe, with the error", async () => {
    const envs = await world.environments();
    world.dynamodbProxy.setDecider((request) =>
      request.operation === "DescribeTable" && request.table === envs.staging.table
        ? "dynamodb-access-denied"
        : undefined,
    );

    await expect(runResync(envs.settings, clientsFor(), { objects: false })).rejects.toMatchObject({
      problems: [
        `table "${envs.staging.table}" (staging) cannot be described (AccessDeniedException: User is not authorized to perform this action)`,
      ],
    });
  });
});
