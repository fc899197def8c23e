/**
 * DynamoDB Streams for dynalite, which has none: a loopback proxy in front of dynalite that, for
 * ONE watched table, turns each successful PutItem, UpdateItem, DeleteItem and BatchWriteItem
 * into stream records (view type KEYS_ONLY, one shard), and serves the DynamoDB Streams API
 * (JSON 1.0, `x-amz-target: DynamoDBStreams_20120810.<Op>`) on the same endpoint, so that the
 * real @aws-sdk/client-dynamodb-streams client reads it.
 *
 * What DynamoDB documents, and this follows:
 * - eventName: "INSERT - a new item was added to the table. MODIFY - one or more of an existing
 *   item's attributes were modified. REMOVE - the item was deleted from the table"
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_Record.html).
 *   The proxy reads the item before and after each write to tell which: a delete of a missing
 *   key and a failed (e.g. conditional) write write nothing, and so produce no record; "If you
 *   perform a PutItem or UpdateItem operation that does not change any data in an item, DynamoDB
 *   Streams does not write a stream record for that operation"
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html).
 * - Records of one item appear in the order of its modifications (the proxy serialises writes
 *   per item; sequence numbers grow).
 * - GetShardIterator: TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER; a sequence
 *   number older than the trim point is TrimmedDataAccessException
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html).
 * - GetRecords: "a maximum of 1 MB of data or 1000 stream records", `Limit` up to 1000, an empty
 *   list when nothing is there, NextShardIterator (never null: the shard stays open),
 *   ExpiredIteratorException "15 minutes after it is retrieved", TrimmedDataAccessException when
 *   the records an iterator points at were trimmed (24 hours of retention)
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
 * Time is the stream's own clock: `ageRecords(ms)` moves it forward, so that a test can make
 * records older than the retention (or than an event source mapping's maximum age) at once.
 * Not simulated: the 1 MB cap (records here are keys only), shard splits, TransactWriteItems
 * (dynalite has none), TTL deletions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  type AttributeValue,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { EMULATOR_CREDENTIALS, keyedLock } from "./emulators";
import { closeServer, exchange, listenOnLoopback, readAll, type Answer } from "./http-relay";
import { REGION, SHARD_ID, streamArn, streamRecord, streamSequenceAt } from "./events";
import { isRecord } from "../common/guards";

/** DynamoDB Streams keeps records 24 hours. */
export const STREAM_RETENTION_MS = 24 * 60 * 60 * 1000;
/** "A shard iterator expires 15 minutes after it is retrieved". */
export const ITERATOR_LIFETIME_MS = 15 * 60 * 1000;

export interface DynamoDBStreamOptions {
  /** dynalite's endpoint. */
  readonly upstream: string;
  /** The watched table. */
  readonly table: string;
  /** @default REGION of events.ts */
  readonly region?: string;
  /** @default STREAM_RETENTION_MS */
  readonly retentionMs?: number;
}

export interface DynamoDBStream {
  /** DynamoDB (forwarded to dynalite) and the DynamoDB Streams API, on one loopback endpoint. */
  readonly endpoint: string;
  readonly streamArn: string;
  readonly shardId: string;
  /** The records not yet trimmed, oldest first, as Lambda would deliver them. */
  records(): DynamoDBRecord[];
  /** The stream's clock (ms since the epoch); a function, to pass as a mapping's `clock`. */
  readonly now: () => number;
  /** Moves the stream's clock forward: records and shard iterators get older by `ms`. */
  ageRecords(ms: number): void;
  stop(): Promise<void>;
}

interface Stored {
  readonly sequence: bigint;
  readonly createdAt: number;
  readonly record: DynamoDBRecord;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

type Item = Record<string, AttributeValue>;

/**
 * A canonical text of an item or key, to tell whether a write changed anything: map keys in
 * order, set members (SS, NS, BS) sorted, list (L) elements kept in their order.
 */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).sort().join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries
      .map(([key, entry]) =>
        key === "L" && Array.isArray(entry)
          ? `"L":[${entry.map(canonical).join(",")}]`
          : `${JSON.stringify(key)}:${canonical(entry)}`,
      )
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

const tableName = (name: unknown): string | undefined =>
  typeof name === "string" ? name.replace(/^arn:[^:]+:dynamodb:[^:]*:\d*:table\//, "") : undefined;

type WriteKind = "PutItem" | "UpdateItem" | "DeleteItem";
interface Write {
  readonly keys: Item;
}

export async function startDynamoDBStream(options: DynamoDBStreamOptions): Promise<DynamoDBStream> {
  const upstream = new URL(options.upstream);
  const region = options.region ?? REGION;
  const arn = streamArn(options.table, region);
  const retentionMs = options.retentionMs ?? STREAM_RETENTION_MS;
  const client = new DynamoDBClient({
    endpoint: options.upstream,
    region,
    credentials: EMULATOR_CREDENTIALS,
  });
  const lock = keyedLock();
  const stored: Stored[] = [];
  let offset = 0;
  let counter = 0;
  /** Highest sequence number trimmed so far (0n: none). */
  let trimmedThrough = 0n;
  const now = (): number => Date.now() + offset;
  let keySchema: KeySchemaElement[] | undefined;

  const describeKeys = async (): Promise<KeySchemaElement[]> => {
    keySchema ??= (await client.send(new DescribeTableCommand({ TableName: options.table }))).Table
      ?.KeySchema;
    if (keySchema === undefined) throw new Error(`table ${options.table} has no key schema`);
    return keySchema;
  };

  const keysOf = (item: Item, schema: readonly KeySchemaElement[]): Item =>
    Object.fromEntries(
      schema.flatMap(({ AttributeName: name }) => {
        const value = name === undefined ? undefined : item[name];
        return name === undefined || value === undefined ? [] : [[name, value]];
      }),
    );

  const read = async (keys: Item): Promise<Item | undefined> =>
    (
      await client.send(
        new GetItemCommand({ TableName: options.table, Key: keys, ConsistentRead: true }),
      )
    ).Item;

  const append = (keys: Item, eventName: "INSERT" | "MODIFY" | "REMOVE"): void => {
    counter += 1;
    const createdAt = now();
    stored.push({
      sequence: BigInt(streamSequenceAt(counter)),
      createdAt,
      record: streamRecord({
        table: options.table,
        eventName,
        keys,
        sequenceNumber: streamSequenceAt(counter),
        approximateCreationDateTime: Math.floor(createdAt / 1000),
        region,
      }),
    });
  };

  /** The writes of a request to the watched table, in request order (none for other tables). */
  const writesOf = async (operation: string, body: unknown): Promise<Write[]> => {
    if (!isRecord(body)) return [];
    if (operation === "BatchWriteItem") {
      const requests = isRecord(body.RequestItems)
        ? Object.entries(body.RequestItems).find(([name]) => tableName(name) === options.table)?.[1]
        : undefined;
      if (!Array.isArray(requests)) return [];
      const schema = await describeKeys();
      return requests.flatMap((entry: unknown) => {
        if (!isRecord(entry)) return [];
        const put = isRecord(entry.PutRequest) ? entry.PutRequest.Item : undefined;
        const del = isRecord(entry.DeleteRequest) ? entry.DeleteRequest.Key : undefined;
        const source = isRecord(put) ? put : isRecord(del) ? del : undefined;
        return source === undefined ? [] : [{ keys: keysOf(source as Item, schema) }];
      });
    }
    if (!["PutItem", "UpdateItem", "DeleteItem"].includes(operation)) return [];
    if (tableName(body.TableName) !== options.table) return [];
    const schema = await describeKeys();
    const source = (operation as WriteKind) === "PutItem" ? body.Item : body.Key;
    return isRecord(source) ? [{ keys: keysOf(source as Item, schema) }] : [];
  };

  /** Forwards a write to the watched table and appends the records it caused. */
  const recordWrites = async (
    req: IncomingMessage,
    body: Buffer,
    writes: readonly Write[],
  ): Promise<Answer> => {
    const release = await lock(writes.map((write) => canonical(write.keys)));
    try {
      const before = await Promise.all(writes.map((write) => read(write.keys)));
      const response = await exchange(upstream, req, body);
      if (response.status !== 200) return response;
      const after = await Promise.all(writes.map((write) => read(write.keys)));
      // Reading each item back also leaves out what a BatchWriteItem returned unprocessed.
      writes.forEach((write, index) => {
        const old = before[index];
        const current = after[index];
        if (old === undefined && current !== undefined) append(write.keys, "INSERT");
        else if (old !== undefined && current === undefined) append(write.keys, "REMOVE");
        else if (
          old !== undefined &&
          current !== undefined &&
          canonical(old) !== canonical(current)
        ) {
          append(write.keys, "MODIFY");
        }
      });
      return response;
    } finally {
      release();
    }
  };

  const trim = (): void => {
    while (stored.length > 0 && now() - (stored[0]?.createdAt ?? 0) > retentionMs) {
      trimmedThrough = stored.shift()?.sequence ?? trimmedThrough;
    }
  };

  const nextSequence = (): bigint => BigInt(streamSequenceAt(counter + 1));

  const encodeIterator = (position: bigint): string =>
    Buffer.from(
      JSON.stringify({ arn, shard: SHARD_ID, position: position.toString(), issued: now() }),
    ).toString("base64url");

  const decodeIterator = (iterator: unknown): { position: bigint; issued: number } => {
    try {
      const parsed: unknown = JSON.parse(
        Buffer.from(String(iterator), "base64url").toString("utf8"),
      );
      if (isRecord(parsed) && parsed.arn === arn && typeof parsed.position === "string") {
        return { position: BigInt(parsed.position), issued: Number(parsed.issued) };
      }
    } catch {
      // reported below
    }
    throw new ApiError("ValidationException", `Invalid ShardIterator: ${String(iterator)}`);
  };

  const checkStream = (request: Record<string, unknown>): void => {
    if (request.StreamArn !== arn) {
      throw new ApiError(
        "ResourceNotFoundException",
        `Requested resource not found: Stream: ${String(request.StreamArn)} not found`,
      );
    }
  };

  const streamsApi: Record<string, (request: Record<string, unknown>) => Promise<unknown>> = {
    ListStreams: () =>
      Promise.resolve({
        Streams: [
          { StreamArn: arn, TableName: options.table, StreamLabel: arn.split("/stream/")[1] },
        ],
      }),
    DescribeStream: async (request) => {
      checkStream(request);
      return {
        StreamDescription: {
          StreamArn: arn,
          StreamLabel: arn.split("/stream/")[1],
          StreamStatus: "ENABLED",
          StreamViewType: "KEYS_ONLY",
          CreationRequestDateTime: Date.parse(`${arn.split("/stream/")[1] ?? ""}Z`) / 1000,
          TableName: options.table,
          KeySchema: await describeKeys(),
          Shards: [
            {
              ShardId: SHARD_ID,
              SequenceNumberRange: { StartingSequenceNumber: streamSequenceAt(1) },
            },
          ],
        },
      };
    },
    GetShardIterator: (request) => {
      checkStream(request);
      if (request.ShardId !== SHARD_ID) {
        throw new ApiError(
          "ResourceNotFoundException",
          `Requested resource not found: Shard does not exist: ${String(request.ShardId)}`,
        );
      }
      trim();
      const type = request.ShardIteratorType;
      if (type === "TRIM_HORIZON") {
        return Promise.resolve({ ShardIterator: encodeIterator(trimmedThrough + 1n) });
      }
      if (type === "LATEST")
        return Promise.resolve({ ShardIterator: encodeIterator(nextSequence()) });
      if (type !== "AT_SEQUENCE_NUMBER" && type !== "AFTER_SEQUENCE_NUMBER") {
        throw new ApiError("ValidationException", `Invalid ShardIteratorType: ${String(type)}`);
      }
      const raw = request.SequenceNumber;
      if (typeof raw !== "string" || !/^\d{21,40}$/.test(raw)) {
        throw new ApiError(
          "ValidationException",
          `SequenceNumber is required for ${type} and must be a sequence number: ${String(raw)}`,
        );
      }
      const sequence = BigInt(raw);
      if (sequence <= trimmedThrough) {
        throw new ApiError(
          "TrimmedDataAccessException",
          `Sequence number ${raw} is older than the trim horizon of the shard`,
        );
      }
      return Promise.resolve({
        ShardIterator: encodeIterator(type === "AT_SEQUENCE_NUMBER" ? sequence : sequence + 1n),
      });
    },
    GetRecords: (request) => {
      const { position, issued } = decodeIterator(request.ShardIterator);
      if (now() - issued > ITERATOR_LIFETIME_MS) {
        throw new ApiError("ExpiredIteratorException", "Iterator expired");
      }
      trim();
      if (position <= trimmedThrough) {
        throw new ApiError(
          "TrimmedDataAccessException",
          "The operation attempted to read past the oldest stream record in a shard",
        );
      }
      const limit = request.Limit ?? 1000;
      if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new ApiError(
          "ValidationException",
          `Limit must be between 1 and 1000: ${JSON.stringify(limit)}`,
        );
      }
      const records = stored.filter((entry) => entry.sequence >= position).slice(0, limit);
      const last = records.at(-1);
      return Promise.resolve({
        // The API's records carry no eventSourceARN (Lambda adds it to the events it delivers).
        Records: records.map(({ record }) => ({ ...record, eventSourceARN: undefined })),
        NextShardIterator: encodeIterator(last === undefined ? position : last.sequence + 1n),
      });
    },
  };

  const reply = (res: ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.0",
      "content-length": Buffer.byteLength(text),
    });
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const target = String(req.headers["x-amz-target"] ?? "");
      const [service, operation = ""] = target.split(".");
      if (service === "DynamoDBStreams_20120810") {
        try {
          const handler = streamsApi[operation];
          if (handler === undefined) throw new ApiError("UnknownOperationException", operation);
          reply(
            res,
            200,
            await handler(JSON.parse(body.toString("utf8")) as Record<string, unknown>),
          );
        } catch (error: unknown) {
          const type = error instanceof ApiError ? error.type : "InternalServerError";
          const message = error instanceof Error ? error.message : String(error);
          reply(res, error instanceof ApiError ? 400 : 500, {
            __type: `com.amazonaws.dynamodb.v20120810#${type}`,
            message,
          });
        }
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        parsed = undefined; // dynalite answers malformed requests itself
      }
      const writes = await writesOf(operation, parsed);
      const response =
        writes.length > 0
          ? await recordWrites(req, body, writes)
          : await exchange(upstream, req, body);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    })().catch(() => {
      req.socket.destroy();
    });
  });
  const endpoint = await listenOnLoopback(server);

  return {
    endpoint,
    streamArn: arn,
    shardId: SHARD_ID,
    records: () => {
      trim();
      return stored.map((entry) => entry.record);
    },
    now,
    ageRecords(ms) {
      offset += ms;
    },
    stop: async () => {
      client.destroy();
      await closeServer(server);
    },
  };
}
