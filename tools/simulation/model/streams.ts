/**
 * An in-memory model of Amazon DynamoDB Streams (service "dynamodb-streams") for the deterministic
 * simulation, written from AWS's documentation. The DynamoDB model (dynamodb.ts) owns it and
 * writes a record for each write that changes an item; clients read with ListStreams,
 * DescribeStream, GetShardIterator and GetRecords. World actions split shards and disable and
 * re-enable a table's stream.
 *
 * Documented behaviour modeled (each cited where it is implemented): 24-hour retention and
 * trimming, TrimmedDataAccessException, iterators that expire after 15 minutes, per-item order,
 * shard lineage (ParentShardId), NextShardIterator absent at the end of a closed shard, empty
 * pages before records, Limit up to 1000 and 1 MB per GetRecords, sequence numbers of 21 to 40
 * decimal digits, ApproximateCreationDateTime rounded down to the second, awsRegion the region of
 * the GetRecords request.
 *
 * Silent choices (hardest for a client where the documentation says nothing):
 * - A new iterator is, three times in ten, followed by one to three empty pages (Records: [] with a
 *   NextShardIterator at the same position) before its records are returned.
 * - Sequence numbers grow within a shard by random gaps (never contiguous). A child shard's and a
 *   re-created stream's sequence numbers start at a random 21-digit number, so they are often
 *   lower than the parent's: nothing in the documentation orders sequence numbers across shards.
 * - DescribeStream lists shards in an order that is not their lineage order (a child may come
 *   before its parent; https://repost.aws/questions/QU6by8UGM8Q8miP3pzivCZGA quotes Kinesis's
 *   "There are no guarantees about the chronological order shards returned in DescribeStream
 *   results. If you want to process shards in chronological order, use ParentShardId"), stable
 *   across calls so that ExclusiveStartShardId pages correctly; it
 *   returns LastEvaluatedShardId whenever a page is full, even when no shard is left ("If
 *   LastEvaluatedShardId is not empty, it does not necessarily mean that there is more data").
 * - A split closes every open shard of the stream and gives each one or two children; an item's
 *   records go to the child its key hashes to, so an item stays on one lineage.
 * - A closed shard is no longer listed 24 hours after it closed once all its records are trimmed.
 * - An iterator may be used more than once; it always reads from the position it names.
 * - A stream disabled by `recreateStream` stays listed (StreamStatus DISABLED) and readable for
 *   the retention period; writes go to the new stream only.
 * - eventVersion is "1.1"; SizeBytes counts the keys and images as DynamoDB sizes items.
 * - A stream ARN of another region answers ResourceNotFoundException.
 */
import {
  DynamoDBStreamsServiceException,
  ExpiredIteratorException,
  InternalServerError,
  LimitExceededException,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type _Record,
  type AttributeValue,
  type Shard as SdkShard,
} from "@aws-sdk/client-dynamodb-streams";
import type {
  Clock,
  DocumentedFault,
  ModelCall,
  ModelOperation,
  Rng,
  ServiceModel,
  TimedModel,
} from "./types";
import { type Item, cloneItem, itemSize } from "./dynamodb-values";

export type StreamViewType = "KEYS_ONLY" | "NEW_IMAGE" | "OLD_IMAGE" | "NEW_AND_OLD_IMAGES";

/** Inspection: one stream record as written, with when it was written and whether it is trimmed. */
export interface StreamRecordView {
  readonly sequenceNumber: string;
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly keys: Record<string, AttributeValue>;
  readonly writtenAt: number;
  readonly trimmed: boolean;
  /** The record as GetRecords returns it (awsRegion: the table's region). */
  readonly record: _Record;
}

/** What DynamoDB tells its stream when it enables one. */
export interface StreamTable {
  readonly tableName: string;
  readonly tableArn: string;
  readonly region: string;
  readonly keySchema: readonly { AttributeName: string; KeyType: "HASH" | "RANGE" }[];
  readonly viewType: StreamViewType;
}

/** One change of an item, as DynamoDB hands it to the stream. */
export interface ItemChange {
  readonly eventName: "INSERT" | "MODIFY" | "REMOVE";
  readonly keys: Item;
  readonly oldImage?: Item;
  readonly newImage?: Item;
}

const API = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference";
const DAY_MS = 24 * 3600 * 1000;
const ITERATOR_LIFETIME_MS = 15 * 60 * 1000;
const ONE_MB = 1024 * 1024;

interface StoredRecord {
  readonly sequence: bigint;
  readonly writtenAt: number;
  readonly record: _Record;
  readonly size: number;
  trimmed: boolean;
}

interface Shard {
  readonly id: string;
  readonly parentId: string | undefined;
  readonly startSequence: bigint;
  nextSequence: bigint;
  readonly records: StoredRecord[];
  readonly children: string[];
  closedAt: number | undefined;
  endingSequence: bigint | undefined;
}

interface Stream {
  readonly arn: string;
  readonly label: string;
  readonly table: StreamTable;
  readonly createdAt: number;
  status: "ENABLED" | "DISABLED";
  /** Listing order (see the header: not lineage order). */
  readonly shards: Shard[];
  readonly root: string;
}

interface Iterator {
  readonly streamArn: string;
  readonly shardId: string;
  readonly position: number;
  readonly issuedAt: number;
  readonly emptyPages: number;
}

type Output = Record<string, unknown>;

function streamsError(
  name: string,
  message: string,
  status = 400,
): DynamoDBStreamsServiceException {
  return new DynamoDBStreamsServiceException({
    name,
    $fault: status >= 500 ? "server" : "client",
    message,
    $metadata: { httpStatusCode: status },
  });
}

function meta(status: number) {
  return { $metadata: { httpStatusCode: status } };
}

function stringInput(input: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = input[name];
  return typeof value === "string" ? value : undefined;
}

function requireString(input: Readonly<Record<string, unknown>>, name: string): string {
  const value = stringInput(input, name);
  if (value === undefined) {
    throw streamsError(
      "ValidationException",
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function limitInput(input: Readonly<Record<string, unknown>>, max: number): number {
  const value = input.Limit;
  if (value === undefined) return max;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw streamsError(
      "ValidationException",
      `1 validation error detected: Value '${typeof value === "number" ? value : "?"}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return value;
}

/** FNV-1a, to route an item's key to one child of a shard. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function keyText(keys: Item): string {
  return Object.keys(keys)
    .sort()
    .map((k) => {
      const v = keys[k];
      const text = v?.S ?? v?.N ?? Buffer.from(v?.B ?? new Uint8Array()).toString("base64");
      return `${k}=${text}`;
    })
    .join("&");
}

/** A deep copy of a record (its Date and images included), so callers cannot change the model. */
function cloneRecord(record: _Record): _Record {
  const d = record.dynamodb;
  if (d === undefined) return { ...record };
  return {
    ...record,
    dynamodb: {
      ...d,
      ...(d.ApproximateCreationDateTime === undefined
        ? {}
        : { ApproximateCreationDateTime: new Date(d.ApproximateCreationDateTime.getTime()) }),
      ...(d.Keys === undefined ? {} : { Keys: cloneItem(d.Keys) }),
      ...(d.NewImage === undefined ? {} : { NewImage: cloneItem(d.NewImage) }),
      ...(d.OldImage === undefined ? {} : { OldImage: cloneItem(d.OldImage) }),
    },
  };
}

export class DynamoDbStreamsModel implements ServiceModel, TimedModel {
  readonly service = "dynamodb-streams" as const;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly streamList: Stream[] = [];
  private readonly iterators = new Map<string, Iterator>();
  private iteratorCount = 0;

  constructor(options: { clock: Clock; rng: Rng; accountId: string }) {
    this.clock = options.clock;
    this.rng = options.rng;
  }

  // -------------------------------------------------------------------------------------------
  // The DynamoDB side

  /** Enables a table's stream (called by the DynamoDB model); returns the stream's ARN. */
  enableStream(table: StreamTable): string {
    let at = this.clock.now();
    const labelOf = (t: number) => new Date(t).toISOString().slice(0, -1);
    // A stream ARN ends with its label, the creation time: two streams of a table need two.
    while (
      this.streamList.some((s) => s.table.tableArn === table.tableArn && s.label === labelOf(at))
    ) {
      at++;
    }
    const label = labelOf(at);
    const root = this.newShard(undefined);
    this.streamList.push({
      arn: `${table.tableArn}/stream/${label}`,
      label,
      table,
      createdAt: this.clock.now(),
      status: "ENABLED",
      shards: [root],
      root: root.id,
    });
    return `${table.tableArn}/stream/${label}`;
  }

  latestStream(
    tableArn: string,
  ): { streamArn: string; label: string; viewType: StreamViewType } | undefined {
    const stream = this.streamList.find(
      (s) => s.table.tableArn === tableArn && s.status === "ENABLED",
    );
    return stream === undefined
      ? undefined
      : { streamArn: stream.arn, label: stream.label, viewType: stream.table.viewType };
  }

  /**
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html
   * "Whenever an application creates, updates, or deletes items in the table, DynamoDB Streams
   * writes a stream record with the primary key attributes of the items that were modified." and
   * "For each item that is modified in a DynamoDB table, the stream records appear in the same
   * sequence as the actual modifications to the item." Only changes reach here: a write that
   * leaves the item as it was writes no record (https://www.tecracer.com/blog/2021/01/why-i-had-to-update-my-mental-model-of-dynamodb-streams.html:
   * an identical PutItem "didn't trigger" the stream), nor does a failed conditional write.
   */
  recordChange(tableArn: string, change: ItemChange): void {
    const stream = this.streamList.find(
      (s) => s.table.tableArn === tableArn && s.status === "ENABLED",
    );
    if (stream === undefined) return;
    const shard = this.route(stream, change.keys);
    const now = this.clock.now();
    shard.nextSequence += 1n + BigInt(Math.floor(this.rng() * 1_000_000));
    const sequence = shard.nextSequence;
    const view = stream.table.viewType;
    const newImage =
      view === "NEW_IMAGE" || view === "NEW_AND_OLD_IMAGES" ? change.newImage : undefined;
    const oldImage =
      view === "OLD_IMAGE" || view === "NEW_AND_OLD_IMAGES" ? change.oldImage : undefined;
    const size =
      itemSize(change.keys) +
      (newImage === undefined ? 0 : itemSize(newImage)) +
      (oldImage === undefined ? 0 : itemSize(oldImage));
    const record: _Record = {
      eventID: this.hex(32),
      eventName: change.eventName,
      eventVersion: "1.1",
      // "eventSource: The AWS service from which the stream record originated. For DynamoDB
      // Streams, this is aws:dynamodb." (API_streams_Record.html)
      eventSource: "aws:dynamodb",
      awsRegion: stream.table.region,
      dynamodb: {
        // "The approximate date and time when the stream record was created, in ISO 8601 format
        // and rounded down to the closest second." (API_streams_StreamRecord.html)
        ApproximateCreationDateTime: new Date(Math.floor(now / 1000) * 1000),
        Keys: cloneItem(change.keys),
        ...(newImage === undefined ? {} : { NewImage: cloneItem(newImage) }),
        ...(oldImage === undefined ? {} : { OldImage: cloneItem(oldImage) }),
        SequenceNumber: sequence.toString(),
        SizeBytes: Math.max(1, size),
        StreamViewType: view,
      },
    };
    shard.records.push({
      sequence,
      writtenAt: now,
      record,
      size: Math.max(1, size),
      trimmed: false,
    });
  }

  /** The open shard an item's records go to: down its lineage from the stream's first shard. */
  private route(stream: Stream, keys: Item): Shard {
    const text = keyText(keys);
    let shard = this.shard(stream, stream.root);
    while (shard.closedAt !== undefined && shard.children.length > 0) {
      const childId = shard.children[hash(`${text}|${shard.id}`) % shard.children.length];
      shard = this.shard(stream, childId ?? "");
    }
    return shard;
  }

  private shard(stream: Stream, id: string): Shard {
    const shard = stream.shards.find((s) => s.id === id);
    if (shard === undefined) throw new Error(`model: no shard ${id}`);
    return shard;
  }

  private newShard(parentId: string | undefined): Shard {
    // "shardId-" and 20 digits and 8 hex digits: within ShardId's "Minimum length of 28. Maximum
    // length of 65." (API_streams_Shard.html)
    const id = `shardId-${String(this.clock.now()).padStart(20, "0")}-${this.hex(8)}`;
    // Sequence numbers: "Length Constraints: Minimum length of 21. Maximum length of 40." and
    // "String contains numeric characters only." (API_streams_SequenceNumberRange.html)
    const start = 10n ** 20n + BigInt(Math.floor(this.rng() * 8e9)) * 10n ** 10n;
    return {
      id,
      parentId,
      startSequence: start,
      nextSequence: start,
      records: [],
      children: [],
      closedAt: undefined,
      endingSequence: undefined,
    };
  }

  private close(shard: Shard): void {
    shard.closedAt = this.clock.now();
    const last = shard.records[shard.records.length - 1];
    shard.endingSequence = last?.sequence ?? shard.startSequence;
  }

  // -------------------------------------------------------------------------------------------
  // World actions

  /** A shard split: every open shard closes and gets one or two open children. */
  splitShard(streamArn: string): void {
    const stream = this.inspect(streamArn);
    if (stream.status !== "ENABLED") throw new Error(`model: stream ${streamArn} is disabled`);
    for (const shard of stream.shards.filter((s) => s.closedAt === undefined)) {
      this.close(shard);
      const count = this.rng() < 0.5 ? 1 : 2;
      for (let i = 0; i < count; i++) {
        const child = this.newShard(shard.id);
        shard.children.push(child.id);
        // Silent: the child is listed at a random place, possibly before its parent.
        stream.shards.splice(Math.floor(this.rng() * (stream.shards.length + 1)), 0, child);
      }
    }
  }

  /** The table's stream disabled and enabled again: a new stream ARN with new shards. */
  recreateStream(table: string): { streamArn: string } {
    const stream = this.streamList.find(
      (s) => (s.table.tableName === table || s.table.tableArn === table) && s.status === "ENABLED",
    );
    if (stream === undefined) throw new Error(`model: table ${table} has no enabled stream`);
    stream.status = "DISABLED";
    for (const shard of stream.shards) if (shard.closedAt === undefined) this.close(shard);
    return { streamArn: this.enableStream(stream.table) };
  }

  /** Inspection: every record ever written, per shard, with shard lineage. */
  shards(
    streamArn: string,
  ): { shardId: string; parentShardId?: string; records: StreamRecordView[]; closed: boolean }[] {
    return this.inspect(streamArn).shards.map((shard) => ({
      shardId: shard.id,
      ...(shard.parentId === undefined ? {} : { parentShardId: shard.parentId }),
      closed: shard.closedAt !== undefined,
      records: shard.records.map((r) => ({
        sequenceNumber: r.sequence.toString(),
        eventName: r.record.eventName ?? "MODIFY",
        keys: cloneItem(r.record.dynamodb?.Keys ?? {}),
        writtenAt: r.writtenAt,
        trimmed: r.trimmed,
        record: cloneRecord(r.record),
      })),
    }));
  }

  private inspect(streamArn: string): Stream {
    const stream = this.streamList.find((s) => s.arn === streamArn);
    if (stream === undefined) throw new Error(`model: no stream ${streamArn}`);
    return stream;
  }

  // -------------------------------------------------------------------------------------------
  // ServiceModel, TimedModel

  start(call: ModelCall): ModelOperation {
    const durationMs = 3 + Math.floor(this.rng() * 10);
    return { durationMs, finish: () => this.run(call) };
  }

  faults(call: ModelCall): readonly DocumentedFault[] {
    if (!COMMANDS.includes(call.command)) return [];
    const source = `${API}/API_streams_${call.command}.html`;
    const faults: DocumentedFault[] = [
      {
        // "InternalServerError: An error occurred on the server side." HTTP 500.
        name: "InternalServerError",
        httpStatusCode: 500,
        source,
        error: () => new InternalServerError({ message: "Internal server error", ...meta(500) }),
      },
      {
        // Common errors: "ThrottlingException: The request was denied due to request
        // throttling." HTTP 400 (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/CommonErrors.html)
        name: "ThrottlingException",
        httpStatusCode: 400,
        source: `${API}/CommonErrors.html`,
        error: () => streamsError("ThrottlingException", "Rate exceeded"),
      },
    ];
    if (call.command === "GetRecords") {
      // "LimitExceededException: Your request rate is too high. The AWS SDKs for DynamoDB
      // automatically retry requests that receive this exception." (API_streams_GetRecords.html)
      faults.push({
        name: "LimitExceededException",
        httpStatusCode: 400,
        source,
        error: () =>
          new LimitExceededException({ message: "Rate exceeded for shard", ...meta(400) }),
      });
    }
    return faults;
  }

  nextDue(): number | undefined {
    let due: number | undefined;
    const now = this.clock.now();
    for (const stream of this.streamList) {
      for (const shard of stream.shards) {
        const first = shard.records.find((r) => !r.trimmed);
        const at = first === undefined ? undefined : first.writtenAt + DAY_MS;
        if (at !== undefined && at > now && (due === undefined || at < due)) due = at;
      }
    }
    return due;
  }

  /**
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html "All data in
   * DynamoDB Streams is subject to a 24-hour lifetime. ... data that is older than 24 hours is
   * susceptible to trimming (removal) at any moment."
   */
  runDue(): void {
    const now = this.clock.now();
    for (const stream of this.streamList) {
      for (const shard of stream.shards) {
        for (const record of shard.records)
          if (record.writtenAt + DAY_MS <= now) record.trimmed = true;
      }
    }
    for (const [token, iterator] of this.iterators) {
      if (iterator.issuedAt + ITERATOR_LIFETIME_MS < now) this.iterators.delete(token);
    }
  }

  private run(call: ModelCall): Output {
    switch (call.command) {
      case "ListStreams":
        return this.listStreams(call.region, call.input);
      case "DescribeStream":
        return this.describeStream(call.region, call.input);
      case "GetShardIterator":
        return this.getShardIterator(call.region, call.input);
      case "GetRecords":
        return this.getRecords(call.region, call.input);
      default:
        throw new Error(`model: DynamoDB Streams command ${call.command} is not modeled`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  private stream(region: string, arn: string): Stream {
    const stream = this.streamList.find((s) => s.arn === arn && s.table.region === region);
    if (stream === undefined) {
      // "ResourceNotFoundException: The operation tried to access a nonexistent table or index."
      throw new ResourceNotFoundException({
        message: `Requested resource not found: Stream: ${arn} not found`,
        ...meta(400),
      });
    }
    return stream;
  }

  private listed(shard: Shard): boolean {
    const now = this.clock.now();
    const gone =
      shard.closedAt !== undefined &&
      shard.closedAt + DAY_MS <= now &&
      shard.records.every((r) => r.trimmed);
    return !gone;
  }

  /** API_streams_ListStreams.html: "Returns an array of stream ARNs associated with the current
   * account and endpoint. If the TableName parameter is present, then ListStreams will return
   * only the streams ARNs for that table." */
  private listStreams(region: string, input: Readonly<Record<string, unknown>>): Output {
    const limit = limitInput(input, 100);
    const tableName = stringInput(input, "TableName");
    const start = stringInput(input, "ExclusiveStartStreamArn");
    const all = this.streamList.filter(
      (s) =>
        s.table.region === region && (tableName === undefined || s.table.tableName === tableName),
    );
    const from = start === undefined ? 0 : all.findIndex((s) => s.arn === start) + 1;
    const page = all.slice(from, from + limit);
    const last = page[page.length - 1];
    return {
      Streams: page.map((s) => ({
        StreamArn: s.arn,
        TableName: s.table.tableName,
        StreamLabel: s.label,
      })),
      ...(from + limit < all.length && last !== undefined
        ? { LastEvaluatedStreamArn: last.arn }
        : {}),
    };
  }

  /** API_streams_DescribeStream.html: "Returns information about a stream, including the
   * current status of the stream, its Amazon Resource Name (ARN), the composition of its shards,
   * and its corresponding DynamoDB table." */
  private describeStream(region: string, input: Readonly<Record<string, unknown>>): Output {
    const stream = this.stream(region, requireString(input, "StreamArn"));
    const limit = limitInput(input, 100);
    const start = stringInput(input, "ExclusiveStartShardId");
    const filter = input.ShardFilter;
    const childOf =
      typeof filter === "object" &&
      filter !== null &&
      "ShardId" in filter &&
      typeof filter.ShardId === "string"
        ? filter.ShardId
        : undefined;
    const startIndex = start === undefined ? 0 : stream.shards.findIndex((s) => s.id === start) + 1;
    const candidates = stream.shards
      .slice(startIndex)
      .filter((s) => this.listed(s) && (childOf === undefined || s.parentId === childOf));
    const page = candidates.slice(0, limit);
    const last = page[page.length - 1];
    return {
      StreamDescription: {
        StreamArn: stream.arn,
        StreamLabel: stream.label,
        StreamStatus: stream.status,
        StreamViewType: stream.table.viewType,
        CreationRequestDateTime: new Date(stream.createdAt),
        TableName: stream.table.tableName,
        KeySchema: stream.table.keySchema.map((k) => ({ ...k })),
        Shards: page.map((s) => this.describeShard(s)),
        ...(page.length === limit && last !== undefined ? { LastEvaluatedShardId: last.id } : {}),
      },
    };
  }

  private describeShard(shard: Shard): SdkShard {
    return {
      ShardId: shard.id,
      SequenceNumberRange: {
        StartingSequenceNumber: shard.startSequence.toString(),
        ...(shard.endingSequence === undefined
          ? {}
          : { EndingSequenceNumber: shard.endingSequence.toString() }),
      },
      ...(shard.parentId === undefined ? {} : { ParentShardId: shard.parentId }),
    };
  }

  /**
   * API_streams_GetShardIterator.html: "AT_SEQUENCE_NUMBER - Start reading exactly from the
   * position denoted by a specific sequence number.", "AFTER_SEQUENCE_NUMBER - Start reading
   * right after the position denoted by a specific sequence number.", "TRIM_HORIZON - Start
   * reading at the last (untrimmed) stream record, which is the oldest record in the shard.",
   * "LATEST - Start reading just after the most recent stream record in the shard"; and
   * TrimmedDataAccessException if "You request a shard iterator with a sequence number older
   * than the trim point (24 hours)."
   */
  private getShardIterator(region: string, input: Readonly<Record<string, unknown>>): Output {
    const stream = this.stream(region, requireString(input, "StreamArn"));
    const shardId = requireString(input, "ShardId");
    const shard = stream.shards.find((s) => s.id === shardId && this.listed(s));
    if (shard === undefined) {
      throw new ResourceNotFoundException({
        message: `Requested resource not found: Shard does not exist`,
        ...meta(400),
      });
    }
    const type = requireString(input, "ShardIteratorType");
    const position = this.startPosition(shard, type, stringInput(input, "SequenceNumber"));
    return { ShardIterator: this.issue(stream.arn, shard.id, position, true) };
  }

  private startPosition(shard: Shard, type: string, sequenceNumber: string | undefined): number {
    const firstUntrimmed = this.firstUntrimmed(shard);
    if (type === "TRIM_HORIZON") return firstUntrimmed;
    if (type === "LATEST") return shard.records.length;
    if (type !== "AT_SEQUENCE_NUMBER" && type !== "AFTER_SEQUENCE_NUMBER") {
      throw streamsError(
        "ValidationException",
        `1 validation error detected: Value '${type}' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]`,
      );
    }
    if (sequenceNumber === undefined || !/^\d{21,40}$/.test(sequenceNumber)) {
      throw streamsError(
        "ValidationException",
        "Invalid SequenceNumber for ShardIteratorType: " + type,
      );
    }
    const target = BigInt(sequenceNumber);
    const last = shard.records[shard.records.length - 1];
    if (target < shard.startSequence || last === undefined || target > last.sequence) {
      throw streamsError(
        "ValidationException",
        `Invalid SequenceNumber ${sequenceNumber} for shard ${shard.id}`,
      );
    }
    const index =
      type === "AT_SEQUENCE_NUMBER"
        ? shard.records.findIndex((r) => r.sequence >= target)
        : shard.records.findIndex((r) => r.sequence > target);
    const position = index < 0 ? shard.records.length : index;
    if (position < firstUntrimmed) throw this.trimmed();
    return position;
  }

  private firstUntrimmed(shard: Shard): number {
    const index = shard.records.findIndex((r) => !r.trimmed);
    return index < 0 ? shard.records.length : index;
  }

  private trimmed(): TrimmedDataAccessException {
    return new TrimmedDataAccessException({
      message: "The operation attempted to read past the oldest stream record in a shard.",
      ...meta(400),
    });
  }

  private issue(streamArn: string, shardId: string, position: number, fresh: boolean): string {
    this.iteratorCount++;
    const token = `${streamArn}|${this.iteratorCount}|${this.hex(96)}`;
    const emptyPages = fresh && this.rng() < 0.3 ? 1 + Math.floor(this.rng() * 3) : 0;
    this.iterators.set(token, {
      streamArn,
      shardId,
      position,
      issuedAt: this.clock.now(),
      emptyPages,
    });
    return token;
  }

  /**
   * API_streams_GetRecords.html: "If there are no stream records available in the portion of the
   * shard that the iterator points to, GetRecords returns an empty list. Note that it might take
   * multiple calls to get to a portion of the shard that contains stream records." "GetRecords
   * can retrieve a maximum of 1 MB of data or 1000 stream records, whichever comes first."
   * NextShardIterator: "If set to null, the shard has been closed and the requested iterator
   * will not return any more data." ExpiredIteratorException: "A shard iterator expires 15
   * minutes after it is retrieved using the GetShardIterator action."
   */
  private getRecords(region: string, input: Readonly<Record<string, unknown>>): Output {
    const token = requireString(input, "ShardIterator");
    const limit = limitInput(input, 1000);
    const iterator = this.iterators.get(token);
    const now = this.clock.now();
    if (iterator === undefined) {
      if (/^arn:aws:dynamodb:[^|]+\|\d+\|[0-9a-f]+$/.test(token)) throw this.expired();
      throw streamsError("ValidationException", "Invalid ShardIterator");
    }
    if (now - iterator.issuedAt > ITERATOR_LIFETIME_MS) throw this.expired();
    const stream = this.stream(region, iterator.streamArn);
    const shard = this.shard(stream, iterator.shardId);
    if (iterator.position < this.firstUntrimmed(shard)) throw this.trimmed();
    const atEnd = iterator.position >= shard.records.length;
    if (atEnd && shard.closedAt !== undefined) return { Records: [] };
    if (iterator.emptyPages > 0 && !atEnd) {
      const next = this.issue(stream.arn, shard.id, iterator.position, false);
      const nextIterator = this.iterators.get(next);
      if (nextIterator !== undefined) {
        this.iterators.set(next, { ...nextIterator, emptyPages: iterator.emptyPages - 1 });
      }
      return { Records: [], NextShardIterator: next };
    }
    const records: _Record[] = [];
    let bytes = 0;
    let position = iterator.position;
    while (position < shard.records.length && records.length < limit) {
      const stored = shard.records[position];
      if (stored === undefined || (records.length > 0 && bytes + stored.size > ONE_MB)) break;
      bytes += stored.size;
      // "awsRegion: The region in which the GetRecords request was received."
      records.push({ ...cloneRecord(stored.record), awsRegion: region });
      position++;
    }
    const closedAtEnd = shard.closedAt !== undefined && position >= shard.records.length;
    return {
      Records: records,
      ...(closedAtEnd
        ? {}
        : { NextShardIterator: this.issue(stream.arn, shard.id, position, false) }),
    };
  }

  private expired(): ExpiredIteratorException {
    return new ExpiredIteratorException({
      message:
        "The shard iterator has expired and can no longer be used to retrieve stream records. A shard iterator expires 15 minutes after it is retrieved using the GetShardIterator action.",
      ...meta(400),
    });
  }

  private hex(length: number): string {
    return Array.from({ length }, () => Math.floor(this.rng() * 16).toString(16)).join("");
  }
}

const COMMANDS: readonly string[] = [
  "ListStreams",
  "DescribeStream",
  "GetShardIterator",
  "GetRecords",
];
