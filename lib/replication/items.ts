/**
 * Replicates one item change into one target table: put the source's current item (read
 * consistently once per record) or delete the key, conditional on the replica's recorded
 * stream sequence being older, so replays and stale records are no-ops.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { ItemChange, ItemKey } from "./events";
import { ChangeRaceError } from "./errors";
import type { AppliedAction } from "./outcome";
import { maskItem, type Masker } from "./masking";
import { ITEM_MASKING_ATTRIBUTE, ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "./sequence";

export type Item = Record<string, AttributeValue>;

/**
 * How a target sees the source: the replica's key of a source key, and the replica of a source
 * item. As it is for an unmasked target; masked (and stamped with the masking version) for a
 * masked one, so that every comparison and write happens in the target's terms.
 */
export interface ItemView {
  keys(keys: ItemKey): ItemKey;
  item(item: Item | undefined): Item | undefined;
}

export const AS_IS: ItemView = { keys: (keys) => keys, item: (item) => item };

/** The view of a masked target: key attributes and attributes masked, the version recorded. */
export function maskedItemView(masker: Masker): ItemView {
  return {
    keys: (keys) => maskItem(masker, keys),
    item: (item) =>
      item === undefined
        ? undefined
        : { ...maskItem(masker, item), [ITEM_MASKING_ATTRIBUTE]: { S: masker.version } },
  };
}

/** Consistent read of the source item; `undefined` when the key no longer exists. */
export async function readSourceItem(
  dynamodb: DynamoDBClient,
  table: string,
  keys: ItemKey,
): Promise<Item | undefined> {
  const out = await dynamodb.send(
    new GetItemCommand({ TableName: table, Key: keys, ConsistentRead: true }),
  );
  return out.Item;
}

/**
 * DynamoDB's item size limit: "The maximum item size in DynamoDB is 400 KB, which includes both
 * attribute name binary length (UTF-8 length) and attribute value lengths (again binary length)"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
 */
export const MAX_ITEM_BYTES = 400 * 1024;

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/** Bytes of a number: "1 byte per two significant digits" plus 1, leading and trailing zeroes trimmed. */
function numberBytes(value: string): number {
  const digits = value
    .replace(/^[-+]/, "")
    .replace(/[eE].*$/, "")
    .replace(".", "");
  const significant = digits.replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
}

/**
 * Bytes of an attribute value as DynamoDB counts them ("Item sizes and formats",
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * strings and binaries their length, numbers as above, null and booleans 1 byte, sets the sum of
 * their elements, lists and maps 3 bytes of overhead plus their elements (each element 1 byte
 * more here, and map keys counted: an estimate on the high side, which only ever leaves the
 * marker off an item that might have fitted it).
 */
export function attributeBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.SS !== undefined) return value.SS.reduce((sum, each) => sum + utf8(each), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, each) => sum + numberBytes(each), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, each) => sum + each.length, 0);
  if (value.L !== undefined) {
    return value.L.reduce((sum, each) => sum + 1 + attributeBytes(each), 3);
  }
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce(
      (sum, [name, each]) => sum + 1 + utf8(name) + attributeBytes(each),
      3,
    );
  }
  // NULL, BOOL.
  return 1;
}

/** An item's size as DynamoDB counts it against its 400 KB limit: names and values. */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce(
    (sum, [name, value]) => sum + utf8(name) + attributeBytes(value),
    0,
  );
}

const sequenceValue = (change: ItemChange): AttributeValue => ({
  S: paddedStreamSequence(change.sequenceNumber),
});

/**
 * The replica of `source` as written for `change`: the source's attributes plus the marker of the
 * change, unless the marker would take the item past DynamoDB's 400 KB: such an item is written
 * as it is, without a marker (lib/replication/README.md, "Items near 400 KB", says what that
 * costs: a replay races a live change with one guard fewer, and the check after the replay's
 * write catches it).
 */
export function replicaItem(source: Item, change: ItemChange): Item {
  const marked: Item = { ...source, [ITEM_SEQUENCE_ATTRIBUTE]: sequenceValue(change) };
  return itemBytes(marked) <= MAX_ITEM_BYTES ? marked : { ...source };
}

const SEQ = { "#seq": ITEM_SEQUENCE_ATTRIBUTE };

/**
 * There is no replica, or it records an older change than `change`. A replica that exists without
 * a marker (an item near 400 KB written without one, or one that was there before replication)
 * refuses too: its age is unknown, and a delayed write of an older change (an invocation that
 * timed out with its request in flight, a retry) must not land on a newer item that could not
 * carry its marker. The refusal hands back the replica (ALL_OLD), and `applyItemChange` reads
 * the source again and writes it only while the replica is still the one it saw.
 */
const newerGuard = (change: ItemChange) => ({
  ConditionExpression: "attribute_not_exists(#key) OR #seq < :seq",
  ExpressionAttributeNames: { ...SEQ, "#key": keyName(change) },
  ExpressionAttributeValues: { ":seq": sequenceValue(change) },
});

/** A key attribute of the item: present on every item of the table, so it tells that one exists. */
function keyName(change: ItemChange): string {
  const [name] = Object.keys(change.keys);
  if (name === undefined) throw new Error(`the change ${change.eventId} names no key attribute`);
  return name;
}

/** The replica still records exactly `marker` (or, `undefined`, no marker at all). */
const unchangedGuard = (marker: AttributeValue | undefined) =>
  marker === undefined
    ? { ConditionExpression: "attribute_not_exists(#seq)", ExpressionAttributeNames: SEQ }
    : {
        ConditionExpression: "#seq = :seen",
        ExpressionAttributeNames: SEQ,
        ExpressionAttributeValues: { ":seen": marker },
      };

type Guard = ReturnType<typeof newerGuard> | ReturnType<typeof unchangedGuard>;

/** Puts `source` (or deletes the key, `undefined`) under `guard`; the replica as it was if the guard failed. */
async function guardedWrite(
  dynamodb: DynamoDBClient,
  change: ItemChange,
  table: string,
  source: Item | undefined,
  guard: Guard,
): Promise<{ written: "put" | "deleted" } | { refused: Item | undefined }> {
  try {
    if (source === undefined) {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: change.keys,
          ...guard,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { written: "deleted" };
    }
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: replicaItem(source, change),
        ...guard,
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return { written: "put" };
  } catch (error: unknown) {
    // "ReturnValuesOnConditionCheckFailure ... ALL_OLD: the item attributes as they appeared
    // before the operation" (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html).
    if (error instanceof ConditionalCheckFailedException) return { refused: error.Item };
    throw error;
  }
}

/** What one item change came to in one target, and the source state the replica holds after it. */
export interface ItemWrite {
  readonly action: AppliedAction;
  readonly state: Item | undefined;
}

/** A write guard kept failing: replicas and the source kept changing between the reads. */
export class ItemKeptChangingError extends ChangeRaceError {
  override readonly name = "ItemKeptChangingError";
}

/** Rounds of the fallback below before the change fails (retryable). */
export const MAX_ITEM_ROUNDS = 3;

/**
 * The replica `seen` already is what `source` is written as for `change`: the same item, and a
 * marker of this change or a later one, unless the item cannot carry a marker. A replica with the
 * source's item but no marker (written by a resync, or there before replication), or an older
 * marker (a concurrent change that read the same source), is written once more to record this
 * change: a marker that lags would let a delayed write of a change between the two land.
 */
function settled(seen: Item | undefined, source: Item | undefined, change: ItemChange): boolean {
  if (!sameItem(seen, source)) return false;
  if (seen === undefined || source === undefined) return true;
  const ours = replicaItem(source, change)[ITEM_SEQUENCE_ATTRIBUTE]?.S;
  const recorded = seen[ITEM_SEQUENCE_ATTRIBUTE]?.S;
  return ours === undefined || (recorded !== undefined && recorded >= ours);
}

/**
 * Puts or deletes the key in the target table so it matches the source, guarded by sequence.
 * `table` is the target's name, or its ARN when it is in another account (DynamoDB addresses a
 * table of another account only by ARN: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html).
 *
 * The guard refuses a write when the replica records this change or a newer one. When it does
 * and the replica holds what the source held when read, there is nothing to do (`skipped`: a
 * redelivery costs no write). When the replica holds something else, its marker is not to be
 * trusted as newer: sequence numbers are ordered only within a shard ("Each stream record is
 * assigned a sequence number, reflecting the order in which the record was published to the
 * stream", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html; AWS
 * documents no order across the shards of a split or across a re-created stream), so the marker
 * may come from another shard or stream. Then the source is read again, after the replica was
 * seen: if the replica holds it, `skipped`; otherwise it is written, on the condition that the
 * replica still records what was seen (any writer since makes that fail, and the round starts
 * again). lib/replication/README.md, "Stream sequence numbers", has the argument.
 */
export async function applyItemChange(
  dynamodb: DynamoDBClient,
  change: ItemChange,
  table: string,
  source: Item | undefined,
  readSource: () => Promise<Item | undefined> = () => Promise.resolve(source),
): Promise<ItemWrite> {
  const first = await guardedWrite(dynamodb, change, table, source, newerGuard(change));
  if ("written" in first) return { action: first.written, state: source };
  let seen = first.refused;
  if (settled(seen, source, change)) return { action: "skipped", state: source };
  for (let round = 1; round <= MAX_ITEM_ROUNDS; round++) {
    const now = await readSource();
    if (settled(seen, now, change)) return { action: "skipped", state: now };
    const next = await guardedWrite(
      dynamodb,
      change,
      table,
      now,
      unchangedGuard(seen?.[ITEM_SEQUENCE_ATTRIBUTE]),
    );
    if ("written" in next) return { action: next.written, state: now };
    seen = next.refused;
  }
  throw new ItemKeptChangingError(
    `the replica of ${JSON.stringify(change.keys)} in ${table} kept changing: not settled after ${MAX_ITEM_ROUNDS} rounds`,
  );
}

/**
 * After a replayed write of `change` (redrive, outside the stream's order): when the source no
 * longer holds what was written, writes what it holds now (a delete if the key is gone), on the
 * condition that the replica still records that very write (its marker is the change's, or none
 * for an item written without one), so a live change that landed since is kept. Returns the
 * write, or "skipped" when the replica moved on.
 */
export async function rewriteIfOurs(
  dynamodb: DynamoDBClient,
  change: ItemChange,
  table: string,
  written: Item | undefined,
  now: Item | undefined,
): Promise<AppliedAction> {
  const marker =
    written === undefined ? undefined : replicaItem(written, change)[ITEM_SEQUENCE_ATTRIBUTE];
  const result = await guardedWrite(dynamodb, change, table, now, unchangedGuard(marker));
  return "written" in result ? result.written : "skipped";
}

/**
 * Deletes a replica only while it still records `marker` (its `_replicationSequence` as a scan
 * saw it, or none): a write since (a live change) keeps it. Returns whether it deleted.
 */
export async function withdrawItem(
  dynamodb: DynamoDBClient,
  table: string,
  keys: ItemKey,
  marker: AttributeValue | undefined,
): Promise<boolean> {
  try {
    await dynamodb.send(
      new DeleteItemCommand({ TableName: table, Key: keys, ...unchangedGuard(marker) }),
    );
    return true;
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

// Resync (`npm run resync`): an item is converged without a stream sequence number, so the
// sequence guard above cannot order it. Instead a resync reads the replica first, then the source
// (consistently), and writes only if the replica is still what it read: the condition names the
// replica's recorded `_replicationSequence` (or its absence), which every live write changes. A
// live change applied in between makes the write fail (`conflict`: read again); a live change
// applied after it carries a higher sequence than the one the resync kept, so it still applies.
// lib/replication/resync.ts runs these rounds until one writes nothing (docs/resync.md).

const sortedBy = <T>(entries: [string, T][]): [string, T][] =>
  // Attribute names are unique: never equal.
  entries.sort(([a], [b]) => (a < b ? -1 : 1));

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

/** An attribute value in a canonical form: sets sorted, binaries as base64, maps by name. */
function canonicalValue(value: AttributeValue): unknown {
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS].sort() };
  if (value.NS !== undefined) return { NS: [...value.NS].sort() };
  if (value.BS !== undefined) return { BS: value.BS.map(base64).sort() };
  if (value.L !== undefined) return { L: value.L.map(canonicalValue) };
  if (value.M !== undefined) return { M: canonicalItem(value.M) };
  return value;
}

function canonicalItem(item: Readonly<Record<string, AttributeValue>>): [string, unknown][] {
  return sortedBy(Object.entries(item).map(([name, value]) => [name, canonicalValue(value)]));
}

/** The item without the replication bookkeeping attribute. */
export function withoutBookkeeping(item: Item): Item {
  return Object.fromEntries(
    Object.entries(item).filter(([name]) => name !== ITEM_SEQUENCE_ATTRIBUTE),
  );
}

/** True when both are absent, or hold the same attributes apart from `_replicationSequence`. */
export function sameItem(a: Item | undefined, b: Item | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    JSON.stringify(canonicalItem(withoutBookkeeping(a))) ===
    JSON.stringify(canonicalItem(withoutBookkeeping(b)))
  );
}

/** What a resync write came to: written, or the replica changed since it was read. */
export type ResyncWrite = "put" | "deleted" | "conflict";

/**
 * Makes the target's item equal to `source` (absent: deleted), provided the replica is still
 * `replica` as read before the source was read. Keeps the replica's recorded sequence, a lower
 * bound for the live changes that follow.
 */
export async function writeItemIfUnchanged(
  dynamodb: DynamoDBClient,
  table: string,
  keys: ItemKey,
  source: Item | undefined,
  replica: Item | undefined,
): Promise<ResyncWrite> {
  const recorded = replica?.[ITEM_SEQUENCE_ATTRIBUTE];
  const guard =
    recorded === undefined
      ? {
          ConditionExpression: "attribute_not_exists(#seq)",
          ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
        }
      : {
          ConditionExpression: "#seq = :seen",
          ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
          ExpressionAttributeValues: { ":seen": recorded },
        };
  try {
    if (source === undefined) {
      await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: keys, ...guard }));
      return "deleted";
    }
    const item: Item = { ...withoutBookkeeping(source) };
    if (recorded !== undefined) item[ITEM_SEQUENCE_ATTRIBUTE] = recorded;
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: item, ...guard }));
    return "put";
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return "conflict";
    throw error;
  }
}
