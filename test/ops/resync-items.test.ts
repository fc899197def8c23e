/**
 * The local engine's item part (tools/ops/resync-items.ts) with mocked DynamoDB clients: dry
 * runs (what would be put, deleted, kept), extras, and the extras of a target whose keys are
 * masked (pseudonyms, confirmed by a second scan of the source, withdrawn under their marker).
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  ScanCommand,
  type AttributeValue,
  type ScanCommandInput,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationClients } from "../../lib/replication/clients";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import type { ItemKey } from "../../lib/replication/events";
import { maskedItemView, type Item } from "../../lib/replication/items";
import type { Masking } from "../../lib/replication/masking-key";
import { createMasker, type MaskingRules } from "../../lib/replication/masking";
import type { ItemRead } from "../../lib/replication/resync";
import { keyText, resyncItems, scanSegment } from "../../tools/ops/resync-items";
import { ResyncTally } from "../../tools/ops/resync-progress";
import { settings as baseSettings } from "../support/settings";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const sourceDb = new DynamoDBClient({ region: "us-east-1", credentials });
const devDb = new DynamoDBClient({ region: "eu-west-1", credentials });
const stagingDb = new DynamoDBClient({ region: "eu-central-1", credentials });
const sourceMock = mockClient(sourceDb);
const devMock = mockClient(devDb);
const stagingMock = mockClient(stagingDb);

const dev: ReplicationTarget = {
  environment: "dev",
  bucket: "dev-bucket",
  table: "dev-table",
  region: "eu-west-1",
};
const staging: ReplicationTarget = {
  environment: "staging",
  bucket: "staging-bucket",
  table: "staging-table",
  region: "eu-central-1",
};
const settings: ReplicationSettings = { ...baseSettings, targets: [dev, staging] };

const clients: ReplicationClients = {
  region: "us-east-1",
  s3: () => {
    throw new Error("no S3 in an item resync");
  },
  dynamodb: (region) =>
    region === "eu-west-1" ? devDb : region === "eu-central-1" ? stagingDb : sourceDb,
  sqs: undefined as never,
  destroy: () => undefined,
};

const SEQ = "_replicationSequence";
const item = (id: string, extra: Item = {}): Item => ({ id: { S: id }, ...extra });

/** The tables' contents, which the scans page through and the reads read. */
let tables: Map<string, Item[]>;
/** Scans of the source after its first (the keys-only confirmation scans). */
let sourceAfterFirstScan: Item[] | undefined;

const project = (found: Item, input: ScanCommandInput): Item => {
  const names = Object.values(input.ExpressionAttributeNames ?? {});
  if (input.ProjectionExpression === undefined) return found;
  return Object.fromEntries(Object.entries(found).filter(([name]) => names.includes(name)));
};

/** One page per item (exercising LastEvaluatedKey), only segment 0 holds items. */
const scanOf =
  (table: string) =>
  (
    input: ScanCommandInput,
  ): { Items?: Item[]; LastEvaluatedKey?: Record<string, AttributeValue> } => {
    const all =
      table === settings.sourceTable && input.ProjectionExpression !== undefined
        ? (sourceAfterFirstScan ?? tables.get(table) ?? [])
        : (tables.get(table) ?? []);
    if (input.Segment !== 0) return {};
    const start = input.ExclusiveStartKey?.id?.S;
    const index = start === undefined ? 0 : all.findIndex((i) => i.id?.S === start) + 1;
    const found = all[index];
    if (found === undefined) return { Items: [] };
    return {
      Items: [project(found, input)],
      ...(index + 1 < all.length ? { LastEvaluatedKey: { id: found.id ?? { S: "" } } } : {}),
    };
  };

/** Reads from the tables; a key listed in `failing` fails. */
let failing: Set<string>;
const reads: { table: string; keys: ItemKey }[] = [];
const read: ItemRead = (_dynamodb, table, keys) => {
  reads.push({ table, keys });
  if (failing.has(`${table} ${keyText(keys)}`)) {
    return Promise.reject(new Error(`read of ${keyText(keys)} in ${table} failed`));
  }
  const found = (tables.get(table) ?? []).find(
    (i) => keyText({ id: i.id ?? { NULL: true } }) === keyText(keys),
  );
  return Promise.resolve(found);
};

const serviceError = (name: string): DynamoDBServiceException =>
  new DynamoDBServiceException({
    name,
    message: `${name} happened`,
    $fault: "server",
    $metadata: { httpStatusCode: 500 },
  });

beforeEach(() => {
  sourceMock.reset();
  devMock.reset();
  stagingMock.reset();
  tables = new Map();
  sourceAfterFirstScan = undefined;
  failing = new Set();
  reads.length = 0;
  sourceMock.on(ScanCommand).callsFake(scanOf(settings.sourceTable));
  devMock.on(ScanCommand).callsFake(scanOf(dev.table));
  stagingMock.on(ScanCommand).callsFake(scanOf(staging.table));
});

const tally = (dryRun: boolean): ResyncTally =>
  new ResyncTally(["dev", "staging"], { objects: false, items: true }, dryRun);

const counts = (run: ResyncTally, environment: string) =>
  run.summary.targets.find((t) => t.environment === environment)?.items;

const run = (overrides: Partial<Parameters<typeof resyncItems>[0]> = {}) => ({
  settings,
  clients,
  targets: [dev, staging],
  keyNames: ["id"],
  dryRun: true,
  deleteExtra: false,
  concurrency: 2,
  tally: tally(overrides.dryRun ?? true),
  read,
  ...overrides,
});

describe("scanSegment", () => {
  it("pages through one segment consistently, projecting only the given keys", async () => {
    tables.set("t", [item("a", { v: { N: "1" } }), item("b", { v: { N: "2" } })]);
    sourceMock.on(ScanCommand).callsFake(scanOf("t"));

    const all: Item[] = [];
    for await (const found of scanSegment(sourceDb, "t", 0, 3, ["id"])) all.push(found);

    expect(all).toEqual([item("a"), item("b")]);
    expect(sourceMock).toHaveReceivedCommandTimes(ScanCommand, 2);
    expect(sourceMock).toHaveReceivedNthCommandWith(1, ScanCommand, {
      TableName: "t",
      Segment: 0,
      TotalSegments: 3,
      ConsistentRead: true,
      ProjectionExpression: "#k0",
      ExpressionAttributeNames: { "#k0": "id" },
    });
    expect(sourceMock).toHaveReceivedNthCommandWith(2, ScanCommand, {
      ExclusiveStartKey: { id: { S: "a" } },
    });
  });

  it("takes a page without items as an empty page", async () => {
    sourceMock.on(ScanCommand).resolves({});
    const all: Item[] = [];
    for await (const found of scanSegment(sourceDb, "t", 1, 2)) all.push(found);
    expect(all).toEqual([]);
    const input = sourceMock.commandCalls(ScanCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty("ProjectionExpression");
  });
});

describe("resyncItems: a dry run", () => {
  it("predicts puts, deletes of extras and unchanged replicas, writing nothing", async () => {
    tables.set(settings.sourceTable, [item("same", { v: { N: "1" } }), item("new")]);
    tables.set(dev.table, [item("same", { v: { N: "1" } }), item("gone")]);
    tables.set(staging.table, [item("same", { v: { N: "2" } })]);
    const dry = run({ deleteExtra: true });

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toEqual({
      put: 1,
      deleted: 1,
      unchanged: 1,
      extra: 1,
      failed: 0,
    });
    expect(counts(dry.tally, "staging")).toEqual({
      put: 2,
      deleted: 0,
      unchanged: 0,
      extra: 0,
      failed: 0,
    });
    expect(dry.tally.done.items).toBe(2);
    expect(dry.tally.summary.failures).toEqual([]);
    for (const mock of [sourceMock, devMock, stagingMock]) {
      expect(mock).not.toHaveReceivedCommand(DeleteItemCommand);
    }
    // The extra was confirmed against the source before it was planned for deletion.
    expect(reads).toContainEqual({ table: settings.sourceTable, keys: { id: { S: "gone" } } });
  });

  it("lists a failed read of a replica as that target's failure, naming the key and the error", async () => {
    tables.set(settings.sourceTable, [item("a")]);
    failing.add(`${dev.table} ${keyText({ id: { S: "a" } })}`);
    const dry = run();

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toMatchObject({ put: 0, failed: 1 });
    expect(counts(dry.tally, "staging")).toMatchObject({ put: 1, failed: 0 });
    expect(dry.tally.summary.failures).toEqual([
      {
        environment: "dev",
        kind: "item",
        key: keyText({ id: { S: "a" } }),
        error: `Error: read of ${keyText({ id: { S: "a" } })} in dev-table failed`,
      },
    ]);
  });

  it("fails an extra in every given target when the source cannot be read (--delete-extra)", async () => {
    tables.set(dev.table, [item("x")]);
    failing.add(`${settings.sourceTable} ${keyText({ id: { S: "x" } })}`);
    const dry = run({ deleteExtra: true, targets: [dev] });

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toMatchObject({ extra: 0, deleted: 0, failed: 1 });
    expect(dry.tally.summary.failures[0]).toMatchObject({
      environment: "dev",
      key: keyText({ id: { S: "x" } }),
      error: `Error: read of ${keyText({ id: { S: "x" } })} in prod-table failed`,
    });
  });

  it("reports an extra without --delete-extra, and fails it when the source cannot be read", async () => {
    tables.set(dev.table, [item("x"), item("y")]);
    failing.add(`${settings.sourceTable} ${keyText({ id: { S: "y" } })}`);
    const dry = run({ targets: [dev] });

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toEqual({
      put: 0,
      deleted: 0,
      unchanged: 0,
      extra: 1,
      failed: 1,
    });
    expect(dry.tally.summary.failures.map((f) => f.key)).toEqual([keyText({ id: { S: "y" } })]);
  });

  it("converges a key put in the source after its scan like a scanned item (not an extra)", async () => {
    tables.set(dev.table, [item("late", { v: { N: "1" } })]);
    const dry = run({ targets: [dev] });
    // The first scan of the source saw nothing; the item is there when the extra is confirmed.
    sourceMock.on(ScanCommand).resolves({ Items: [] });
    tables.set(settings.sourceTable, [item("late", { v: { N: "2" } })]);

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toEqual({
      put: 1,
      deleted: 0,
      unchanged: 0,
      extra: 0,
      failed: 0,
    });
  });
});

describe("resyncItems: a target with masked keys", () => {
  const rules: MaskingRules = { items: { id: "hash" }, objects: [], unmaskedTargets: ["staging"] };
  const masker = createMasker(rules, Buffer.from("k".repeat(32)));
  const masking: Masking = {
    rules,
    masks: (target) => !rules.unmaskedTargets.includes(target.environment),
    masker: () => Promise.resolve(masker),
  };
  const pseudonym = (id: string): Item => maskedItemView(masker).keys({ id: { S: id } });
  const marker = (n: string): Item => ({ [SEQ]: { S: n } });

  beforeEach(() => {
    // Put since the first scan and replicated before the target's scan: no extra.
    tables.set(settings.sourceTable, []);
    sourceAfterFirstScan = [item("late")];
    tables.set(dev.table, [
      { ...pseudonym("late"), ...marker("1") },
      { ...pseudonym("gone"), ...marker("2") },
      { ...pseudonym("changed"), ...marker("3") },
      { ...pseudonym("broken"), ...marker("4") },
      pseudonym("unmarked"),
    ]);
  });

  it("withdraws the pseudonyms the source does not have, each under the marker its scan saw", async () => {
    devMock.on(DeleteItemCommand).callsFake((input: { Key: ItemKey }) => {
      const id = input.Key.id?.S;
      if (id === pseudonym("changed").id?.S) {
        throw new ConditionalCheckFailedException({ message: "changed", $metadata: {} });
      }
      if (id === pseudonym("broken").id?.S) throw serviceError("InternalServerError");
      return {};
    });
    const live = run({ dryRun: false, deleteExtra: true, targets: [dev], masking });

    await resyncItems(live);

    // The target's scan takes the marker beside the keys.
    expect(devMock).toHaveReceivedCommandWith(ScanCommand, {
      TableName: "dev-table",
      ProjectionExpression: "#k0, #k1",
      ExpressionAttributeNames: { "#k0": "id", "#k1": SEQ },
    });
    expect(devMock).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: "dev-table",
      Key: pseudonym("gone"),
      ConditionExpression: "#seq = :seen",
      ExpressionAttributeValues: { ":seen": { S: "2" } },
    });
    expect(devMock).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: pseudonym("unmarked"),
      ConditionExpression: "attribute_not_exists(#seq)",
    });
    const deleted = devMock
      .commandCalls(DeleteItemCommand)
      .map((call) => call.args[0].input.Key?.id?.S);
    expect(deleted).not.toContain(pseudonym("late").id?.S);
    expect(deleted).toHaveLength(4);
    expect(counts(live.tally, "dev")).toEqual({
      put: 0,
      deleted: 2,
      unchanged: 1,
      extra: 2,
      failed: 1,
    });
    expect(live.tally.summary.failures).toEqual([
      {
        environment: "dev",
        kind: "item",
        key: keyText(pseudonym("broken")),
        error: "InternalServerError: InternalServerError happened",
      },
    ]);
  });

  it("only counts them without --delete-extra, or in a dry run", async () => {
    for (const options of [
      { dryRun: false, deleteExtra: false },
      { dryRun: true, deleteExtra: true },
    ]) {
      devMock.resetHistory();
      const counted = run({ ...options, targets: [dev], masking });

      await resyncItems(counted);

      expect(counts(counted.tally, "dev")).toEqual({
        put: 0,
        deleted: 0,
        unchanged: 0,
        extra: 4,
        failed: 0,
      });
      expect(devMock).not.toHaveReceivedCommand(DeleteItemCommand);
    }
  });

  it("plans the masked item for a masked target and the item as it is for an unmasked one", async () => {
    tables.set(settings.sourceTable, [item("a", { v: { S: "x" } })]);
    sourceAfterFirstScan = undefined;
    tables.set(dev.table, []);
    // Staging is written unmasked and holds the item as it is.
    tables.set(staging.table, [item("a", { v: { S: "x" } })]);
    const dry = run({ masking });

    await resyncItems(dry);

    expect(counts(dry.tally, "dev")).toMatchObject({ put: 1, unchanged: 0, extra: 0 });
    expect(counts(dry.tally, "staging")).toMatchObject({ put: 0, unchanged: 1, extra: 0 });
    // The masked target's replica is read under its pseudonym.
    expect(reads).toContainEqual({ table: dev.table, keys: pseudonym("a") });
    expect(reads).toContainEqual({ table: staging.table, keys: { id: { S: "a" } } });
    // The unmasked target's scan takes the keys only.
    expect(stagingMock).toHaveReceivedCommandWith(ScanCommand, {
      ProjectionExpression: "#k0",
      ExpressionAttributeNames: { "#k0": "id" },
    });
  });
});
