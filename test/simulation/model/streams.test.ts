// The DynamoDB Streams model (tools/simulation/model/streams.ts): each documented behaviour.
import type { _Record, Shard } from "@aws-sdk/client-dynamodb-streams";
import { DynamoDbModel, type TableOptions } from "../../../tools/simulation/model/dynamodb";
import type { ModelCall } from "../../../tools/simulation/model/types";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGION = "eu-west-1";

function world(seed = 1, stream: TableOptions["stream"] = "NEW_AND_OLD_IMAGES") {
  const clock = { t: 1_800_000_000_123, now: () => clock.t };
  const db = new DynamoDbModel({ clock, rng: seeded(seed), accountId: "111122223333" });
  const { streamArn = "" } = db.createTable("tbl", {
    region: REGION,
    partitionKey: { name: "id", type: "S" },
    stream,
  });
  const run = (
    service: "dynamodb" | "dynamodb-streams",
    command: string,
    input: Record<string, unknown>,
    region = REGION,
  ) => {
    const call: ModelCall = { service, region, command, input };
    const model = service === "dynamodb" ? db : db.streams;
    const op = model.start(call);
    clock.t += op.durationMs;
    return op.finish();
  };
  const put = (id: string, v: string) =>
    run("dynamodb", "PutItem", { TableName: "tbl", Item: { id: { S: id }, v: { S: v } } });
  const streams = (command: string, input: Record<string, unknown>, region = REGION) =>
    run("dynamodb-streams", command, input, region);
  const fails = (command: string, input: Record<string, unknown>) => {
    try {
      streams(command, input);
    } catch (error) {
      if (error instanceof Error) return error;
    }
    throw new Error(`${command} did not fail`);
  };
  const shardsOf = (arn = streamArn): Shard[] => {
    const out = streams("DescribeStream", { StreamArn: arn });
    return (out.StreamDescription as { Shards: Shard[] }).Shards;
  };
  const iterator = (shardId: string, type: string, sequence?: string, arn = streamArn): string =>
    streams("GetShardIterator", {
      StreamArn: arn,
      ShardId: shardId,
      ShardIteratorType: type,
      ...(sequence === undefined ? {} : { SequenceNumber: sequence }),
    }).ShardIterator as string;
  /** Reads a shard to its end (closed) or to an empty page after records (open). */
  const readAll = (start: string, limit?: number) => {
    const records: _Record[] = [];
    let token: string | undefined = start;
    let empties = 0;
    let calls = 0;
    while (token !== undefined && calls < 100) {
      calls++;
      const out = streams("GetRecords", {
        ShardIterator: token,
        ...(limit ? { Limit: limit } : {}),
      });
      const page = out.Records as _Record[];
      if (limit !== undefined) expect(page.length).toBeLessThanOrEqual(limit);
      if (page.length === 0 && records.length === 0 && out.NextShardIterator !== undefined)
        empties++;
      if (page.length === 0 && records.length > 0) break;
      records.push(...page);
      token = out.NextShardIterator as string | undefined;
    }
    return { records, empties, ended: token === undefined };
  };
  return { clock, db, streamArn, put, streams, fails, shardsOf, iterator, readAll, run };
}

function status(error: Error): number | undefined {
  return "$metadata" in error &&
    typeof error.$metadata === "object" &&
    error.$metadata !== null &&
    "httpStatusCode" in error.$metadata &&
    typeof error.$metadata.httpStatusCode === "number"
    ? error.$metadata.httpStatusCode
    : undefined;
}

describe("records", () => {
  it("reads every record of a shard from TRIM_HORIZON in order, with the documented fields", () => {
    const { put, shardsOf, iterator, readAll, clock } = world();
    put("a", "1");
    put("a", "2");
    put("b", "1");
    const [shard] = shardsOf();
    const { records } = readAll(iterator(shard?.ShardId ?? "", "TRIM_HORIZON"));
    expect(records.map((r) => [r.eventName, r.dynamodb?.Keys?.id?.S])).toEqual([
      ["INSERT", "a"],
      ["MODIFY", "a"],
      ["INSERT", "b"],
    ]);
    const modify = records[1];
    expect(modify?.eventSource).toBe("aws:dynamodb");
    expect(modify?.eventVersion).toBe("1.1");
    expect(modify?.awsRegion).toBe(REGION);
    expect(modify?.eventID).toMatch(/^[0-9a-f]{32}$/);
    expect(modify?.dynamodb?.OldImage).toEqual({ id: { S: "a" }, v: { S: "1" } });
    expect(modify?.dynamodb?.NewImage).toEqual({ id: { S: "a" }, v: { S: "2" } });
    expect(modify?.dynamodb?.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
    expect(modify?.dynamodb?.SizeBytes).toBeGreaterThan(0);
    const created = modify?.dynamodb?.ApproximateCreationDateTime;
    expect(created).toBeInstanceOf(Date);
    expect((created?.getTime() ?? 1) % 1000).toBe(0);
    expect(created?.getTime()).toBeLessThanOrEqual(clock.t);
    const sequences = records.map((r) => r.dynamodb?.SequenceNumber ?? "");
    for (const s of sequences) expect(s).toMatch(/^\d{21,40}$/);
    expect(sequences.map(BigInt)).toEqual(
      [...sequences.map(BigInt)].sort((x, y) => (x < y ? -1 : 1)),
    );
  });

  it("writes only the images of the stream's view type", () => {
    const images = (view: TableOptions["stream"]) => {
      const { put, shardsOf, iterator, readAll } = world(1, view);
      put("a", "1");
      put("a", "2");
      const { records } = readAll(iterator(shardsOf()[0]?.ShardId ?? "", "TRIM_HORIZON"));
      const modify = records[1]?.dynamodb;
      return [
        modify?.Keys !== undefined,
        modify?.NewImage !== undefined,
        modify?.OldImage !== undefined,
      ];
    };
    expect(images("KEYS_ONLY")).toEqual([true, false, false]);
    expect(images("NEW_IMAGE")).toEqual([true, true, false]);
    expect(images("OLD_IMAGE")).toEqual([true, false, true]);
  });

  it("answers awsRegion as the region the GetRecords request was received in", () => {
    const { put, shardsOf, iterator, streams } = world();
    put("a", "1");
    let token = iterator(shardsOf()[0]?.ShardId ?? "", "TRIM_HORIZON");
    for (let i = 0; i < 10; i++) {
      const out = streams("GetRecords", { ShardIterator: token });
      const records = out.Records as _Record[];
      if (records.length > 0) {
        expect(records[0]?.awsRegion).toBe(REGION);
        return;
      }
      token = out.NextShardIterator as string;
    }
    throw new Error("no record");
  });

  it("returns empty pages with a NextShardIterator before the records, for some iterators", () => {
    let withEmpties = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { put, shardsOf, iterator, readAll } = world(seed);
      put("a", "1");
      const result = readAll(iterator(shardsOf()[0]?.ShardId ?? "", "TRIM_HORIZON"));
      expect(result.records).toHaveLength(1);
      if (result.empties > 0) withEmpties++;
    }
    expect(withEmpties).toBeGreaterThan(0);
  });

  it("honours Limit, LATEST, AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER", () => {
    const { put, shardsOf, iterator, readAll } = world();
    for (let i = 0; i < 5; i++) put(`k${i}`, "v");
    const shardId = shardsOf()[0]?.ShardId ?? "";
    const all = readAll(iterator(shardId, "TRIM_HORIZON"), 2).records;
    expect(all).toHaveLength(5);
    const third = all[2]?.dynamodb?.SequenceNumber ?? "";
    expect(
      readAll(iterator(shardId, "AT_SEQUENCE_NUMBER", third)).records.map(
        (r) => r.dynamodb?.Keys?.id?.S,
      ),
    ).toEqual(["k2", "k3", "k4"]);
    expect(
      readAll(iterator(shardId, "AFTER_SEQUENCE_NUMBER", third)).records.map(
        (r) => r.dynamodb?.Keys?.id?.S,
      ),
    ).toEqual(["k3", "k4"]);
    const latest = iterator(shardId, "LATEST");
    put("k5", "v");
    expect(readAll(latest).records.map((r) => r.dynamodb?.Keys?.id?.S)).toEqual(["k5"]);
  });

  it("expires an iterator 15 minutes after it was returned", () => {
    const { put, shardsOf, iterator, fails, clock } = world();
    put("a", "1");
    const token = iterator(shardsOf()[0]?.ShardId ?? "", "TRIM_HORIZON");
    clock.t += 15 * 60 * 1000 + 1;
    const error = fails("GetRecords", { ShardIterator: token });
    expect([error.name, status(error)]).toEqual(["ExpiredIteratorException", 400]);
  });

  it("answers ResourceNotFoundException for an unknown stream and a stream of another region", () => {
    const { fails, streamArn, streams } = world();
    const error = fails("DescribeStream", { StreamArn: `${streamArn}x` });
    expect([error.name, status(error)]).toEqual(["ResourceNotFoundException", 400]);
    expect(() => streams("DescribeStream", { StreamArn: streamArn }, "us-east-1")).toThrow(
      "Requested resource not found",
    );
  });
});

describe("shards", () => {
  it("closes the shard on a split, opens children with ParentShardId, keeps per-item order along the lineage", () => {
    let lowerChild = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const { put, db, streamArn, shardsOf, iterator, readAll } = world(seed);
      for (let i = 0; i < 4; i++) put(`k${i}`, "1");
      db.streams.splitShard(streamArn);
      for (let i = 0; i < 4; i++) put(`k${i}`, "2");
      const shards = shardsOf();
      const parent = shards.find((s) => s.ParentShardId === undefined);
      const children = shards.filter((s) => s.ParentShardId === parent?.ShardId);
      expect(children.length).toBeGreaterThanOrEqual(1);
      expect(parent?.SequenceNumberRange?.EndingSequenceNumber).toBeDefined();
      for (const child of children)
        expect(child.SequenceNumberRange?.EndingSequenceNumber).toBeUndefined();
      const fromParent = readAll(iterator(parent?.ShardId ?? "", "TRIM_HORIZON"));
      expect(fromParent.ended).toBe(true); // NextShardIterator absent at the end of a closed shard
      expect(fromParent.records.map((r) => r.dynamodb?.NewImage?.v?.S)).toEqual([
        "1",
        "1",
        "1",
        "1",
      ]);
      const fromChildren = children.flatMap(
        (c) => readAll(iterator(c.ShardId ?? "", "TRIM_HORIZON")).records,
      );
      expect(fromChildren.map((r) => r.dynamodb?.Keys?.id?.S).sort()).toEqual([
        "k0",
        "k1",
        "k2",
        "k3",
      ]);
      expect(fromChildren.every((r) => r.eventName === "MODIFY")).toBe(true);
      const ending = BigInt(parent?.SequenceNumberRange?.EndingSequenceNumber ?? "0");
      if (
        children.some((c) => BigInt(c.SequenceNumberRange?.StartingSequenceNumber ?? "0") < ending)
      )
        lowerChild++;
      const inspected = db.streams.shards(streamArn);
      expect(inspected.filter((s) => s.closed).map((s) => s.shardId)).toEqual([parent?.ShardId]);
    }
    expect(lowerChild).toBeGreaterThan(0);
  });

  it("keeps each item's records in write order along the shard lineage, across random splits", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const rng = seeded(seed * 7919);
      const { put, db, streamArn, run } = world(seed);
      const written = new Map<string, string[]>();
      for (let step = 0; step < 120; step++) {
        const id = `k${Math.floor(rng() * 6)}`;
        if (rng() < 0.05) db.streams.splitShard(streamArn);
        if (rng() < 0.15) {
          run("dynamodb", "DeleteItem", { TableName: "tbl", Key: { id: { S: id } } });
          const history = written.get(id) ?? [];
          if (history.length > 0 && history.at(-1) !== "-") written.set(id, [...history, "-"]);
        } else {
          put(id, String(step));
          written.set(id, [...(written.get(id) ?? []), String(step)]);
        }
      }
      // Parents before children (DescribeStream lists them in no such order).
      const shards = db.streams.shards(streamArn);
      const ordered: typeof shards = [];
      const visit = (parent: string | undefined) => {
        for (const s of shards.filter((x) => x.parentShardId === parent)) {
          ordered.push(s);
          visit(s.shardId);
        }
      };
      visit(undefined);
      expect(ordered).toHaveLength(shards.length);
      const seen = new Map<string, string[]>();
      const lineageOf = new Map<string, string>();
      for (const shard of ordered) {
        for (const r of shard.records) {
          const id = r.keys.id?.S ?? "";
          const value = r.eventName === "REMOVE" ? "-" : (r.record.dynamodb?.NewImage?.v?.S ?? "");
          seen.set(id, [...(seen.get(id) ?? []), value]);
          // An item's records stay on one path down the lineage.
          const previous = lineageOf.get(id);
          if (previous !== undefined && previous !== shard.shardId) {
            const ancestors: string[] = [];
            let at: string | undefined = shard.parentShardId;
            while (at !== undefined) {
              ancestors.push(at);
              at = shards.find((x) => x.shardId === at)?.parentShardId;
            }
            expect(ancestors).toContain(previous);
          }
          lineageOf.set(id, shard.shardId);
        }
      }
      expect(seen).toEqual(written);
    }
  });

  it("filters DescribeStream to a shard's children with ShardFilter CHILD_SHARDS", () => {
    const { db, streamArn, streams, shardsOf } = world();
    const [root] = shardsOf();
    db.streams.splitShard(streamArn);
    const out = streams("DescribeStream", {
      StreamArn: streamArn,
      ShardFilter: { Type: "CHILD_SHARDS", ShardId: root?.ShardId },
    });
    const children = (out.StreamDescription as { Shards: Shard[] }).Shards;
    expect(children.length).toBeGreaterThan(0);
    expect(children.every((c) => c.ParentShardId === root?.ShardId)).toBe(true);
  });

  it("pages DescribeStream with Limit and ExclusiveStartShardId", () => {
    const { db, streamArn, streams } = world();
    db.streams.splitShard(streamArn);
    db.streams.splitShard(streamArn);
    const all = db.streams.shards(streamArn).map((s) => s.shardId);
    const seen: string[] = [];
    let start: string | undefined;
    do {
      const out = streams("DescribeStream", {
        StreamArn: streamArn,
        Limit: 2,
        ...(start ? { ExclusiveStartShardId: start } : {}),
      });
      const description = out.StreamDescription as {
        Shards: Shard[];
        LastEvaluatedShardId?: string;
      };
      seen.push(...description.Shards.map((s) => s.ShardId ?? ""));
      start = description.LastEvaluatedShardId;
    } while (start !== undefined);
    expect(seen.sort()).toEqual([...all].sort());
  });

  it("trims records after 24 hours: TRIM_HORIZON skips them, older iterators and sequence numbers fail", () => {
    const { put, shardsOf, iterator, readAll, fails, clock, db, streamArn } = world();
    put("a", "1");
    const shardId = shardsOf()[0]?.ShardId ?? "";
    const first =
      readAll(iterator(shardId, "TRIM_HORIZON")).records[0]?.dynamodb?.SequenceNumber ?? "";
    const early = iterator(shardId, "TRIM_HORIZON");
    clock.t += 60_000;
    put("b", "1");
    const due = db.streams.nextDue() ?? 0;
    expect(due).toBeGreaterThan(clock.t);
    clock.t = due;
    db.streams.runDue();
    expect(
      readAll(iterator(shardId, "TRIM_HORIZON")).records.map((r) => r.dynamodb?.Keys?.id?.S),
    ).toEqual(["b"]);
    const stale = fails("GetShardIterator", {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: "AT_SEQUENCE_NUMBER",
      SequenceNumber: first,
    });
    expect([stale.name, status(stale)]).toEqual(["TrimmedDataAccessException", 400]);
    // The early iterator has expired by now (15 minutes): a fresh one on the trimmed position is refused.
    expect(fails("GetRecords", { ShardIterator: early }).name).toBe("ExpiredIteratorException");
    expect(db.streams.shards(streamArn)[0]?.records.map((r) => r.trimmed)).toEqual([true, false]);
  });

  it("reports the streams' retention through the DynamoDB model's timers too", () => {
    const { put, db, clock, streamArn } = world();
    put("a", "1");
    const writtenAt = db.streams.shards(streamArn)[0]?.records[0]?.writtenAt ?? 0;
    expect(db.nextDue()).toBe(writtenAt + 24 * 3600 * 1000);
    clock.t = db.nextDue() ?? 0;
    db.runDue();
    expect(db.streams.shards(streamArn)[0]?.records[0]?.trimmed).toBe(true);
    expect(db.nextDue()).toBeUndefined();
  });

  it("refuses GetRecords on an iterator whose record was trimmed after it was issued", () => {
    const { put, shardsOf, iterator, fails, clock, db } = world();
    put("a", "1");
    const shardId = shardsOf()[0]?.ShardId ?? "";
    clock.t += 24 * 3600 * 1000 - 60_000;
    const token = iterator(shardId, "TRIM_HORIZON");
    clock.t += 120_000;
    db.streams.runDue();
    expect(fails("GetRecords", { ShardIterator: token }).name).toBe("TrimmedDataAccessException");
  });

  it("re-creates a stream: a new ARN and shards, the old one DISABLED and still readable", () => {
    const { put, db, streamArn, streams, shardsOf, iterator, readAll, run } = world();
    put("a", "1");
    const { streamArn: next } = db.streams.recreateStream("tbl");
    expect(next).not.toBe(streamArn);
    put("a", "2");
    const listed = streams("ListStreams", { TableName: "tbl" }).Streams as { StreamArn: string }[];
    expect(listed.map((s) => s.StreamArn).sort()).toEqual([streamArn, next].sort());
    const old = streams("DescribeStream", { StreamArn: streamArn }).StreamDescription as {
      StreamStatus: string;
    };
    expect(old.StreamStatus).toBe("DISABLED");
    const oldRecords = readAll(iterator(shardsOf()[0]?.ShardId ?? "", "TRIM_HORIZON"));
    expect(oldRecords.records.map((r) => r.eventName)).toEqual(["INSERT"]);
    expect(oldRecords.ended).toBe(true);
    const newRecords = readAll(
      iterator(shardsOf(next)[0]?.ShardId ?? "", "TRIM_HORIZON", undefined, next),
    );
    expect(newRecords.records.map((r) => r.eventName)).toEqual(["MODIFY"]);
    const table = run("dynamodb", "DescribeTable", { TableName: "tbl" }).Table as {
      LatestStreamArn: string;
    };
    expect(table.LatestStreamArn).toBe(next);
  });

  it("offers InternalServerError, throttling and LimitExceededException as faults", () => {
    const { db } = world();
    const faults = db.streams.faults({
      service: "dynamodb-streams",
      region: REGION,
      command: "GetRecords",
      input: {},
    });
    expect(
      faults.map((f) => [f.name, f.httpStatusCode, f.error().name, status(f.error())]),
    ).toEqual([
      ["InternalServerError", 500, "InternalServerError", 500],
      ["ThrottlingException", 400, "ThrottlingException", 400],
      ["LimitExceededException", 400, "LimitExceededException", 400],
    ]);
  });
});
