/**
 * What DynamoDB does and dynalite does not, added in front of it (a loopback proxy, like the
 * other emulator fronts): `ReturnValuesOnConditionCheckFailure`. "Use
 * ReturnValuesOnConditionCheckFailure to get the item attributes if the PutItem condition fails.
 * For ReturnValuesOnConditionCheckFailure, the valid values are: NONE and ALL_OLD"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html; DeleteItem and
 * UpdateItem alike): the ConditionalCheckFailedException then carries `Item`, the item as it was
 * when the condition failed. dynalite ignores the parameter; the front reads the item back after
 * a failed condition and adds it to the error. Writes to one item go through the front one at a
 * time (a keyed lock), so the item read back is the one the condition failed on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { isRecord } from "../common/guards";
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, keyedLock } from "./emulators";
import { closeServer, exchange, listenOnLoopback, readAll, type Answer } from "./http-relay";

type Item = Record<string, AttributeValue>;

const WRITES = ["PutItem", "DeleteItem", "UpdateItem"];

const operationOf = (req: IncomingMessage): string | undefined => {
  const target = req.headers["x-amz-target"];
  return typeof target === "string" ? target.split(".")[1] : undefined;
};

const isConditionFailure = (answer: Answer): boolean =>
  answer.status === 400 && answer.body.toString("utf8").includes("ConditionalCheckFailedException");

export interface DynaliteFront {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts the front before dynalite at `upstream`. */
export async function startDynaliteFront(upstream: string): Promise<DynaliteFront> {
  const target = new URL(upstream);
  const client = new DynamoDBClient({
    endpoint: upstream,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
  });
  const lock = keyedLock();
  const schemas = new Map<string, string[]>();
  const keyNames = async (table: string): Promise<string[]> => {
    const known = schemas.get(table);
    if (known !== undefined) return known;
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    const names = (out.Table?.KeySchema ?? []).flatMap((key) =>
      key.AttributeName === undefined ? [] : [key.AttributeName],
    );
    schemas.set(table, names);
    return names;
  };

  /** The table and key a single-item write names. */
  const itemOf = async (
    operation: string,
    body: Record<string, unknown>,
  ): Promise<{ table: string; key: Item } | undefined> => {
    const table = body.TableName;
    const source = operation === "PutItem" ? body.Item : body.Key;
    if (typeof table !== "string" || !isRecord(source)) return undefined;
    const names = await keyNames(table);
    const key = Object.fromEntries(
      names.flatMap((name) => (name in source ? [[name, source[name] as AttributeValue]] : [])),
    );
    return { table, key };
  };

  const answer = (res: ServerResponse, reply: Answer, body = reply.body): void => {
    res.writeHead(reply.status, { ...reply.headers, "content-length": String(body.length) });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const operation = operationOf(req);
    let request: unknown;
    try {
      request =
        operation !== undefined && WRITES.includes(operation)
          ? JSON.parse(body.toString("utf8"))
          : undefined;
    } catch {
      request = undefined;
    }
    const item =
      operation !== undefined && isRecord(request) ? await itemOf(operation, request) : undefined;
    if (item === undefined || !isRecord(request)) {
      answer(res, await exchange(target, req, body));
      return;
    }
    const release = await lock([`${item.table}\u0000${JSON.stringify(item.key)}`]);
    try {
      const reply = await exchange(target, req, body);
      if (request.ReturnValuesOnConditionCheckFailure !== "ALL_OLD" || !isConditionFailure(reply)) {
        answer(res, reply);
        return;
      }
      const old = await client.send(
        new GetItemCommand({ TableName: item.table, Key: item.key, ConsistentRead: true }),
      );
      const error = JSON.parse(reply.body.toString("utf8")) as Record<string, unknown>;
      const withItem: Record<string, unknown> =
        old.Item === undefined ? error : { ...error, Item: old.Item satisfies Item };
      answer(res, reply, Buffer.from(JSON.stringify(withItem)));
    } finally {
      release();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      req.socket.destroy();
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    async stop() {
      client.destroy();
      await closeServer(server);
    },
  };
}
