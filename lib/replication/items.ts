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
