/**
 * The item resync's consistent reads, batched: the reads its workers ask for in the same turn of
 * the event loop go out together, one BatchGetItem per client and table and up to 100 keys ("A
 * single operation can retrieve up to 16 MB of data, which can contain as many as 100 items"),
 * strongly consistent like the GetItem each stands for ("By default, BatchGetItem performs
 * eventually consistent reads on every table in the request. If you want strongly consistent
 * reads instead, you can set ConsistentRead to true"). Keys DynamoDB leaves in UnprocessedKeys are
 * asked again after a jittered exponential backoff ("If DynamoDB returns any unprocessed items,
 * you should retry the batch operation on those items. However, we strongly recommend that you
 * use an exponential backoff algorithm"), up to `MAX_BATCH_ATTEMPTS` times; the same key asked
 * twice is read once (a request with the same key twice is refused).
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 * Each read still happens after the caller asks for it, so the order of resyncItem's reads and
 * writes for one item is unchanged (lib/replication/resync.ts).
 */
import {
  BatchGetItemCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
} from "@aws-sdk/client-dynamodb";
import { jitteredBackoff } from "../../lib/replication/clients";
import type { ItemKey } from "../../lib/replication/events";
import type { Item } from "../../lib/replication/items";
import type { ItemRead } from "../../lib/replication/resync";

/** The item's key attributes. */
export function keyOf(item: Item, keyNames: readonly string[]): ItemKey {
  return Object.fromEntries(
    keyNames
      .map((name) => [name, item[name]] as const)
      .filter((entry): entry is readonly [string, AttributeValue] => entry[1] !== undefined),
  );
}

/** A key (from `keyOf`) as a string, for the set of the source's keys and the failure list. */
export function keyText(keys: ItemKey): string {
  return JSON.stringify(
    Object.entries(keys).map(([name, value]) => [
      name,
      value.B === undefined ? value : { B: Buffer.from(value.B).toString("base64") },
    ]),
  );
}

/** Keys per BatchGetItem (DynamoDB's limit). */
export const MAX_BATCH_KEYS = 100;
/** Requests for one batch before its still-unprocessed keys fail. */
export const MAX_BATCH_ATTEMPTS = 8;

/** DynamoDB left keys unprocessed through every attempt. */
export class UnprocessedKeysError extends Error {
  override readonly name = "UnprocessedKeysError";
}

interface Waiting {
  readonly keys: ItemKey;
  resolve(item: Item | undefined): void;
  reject(error: unknown): void;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

/** Reads every key of `keys` (at most MAX_BATCH_KEYS, distinct) from `table`; keyText -> item. */
export async function batchRead(
  dynamodb: DynamoDBClient,
  table: string,
  keys: readonly ItemKey[],
  keyNames: readonly string[],
  options: { baseDelayMs?: number } = {},
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  const backoff = jitteredBackoff(options.baseDelayMs ?? 50);
  let unread: ItemKey[] = [...keys];
  for (let attempt = 1; unread.length > 0; attempt++) {
    if (attempt > MAX_BATCH_ATTEMPTS) {
      throw new UnprocessedKeysError(
        `${unread.length} keys of table "${table}" were still unprocessed after ` +
          `${MAX_BATCH_ATTEMPTS} BatchGetItem requests`,
      );
    }
    if (attempt > 1) await sleep(backoff(attempt - 1));
    const request: KeysAndAttributes = { Keys: unread, ConsistentRead: true };
    const out: BatchGetItemCommandOutput = await dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { [table]: request } }),
    );
    // One table per request: its answers, whatever name DynamoDB keys them by (name or ARN).
    for (const item of Object.values(out.Responses ?? {}).flat()) {
      found.set(keyText(keyOf(item, keyNames)), item);
    }
    unread = Object.values(out.UnprocessedKeys ?? {}).flatMap((left) => left.Keys ?? []);
  }
  return found;
}

/**
 * An `ItemRead` that batches: reads asked for until the event loop's next turn (or until
 * MAX_BATCH_KEYS are waiting) go out in one BatchGetItem per client and table.
 */
export function batchedItemReads(
  keyNames: readonly string[],
  options: { baseDelayMs?: number } = {},
): ItemRead {
  const queues = new Map<DynamoDBClient, Map<string, Waiting[]>>();
  const flush = (dynamodb: DynamoDBClient, table: string, waiting: readonly Waiting[]): void => {
    const keys = new Map(waiting.map((entry) => [keyText(entry.keys), entry.keys]));
    batchRead(dynamodb, table, [...keys.values()], keyNames, options).then(
      (found) => {
        for (const entry of waiting) entry.resolve(found.get(keyText(entry.keys)));
      },
      (error: unknown) => {
        for (const entry of waiting) entry.reject(error);
      },
    );
  };
  return (dynamodb, table, keys) =>
    new Promise<Item | undefined>((resolve, reject) => {
      const tables = queues.get(dynamodb) ?? new Map<string, Waiting[]>();
      queues.set(dynamodb, tables);
      const queue = tables.get(table) ?? [];
      tables.set(table, queue);
      queue.push({ keys, resolve, reject });
      const take = () => {
        const waiting = queue.splice(0, MAX_BATCH_KEYS);
        if (waiting.length > 0) flush(dynamodb, table, waiting);
      };
      if (queue.length >= MAX_BATCH_KEYS) take();
      else if (queue.length === 1) setImmediate(take);
    });
}
