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
import type { AppliedAction } from "./outcome";
import { ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "./sequence";

export type Item = Record<string, AttributeValue>;

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

const NEWER_GUARD = {
  ConditionExpression: "attribute_not_exists(#seq) OR #seq < :seq",
  ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
};

/**
 * Puts or deletes the key in the target table so it matches the source, guarded by sequence.
 * `table` is the target's name, or its ARN when it is in another account (DynamoDB addresses a
 * table of another account only by ARN: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html).
 */
export async function applyItemChange(
  dynamodb: DynamoDBClient,
  change: ItemChange,
  table: string,
  source: Item | undefined,
): Promise<AppliedAction> {
  const sequence: AttributeValue = { S: paddedStreamSequence(change.sequenceNumber) };
  try {
    if (source === undefined) {
      await dynamodb.send(
        new DeleteItemCommand({
          TableName: table,
          Key: change.keys,
          ...NEWER_GUARD,
          ExpressionAttributeValues: { ":seq": sequence },
        }),
      );
      return "deleted";
    }
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...source, [ITEM_SEQUENCE_ATTRIBUTE]: sequence },
        ...NEWER_GUARD,
        ExpressionAttributeValues: { ":seq": sequence },
      }),
    );
    return "put";
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return "skipped";
    throw error;
  }
}

/**
 * Takes back a put of `change` when the source's key is gone meanwhile: deletes the replica only
 * if it still holds that very put (its recorded sequence is the change's), so a newer change that
 * landed since is kept. Returns "deleted", or "skipped" when the replica moved on.
 */
export async function withdrawItemPut(
  dynamodb: DynamoDBClient,
  change: ItemChange,
  table: string,
): Promise<AppliedAction> {
  try {
    await dynamodb.send(
      new DeleteItemCommand({
        TableName: table,
        Key: change.keys,
        ConditionExpression: "#seq = :seq",
        ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
        ExpressionAttributeValues: { ":seq": { S: paddedStreamSequence(change.sequenceNumber) } },
      }),
    );
    return "deleted";
  } catch (error: unknown) {
    if (error instanceof ConditionalCheckFailedException) return "skipped";
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
