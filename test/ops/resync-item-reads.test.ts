/**
 * The item resync's batched reads (tools/ops/resync-item-reads.ts), with a mocked DynamoDB: reads
 * asked for in one turn of the event loop go out as one strongly consistent BatchGetItem per
 * client and table (at most 100 keys, each key once), unprocessed keys are asked again, and a
 * failure reaches every read of the batch.
 */
import {
  BatchGetItemCommand,
  DynamoDBClient,
  type BatchGetItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import "aws-sdk-client-mock-jest";
import {
  MAX_BATCH_ATTEMPTS,
  UnprocessedKeysError,
  batchRead,
  batchedItemReads,
} from "../../tools/ops/resync-item-reads";

const credentials = { accessKeyId: "t", secretAccessKey: "t" };
const one = new DynamoDBClient({ region: "us-east-1", credentials });
const other = new DynamoDBClient({ region: "eu-west-1", credentials });
const dynamodb = mockClient(one);
const otherDynamodb = mockClient(other);
const KEY_NAMES = ["pk", "sk"];
const keys = (n: number) => ({ pk: { S: `user#${n}` }, sk: { S: "profile" } });
const item = (n: number) => ({ ...keys(n), n: { N: String(n) } });

/** Answers every key that exists in `table` (`present`), as DynamoDB does. */
function answer(present: readonly number[]) {
  return (input: BatchGetItemCommandInput) => ({
    Responses: Object.fromEntries(
      Object.entries(input.RequestItems ?? {}).map(([table, request]) => [
        table,
        (request.Keys ?? [])
          .map((key) => Number(/\d+/.exec(key.pk?.S ?? "")?.[0]))
          .filter((n) => present.includes(n))
          .map(item),
      ]),
    ),
  });
}

const requests = (mock: typeof dynamodb) =>
  mock.commandCalls(BatchGetItemCommand).map((call) => call.args[0].input.RequestItems);

beforeEach(() => {
  dynamodb.reset();
  otherDynamodb.reset();
});

describe("batchedItemReads", () => {
  it("sends the reads of one turn as one consistent BatchGetItem per client and table, each key once", async () => {
    dynamodb.on(BatchGetItemCommand).callsFake(answer([1, 2]));
    otherDynamodb.on(BatchGetItemCommand).callsFake(answer([3]));
    const read = batchedItemReads(KEY_NAMES);

    const results = await Promise.all([
      read(one, "prod", keys(1)),
      read(one, "prod", keys(2)),
      read(one, "prod", keys(9)),
      read(one, "prod", keys(1)),
      read(one, "dev", keys(1)),
      read(other, "dev", keys(3)),
    ]);

    expect(results).toEqual([item(1), item(2), undefined, item(1), item(1), item(3)]);
    expect(requests(dynamodb)).toEqual([
      { prod: { Keys: [keys(1), keys(2), keys(9)], ConsistentRead: true } },
      { dev: { Keys: [keys(1)], ConsistentRead: true } },
    ]);
    expect(requests(otherDynamodb)).toEqual([{ dev: { Keys: [keys(3)], ConsistentRead: true } }]);
  });

  it("sends 100 keys at most per request, and reads asked for later in a request of their own", async () => {
    dynamodb.on(BatchGetItemCommand).callsFake(answer([]));
    const read = batchedItemReads(KEY_NAMES);

    await Promise.all(Array.from({ length: 150 }, (_unused, n) => read(one, "prod", keys(n))));
    await read(one, "prod", keys(0));

    expect(requests(dynamodb).map((request) => request?.prod?.Keys?.length)).toEqual([100, 50, 1]);
  });

  it("fails every read of a batch whose request failed", async () => {
    dynamodb.on(BatchGetItemCommand).rejects(new Error("AccessDeniedException"));
    const read = batchedItemReads(KEY_NAMES);

    const results = await Promise.allSettled([
      read(one, "prod", keys(1)),
      read(one, "prod", keys(2)),
    ]);

    expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
  });
});

describe("batchRead", () => {
  it("asks again for the keys DynamoDB left unprocessed, whatever name it keys its answers by", async () => {
    dynamodb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { "arn:aws:dynamodb:us-east-1:1:table/prod": [item(1)] },
        UnprocessedKeys: { prod: { Keys: [keys(2)], ConsistentRead: true } },
      })
      .resolves({ Responses: { prod: [item(2)] } });

    const found = await batchRead(one, "prod", [keys(1), keys(2)], KEY_NAMES, { baseDelayMs: 1 });

    expect([...found.values()]).toEqual([item(1), item(2)]);
    expect(requests(dynamodb)).toEqual([
      { prod: { Keys: [keys(1), keys(2)], ConsistentRead: true } },
      { prod: { Keys: [keys(2)], ConsistentRead: true } },
    ]);
  });

  it("fails when keys stay unprocessed through every attempt", async () => {
    dynamodb.on(BatchGetItemCommand).resolves({
      UnprocessedKeys: { prod: { Keys: [keys(2)], ConsistentRead: true } },
    });

    await expect(batchRead(one, "prod", [keys(2)], KEY_NAMES, { baseDelayMs: 1 })).rejects.toThrow(
      UnprocessedKeysError,
    );
    await expect(batchRead(one, "prod", [keys(2)], KEY_NAMES, { baseDelayMs: 1 })).rejects.toThrow(
      /1 keys of table "prod" were still unprocessed after 8 BatchGetItem requests/,
    );
    expect(dynamodb).toHaveReceivedCommandTimes(BatchGetItemCommand, MAX_BATCH_ATTEMPTS * 2);
  });

  it("sends nothing for no keys", async () => {
    await expect(batchRead(one, "prod", [], KEY_NAMES)).resolves.toEqual(new Map());
    expect(dynamodb).not.toHaveReceivedCommand(BatchGetItemCommand);
  });
});
