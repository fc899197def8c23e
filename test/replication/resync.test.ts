/**
 * The resync of one item (lib/replication/resync.ts over items.ts), with a mocked DynamoDB: the
 * replica is read before the source, a replica equal to the scanned item costs one read, writes
 * are conditional on the replica's recorded sequence as read, a lost race is read again, and
 * every failure is the target's own. Item comparison ignores the bookkeeping attribute and the
 * order of sets.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { sameItem, withoutBookkeeping } from "../../lib/replication/items";
import { MAX_RESYNC_ROUNDS, NOT_SCANNED, resyncItem } from "../../lib/replication/resync";
import { ITEM_SEQUENCE_ATTRIBUTE } from "../../lib/replication/sequence";
import { settings } from "../support/settings";

type Item = Record<string, AttributeValue>;

const client = new DynamoDBClient({
  region: "us-east-1",
  credentials: { accessKeyId: "t", secretAccessKey: "t" },
});
const dynamodb = mockClient(client);
const clients = { dynamodb: () => client };
const [dev, staging] = settings.targets as [ReplicationTarget, ReplicationTarget];
const keys = { pk: { S: "user#1" }, sk: { S: "profile" } };
const item = (n: number, sequence?: string): Item => ({
  ...keys,
  n: { N: String(n) },
  ...(sequence === undefined ? {} : { [ITEM_SEQUENCE_ATTRIBUTE]: { S: sequence } }),
});

/** Tables as a sequence of states per read: each GetItem of a table takes the next one. */
function tables(reads: Record<string, (Item | undefined | Error)[]>) {
  const order: string[] = [];
  dynamodb.on(GetItemCommand).callsFake((input: { TableName: string }) => {
    order.push(input.TableName);
    const queue = reads[input.TableName] ?? [];
    const next = queue.length > 1 ? queue.shift() : queue[0];
    if (next instanceof Error) throw next;
    return { Item: next };
  });
  return order;
}

const conflict = () =>
  new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });

beforeEach(() => {
  dynamodb.reset();
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(DeleteItemCommand).resolves({});
});

describe("sameItem", () => {
  it("ignores the bookkeeping attribute, attribute order and the order of sets", () => {
    expect(
      sameItem(
        { a: { SS: ["x", "y"] }, b: { NS: ["1", "2"] }, [ITEM_SEQUENCE_ATTRIBUTE]: { S: "1" } },
        { b: { NS: ["2", "1"] }, a: { SS: ["y", "x"] } },
      ),
    ).toBe(true);
    expect(
      sameItem(
        { m: { M: { z: { BOOL: true }, a: { L: [{ S: "1" }, { NULL: true }] } } } },
        { m: { M: { a: { L: [{ S: "1" }, { NULL: true }] }, z: { BOOL: true } } } },
      ),
    ).toBe(true);
    expect(
      sameItem(
        {
          b: { B: Uint8Array.from([1, 2]) },
          s: { BS: [Uint8Array.from([2]), Uint8Array.from([1])] },
        },
        {
          b: { B: Uint8Array.from([1, 2]) },
          s: { BS: [Uint8Array.from([1]), Uint8Array.from([2])] },
        },
      ),
    ).toBe(true);
  });

  it("tells different items apart, and an absent item from a present one", () => {
    expect(
      sameItem({ a: { L: [{ S: "1" }, { S: "2" }] } }, { a: { L: [{ S: "2" }, { S: "1" }] } }),
    ).toBe(false);
    expect(sameItem({ a: { N: "1" } }, { a: { S: "1" } })).toBe(false);
    expect(sameItem({ b: { B: Uint8Array.from([1]) } }, { b: { B: Uint8Array.from([2]) } })).toBe(
      false,
    );
    expect(sameItem(item(1), undefined)).toBe(false);
    expect(sameItem(undefined, undefined)).toBe(true);
    expect(withoutBookkeeping(item(1, "5"))).toEqual(item(1));
  });
});

describe("resyncItem", () => {
  it("costs one read per target when every replica equals the scanned item", async () => {
    const order = tables({ "dev-table": [item(1, "7")], "staging-table": [item(1)] });

    const results = await resyncItem(settings, clients, keys, item(1), [dev, staging]);

    expect(results.map((r) => (r.ok ? r.action : r.error.name))).toEqual(["skipped", "skipped"]);
    expect(order.sort()).toEqual(["dev-table", "staging-table"]);
    expect(dynamodb).not.toHaveReceivedCommand(PutItemCommand);
  });

  it("reads the replicas, then the source (a replica records a sequence), writes conditional on what it read, and checks the source once more", async () => {
    const order = tables({
      "dev-table": [item(0, "000042")],
      "staging-table": [undefined],
      "prod-table": [item(2)],
    });

    const results = await resyncItem(settings, clients, keys, item(1), [dev, staging]);

    expect(results.map((r) => (r.ok ? r.action : r.error.name))).toEqual(["put", "put"]);
    // Both replicas, then the source (the scanned copy may be older than dev's live change),
    // then the check: the source still holds what was written.
    expect(order.slice(0, 2).sort()).toEqual(["dev-table", "staging-table"]);
    expect(order.slice(2)).toEqual(["prod-table", "prod-table"]);
    const puts = dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input);
    expect(puts).toEqual([
      {
        TableName: "dev-table",
        Item: item(2, "000042"),
        ConditionExpression: "#seq = :seen",
        ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
        ExpressionAttributeValues: { ":seen": { S: "000042" } },
      },
      {
        TableName: "staging-table",
        Item: item(2),
        ConditionExpression: "attribute_not_exists(#seq)",
        ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
      },
    ]);
  });

  it("writes the scanned item where no replica records a sequence, then checks the source once", async () => {
    const order = tables({
      "dev-table": [item(0)],
      "staging-table": [undefined],
      "prod-table": [item(1)],
    });

    const results = await resyncItem(settings, clients, keys, item(1), [dev, staging]);

    expect(results.map((r) => (r.ok ? r.action : r.error.name))).toEqual(["put", "put"]);
    expect(order.slice(2)).toEqual(["prod-table"]);
    expect(dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input.Item)).toEqual([
      item(1),
      item(1),
    ]);
  });

  it("writes again when the source changed after a round wrote", async () => {
    tables({
      "dev-table": [undefined, item(1)],
      "prod-table": [item(2)],
    });

    const [result] = await resyncItem(settings, clients, keys, item(1), [dev]);

    expect(result).toMatchObject({ ok: true, action: "put" });
    expect(dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input.Item)).toEqual([
      item(1),
      item(2),
    ]);
  });

  it("deletes a replica the source does not have, conditional on what it read", async () => {
    tables({ "dev-table": [item(1, "000009"), undefined], "prod-table": [undefined] });

    const [result] = await resyncItem(settings, clients, keys, NOT_SCANNED, [dev]);

    expect(result).toMatchObject({ ok: true, action: "deleted" });
    expect(dynamodb.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: "dev-table",
      Key: keys,
      ConditionExpression: "#seq = :seen",
      ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
      ExpressionAttributeValues: { ":seen": { S: "000009" } },
    });
  });

  it("reads again when a live write changed the replica in between (the condition failed)", async () => {
    tables({
      "dev-table": [undefined, item(3, "000050")],
      "prod-table": [item(3)],
    });
    dynamodb.on(PutItemCommand).rejectsOnce(conflict());

    const [result] = await resyncItem(settings, clients, keys, item(2), [dev]);

    // The live write brought the replica to the source's state: nothing left to write.
    expect(result).toMatchObject({ ok: true, action: "skipped" });
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it("reports a target whose replica keeps changing as a retryable failure", async () => {
    tables({ "dev-table": [item(0)], "prod-table": [item(1)] });
    dynamodb.on(PutItemCommand).rejects(conflict());

    const [result] = await resyncItem(settings, clients, keys, item(1), [dev]);

    expect(result).toMatchObject({
      ok: false,
      retryable: true,
      attempts: MAX_RESYNC_ROUNDS,
      error: { name: "ResyncNotSettledError" },
    });
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, MAX_RESYNC_ROUNDS);
  });

  it("fails only the target whose read or write failed, and every target when the source cannot be read", async () => {
    const denied = Object.assign(new Error("not authorized"), {
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 400 },
    });
    tables({
      "dev-table": [denied],
      "staging-table": [undefined, item(1)],
      "prod-table": [item(1)],
    });

    const results = await resyncItem(settings, clients, keys, NOT_SCANNED, [dev, staging]);

    expect(
      results.map((r) => (r.ok ? r.action : `${r.error.name} ${String(r.retryable)}`)),
    ).toEqual(["AccessDeniedException false", "put"]);

    dynamodb.reset();
    tables({ "dev-table": [undefined], "staging-table": [undefined], "prod-table": [denied] });
    const unreadable = await resyncItem(settings, clients, keys, NOT_SCANNED, [dev, staging]);
    expect(unreadable.map((r) => (r.ok ? r.action : r.error.name))).toEqual([
      "AccessDeniedException",
      "AccessDeniedException",
    ]);

    dynamodb.reset();
    tables({ "dev-table": [undefined], "prod-table": [item(1)] });
    dynamodb.on(PutItemCommand).rejects(denied);
    const unwritable = await resyncItem(settings, clients, keys, NOT_SCANNED, [dev]);
    expect(unwritable.map((r) => (r.ok ? r.action : r.error.name))).toEqual([
      "AccessDeniedException",
    ]);
  });

  it("fails the targets a round wrote when the source cannot be read to check them, or for the next round", async () => {
    const denied = Object.assign(new Error("throttled"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    tables({ "dev-table": [undefined], "prod-table": [denied] });

    const [unchecked] = await resyncItem(settings, clients, keys, item(1), [dev]);

    expect(unchecked).toMatchObject({ ok: false, error: { name: "ThrottlingException" } });
    expect(dynamodb).toHaveReceivedCommandTimes(PutItemCommand, 1);

    dynamodb.reset();
    dynamodb.on(PutItemCommand).resolves({});
    tables({ "dev-table": [undefined, item(1, "000005")], "prod-table": [item(2), denied] });

    const [unread] = await resyncItem(settings, clients, keys, item(1), [dev]);

    expect(unread).toMatchObject({ ok: false, error: { name: "ThrottlingException" } });
  });

  it("reports an item neither side has as absent", async () => {
    tables({ "dev-table": [undefined], "prod-table": [undefined] });

    const [result] = await resyncItem(settings, clients, keys, NOT_SCANNED, [dev]);

    expect(result).toMatchObject({ ok: true, action: "absent" });
  });
});
