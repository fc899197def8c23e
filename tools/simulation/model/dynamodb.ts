/**
 * An in-memory model of Amazon DynamoDB's data plane for the deterministic simulation, written
 * from AWS's documentation (the oracle: see tools/simulation/model/types.ts). Tables are created
 * by the world (`createTable`); the SDK commands modeled are GetItem, PutItem, DeleteItem,
 * UpdateItem, BatchGetItem, Scan and DescribeTable, with condition, update, filter and projection
 * expressions (tools/simulation/model/dynamodb-expression.ts), the item size and number rules
 * (tools/simulation/model/dynamodb-values.ts), eventually consistent reads, and a stream per
 * table written on each change (tools/simulation/model/streams.ts).
 *
 * Every call takes effect when the scheduler calls `finish`; `start` only reads the input.
 *
 * Silent choices (the hardest for a client where the documentation says nothing precise):
 * - Eventually consistent reads (GetItem, BatchGetItem, Scan without ConsistentRead) see, with
 *   probability 1/2, the item as it was at a random instant of the last second: the previous
 *   version, or no item at all when it was just created (and a just-deleted item again). Reads are
 *   not monotonic: a later read may see an older version than an earlier one.
 * - BatchGetItem returns, one call in three, some keys in UnprocessedKeys though nothing was
 *   throttled (never all of them: that would be a ProvisionedThroughputExceededException), and the
 *   items of Responses in an order that is not the order of the keys.
 * - Scan returns a LastEvaluatedKey whenever it stopped at Limit or at 1 MB, even when no item is
 *   left (the next page is then empty); its order is a hash of the partition key, not key order.
 * - A page of Scan stops before the item that would take the scanned size past 1 MB (at least one
 *   item per page).
 * - A table ARN of another region answers ValidationException "Invalid AWS region in '<arn>'"
 *   (Unconfirmed: as AWS answers a control-plane call, terraform-provider-aws issue #42792); an ARN
 *   of another account answers AccessDeniedException (no resource policy is modeled).
 * - DescribeTable's ItemCount and TableSizeBytes are refreshed every six hours, as documented
 *   ("updated approximately every six hours"), so they lag the table.
 * - An UpdateItem of a missing item with only REMOVE creates the item with its key alone.
 * - A write that leaves the item exactly as it was writes no stream record (see streams.ts).
 * - BatchGetItem's Responses and UnprocessedKeys are keyed by the table as the request named it
 *   (name or ARN).
 * - Faults (`faults()`): a 500 InternalServerError on a write may or may not have been applied:
 *   the scheduler decides (it answers the fault instead of calling `finish`, or after it). The
 *   400 throttling errors (ProvisionedThroughputExceededException, ThrottlingException,
 *   RequestLimitExceeded) mean the request was rejected and not applied, unless the scheduler
 *   models a response lost after `finish`.
 *
 * Not modeled: Query, BatchWriteItem, transactions, PartiQL, secondary indexes, TTL, legacy
 * parameters (Expected, AttributeUpdates, ScanFilter, ...), ReturnConsumedCapacity figures,
 * reserved words. Unmodeled commands throw a plain Error so a test sees the gap.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  type AttributeValue,
  type KeysAndAttributes,
} from "@aws-sdk/client-dynamodb";
import type {
  Clock,
  DocumentedFault,
  ModelCall,
  ModelOperation,
  Rng,
  ServiceModel,
  TimedModel,
} from "./types";
import {
  ConditionExpression,
  ExpressionContext,
  parseProjection,
  project,
  UpdateExpression,
  type Path,
} from "./dynamodb-expression";
import {
  type Item,
  MAX_ITEM_BYTES,
  canonicalItem,
  cloneItem,
  compareScalars,
  itemSize,
  itemsEqual,
  typeOf,
  utf8Length,
  validationError,
} from "./dynamodb-values";
import { DynamoDbStreamsModel } from "./streams";

export interface KeyAttribute {
  readonly name: string;
  readonly type: "S" | "N" | "B";
}

export interface TableOptions {
  readonly region: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** StreamViewType of the table's stream, if it has one */
  readonly stream?: "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";
}

const API = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference";
/** How far back an eventually consistent read may look (Silent: "usually within one second"). */
const STALE_WINDOW_MS = 1000;
const SIX_HOURS_MS = 6 * 3600 * 1000;
const ONE_MB = 1024 * 1024;
const SIXTEEN_MB = 16 * ONE_MB;

interface Version {
  readonly at: number;
  readonly item: Item | undefined;
}

interface Table {
  readonly name: string;
  readonly region: string;
  readonly arn: string;
  readonly tableId: string;
  readonly createdAt: number;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute | undefined;
  readonly items: Map<string, Item>;
  /** Earlier versions of recently written items, for eventually consistent reads. */
  readonly history: Map<string, Version[]>;
  counts: { at: number; items: number; bytes: number };
}

type Output = Record<string, unknown>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isItem(value: unknown): value is Item {
  return isRecord(value) && Object.values(value).every(isRecord);
}

function optionalString(
  input: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw validationError(`Invalid type for parameter ${name}`);
  return value;
}

function requiredString(input: Readonly<Record<string, unknown>>, name: string): string {
  const value = optionalString(input, name);
  if (value === undefined) {
    throw validationError(
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalNumber(
  input: Readonly<Record<string, unknown>>,
  name: string,
): number | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw validationError(`Invalid type for parameter ${name}`);
  }
  return value;
}

function stringMap(value: unknown, name: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw validationError(`Invalid type for parameter ${name}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

function valueMap(value: unknown, name: string): Item | undefined {
  if (value === undefined) return undefined;
  if (!isItem(value)) throw validationError(`Invalid type for parameter ${name}`);
  return value;
}

function requiredItem(input: Readonly<Record<string, unknown>>, name: string): Item {
  const value = valueMap(input[name], name);
  if (value === undefined) {
    throw validationError(
      `1 validation error detected: Value null at '${name.toLowerCase()}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** FNV-1a: the stable hash that orders a Scan and picks its segment. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function encodeKeyValue(value: AttributeValue): string {
  if (value.S !== undefined) return `S${value.S}`;
  if (value.N !== undefined) return `N${value.N}`;
  return `B${Buffer.from(value.B ?? new Uint8Array()).toString("base64")}`;
}

export class DynamoDbModel implements ServiceModel, TimedModel {
  readonly service = "dynamodb" as const;
  /** The tables' streams, a ServiceModel of service "dynamodb-streams". */
  readonly streams: DynamoDbStreamsModel;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly accountId: string;
  private readonly tables: Table[] = [];

  constructor(options: { clock: Clock; rng: Rng; accountId: string }) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.accountId = options.accountId;
    this.streams = new DynamoDbStreamsModel(options);
  }

  createTable(name: string, options: TableOptions): { tableArn: string; streamArn?: string } {
    if (this.tables.some((t) => t.name === name && t.region === options.region)) {
      throw new Error(`model: table ${name} already exists in ${options.region}`);
    }
    const tableArn = `arn:aws:dynamodb:${options.region}:${this.accountId}:table/${name}`;
    const now = this.clock.now();
    this.tables.push({
      name,
      region: options.region,
      arn: tableArn,
      tableId: this.uuid(),
      createdAt: now,
      partitionKey: options.partitionKey,
      sortKey: options.sortKey,
      items: new Map(),
      history: new Map(),
      counts: { at: now, items: 0, bytes: 0 },
    });
    if (options.stream === undefined) return { tableArn };
    const keySchema: { AttributeName: string; KeyType: "HASH" | "RANGE" }[] = [
      { AttributeName: options.partitionKey.name, KeyType: "HASH" },
    ];
    if (options.sortKey) keySchema.push({ AttributeName: options.sortKey.name, KeyType: "RANGE" });
    const streamArn = this.streams.enableStream({
      tableName: name,
      tableArn,
      region: options.region,
      keySchema,
      viewType: options.stream,
    });
    return { tableArn, streamArn };
  }

  start(call: ModelCall): ModelOperation {
    // Single-item calls take a few milliseconds (Silent: no latency is documented).
    const durationMs = 2 + Math.floor(this.rng() * 8);
    return { durationMs, finish: () => this.run(call) };
  }

  faults(call: ModelCall): readonly DocumentedFault[] {
    if (!DATA_COMMANDS.includes(call.command)) return [];
    const source = `${API}/API_${call.command}.html`;
    const fault = (
      name: string,
      httpStatusCode: number,
      make: (message: string) => Error,
      message: string,
    ): DocumentedFault => ({ name, httpStatusCode, source, error: () => make(message) });
    const meta = (status: number) => ({ $metadata: { httpStatusCode: status } });
    const faults: DocumentedFault[] = [
      // "InternalServerError: An error occurred on the server side." (HTTP 500). On a write, the
      // write may or may not have happened: the scheduler decides.
      fault(
        "InternalServerError",
        500,
        (m) => new InternalServerError({ message: m, ...meta(500) }),
        "Internal server error",
      ),
      // "RequestLimitExceeded: Throughput exceeds the current throughput quota for your account."
      fault(
        "RequestLimitExceeded",
        400,
        (m) => new RequestLimitExceeded({ message: m, ...meta(400) }),
        "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase",
      ),
      // "ThrottlingException: The request was denied due to request throttling."
      fault(
        "ThrottlingException",
        400,
        (m) => new ThrottlingException({ message: m, ...meta(400) }),
        "Rate of requests exceeds the allowed throughput.",
      ),
    ];
    if (call.command !== "DescribeTable") {
      // "ProvisionedThroughputExceededException: Your request rate is too high. The AWS SDKs for
      // DynamoDB automatically retry requests that receive this exception."
      faults.push(
        fault(
          "ProvisionedThroughputExceededException",
          400,
          (m) => new ProvisionedThroughputExceededException({ message: m, ...meta(400) }),
          "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        ),
      );
    }
    return faults;
  }

  /**
   * Nothing in DynamoDB's tables changes by itself here (stale versions simply age out of the
   * window); the streams' retention does, so the streams model's timers are reported here too, for
   * a scheduler that registers only this model (registering both is harmless: `runDue` is
   * idempotent).
   */
  nextDue(): number | undefined {
    return this.streams.nextDue();
  }

  runDue(): void {
    const now = this.clock.now();
    for (const table of this.tables) this.pruneHistory(table, now);
    this.streams.runDue();
  }

  /** Inspection: the table's items, in key order (partition key, then sort key). */
  items(table: string): Record<string, AttributeValue>[] {
    const t = this.inspect(table);
    return [...t.items.values()].sort((a, b) => this.compareKeys(t, a, b)).map(cloneItem);
  }

  item(
    table: string,
    key: Record<string, AttributeValue>,
  ): Record<string, AttributeValue> | undefined {
    const t = this.inspect(table);
    const found = t.items.get(this.keyOf(t, canonicalItem(key)));
    return found === undefined ? undefined : cloneItem(found);
  }

  // -------------------------------------------------------------------------------------------
  // Dispatch

  private run(call: ModelCall): Output {
    const input = call.input;
    switch (call.command) {
      case "GetItem":
        return this.getItem(call.region, input);
      case "PutItem":
        return this.putItem(call.region, input);
      case "DeleteItem":
        return this.deleteItem(call.region, input);
      case "UpdateItem":
        return this.updateItem(call.region, input);
      case "BatchGetItem":
        return this.batchGetItem(call.region, input);
      case "Scan":
        return this.scan(call.region, input);
      case "DescribeTable":
        return this.describeTable(call.region, input);
      default:
        throw new Error(`model: DynamoDB command ${call.command} is not modeled`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tables and keys

  /**
   * TableName: "The name of the table ... You can also provide the Amazon Resource Name (ARN) of
   * the table in this parameter." (API_GetItem.html and the others.)
   */
  private table(region: string, nameOrArn: string): Table {
    const arn = /^arn:aws:dynamodb:([^:]*):([^:]*):table\/([^/]+)$/.exec(nameOrArn);
    if (arn) {
      const [, arnRegion, account, name] = arn;
      if (arnRegion !== region) {
        throw validationError(`1 validation error detected: Invalid AWS region in '${nameOrArn}'`);
      }
      if (account !== this.accountId) {
        throw new DynamoDBServiceException({
          name: "AccessDeniedException",
          $fault: "client",
          message: `User is not authorized to perform this operation on resource ${nameOrArn} because no resource-based policy allows it`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      return this.tableByName(region, name ?? "");
    }
    if (nameOrArn.startsWith("arn:")) {
      throw validationError(`Invalid TableName: ${nameOrArn} is not a table ARN`);
    }
    // TableName: "Length Constraints: Minimum length of 1. Maximum length of 1024." for ARNs; a
    // name is 3 to 255 of [a-zA-Z0-9_.-].
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(nameOrArn)) {
      throw validationError(
        `1 validation error detected: Value '${nameOrArn}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
      );
    }
    return this.tableByName(region, nameOrArn);
  }

  private tableByName(region: string, name: string): Table {
    const table = this.tables.find((t) => t.name === name && t.region === region);
    if (table === undefined) {
      // "ResourceNotFoundException: The operation tried to access a nonexistent table or index."
      throw new ResourceNotFoundException({
        message: `Requested resource not found: Table: ${name} not found`,
        $metadata: { httpStatusCode: 400 },
      });
    }
    return table;
  }

  private inspect(nameOrArn: string): Table {
    const table = this.tables.find((t) => t.name === nameOrArn || t.arn === nameOrArn);
    if (table === undefined) throw new Error(`model: no table ${nameOrArn}`);
    return table;
  }

  private keyAttributes(table: Table): KeyAttribute[] {
    return table.sortKey ? [table.partitionKey, table.sortKey] : [table.partitionKey];
  }

  private keyOf(table: Table, item: Item): string {
    return this.keyAttributes(table)
      .map((k) => {
        const value = item[k.name];
        return value === undefined ? "" : encodeKeyValue(value);
      })
      .join("\u0000");
  }

  private keyFrom(table: Table, item: Item): Item {
    const key: Item = {};
    for (const k of this.keyAttributes(table)) {
      const value = item[k.name];
      if (value !== undefined) key[k.name] = value;
    }
    return key;
  }

  /**
   * Validates the key attributes of an item or key. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
   * "The minimum length of a partition key value is 1 byte. The maximum length is 2048 bytes."; a
   * sort key value "The maximum length is 1024 bytes"; and
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
   * "the key attribute values of String and Binary type ... length greater than zero".
   */
  private checkKeyAttributes(table: Table, item: Item, isWholeItem: boolean): void {
    for (const k of this.keyAttributes(table)) {
      const value = item[k.name];
      if (value === undefined) {
        if (isWholeItem) {
          throw validationError(
            `One or more parameter values were invalid: Missing the key ${k.name} in the item`,
          );
        }
        throw validationError("The provided key element does not match the schema");
      }
      const actual = typeOf(value);
      if (actual !== k.type) {
        if (isWholeItem) {
          throw validationError(
            `One or more parameter values were invalid: Type mismatch for key ${k.name} expected: ${k.type} actual: ${actual ?? "NULL"}`,
          );
        }
        throw validationError("The provided key element does not match the schema");
      }
      const length = value.S !== undefined ? utf8Length(value.S) : (value.B?.length ?? 1);
      if (length === 0) {
        const kind = value.S !== undefined ? "string" : "binary";
        throw validationError(
          `One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty ${kind} value. Key: ${k.name}`,
        );
      }
      const isSort = k === table.sortKey;
      if (length > (isSort ? 1024 : 2048)) {
        throw validationError(
          isSort
            ? "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
            : "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        );
      }
    }
  }

  /** A Key parameter: exactly the key attributes ("The provided key element does not match the
   * schema" otherwise). */
  private parseKey(table: Table, key: Item): Item {
    if (Object.keys(key).length !== this.keyAttributes(table).length) {
      throw validationError("The provided key element does not match the schema");
    }
    this.checkKeyAttributes(table, key, false);
    return canonicalItem(key);
  }

  private compareKeys(table: Table, a: Item, b: Item): number {
    for (const k of this.keyAttributes(table)) {
      const x = a[k.name];
      const y = b[k.name];
      if (x === undefined || y === undefined) continue;
      const order = compareScalars(x, y) ?? 0;
      if (order !== 0) return order;
    }
    return 0;
  }

  // -------------------------------------------------------------------------------------------
  // Versions: writes, and what an eventually consistent read sees

  /** Stores a new version of an item (or its deletion), keeping the old one for stale reads. */
  private write(table: Table, key: string, item: Item | undefined): void {
    const now = this.clock.now();
    const versions = table.history.get(key) ?? [];
    versions.push({ at: now, item: table.items.get(key) });
    table.history.set(key, versions);
    if (item === undefined) table.items.delete(key);
    else table.items.set(key, item);
    this.pruneHistory(table, now);
  }

  private pruneHistory(table: Table, now: number): void {
    for (const [key, versions] of table.history) {
      const recent = versions.filter((v) => v.at > now - STALE_WINDOW_MS);
      if (recent.length === 0) table.history.delete(key);
      else if (recent.length !== versions.length) table.history.set(key, recent);
    }
  }

  /**
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
   * "the response might not reflect the results of a recently completed write operation. The
   * response might include some stale data." and, for strongly consistent reads, "returns a
   * response with the most up-to-date data".
   */
  private read(table: Table, key: string, consistent: boolean): Item | undefined {
    const current = table.items.get(key);
    const versions = table.history.get(key);
    if (consistent || versions === undefined || this.rng() < 0.5) return current;
    // The item as of a random instant of the window: each version records the item as it was
    // before the write at `at`.
    const instant = this.clock.now() - this.rng() * STALE_WINDOW_MS;
    const superseded = versions.find((v) => v.at > instant);
    return superseded === undefined ? current : superseded.item;
  }

  private readKeys(table: Table): string[] {
    const keys = new Set(table.items.keys());
    for (const key of table.history.keys()) keys.add(key);
    return [...keys];
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  private context(input: Readonly<Record<string, unknown>>): ExpressionContext {
    return new ExpressionContext(
      stringMap(input.ExpressionAttributeNames, "ExpressionAttributeNames"),
      valueMap(input.ExpressionAttributeValues, "ExpressionAttributeValues"),
    );
  }

  private refuseLegacy(input: Readonly<Record<string, unknown>>): void {
    const legacy = [
      "Expected",
      "AttributeUpdates",
      "ConditionalOperator",
      "AttributesToGet",
      "ScanFilter",
    ];
    const used = legacy.find((name) => input[name] !== undefined);
    if (used !== undefined) throw new Error(`model: the legacy parameter ${used} is not modeled`);
  }

  private condition(
    input: Readonly<Record<string, unknown>>,
    context: ExpressionContext,
    name = "ConditionExpression",
  ): ConditionExpression | undefined {
    const expression = optionalString(input, name);
    return expression === undefined
      ? undefined
      : ConditionExpression.parse(expression, context, name);
  }

  private projection(
    input: Readonly<Record<string, unknown>>,
    context: ExpressionContext,
  ): Path[] | undefined {
    const expression = optionalString(input, "ProjectionExpression");
    return expression === undefined ? undefined : parseProjection(expression, context);
  }

  /** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
   * ReturnValuesOnConditionCheckFailure: "Use ReturnValuesOnConditionCheckFailure to get the item
   * attributes if the PutItem condition fails. ... ALL_OLD". */
  private checkCondition(
    input: Readonly<Record<string, unknown>>,
    condition: ConditionExpression | undefined,
    existing: Item | undefined,
  ): void {
    if (condition === undefined || condition.matches(existing)) return;
    const returnOld = input.ReturnValuesOnConditionCheckFailure === "ALL_OLD";
    throw new ConditionalCheckFailedException({
      message: "The conditional request failed",
      $metadata: { httpStatusCode: 400 },
      ...(returnOld && existing !== undefined ? { Item: cloneItem(existing) } : {}),
    });
  }

  private returnValues(
    input: Readonly<Record<string, unknown>>,
    allowed: readonly string[],
  ): string {
    const value = optionalString(input, "ReturnValues") ?? "NONE";
    if (!allowed.includes(value)) {
      throw validationError(`ReturnValues can only be ${allowed.join(" or ")} for this operation`);
    }
    const onFailure = optionalString(input, "ReturnValuesOnConditionCheckFailure") ?? "NONE";
    if (onFailure !== "NONE" && onFailure !== "ALL_OLD") {
      throw validationError(
        `1 validation error detected: Value '${onFailure}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]`,
      );
    }
    return value;
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private getItem(region: string, input: Readonly<Record<string, unknown>>): Output {
    this.refuseLegacy(input);
    const table = this.table(region, requiredString(input, "TableName"));
    const key = this.parseKey(table, requiredItem(input, "Key"));
    const context = this.context(input);
    const paths = this.projection(input, context);
    context.checkAllUsed();
    const found = this.read(table, this.keyOf(table, key), input.ConsistentRead === true);
    if (found === undefined) return {};
    return { Item: paths === undefined ? cloneItem(found) : project(found, paths) };
  }

  private validItem(table: Table, raw: Item, sizeMessage: string): Item {
    this.checkKeyAttributes(table, raw, true);
    const item = canonicalItem(raw);
    // "Item size has exceeded the maximum allowed size" (ValidationException).
    if (itemSize(item) > MAX_ITEM_BYTES) throw validationError(sizeMessage);
    return item;
  }

  private putItem(region: string, input: Readonly<Record<string, unknown>>): Output {
    this.refuseLegacy(input);
    const table = this.table(region, requiredString(input, "TableName"));
    const returnValues = this.returnValues(input, ["NONE", "ALL_OLD"]);
    const item = this.validItem(
      table,
      requiredItem(input, "Item"),
      "Item size has exceeded the maximum allowed size",
    );
    const context = this.context(input);
    const condition = this.condition(input, context);
    context.checkAllUsed();
    const key = this.keyOf(table, item);
    const existing = table.items.get(key);
    this.checkCondition(input, condition, existing);
    this.commit(table, key, existing, item);
    return returnValues === "ALL_OLD" && existing !== undefined
      ? { Attributes: cloneItem(existing) }
      : {};
  }

  private deleteItem(region: string, input: Readonly<Record<string, unknown>>): Output {
    this.refuseLegacy(input);
    const table = this.table(region, requiredString(input, "TableName"));
    const returnValues = this.returnValues(input, ["NONE", "ALL_OLD"]);
    const keyItem = this.parseKey(table, requiredItem(input, "Key"));
    const context = this.context(input);
    const condition = this.condition(input, context);
    context.checkAllUsed();
    const key = this.keyOf(table, keyItem);
    const existing = table.items.get(key);
    this.checkCondition(input, condition, existing);
    if (existing !== undefined) this.commit(table, key, existing, undefined);
    return returnValues === "ALL_OLD" && existing !== undefined
      ? { Attributes: cloneItem(existing) }
      : {};
  }

  private updateItem(region: string, input: Readonly<Record<string, unknown>>): Output {
    this.refuseLegacy(input);
    const table = this.table(region, requiredString(input, "TableName"));
    const returnValues = this.returnValues(input, [
      "NONE",
      "ALL_OLD",
      "UPDATED_OLD",
      "ALL_NEW",
      "UPDATED_NEW",
    ]);
    const keyItem = this.parseKey(table, requiredItem(input, "Key"));
    const context = this.context(input);
    const text = optionalString(input, "UpdateExpression");
    const update = text === undefined ? undefined : UpdateExpression.parse(text, context);
    const condition = this.condition(input, context);
    context.checkAllUsed();
    const names = update?.topLevelNames() ?? [];
    const keyName = this.keyAttributes(table).find((k) => names.includes(k.name));
    if (keyName !== undefined) {
      throw validationError(
        `One or more parameter values were invalid: Cannot update attribute ${keyName.name}. This attribute is part of the key`,
      );
    }
    const key = this.keyOf(table, keyItem);
    const existing = table.items.get(key);
    this.checkCondition(input, condition, existing);
    const base = existing ?? keyItem;
    const updated = canonicalItem(update === undefined ? base : update.apply(base));
    if (itemSize(updated) > MAX_ITEM_BYTES) {
      throw validationError("Item size to update has exceeded the maximum allowed size");
    }
    this.commit(table, key, existing, updated);
    return this.updateOutput(returnValues, names, existing, updated);
  }

  /** ReturnValues: "UPDATED_OLD - Returns only the updated attributes, as they appeared before
   * the UpdateItem operation." and the others (API_UpdateItem.html). */
  private updateOutput(
    returnValues: string,
    names: readonly string[],
    before: Item | undefined,
    after: Item,
  ): Output {
    const only = (item: Item | undefined): Item => {
      const out: Item = {};
      for (const n of names) {
        const v = item?.[n];
        if (v !== undefined) out[n] = v;
      }
      return cloneItem(out);
    };
    const pick = (attributes: Item): Output =>
      Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
    switch (returnValues) {
      case "ALL_OLD":
        return before === undefined ? {} : pick(cloneItem(before));
      case "UPDATED_OLD":
        return pick(only(before));
      case "ALL_NEW":
        return pick(cloneItem(after));
      case "UPDATED_NEW":
        return pick(only(after));
      default:
        return {};
    }
  }

  /** Applies a write and, when it changes the item, writes the stream record. */
  private commit(
    table: Table,
    key: string,
    before: Item | undefined,
    after: Item | undefined,
  ): void {
    const unchanged =
      before === undefined ? after === undefined : after !== undefined && itemsEqual(before, after);
    if (unchanged) return;
    this.write(table, key, after);
    const eventName = before === undefined ? "INSERT" : after === undefined ? "REMOVE" : "MODIFY";
    this.streams.recordChange(table.arn, {
      eventName,
      keys: this.keyFrom(table, after ?? before ?? {}),
      ...(before === undefined ? {} : { oldImage: cloneItem(before) }),
      ...(after === undefined ? {} : { newImage: cloneItem(after) }),
    });
  }

  /**
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
   * "A single operation can retrieve up to 16 MB of data, which can contain as many as 100
   * items. BatchGetItem returns a partial result if the response size limit is exceeded, the
   * table's provisioned throughput is exceeded, more than 1MB per partition is requested, or an
   * internal processing failure occurs. If a partial result is returned, the operation returns a
   * value for UnprocessedKeys." and "In order to minimize response latency, BatchGetItem may
   * retrieve items in parallel. ... the order of the items returned is not guaranteed".
   */
  private batchGetItem(region: string, input: Readonly<Record<string, unknown>>): Output {
    const requests = input.RequestItems;
    if (!isRecord(requests) || Object.keys(requests).length === 0) {
      throw validationError(
        "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    const plan = Object.entries(requests).map(([name, raw]) => this.batchTable(region, name, raw));
    const total = plan.reduce((n, p) => n + p.keys.length, 0);
    if (total > 100) {
      throw validationError("Too many items requested for the BatchGetItem call");
    }
    const unprocessedChance = this.rng() < 1 / 3;
    const responses: Record<string, Item[]> = {};
    const unprocessed: Record<string, KeysAndAttributes> = {};
    let bytes = 0;
    let processed = 0;
    plan.forEach((p, tableIndex) => {
      const found: Item[] = [];
      const left: Item[] = [];
      p.keys.forEach((keyItem, keyIndex) => {
        const isLast = tableIndex === plan.length - 1 && keyIndex === p.keys.length - 1;
        const skip = unprocessedChance && this.rng() < 0.5 && !(isLast && processed === 0);
        const item = skip
          ? undefined
          : this.read(p.table, this.keyOf(p.table, keyItem), p.consistent);
        const size = item === undefined ? 0 : itemSize(item);
        if (skip || bytes + size > SIXTEEN_MB) {
          left.push(cloneItem(keyItem));
          return;
        }
        processed++;
        bytes += size;
        if (item !== undefined)
          found.push(p.paths === undefined ? cloneItem(item) : project(item, p.paths));
      });
      responses[p.name] = this.shuffle(found);
      if (left.length > 0) unprocessed[p.name] = { ...p.request, Keys: left };
    });
    return { Responses: responses, UnprocessedKeys: unprocessed };
  }

  private batchTable(region: string, name: string, raw: unknown) {
    if (!isRecord(raw) || !Array.isArray(raw.Keys) || raw.Keys.length === 0) {
      throw validationError(
        "1 validation error detected: Value at 'requestItems." +
          name +
          ".member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    this.refuseLegacy(raw);
    const table = this.table(region, name);
    const context = this.context(raw);
    const paths = this.projection(raw, context);
    context.checkAllUsed();
    const keys = raw.Keys.map((k: unknown) => {
      if (!isItem(k)) throw validationError("The provided key element does not match the schema");
      return this.parseKey(table, k);
    });
    const encoded = new Set(keys.map((k) => this.keyOf(table, k)));
    if (encoded.size !== keys.length) {
      throw validationError("Provided list of item keys contains duplicates");
    }
    const request: KeysAndAttributes = { Keys: [] };
    if (typeof raw.ConsistentRead === "boolean") request.ConsistentRead = raw.ConsistentRead;
    if (typeof raw.ProjectionExpression === "string")
      request.ProjectionExpression = raw.ProjectionExpression;
    const names = stringMap(raw.ExpressionAttributeNames, "ExpressionAttributeNames");
    if (names !== undefined) request.ExpressionAttributeNames = names;
    return { name, table, keys, paths, consistent: raw.ConsistentRead === true, request };
  }

  private shuffle<T>(values: T[]): T[] {
    for (let i = values.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const a = values[i];
      const b = values[j];
      if (a !== undefined && b !== undefined) {
        values[i] = b;
        values[j] = a;
      }
    }
    return values;
  }

  /**
   * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html
   * "If the total size of scanned items exceeds the maximum dataset size limit of 1 MB, the scan
   * completes and results are returned to the user. The LastEvaluatedKey value is also returned";
   * Limit: "The maximum number of items to evaluate (not necessarily the number of matching
   * items)"; Segment: "a parallel Scan request ... Segment IDs are zero-based".
   */
  private scan(region: string, input: Readonly<Record<string, unknown>>): Output {
    this.refuseLegacy(input);
    const table = this.table(region, requiredString(input, "TableName"));
    const { segment, totalSegments } = this.segments(input);
    const limit = optionalNumber(input, "Limit");
    if (limit !== undefined && limit < 1) {
      throw validationError(
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`,
      );
    }
    const context = this.context(input);
    const filter = this.condition(input, context, "FilterExpression");
    const paths = this.projection(input, context);
    context.checkAllUsed();
    const startRaw = valueMap(input.ExclusiveStartKey, "ExclusiveStartKey");
    const start = startRaw === undefined ? undefined : this.parseKey(table, startRaw);
    const consistent = input.ConsistentRead === true;
    const order = (item: Item): [number, Item] => {
      const pk = item[table.partitionKey.name];
      return [pk === undefined ? 0 : hash(encodeKeyValue(pk)), item];
    };
    const after = (a: [number, Item], b: [number, Item]): number =>
      a[0] - b[0] || this.compareKeys(table, a[1], b[1]);
    const startOrder = start === undefined ? undefined : order(start);
    const candidates = this.readKeys(table)
      .map((key) => this.read(table, key, consistent))
      .filter((item): item is Item => item !== undefined)
      .map(order)
      .filter(([h]) => h % totalSegments === segment)
      .filter((o) => startOrder === undefined || after(o, startOrder) > 0)
      .sort(after);
    return this.scanPage(
      table,
      candidates.map(([, item]) => item),
      limit,
      filter,
      paths,
      input.Select,
    );
  }

  private segments(input: Readonly<Record<string, unknown>>): {
    segment: number;
    totalSegments: number;
  } {
    const segment = optionalNumber(input, "Segment");
    const total = optionalNumber(input, "TotalSegments");
    if ((segment === undefined) !== (total === undefined)) {
      throw validationError(
        "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
      );
    }
    if (segment === undefined || total === undefined) return { segment: 0, totalSegments: 1 };
    if (total < 1 || total > 1_000_000 || segment < 0 || segment >= total) {
      throw validationError(
        `The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${segment} is not less than TotalSegments: ${total}`,
      );
    }
    return { segment, totalSegments: total };
  }

  private scanPage(
    table: Table,
    ordered: readonly Item[],
    limit: number | undefined,
    filter: ConditionExpression | undefined,
    paths: readonly Path[] | undefined,
    select: unknown,
  ): Output {
    const items: Item[] = [];
    let scanned = 0;
    let bytes = 0;
    let stopped = false;
    for (const item of ordered) {
      if (limit !== undefined && scanned >= limit) {
        stopped = true;
        break;
      }
      const size = itemSize(item);
      if (scanned > 0 && bytes + size > ONE_MB) {
        stopped = true;
        break;
      }
      scanned++;
      bytes += size;
      if (filter === undefined || filter.matches(item)) {
        items.push(paths === undefined ? cloneItem(item) : project(item, paths));
      }
    }
    // Silent: a page that ended exactly at Limit still carries a LastEvaluatedKey.
    if (limit !== undefined && scanned === limit) stopped = true;
    const last = ordered[scanned - 1];
    const output: Output = { Count: items.length, ScannedCount: scanned };
    if (select !== "COUNT") output.Items = items;
    if (stopped && last !== undefined)
      output.LastEvaluatedKey = cloneItem(this.keyFrom(table, last));
    return output;
  }

  /** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html
   * ItemCount: "DynamoDB updates this value approximately every six hours. Recent changes might
   * not be reflected in this value." */
  private describeTable(region: string, input: Readonly<Record<string, unknown>>): Output {
    const table = this.table(region, requiredString(input, "TableName"));
    const now = this.clock.now();
    if (now - table.counts.at >= SIX_HOURS_MS) {
      const items = [...table.items.values()];
      table.counts = {
        at: now,
        items: items.length,
        bytes: items.reduce((n, i) => n + itemSize(i), 0),
      };
    }
    const keySchema = [{ AttributeName: table.partitionKey.name, KeyType: "HASH" }];
    const definitions = [
      { AttributeName: table.partitionKey.name, AttributeType: table.partitionKey.type },
    ];
    if (table.sortKey) {
      keySchema.push({ AttributeName: table.sortKey.name, KeyType: "RANGE" });
      definitions.push({ AttributeName: table.sortKey.name, AttributeType: table.sortKey.type });
    }
    const stream = this.streams.latestStream(table.arn);
    return {
      Table: {
        TableName: table.name,
        TableArn: table.arn,
        TableId: table.tableId,
        TableStatus: "ACTIVE",
        CreationDateTime: new Date(table.createdAt),
        KeySchema: keySchema,
        AttributeDefinitions: definitions,
        ItemCount: table.counts.items,
        TableSizeBytes: table.counts.bytes,
        BillingModeSummary: { BillingMode: "PAY_PER_REQUEST" },
        ProvisionedThroughput: {
          NumberOfDecreasesToday: 0,
          ReadCapacityUnits: 0,
          WriteCapacityUnits: 0,
        },
        DeletionProtectionEnabled: false,
        ...(stream === undefined
          ? {}
          : {
              StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType },
              LatestStreamArn: stream.streamArn,
              LatestStreamLabel: stream.label,
            }),
      },
    };
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.rng() * 16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

const DATA_COMMANDS: readonly string[] = [
  "GetItem",
  "PutItem",
  "DeleteItem",
  "UpdateItem",
  "BatchGetItem",
  "Scan",
  "DescribeTable",
];
