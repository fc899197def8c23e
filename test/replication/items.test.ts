/** Unit tests of item replication with a mocked DynamoDB client (lib/replication/items.ts). */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import type { ItemChange } from "../../lib/replication/events";
import { applyItemChange, readSourceItem } from "../../lib/replication/items";
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
const guard = {
  ConditionExpression: "attribute_not_exists(#seq) OR #seq < :seq",
  ExpressionAttributeNames: { "#seq": ITEM_SEQUENCE_ATTRIBUTE },
  ExpressionAttributeValues: { ":seq": { S: paddedStreamSequence(streamSequenceAt(7)) } },
};

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
    await expect(applyItemChange(dynamodb, change, target.table, item)).resolves.toBe("put");
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
    await expect(applyItemChange(dynamodb, change, target.table, undefined)).resolves.toBe(
      "deleted",
    );
    expect(mock).toHaveReceivedCommandWith(DeleteItemCommand, {
      TableName: "dev-table",
      Key: keys,
      ...guard,
    });
  });

  it("skips when the replica already has this or a newer change", async () => {
    mock
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }));
    await expect(applyItemChange(dynamodb, change, target.table, keys)).resolves.toBe("skipped");
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

    await expect(applyItemChange(dynamodb, change, crossAccountTable, keys)).resolves.toBe("put");
    expect(mock).toHaveReceivedCommandWith(PutItemCommand, { TableName: crossAccountTable });
  });
});
