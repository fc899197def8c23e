/** Unit tests of item replication with a mocked DynamoDB client (lib/replication/items.ts). */
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
import type { ItemChange } from "../../lib/replication/events";
import {
  MAX_ITEM_BYTES,
  MAX_ITEM_ROUNDS,
  applyItemChange,
  attributeBytes,
  itemBytes,
  readSourceItem,
  replicaItem,
} from "../../lib/replication/items";
import { ITEM_SEQUENCE_ATTRIBUTE, paddedStreamSequence } from "../../lib/replication/sequence";
import { itemKeys, streamSequenceAt } from "../../tools/emulators/events";

const dynamodb = new DynamoDBClient({ region: "us-east-1" });
const mock = mockClient(dynamodb);
const target = { environment: "dev", bucket: "dev-bucket", table: "dev-table" };
/** A table of another account, addressed by ARN. */
const crossAccountTable = "arn:aws:dynamodb:eu-west-1:210987654321:table/company-metadata-dev";
const keys = itemKeys("user#1", "profile");
const change: ItemChange = {
  kind: "item",
  eventId: "e-1",
  eventName: "MODIFY",
  table: "prod-table",
  keys,
  sequenceNumber: streamSequenceAt(7),
  time: undefined,
};
const marker = { S: paddedStreamSequence(streamSequenceAt(7)) };
const guard = {
  ConditionExpression: "attribute_not_exists(#key) OR #seq < :seq",
  ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE, "#key": "pk" },
  ExpressionAttributeValues: { ":seq": marker },
  ReturnValuesOnConditionCheckFailure: "ALL_OLD",
};
/** The guard refused the write; `Item` is the replica as it was. */
const refused = (item?: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: {},
    ...(item === undefined ? {} : { Item: item }),
  });

beforeEach(() => mock.reset());

describe("readSourceItem", () => {
  it("reads consistently by the record's keys", async () => {
    mock.on(GetItemCommand).resolves({ Item: { ...keys, n: { N: "1" } } });
    await expect(readSourceItem(dynamodb, "prod-table", keys)).resolves.toEqual({
      ...keys,
      n: { N: "1" },
    });
    expect(mock).toHaveReceivedCommandWith(GetItemCommand, {
      TableName: "prod-table",
      Key: keys,
      ConsistentRead: true,
    });
  });

  it("returns undefined when the item is gone", async () => {
    mock.on(GetItemCommand).resolves({});
    await expect(readSourceItem(dynamodb, "prod-table", keys)).resolves.toBeUndefined();
  });
});

describe("applyItemChange", () => {
  it("puts the source item with the applied sequence, only over an older replica", async () => {
    mock.on(PutItemCommand).resolves({});
    const item = { ...keys, name: { S: "Ada" } };
    await expect(applyItemChange(dynamodb, change, target.table, item)).resolves.toEqual({
      action: "put",
      state: item,
    });
    expect(mock).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: "dev-table",
      Item: {
        ...item,
        [ITEM_SEQUENCE_ATTRIBUTE]: { S: paddedStreamSequence(streamSequenceAt(7)) },
      },
      ...guard,
    });
  });

  it("deletes the key when the source no longer has it, with the same guard", async () => {
    mock.on(DeleteItemCommand).resolves({});
    await expect(applyItemChange(dynamodb, change, target.table, undefined)).resolves.toEqual({
      action: "deleted",
      state: undefined,
    });
    expect(mock).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: "dev-table",
      Key: keys,
      ...guard,
    });
  });

  it("skips when the replica records this or a newer change and holds the source's item: no write", async () => {
    mock.on(PutItemCommand).rejects(refused({ ...keys, [ITEM_SEQUENCE_ATTRIBUTE]: { S: "9" } }));
    await expect(applyItemChange(dynamodb, change, target.table, keys)).resolves.toMatchObject({
      action: "skipped",
    });
    expect(mock).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it("writes, on the replica as seen, when its marker looks newer but it holds another item (another shard's or stream's numbers)", async () => {
    const source = { ...keys, name: { S: "Grace" } };
    const other = { S: "9".repeat(48) };
    mock
      .on(PutItemCommand)
      .rejectsOnce(refused({ ...keys, name: { S: "Ada" }, [ITEM_SEQUENCE_ATTRIBUTE]: other }))
      .resolves({});
    const readSource = jest.fn(() => Promise.resolve(source));

    await expect(
      applyItemChange(dynamodb, change, target.table, source, readSource),
    ).resolves.toEqual({ action: "put", state: source });
    // The source read again after the replica was seen, then written on that replica only.
    expect(readSource).toHaveBeenCalledTimes(1);
    expect(mock.commandCalls(PutItemCommand)[1]?.args[0].input).toMatchObject({
      Item: { ...source, [ITEM_SEQUENCE_ATTRIBUTE]: marker },
      ConditionExpression: "#seq = :seen",
      ExpressionAttributeValues: { ":seen": other },
    });
  });

  it("skips when the source read again holds what the replica holds (a newer change applied since the read)", async () => {
    const newer = { ...keys, name: { S: "Grace" } };
    mock.on(PutItemCommand).rejects(refused({ ...newer, [ITEM_SEQUENCE_ATTRIBUTE]: { S: "9" } }));

    await expect(
      applyItemChange(dynamodb, change, target.table, keys, () => Promise.resolve(newer)),
    ).resolves.toEqual({ action: "skipped", state: newer });
    expect(mock).toHaveReceivedCommandTimes(PutItemCommand, 1);
  });

  it("fails after bounded rounds when the replica keeps changing under it", async () => {
    let n = 0;
    mock.on(PutItemCommand).callsFake(() => {
      n += 1;
      throw refused({ ...keys, name: { S: `v${n}` }, [ITEM_SEQUENCE_ATTRIBUTE]: { S: String(n) } });
    });

    await expect(
      applyItemChange(dynamodb, change, target.table, keys, () => Promise.resolve(keys)),
    ).rejects.toThrow(/kept changing: not settled after 3 rounds/);
    expect(mock).toHaveReceivedCommandTimes(PutItemCommand, 1 + MAX_ITEM_ROUNDS);
  });

  it("rethrows other errors", async () => {
    mock.on(DeleteItemCommand).rejects(new Error("AccessDeniedException"));
    await expect(applyItemChange(dynamodb, change, target.table, undefined)).rejects.toThrow(
      "AccessDeniedException",
    );
  });
});

describe("applyItemChange in a table of another account", () => {
  it("addresses the table by the ARN it is given", async () => {
    mock.on(PutItemCommand).resolves({});

    await expect(applyItemChange(dynamodb, change, crossAccountTable, keys)).resolves.toMatchObject(
      {
        action: "put",
      },
    );
    expect(mock).toHaveReceivedCommandWith(PutItemCommand, { TableName: crossAccountTable });
  });
});

describe("items near DynamoDB's 400 KB limit", () => {
  it("counts names and values as DynamoDB does (numbers by significant digits; lists, maps and sets)", () => {
    expect(attributeBytes({ S: "héllo" })).toBe(6);
    expect(attributeBytes({ N: "12300" })).toBe(3);
    expect(attributeBytes({ N: "-0.00125" })).toBe(3);
    expect(attributeBytes({ B: new Uint8Array(10) })).toBe(10);
    expect(attributeBytes({ BOOL: true })).toBe(1);
    expect(attributeBytes({ NULL: true })).toBe(1);
    expect(attributeBytes({ SS: ["a", "bc"] })).toBe(3);
    expect(attributeBytes({ NS: ["1", "22"] })).toBe(4);
    expect(attributeBytes({ BS: [new Uint8Array(2)] })).toBe(2);
    expect(attributeBytes({ L: [{ S: "ab" }] })).toBe(6);
    expect(attributeBytes({ M: { k: { S: "ab" } } })).toBe(7);
    expect(itemBytes({ name: { S: "Ada" }, n: { N: "1" } })).toBe(4 + 3 + 1 + 2);
  });

  it("refuses a change that names no key attribute, before any write", async () => {
    await expect(
      applyItemChange(dynamodb, { ...change, keys: {} }, target.table, { n: { N: "1" } }),
    ).rejects.toThrow("the change e-1 names no key attribute");
    expect(mock.calls()).toHaveLength(0);
  });

  it("writes an item that the marker would take past 400 KB without the marker, under the same guard", async () => {
    const big = { ...keys, blob: { S: "x".repeat(MAX_ITEM_BYTES - itemBytes(keys) - 10) } };
    expect(itemBytes(big)).toBeLessThanOrEqual(MAX_ITEM_BYTES);
    expect(replicaItem(big, change)).toEqual(big);
    const small = { ...keys, blob: { S: "x" } };
    expect(replicaItem(small, change)).toHaveProperty(ITEM_SEQUENCE_ATTRIBUTE, marker);
    mock.on(PutItemCommand).resolves({});

    await expect(applyItemChange(dynamodb, change, target.table, big)).resolves.toMatchObject({
      action: "put",
    });
    const put = mock.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.Item).toEqual(big);
    expect(put?.ConditionExpression).toBe(guard.ConditionExpression);
  });
});
