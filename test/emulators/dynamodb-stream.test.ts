/**
 * The simulated DynamoDB stream: writes through the proxy become KEYS_ONLY records as DynamoDB
 * documents them (INSERT / MODIFY / REMOVE, nothing for a write that changes nothing or fails),
 * read back with the real DynamoDBStreamsClient, iterator types, paging, trimming and expiry.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type ShardIteratorType,
} from "@aws-sdk/client-dynamodb-streams";
import {
  ITERATOR_LIFETIME_MS,
  STREAM_RETENTION_MS,
  startDynamoDBStream,
  type DynamoDBStream,
} from "../../tools/emulators/dynamodb-stream";
import {
  createTable,
  EMULATOR_CREDENTIALS,
  startEmulators,
  type Emulators,
} from "../../tools/emulators/emulators";
import { SHARD_ID, itemKeys, streamArn, streamSequenceAt } from "../../tools/emulators/events";

let emulators: Emulators;
let tables = 0;

beforeAll(async () => {
  emulators = await startEmulators();
  await createTable(emulators, "other-table");
});

afterAll(async () => {
  await emulators.stop();
});

interface Setup {
  readonly table: string;
  readonly stream: DynamoDBStream;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  stop(): Promise<void>;
}

async function setup(retentionMs?: number): Promise<Setup> {
  tables += 1;
  const table = `watched-${tables}`;
  await createTable(emulators, table);
  const stream = await startDynamoDBStream({
    upstream: emulators.dynamodb.endpoint,
    table,
    ...(retentionMs === undefined ? {} : { retentionMs }),
  });
  const config = {
    endpoint: stream.endpoint,
    region: "us-east-1",
    credentials: EMULATOR_CREDENTIALS,
  };
  const dynamodb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  return {
    table,
    stream,
    dynamodb,
    streams,
    async stop() {
      dynamodb.destroy();
      streams.destroy();
      await stream.stop();
    },
  };
}

const item = (pk: string, extra: Record<string, AttributeValue> = {}) => ({
  ...itemKeys(pk, "meta"),
  ...extra,
});

const summary = (stream: DynamoDBStream) =>
  stream
    .records()
    .map((record) => `${record.eventName ?? ""} ${record.dynamodb?.Keys?.pk?.S ?? ""}`);

describe("records of writes to the watched table", () => {
  let s: Setup;

  beforeEach(async () => {
    s = await setup();
  });

  afterEach(async () => {
    await s.stop();
  });

  it("PutItem: INSERT for a new item, MODIFY for a change, nothing for an identical put", async () => {
    const put = (extra: Record<string, AttributeValue>) =>
      s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item("a", extra) }));
    await put({ v: { N: "1" } });
    await put({ v: { N: "2" } });
    await put({ v: { N: "2" } });
    expect(summary(s.stream)).toEqual(["INSERT a", "MODIFY a"]);
  });

  it("UpdateItem: INSERT when it creates the item, MODIFY on a change, nothing otherwise", async () => {
    const update = (value: string) =>
      s.dynamodb.send(
        new UpdateItemCommand({
          TableName: s.table,
          Key: itemKeys("b", "meta"),
          UpdateExpression: "SET v = :v",
          ExpressionAttributeValues: { ":v": { S: value } },
        }),
      );
    await update("x");
    await update("y");
    await update("y");
    expect(summary(s.stream)).toEqual(["INSERT b", "MODIFY b"]);
  });

  it("sees set members in any order as the same item", async () => {
    const put = (members: string[]) =>
      s.dynamodb.send(
        new PutItemCommand({ TableName: s.table, Item: item("s", { tags: { SS: members } }) }),
      );
    await put(["x", "y"]);
    await put(["y", "x"]);
    expect(summary(s.stream)).toEqual(["INSERT s"]);
  });

  it("DeleteItem: REMOVE for an item that existed, nothing for a missing key", async () => {
    await s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item("c") }));
    const remove = () =>
      s.dynamodb.send(new DeleteItemCommand({ TableName: s.table, Key: itemKeys("c", "meta") }));
    await remove();
    await remove();
    expect(summary(s.stream)).toEqual(["INSERT c", "REMOVE c"]);
  });

  it("a failed conditional write produces no record, and its error reaches the client", async () => {
    await s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item("d") }));
    await expect(
      s.dynamodb.send(
        new PutItemCommand({
          TableName: s.table,
          Item: item("d", { v: { N: "9" } }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    ).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });
    expect(summary(s.stream)).toEqual(["INSERT d"]);
  });

  it("BatchWriteItem: one record per change, in request order, none for another table", async () => {
    await s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item("old") }));
    await s.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [s.table]: [
            { PutRequest: { Item: item("e1") } },
            { DeleteRequest: { Key: itemKeys("old", "meta") } },
            { DeleteRequest: { Key: itemKeys("never", "meta") } },
            { PutRequest: { Item: item("e2") } },
          ],
          "other-table": [{ PutRequest: { Item: item("elsewhere") } }],
        },
      }),
    );
    await s.dynamodb.send(new PutItemCommand({ TableName: "other-table", Item: item("x") }));
    expect(summary(s.stream)).toEqual(["INSERT old", "INSERT e1", "REMOVE old", "INSERT e2"]);
  });

  it("writes KEYS_ONLY records with growing sequence numbers, as Lambda delivers them", async () => {
    await s.dynamodb.send(
      new PutItemCommand({ TableName: s.table, Item: item("f", { big: { S: "payload" } }) }),
    );
    await s.dynamodb.send(
      new DeleteItemCommand({ TableName: s.table, Key: itemKeys("f", "meta") }),
    );
    const [first, second] = s.stream.records();
    expect(first).toMatchObject({
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      eventSourceARN: streamArn(s.table),
      dynamodb: {
        Keys: itemKeys("f", "meta"),
        SequenceNumber: streamSequenceAt(1),
        StreamViewType: "KEYS_ONLY",
      },
    });
    expect(first?.dynamodb).not.toHaveProperty("NewImage");
    expect(first?.dynamodb?.ApproximateCreationDateTime).toBeGreaterThan(1_700_000_000);
    expect(second?.dynamodb?.SequenceNumber).toBe(streamSequenceAt(2));
  });
});

describe("the DynamoDB Streams API, read with DynamoDBStreamsClient", () => {
  let s: Setup;

  const iterator = async (type: ShardIteratorType, sequenceNumber?: string): Promise<string> => {
    const out = await s.streams.send(
      new GetShardIteratorCommand({
        StreamArn: s.stream.streamArn,
        ShardId: SHARD_ID,
        ShardIteratorType: type,
        SequenceNumber: sequenceNumber,
      }),
    );
    return out.ShardIterator ?? "";
  };

  const read = async (shardIterator: string, limit?: number) => {
    const out = await s.streams.send(
      new GetRecordsCommand({ ShardIterator: shardIterator, Limit: limit }),
    );
    return {
      keys: (out.Records ?? []).map((record) => record.dynamodb?.Keys?.pk?.S),
      records: out.Records ?? [],
      next: out.NextShardIterator ?? "",
    };
  };

  const putAll = async (...keys: string[]) => {
    for (const key of keys) {
      await s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item(key) }));
    }
  };

  beforeEach(async () => {
    s = await setup(60_000);
  });

  afterEach(async () => {
    await s.stop();
  });

  it("describes the stream: one open shard, KEYS_ONLY", async () => {
    const out = await s.streams.send(new DescribeStreamCommand({ StreamArn: s.stream.streamArn }));
    expect(out.StreamDescription).toMatchObject({
      StreamArn: streamArn(s.table),
      StreamStatus: "ENABLED",
      StreamViewType: "KEYS_ONLY",
      TableName: s.table,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      Shards: [
        { ShardId: SHARD_ID, SequenceNumberRange: { StartingSequenceNumber: streamSequenceAt(1) } },
      ],
    });
    const listed = await s.streams.send(new ListStreamsCommand({}));
    expect(listed.Streams?.map((stream) => stream.StreamArn)).toEqual([s.stream.streamArn]);
  });

  it("pages from TRIM_HORIZON with Limit, then returns an empty list and a next iterator", async () => {
    await putAll("a", "b", "c");
    const first = await read(await iterator("TRIM_HORIZON"), 2);
    expect(first.keys).toEqual(["a", "b"]);
    const second = await read(first.next, 2);
    expect(second.keys).toEqual(["c"]);
    const third = await read(second.next);
    expect(third.keys).toEqual([]);
    expect(third.next).not.toBe("");
    await putAll("d");
    expect((await read(third.next)).keys).toEqual(["d"]);
  });

  it("returns the records as the API documents them (no eventSourceARN; a Date)", async () => {
    await putAll("a");
    const [record] = (await read(await iterator("TRIM_HORIZON"))).records;
    expect(record).toMatchObject({
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      dynamodb: { SequenceNumber: streamSequenceAt(1), StreamViewType: "KEYS_ONLY" },
    });
    expect(record).not.toHaveProperty("eventSourceARN");
    expect(record?.dynamodb?.ApproximateCreationDateTime).toBeInstanceOf(Date);
  });

  it("LATEST starts after the most recent record", async () => {
    await putAll("a", "b");
    const latest = await iterator("LATEST");
    expect((await read(latest)).keys).toEqual([]);
    await putAll("c");
    expect((await read(latest)).keys).toEqual(["c"]);
  });

  it("AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER start at and after a record", async () => {
    await putAll("a", "b", "c");
    expect((await read(await iterator("AT_SEQUENCE_NUMBER", streamSequenceAt(2)))).keys).toEqual([
      "b",
      "c",
    ]);
    expect((await read(await iterator("AFTER_SEQUENCE_NUMBER", streamSequenceAt(2)))).keys).toEqual(
      ["c"],
    );
  });

  it("trims records older than the retention: TrimmedDataAccessException for them", async () => {
    await putAll("a", "b");
    const before = await iterator("TRIM_HORIZON");
    s.stream.ageRecords(60_001);
    await putAll("c");
    expect(s.stream.records().map((record) => record.dynamodb?.Keys?.pk?.S)).toEqual(["c"]);
    await expect(read(before)).rejects.toMatchObject({ name: "TrimmedDataAccessException" });
    await expect(iterator("AT_SEQUENCE_NUMBER", streamSequenceAt(1))).rejects.toMatchObject({
      name: "TrimmedDataAccessException",
    });
    expect((await read(await iterator("TRIM_HORIZON"))).keys).toEqual(["c"]);
  });

  it("expires a shard iterator 15 minutes after it was issued", async () => {
    await putAll("a");
    const old = await iterator("TRIM_HORIZON");
    s.stream.ageRecords(ITERATOR_LIFETIME_MS + 1);
    await expect(read(old)).rejects.toMatchObject({ name: "ExpiredIteratorException" });
  });

  it("answers a wrong stream, shard, iterator type, sequence number or limit with its error", async () => {
    await expect(
      s.streams.send(new DescribeStreamCommand({ StreamArn: streamArn("nope") })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(
      s.streams.send(
        new GetShardIteratorCommand({
          StreamArn: s.stream.streamArn,
          ShardId: "shardId-other",
          ShardIteratorType: "LATEST",
        }),
      ),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(iterator("AT_SEQUENCE_NUMBER")).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(iterator("SOMEWHERE" as ShardIteratorType)).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(read(await iterator("LATEST"), 1001)).rejects.toMatchObject({
      name: "ValidationException",
    });
    await expect(read("not-an-iterator")).rejects.toMatchObject({ name: "ValidationException" });
  });
});

describe("retention default", () => {
  it("is DynamoDB Streams' 24 hours", async () => {
    const s = await setup();
    try {
      await s.dynamodb.send(new PutItemCommand({ TableName: s.table, Item: item("a") }));
      s.stream.ageRecords(STREAM_RETENTION_MS - 1000);
      expect(s.stream.records()).toHaveLength(1);
      s.stream.ageRecords(2000);
      expect(s.stream.records()).toHaveLength(0);
    } finally {
      await s.stop();
    }
  });
});

describe("a BatchWriteItem that DynamoDB leaves partly unprocessed", () => {
  /** A fake DynamoDB: applies the first write of a batch and returns the rest as unprocessed. */
  function fakeDynamoDB(): Server {
    const items = new Map<string, unknown>();
    const keyOf = (keys: unknown): string => JSON.stringify(keys);
    return createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        const operation = String(req.headers["x-amz-target"]).split(".")[1];
        const answers: Record<string, () => unknown> = {
          DescribeTable: () => ({
            Table: { KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }] },
          }),
          GetItem: () => {
            const found = items.get(keyOf(body.Key));
            return found === undefined ? {} : { Item: found };
          },
          BatchWriteItem: () => {
            const [table, writes] = Object.entries(
              body.RequestItems as Record<string, { PutRequest: { Item: { pk: unknown } } }[]>,
            )[0] ?? ["", []];
            const [first, ...rest] = writes;
            if (first !== undefined) {
              items.set(keyOf({ pk: first.PutRequest.Item.pk }), first.PutRequest.Item);
            }
            return { UnprocessedItems: rest.length === 0 ? {} : { [table]: rest } };
          },
        };
        const text = JSON.stringify(answers[operation ?? ""]?.() ?? {});
        res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
        res.end(text);
      });
    });
  }

  it("records only the writes DynamoDB applied", async () => {
    const upstream = fakeDynamoDB();
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const { port } = upstream.address() as AddressInfo;
    const stream = await startDynamoDBStream({ upstream: `http://127.0.0.1:${port}`, table: "t" });
    const dynamodb = new DynamoDBClient({
      endpoint: stream.endpoint,
      region: "us-east-1",
      credentials: { ...EMULATOR_CREDENTIALS },
    });
    try {
      const out = await dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            t: [
              { PutRequest: { Item: { pk: { S: "done" } } } },
              { PutRequest: { Item: { pk: { S: "later" } } } },
            ],
          },
        }),
      );
      expect(out.UnprocessedItems?.t).toHaveLength(1);
      expect(stream.records().map((record) => record.dynamodb?.Keys?.pk?.S)).toEqual(["done"]);
    } finally {
      dynamodb.destroy();
      await stream.stop();
      await new Promise<void>((resolve) => {
        upstream.close(() => {
          resolve();
        });
      });
    }
  });
});
