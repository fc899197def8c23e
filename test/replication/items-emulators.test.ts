/**
 * The item guards as DynamoDB evaluates them (dynalite, in memory): the condition expressions of
 * `applyItemChange` against replicas that carry no marker, the case a mock cannot judge.
 */
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ItemChange } from "../../lib/replication/events";
import { MAX_ITEM_BYTES, applyItemChange, itemBytes } from "../../lib/replication/items";
import { ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "../../lib/replication/sequence";
import { itemKeys, streamSequenceAt } from "../../tools/emulators/events";
import {
  createTable,
  dynamodbClient,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";

let emulators: Emulators;
let dynamodb: DynamoDBClient;
beforeAll(async () => {
  emulators = await startEmulators();
  await createTable(emulators, "target");
  dynamodb = dynamodbClient(emulators);
});
afterAll(async () => {
  dynamodb.destroy();
  await emulators.stop();
});

const change = (pk: string, at: number): ItemChange => ({
  kind: "item",
  eventId: `e-${String(at)}`,
  eventName: "MODIFY",
  table: "source",
  keys: itemKeys(pk, "profile"),
  sequenceNumber: streamSequenceAt(at),
  time: undefined,
});
/** An item the marker would take past 400 KB: it is replicated without one. */
const big = (pk: string) => {
  const keys = itemKeys(pk, "profile");
  return { ...keys, blob: { S: "x".repeat(MAX_ITEM_BYTES - itemBytes(keys) - 20) } };
};
const replica = async (pk: string) =>
  (
    await dynamodb.send(
      new GetItemCommand({
        TableName: "target",
        Key: itemKeys(pk, "profile"),
        ConsistentRead: true,
      }),
    )
  ).Item;

describe("a replica without a marker", () => {
  it("refuses a delayed write of an older change when it holds a newer item near 400 KB", async () => {
    // Change 9 wrote the item near 400 KB, without a marker (it does not fit one).
    await expect(applyItemChange(dynamodb, change("u1", 9), "target", big("u1"))).resolves.toEqual({
      action: "put",
      state: big("u1"),
    });
    expect(await replica("u1")).toEqual(big("u1"));

    // Change 7's write, read before change 9, lands now (an invocation that timed out with its
    // request in flight, or its retry); the source holds change 9's item.
    const older = { ...itemKeys("u1", "profile"), value: { S: "v1" } };
    const write = await applyItemChange(dynamodb, change("u1", 7), "target", older, () =>
      Promise.resolve(big("u1")),
    );

    expect(write.action).toBe("skipped");
    expect(await replica("u1")).toEqual(big("u1"));
  });

  it("is replaced by the source's current item once it was seen (an item there before replication)", async () => {
    const keys = itemKeys("u2", "profile");
    await dynamodb.send(
      new PutItemCommand({ TableName: "target", Item: { ...keys, value: { S: "before" } } }),
    );
    const now = { ...keys, value: { S: "now" } };
    let reads = 0;

    const write = await applyItemChange(dynamodb, change("u2", 7), "target", now, () => {
      reads += 1;
      return Promise.resolve(now);
    });

    expect(write).toEqual({ action: "put", state: now });
    expect(reads).toBe(1);
    expect(await replica("u2")).toEqual({
      ...now,
      [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(streamSequenceAt(7)) },
    });
  });

  it("records this change on a replica that already holds the source's item under an older marker or none", async () => {
    const keys = itemKeys("u3", "profile");
    const now = { ...keys, value: { S: "now" } };
    const marked = (at: number) => ({
      ...now,
      [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(streamSequenceAt(at)) },
    });
    // A resync wrote the source's item without a marker: change 7 records itself on it.
    await dynamodb.send(new PutItemCommand({ TableName: "target", Item: now }));
    await expect(
      applyItemChange(dynamodb, change("u3", 7), "target", now, () => Promise.resolve(now)),
    ).resolves.toEqual({ action: "put", state: now });
    expect(await replica("u3")).toEqual(marked(7));

    // Redelivered, or a later change's replica already there: nothing to write.
    await expect(applyItemChange(dynamodb, change("u3", 7), "target", now)).resolves.toEqual({
      action: "skipped",
      state: now,
    });
  });
});
