/**
 * The local engine's item part: a parallel, consistent Scan of the source table (one segment per
 * unit of concurrency, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan)
 * converges each item into every target with the resync guard (lib/replication/resync.ts), then
 * a keys-only parallel Scan of each target finds the items only it has: extra, reported, and
 * deleted (through the same guard, which re-reads the source first) with --delete-extra. The
 * source's keys are kept in memory between the two scans (about 100 bytes per item). A dry run
 * reads and changes nothing.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ReplicationClients } from "../../lib/replication/clients";
import { targetRegion } from "../../lib/replication/clients";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import { summarizeError } from "../../lib/replication/errors";
import type { ItemKey } from "../../lib/replication/events";
import {
  AS_IS,
  sameItem,
  withdrawItem,
  type Item,
  type ItemView,
} from "../../lib/replication/items";
import { itemViewFor, masksKeys, type Masking } from "../../lib/replication/masking-key";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import type { TargetResult } from "../../lib/replication/outcome";
import {
  NOT_SCANNED,
  resyncItem,
  unchangedResult,
  type ItemRead,
} from "../../lib/replication/resync";
import { keyOf, keyText } from "./resync-item-reads";
import type { ResyncTally } from "./resync-progress";

export { keyOf, keyText } from "./resync-item-reads";

/** Every item of one segment of a parallel scan (consistent reads; only `keys` when given). */
export async function* scanSegment(
  dynamodb: DynamoDBClient,
  table: string,
  segment: number,
  totalSegments: number,
  keys?: readonly string[],
): AsyncGenerator<Item> {
  const projection =
    keys === undefined
      ? {}
      : {
          ProjectionExpression: keys.map((_name, index) => `#k${index}`).join(", "),
          ExpressionAttributeNames: Object.fromEntries(
            keys.map((name, index) => [`#k${index}`, name]),
          ),
        };
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: table,
        Segment: segment,
        TotalSegments: totalSegments,
        ExclusiveStartKey: start,
        ConsistentRead: true,
        ...projection,
      }),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
}

export interface ItemResyncRun {
  readonly settings: ReplicationSettings;
  readonly clients: ReplicationClients;
  readonly targets: readonly ReplicationTarget[];
  /** The source table's key attribute names (DescribeTable). */
  readonly keyNames: readonly string[];
  readonly dryRun: boolean;
  readonly deleteExtra: boolean;
  readonly concurrency: number;
  readonly tally: ResyncTally;
  /** Every consistent read of an item (batched: resync-item-reads.ts). */
  readonly read: ItemRead;
  /** What reaches the targets masked (lib/replication/masking-key.ts). @default nothing is */
  readonly masking?: Masking;
}

type ViewOf = (target: ReplicationTarget) => ItemView;

function failed(target: ReplicationTarget, error: unknown): TargetResult {
  return { ok: false, target, error: summarizeError(error), attempts: 1, retryable: false };
}

/** What a dry run predicts for one item in each target: replicas compared with `source`. */
async function planItem(
  run: ItemResyncRun,
  keys: ItemKey,
  source: Item | undefined,
  targets: readonly ReplicationTarget[],
  viewOf: ViewOf,
): Promise<TargetResult[]> {
  return Promise.all(
    targets.map(async (target): Promise<TargetResult> => {
      try {
        const view = viewOf(target);
        const replica = await run.read(
          run.clients.dynamodb(targetRegion(target, run.settings)),
          target.table,
          view.keys(keys),
        );
        if (sameItem(replica, view.item(source))) return unchangedResult(target, replica);
        return { ok: true, target, action: source === undefined ? "deleted" : "put" };
      } catch (error: unknown) {
        return failed(target, error);
      }
    }),
  );
}

/** Converges (or plans) one item in the given targets; `scanned` as in `resyncItem`. */
async function converge(
  run: ItemResyncRun,
  keys: ItemKey,
  scanned: Item | undefined | typeof NOT_SCANNED,
  targets: readonly ReplicationTarget[],
  viewOf: ViewOf = () => AS_IS,
): Promise<TargetResult[]> {
  if (!run.dryRun) {
    return resyncItem(run.settings, run.clients, keys, scanned, targets, run.read, viewOf);
  }
  if (scanned !== NOT_SCANNED) return planItem(run, keys, scanned, targets, viewOf);
  try {
    const source = await run.read(run.clients.dynamodb(), run.settings.sourceTable, keys);
    return await planItem(run, keys, source, targets, viewOf);
  } catch (error: unknown) {
    return targets.map((target) => failed(target, error));
  }
}

/** A key only `target` has: extra (confirmed against the source), deleted with --delete-extra. */
async function handleExtra(run: ItemResyncRun, keys: ItemKey, target: ReplicationTarget) {
  const { tally } = run;
  const key = keyText(keys);
  if (run.deleteExtra) {
    for (const result of await converge(run, keys, NOT_SCANNED, [target])) {
      if (result.ok && result.action === "deleted") tally.add(target.environment, "items", "extra");
      tally.record("items", key, result);
    }
    return;
  }
  let source;
  try {
    source = await run.read(run.clients.dynamodb(), run.settings.sourceTable, keys);
  } catch (error: unknown) {
    tally.record("items", key, failed(target, error));
    return;
  }
  if (source === undefined) {
    tally.add(target.environment, "items", "extra");
    return;
  }
  // Put in the source since it was scanned: converge it like a scanned item.
  for (const result of await converge(run, keys, source, [target])) {
    tally.record("items", key, result);
  }
}

/** Runs `work` on every item of a parallel scan, one worker per segment. */
async function eachItem(
  dynamodb: DynamoDBClient,
  table: string,
  segments: number,
  keys: readonly string[] | undefined,
  work: (item: Item) => Promise<void>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: segments }, async (_unused, segment) => {
      for await (const item of scanSegment(dynamodb, table, segment, segments, keys)) {
        await work(item);
      }
    }),
  );
}

/**
 * Items only a masked-key target has: its keys are pseudonyms, which cannot be read back into a
 * source key, so a candidate is confirmed by a second scan of the source (an item put since the
 * first scan and replicated before the target's scan is found there), and deleted (with
 * --delete-extra) only while the replica still records the change the target's scan saw.
 */
async function maskedExtras(
  run: ItemResyncRun,
  target: ReplicationTarget,
  view: ItemView,
  candidates: readonly Item[],
): Promise<void> {
  const { settings, clients, keyNames, tally } = run;
  const present = new Set<string>();
  await eachItem(clients.dynamodb(), settings.sourceTable, run.concurrency, keyNames, (item) => {
    present.add(keyText(view.keys(keyOf(item, keyNames))));
    return Promise.resolve();
  });
  const dynamodb = clients.dynamodb(targetRegion(target, settings));
  for (const candidate of candidates) {
    const keys = keyOf(candidate, keyNames);
    if (present.has(keyText(keys))) continue;
    if (!run.deleteExtra || run.dryRun) {
      tally.add(target.environment, "items", "extra");
      continue;
    }
    try {
      const deleted = await withdrawItem(
        dynamodb,
        target.table,
        keys,
        candidate[ITEM_SEQUENCE_ATTRIBUTE],
      );
      // Refused: a live write since the scan, so it is no extra.
      if (deleted) tally.add(target.environment, "items", "extra");
      tally.record("items", keyText(keys), {
        ok: true,
        target,
        action: deleted ? "deleted" : "skipped",
      });
    } catch (error: unknown) {
      tally.record("items", keyText(keys), failed(target, error));
    }
  }
}

/** Resyncs the items of every given target. */
export async function resyncItems(run: ItemResyncRun): Promise<void> {
  const { settings, clients, targets, keyNames, tally, concurrency } = run;
  const views = new Map<ReplicationTarget, ItemView>();
  for (const target of targets) views.set(target, await itemViewFor(run.masking, target));
  const viewOf: ViewOf = (target) => views.get(target) ?? AS_IS;
  const keysMasked = masksKeys(run.masking, keyNames);
  /** Each target's keys of the source's items, as that target names them. */
  const seen = new Map<ReplicationTarget, Set<string>>(targets.map((t) => [t, new Set()]));
  await eachItem(clients.dynamodb(), settings.sourceTable, concurrency, undefined, async (item) => {
    const keys = keyOf(item, keyNames);
    const key = keyText(keys);
    for (const target of targets) seen.get(target)?.add(keyText(viewOf(target).keys(keys)));
    for (const result of await converge(run, keys, item, targets, viewOf)) {
      tally.record("items", key, result);
    }
    tally.done.items += 1;
  });
  for (const target of targets) {
    const dynamodb = clients.dynamodb(targetRegion(target, settings));
    const pseudonyms = keysMasked && run.masking?.masks(target) === true;
    const candidates: Item[] = [];
    const projection = pseudonyms ? [...keyNames, ITEM_SEQUENCE_ATTRIBUTE] : keyNames;
    await eachItem(dynamodb, target.table, concurrency, projection, async (item) => {
      const keys = keyOf(item, keyNames);
      if (seen.get(target)?.has(keyText(keys)) === true) return;
      if (pseudonyms) candidates.push(item);
      else await handleExtra(run, keys, target);
    });
    if (candidates.length > 0) await maskedExtras(run, target, viewOf(target), candidates);
  }
}
