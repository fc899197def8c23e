// The DynamoDB model (tools/simulation/model/dynamodb.ts): each documented behaviour it implements.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { DynamoDbModel } from "../../../tools/simulation/model/dynamodb";
import { itemSize } from "../../../tools/simulation/model/dynamodb-values";
import type { ModelCall } from "../../../tools/simulation/model/types";

type Item = Record<string, AttributeValue>;

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

function world(seed = 1) {
  const clock = { t: 1_800_000_000_000, now: () => clock.t };
  const model = new DynamoDbModel({ clock, rng: seeded(seed), accountId: "111122223333" });
  model.createTable("items", {
    region: "eu-west-1",
    partitionKey: { name: "pk", type: "S" },
    sortKey: { name: "sk", type: "N" },
    stream: "NEW_AND_OLD_IMAGES",
  });
  model.createTable("plain", { region: "eu-west-1", partitionKey: { name: "id", type: "S" } });
  const send = (command: string, input: Record<string, unknown>, region = "eu-west-1") => {
    const call: ModelCall = { service: "dynamodb", region, command, input };
    const op = model.start(call);
    clock.t += op.durationMs;
    return op.finish();
  };
  const fails = (command: string, input: Record<string, unknown>, region = "eu-west-1") => {
    try {
      send(command, input, region);
    } catch (error) {
      if (error instanceof Error) return error;
    }
    throw new Error(`${command} did not fail`);
  };
  return { clock, model, send, fails };
}

const key = (pk: string, sk: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) } });

function status(error: Error): number | undefined {
  return "$metadata" in error &&
    typeof error.$metadata === "object" &&
    error.$metadata !== null &&
    "httpStatusCode" in error.$metadata &&
    typeof error.$metadata.httpStatusCode === "number"
    ? error.$metadata.httpStatusCode
    : undefined;
}

describe("PutItem, GetItem, DeleteItem", () => {
  it("stores an item and reads it back with a consistent read", () => {
    const { send, model } = world();
    send("PutItem", { TableName: "items", Item: { ...key("a", 1), v: { S: "x" } } });
    expect(send("GetItem", { TableName: "items", Key: key("a", 1), ConsistentRead: true })).toEqual(
      {
        Item: { ...key("a", 1), v: { S: "x" } },
      },
    );
    expect(model.item("items", key("a", 1))).toEqual({ ...key("a", 1), v: { S: "x" } });
  });

  it("answers no Item for a missing key", () => {
    const { send } = world();
    expect(send("GetItem", { TableName: "items", Key: key("a", 1), ConsistentRead: true })).toEqual(
      {},
    );
  });

  it("accepts the table's ARN as TableName", () => {
    const { send } = world();
    const arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/items";
    send("PutItem", { TableName: arn, Item: key("a", 1) });
    expect(send("GetItem", { TableName: arn, Key: key("a", 1), ConsistentRead: true })).toEqual({
      Item: key("a", 1),
    });
  });

  it("answers ResourceNotFoundException for a missing table and for a table of another region", () => {
    const { fails } = world();
    const missing = fails("GetItem", { TableName: "nope", Key: { id: { S: "a" } } });
    expect([missing.name, status(missing)]).toEqual(["ResourceNotFoundException", 400]);
    const elsewhere = fails(
      "GetItem",
      { TableName: "plain", Key: { id: { S: "a" } } },
      "us-east-1",
    );
    expect(elsewhere.name).toBe("ResourceNotFoundException");
  });

  it("answers ValidationException for a table ARN of another region", () => {
    const { fails } = world();
    const error = fails("GetItem", {
      TableName: "arn:aws:dynamodb:us-east-1:111122223333:table/items",
      Key: key("a", 1),
    });
    expect([error.name, status(error)]).toEqual(["ValidationException", 400]);
    expect(error.message).toContain("Invalid AWS region");
  });

  it("returns the old item with ReturnValues ALL_OLD and deletes", () => {
    const { send, model } = world();
    send("PutItem", { TableName: "items", Item: { ...key("a", 1), v: { N: "1" } } });
    expect(
      send("PutItem", { TableName: "items", Item: key("a", 1), ReturnValues: "ALL_OLD" }),
    ).toEqual({
      Attributes: { ...key("a", 1), v: { N: "1" } },
    });
    expect(
      send("DeleteItem", { TableName: "items", Key: key("a", 1), ReturnValues: "ALL_OLD" }),
    ).toEqual({
      Attributes: key("a", 1),
    });
    expect(model.items("items")).toEqual([]);
  });

  it("rejects a key of the wrong type, a missing key attribute and an empty key string", () => {
    const { fails } = world();
    const wrongType = fails("PutItem", {
      TableName: "items",
      Item: { pk: { N: "1" }, sk: { N: "1" } },
    });
    expect(wrongType.message).toBe(
      "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
    );
    const missing = fails("PutItem", { TableName: "items", Item: { pk: { S: "a" } } });
    expect(missing.message).toBe(
      "One or more parameter values were invalid: Missing the key sk in the item",
    );
    const empty = fails("PutItem", { TableName: "items", Item: { pk: { S: "" }, sk: { N: "1" } } });
    expect(empty.message).toContain("cannot contain an empty string value. Key: pk");
    const badKey = fails("GetItem", { TableName: "items", Key: { pk: { S: "a" } } });
    expect([badKey.name, badKey.message]).toEqual([
      "ValidationException",
      "The provided key element does not match the schema",
    ]);
  });

  it("rejects numbers of more than 38 significant digits and out of range, and canonicalizes numbers", () => {
    const { send, fails, model } = world();
    const precise = fails("PutItem", {
      TableName: "items",
      Item: { ...key("a", 1), n: { N: "1".repeat(39) } },
    });
    expect([precise.name, precise.message]).toEqual([
      "ValidationException",
      "Attempting to store more than 38 significant digits in a Number",
    ]);
    expect(
      fails("PutItem", { TableName: "items", Item: { ...key("a", 1), n: { N: "1E126" } } }).message,
    ).toContain("overflow");
    expect(
      fails("PutItem", { TableName: "items", Item: { ...key("a", 1), n: { N: "1E-131" } } })
        .message,
    ).toContain("underflow");
    send("PutItem", {
      TableName: "items",
      Item: { ...key("a", 1), n: { N: "0012.3400" }, m: { N: "1" + "0".repeat(50) } },
    });
    expect(model.item("items", key("a", 1))?.n).toEqual({ N: "12.34" });
    expect(model.item("items", key("a", 1))?.m).toEqual({ N: "1" + "0".repeat(50) });
  });

  it("rejects an empty set and a set with duplicates", () => {
    const { fails } = world();
    expect(
      fails("PutItem", { TableName: "items", Item: { ...key("a", 1), s: { SS: [] } } }).name,
    ).toBe("ValidationException");
    expect(
      fails("PutItem", { TableName: "items", Item: { ...key("a", 1), s: { NS: ["1", "1.0"] } } })
        .message,
    ).toContain("duplicates");
  });
});

describe("item size", () => {
  it("counts names and values as the item-size page says", () => {
    // "pk" 2 + "abc" 3; "sk" 2 + number 12345 (5 digits: 3 + 1); "b" 1 + 4 raw bytes;
    // "t" 1 + 1; "z" 1 + 1; "l" 1 + (3 + (1 + 1) + (1 + 1)); "m" 1 + (3 + ("k" 1 + 1 + 1)).
    const item: Item = {
      pk: { S: "abc" },
      sk: { N: "12345" },
      b: { B: new Uint8Array([1, 2, 3, 4]) },
      t: { BOOL: true },
      z: { NULL: true },
      l: { L: [{ S: "x" }, { BOOL: false }] },
      m: { M: { k: { S: "v" } } },
    };
    expect(itemSize(item)).toBe(5 + 6 + 5 + 2 + 2 + 8 + 7);
  });

  it("rejects an item over 400 KB and accepts one at the limit", () => {
    const { send, fails } = world();
    const base = { pk: { S: "a" }, sk: { N: "1" } }; // 2 + 1 + 2 + 2 = 7 bytes
    const fill = (n: number): Item => ({ ...base, d: { S: "x".repeat(n) } }); // + 1 + n
    send("PutItem", { TableName: "items", Item: fill(400 * 1024 - 8) });
    const error = fails("PutItem", { TableName: "items", Item: fill(400 * 1024 - 7) });
    expect([error.name, error.message, status(error)]).toEqual([
      "ValidationException",
      "Item size has exceeded the maximum allowed size",
      400,
    ]);
  });
});

describe("condition expressions", () => {
  const put = (
    send: ReturnType<typeof world>["send"],
    condition: string,
    values?: Item,
    names?: Record<string, string>,
  ) =>
    send("PutItem", {
      TableName: "items",
      Item: { ...key("a", 1), v: { N: "5" } },
      ConditionExpression: condition,
      ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
      ...(names === undefined ? {} : { ExpressionAttributeNames: names }),
    });

  it("fails attribute_not_exists on an existing item with ConditionalCheckFailedException and the old item", () => {
    const { send, fails } = world();
    put(send, "attribute_not_exists(pk)");
    const error = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "attribute_not_exists(pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    expect([error.name, status(error), error.message]).toEqual([
      "ConditionalCheckFailedException",
      400,
      "The conditional request failed",
    ]);
    expect("Item" in error ? error.Item : undefined).toEqual({ ...key("a", 1), v: { N: "5" } });
    const bare = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "attribute_not_exists(pk)",
    });
    expect("Item" in bare ? bare.Item : undefined).toBeUndefined();
  });

  it("evaluates comparisons, AND / OR / NOT, parentheses, begins_with, size, BETWEEN, IN", () => {
    const { send } = world();
    put(send, "attribute_not_exists(pk)");
    const check = (condition: string, values?: Item, names?: Record<string, string>) => {
      try {
        put(send, condition, values, names);
        return true;
      } catch (error) {
        if (error instanceof Error && error.name === "ConditionalCheckFailedException")
          return false;
        throw error;
      }
    };
    expect(check("#v = :five", { ":five": { N: "5.0" } }, { "#v": "v" })).toBe(true);
    expect(check("v <> :five", { ":five": { N: "5" } })).toBe(false);
    expect(check("v < :ten", { ":ten": { N: "10" } })).toBe(true); // numeric, not lexicographic
    expect(check("v > :s", { ":s": { S: "1" } })).toBe(false); // different types never compare
    expect(check("v >= :a AND NOT (v <= :b)", { ":a": { N: "5" }, ":b": { N: "4" } })).toBe(true);
    expect(check("v = :a OR v = :b", { ":a": { N: "1" }, ":b": { N: "2" } })).toBe(false);
    expect(check("begins_with(pk, :p)", { ":p": { S: "a" } })).toBe(true);
    expect(check("size(pk) = :one", { ":one": { N: "1" } })).toBe(true);
    expect(check("v BETWEEN :a AND :b", { ":a": { N: "1" }, ":b": { N: "5" } })).toBe(true);
    expect(check("v IN (:a, :b)", { ":a": { N: "1" }, ":b": { N: "2" } })).toBe(false);
    expect(check("attribute_exists(nope)")).toBe(false);
  });

  it("compares strings by UTF-8 bytes and binary as unsigned bytes", () => {
    const { send, fails } = world();
    send("PutItem", {
      TableName: "plain",
      Item: { id: { S: "k" }, s: { S: "a" }, b: { B: new Uint8Array([0x80]) } },
    });
    const cond = (expression: string, values: Item) =>
      send("PutItem", {
        TableName: "plain",
        Item: { id: { S: "k" }, s: { S: "a" }, b: { B: new Uint8Array([0x80]) } },
        ConditionExpression: expression,
        ExpressionAttributeValues: values,
      });
    expect(() => cond("s > :A", { ":A": { S: "A" } })).not.toThrow(); // 0x61 > 0x41
    expect(() => cond("b > :low", { ":low": { B: new Uint8Array([0x7f]) } })).not.toThrow();
    expect(
      fails("PutItem", {
        TableName: "plain",
        Item: { id: { S: "k" } },
        ConditionExpression: "s > :z",
        ExpressionAttributeValues: { ":z": { S: "z" } },
      }).name,
    ).toBe("ConditionalCheckFailedException");
  });

  it("rejects unused and undefined expression names and values", () => {
    const { fails } = world();
    const unused = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "attribute_not_exists(pk)",
      ExpressionAttributeValues: { ":x": { S: "1" } },
    });
    expect(unused.message).toContain("unused in expressions: keys: {:x}");
    const undefinedValue = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "pk = :x",
    });
    expect(undefinedValue.name).toBe("ValidationException");
    const reserved = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "attribute_not_exists(status)",
    });
    expect(reserved.message).toBe(
      "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status",
    );
    const syntax = fails("PutItem", {
      TableName: "items",
      Item: key("a", 1),
      ConditionExpression: "pk = = :x",
    });
    expect(syntax.message).toContain("Invalid ConditionExpression: Syntax error");
  });
});

describe("UpdateItem", () => {
  it("SETs and REMOVEs with #names and :values, creating the item if missing", () => {
    const { send, fails, model } = world();
    const out = send("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "SET #c = :one, tags = :tags REMOVE gone",
      ExpressionAttributeNames: { "#c": "count" },
      ExpressionAttributeValues: { ":one": { N: "1" }, ":tags": { L: [{ S: "t" }] } },
      ReturnValues: "ALL_NEW",
    });
    expect(out).toEqual({
      Attributes: { ...key("a", 1), count: { N: "1" }, tags: { L: [{ S: "t" }] } },
    });
    const overlapping = fails("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression:
        "SET #c = #c + :two, tags = list_append(tags, :more), #f = if_not_exists(#f, :now) REMOVE tags[0]",
      ExpressionAttributeNames: { "#c": "count", "#f": "first" },
      ExpressionAttributeValues: {
        ":two": { N: "2" },
        ":more": { L: [{ S: "u" }] },
        ":now": { S: "t0" },
      },
    });
    // tags[0] and tags overlap: DynamoDB rejects it; the second update was refused.
    expect(overlapping.message).toContain("path one: [tags], path two: [tags[0]]");
    expect(model.item("items", key("a", 1))?.count).toEqual({ N: "1" });
    send("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression:
        "SET #c = #c + :two, tags = list_append(tags, :more), #f = if_not_exists(#f, :now)",
      ExpressionAttributeNames: { "#c": "count", "#f": "first" },
      ExpressionAttributeValues: {
        ":two": { N: "2" },
        ":more": { L: [{ S: "u" }] },
        ":now": { S: "t0" },
      },
    });
    send("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "REMOVE tags[0]",
    });
    expect(model.item("items", key("a", 1))).toEqual({
      ...key("a", 1),
      count: { N: "3" },
      tags: { L: [{ S: "u" }] },
      first: { S: "t0" },
    });
  });

  it("rejects overlapping paths and updates of key attributes", () => {
    const { fails } = world();
    const overlap = fails("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "SET a = :v REMOVE a",
      ExpressionAttributeValues: { ":v": { N: "1" } },
    });
    expect(overlap.message).toContain("Two document paths overlap");
    const keyUpdate = fails("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "SET pk = :v",
      ExpressionAttributeValues: { ":v": { S: "b" } },
    });
    expect(keyUpdate.message).toContain(
      "Cannot update attribute pk. This attribute is part of the key",
    );
  });

  it("adds numbers exactly, ADDs and DELETEs set elements, and returns UPDATED_OLD", () => {
    const { send, model } = world();
    send("PutItem", {
      TableName: "items",
      Item: { ...key("a", 1), n: { N: "0.1" }, s: { SS: ["x", "y"] } },
    });
    const out = send("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "SET n = n + :d ADD s :add DELETE gone :del",
      ExpressionAttributeValues: {
        ":d": { N: "0.2" },
        ":add": { SS: ["z"] },
        ":del": { SS: ["q"] },
      },
      ReturnValues: "UPDATED_OLD",
    });
    expect(out).toEqual({ Attributes: { n: { N: "0.1" }, s: { SS: ["x", "y"] } } });
    expect(model.item("items", key("a", 1))).toEqual({
      ...key("a", 1),
      n: { N: "0.3" },
      s: { SS: ["x", "y", "z"] },
    });
  });

  it("fails its condition without writing", () => {
    const { send, fails, model } = world();
    send("PutItem", { TableName: "items", Item: { ...key("a", 1), v: { N: "1" } } });
    const error = fails("UpdateItem", {
      TableName: "items",
      Key: key("a", 1),
      UpdateExpression: "SET v = :two",
      ConditionExpression: "v = :two",
      ExpressionAttributeValues: { ":two": { N: "2" } },
    });
    expect(error.name).toBe("ConditionalCheckFailedException");
    expect(model.item("items", key("a", 1))?.v).toEqual({ N: "1" });
  });
});

describe("eventually consistent reads", () => {
  it("may return the previous version within a second of a write, never with ConsistentRead", () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 40; seed++) {
      const { send, clock } = world(seed);
      send("PutItem", { TableName: "plain", Item: { id: { S: "k" }, v: { S: "old" } } });
      clock.t += 5000;
      send("PutItem", { TableName: "plain", Item: { id: { S: "k" }, v: { S: "new" } } });
      const eventual = send("GetItem", { TableName: "plain", Key: { id: { S: "k" } } });
      seen.add(JSON.stringify(eventual));
      const strong = send("GetItem", {
        TableName: "plain",
        Key: { id: { S: "k" } },
        ConsistentRead: true,
      });
      expect(strong).toEqual({ Item: { id: { S: "k" }, v: { S: "new" } } });
      clock.t += 2000;
      expect(send("GetItem", { TableName: "plain", Key: { id: { S: "k" } } })).toEqual(strong);
    }
    expect([...seen].sort()).toEqual([
      JSON.stringify({ Item: { id: { S: "k" }, v: { S: "new" } } }),
      JSON.stringify({ Item: { id: { S: "k" }, v: { S: "old" } } }),
    ]);
  });
});

describe("BatchGetItem", () => {
  it("returns every key eventually, some of them sometimes in UnprocessedKeys, never none", () => {
    let partial = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { send, clock } = world(seed);
      for (let i = 0; i < 10; i++)
        send("PutItem", { TableName: "plain", Item: { id: { S: `k${i}` } } });
      clock.t += 5000;
      let keys: Item[] = Array.from({ length: 10 }, (_, i) => ({ id: { S: `k${i}` } }));
      const found: string[] = [];
      let rounds = 0;
      while (keys.length > 0) {
        const out = send("BatchGetItem", {
          RequestItems: { plain: { Keys: keys, ConsistentRead: true } },
        });
        const responses = out.Responses as Record<string, Item[]>;
        const items = responses.plain ?? [];
        expect(items.length).toBeGreaterThan(0);
        found.push(...items.map((i) => i.id?.S ?? ""));
        const unprocessed = out.UnprocessedKeys as Record<
          string,
          { Keys: Item[]; ConsistentRead?: boolean }
        >;
        keys = unprocessed.plain?.Keys ?? [];
        if (keys.length > 0) {
          partial++;
          expect(unprocessed.plain?.ConsistentRead).toBe(true);
        }
        rounds++;
      }
      expect(found.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
      expect(rounds).toBeLessThan(20);
    }
    expect(partial).toBeGreaterThan(0);
  });

  it("rejects more than 100 keys and duplicate keys", () => {
    const { fails } = world();
    const many = Array.from({ length: 101 }, (_, i) => ({ id: { S: `k${i}` } }));
    expect(fails("BatchGetItem", { RequestItems: { plain: { Keys: many } } }).message).toBe(
      "Too many items requested for the BatchGetItem call",
    );
    const twice = [{ id: { S: "a" } }, { id: { S: "a" } }];
    expect(fails("BatchGetItem", { RequestItems: { plain: { Keys: twice } } }).message).toBe(
      "Provided list of item keys contains duplicates",
    );
  });
});

describe("Scan", () => {
  const fill = (send: ReturnType<typeof world>["send"], n: number) => {
    for (let i = 0; i < n; i++)
      send("PutItem", { TableName: "plain", Item: { id: { S: `k${i}` }, n: { N: String(i) } } });
  };

  it("pages with Limit and ExclusiveStartKey, returning a LastEvaluatedKey even on the last full page", () => {
    const { send } = world();
    fill(send, 10);
    const ids: string[] = [];
    let start: Item | undefined;
    let pages = 0;
    do {
      const out = send("Scan", {
        TableName: "plain",
        Limit: 5,
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      ids.push(...(out.Items as Item[]).map((i) => i.id?.S ?? ""));
      start = out.LastEvaluatedKey as Item | undefined;
      pages++;
    } while (start !== undefined);
    expect(ids.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
    expect(pages).toBe(3); // 5 + 5 + an empty last page
  });

  it("splits the table into disjoint segments and applies FilterExpression after Limit", () => {
    const { send } = world();
    fill(send, 20);
    const all: string[] = [];
    for (let segment = 0; segment < 3; segment++) {
      const out = send("Scan", {
        TableName: "plain",
        Segment: segment,
        TotalSegments: 3,
        ConsistentRead: true,
      });
      all.push(...(out.Items as Item[]).map((i) => i.id?.S ?? ""));
    }
    expect(all.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
    const filtered = send("Scan", {
      TableName: "plain",
      Limit: 4,
      ConsistentRead: true,
      FilterExpression: "n < :two",
      ExpressionAttributeValues: { ":two": { N: "2" } },
    });
    expect(filtered.ScannedCount).toBe(4);
    expect(filtered.Count).toBeLessThanOrEqual(2);
  });

  it("may still see a just-deleted item without ConsistentRead, never with it", () => {
    let ghosts = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const { send, clock } = world(seed);
      send("PutItem", { TableName: "plain", Item: { id: { S: "gone" } } });
      clock.t += 5000;
      send("DeleteItem", { TableName: "plain", Key: { id: { S: "gone" } } });
      expect(send("Scan", { TableName: "plain", ConsistentRead: true }).Count).toBe(0);
      ghosts += Number(send("Scan", { TableName: "plain" }).Count);
    }
    expect(ghosts).toBeGreaterThan(0);
  });

  it("stops a page at 1 MB of scanned items", () => {
    const { send } = world();
    for (let i = 0; i < 5; i++) {
      send("PutItem", {
        TableName: "plain",
        Item: { id: { S: `k${i}` }, d: { S: "x".repeat(300 * 1024) } },
      });
    }
    const out = send("Scan", {
      TableName: "plain",
      ConsistentRead: true,
      ProjectionExpression: "id",
    });
    expect(out.ScannedCount).toBe(3);
    expect(out.LastEvaluatedKey).toBeDefined();
    expect(Object.keys((out.Items as Item[])[0] ?? {})).toEqual(["id"]);
  });
});

describe("DescribeTable and faults", () => {
  it("describes the table with its key schema and latest stream", () => {
    const { send } = world();
    const out = send("DescribeTable", { TableName: "items" });
    const table = out.Table as Record<string, unknown>;
    expect(table.TableArn).toBe("arn:aws:dynamodb:eu-west-1:111122223333:table/items");
    expect(table.KeySchema).toEqual([
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(table.LatestStreamArn).toMatch(
      /^arn:aws:dynamodb:eu-west-1:111122223333:table\/items\/stream\//,
    );
    expect(table.CreationDateTime).toBeInstanceOf(Date);
  });

  it("offers throttling and 500 faults built as the SDK throws them", () => {
    const { model } = world();
    const faults = model.faults({
      service: "dynamodb",
      region: "eu-west-1",
      command: "PutItem",
      input: {},
    });
    const built = faults.map((f) => {
      const e = f.error();
      return [f.name, f.httpStatusCode, e.name, status(e), "$fault" in e ? e.$fault : undefined];
    });
    expect(built).toEqual(
      expect.arrayContaining([
        ["InternalServerError", 500, "InternalServerError", 500, "server"],
        [
          "ProvisionedThroughputExceededException",
          400,
          "ProvisionedThroughputExceededException",
          400,
          "client",
        ],
        ["ThrottlingException", 400, "ThrottlingException", 400, "client"],
        ["RequestLimitExceeded", 400, "RequestLimitExceeded", 400, "client"],
      ]),
    );
  });
});

describe("streams written by DynamoDB", () => {
  it("writes INSERT, MODIFY and REMOVE, and nothing for an unchanged item or a failed condition", () => {
    const { send, model } = world();
    const streamArn =
      model.createTable("str", {
        region: "eu-west-1",
        partitionKey: { name: "id", type: "S" },
        stream: "KEYS_ONLY",
      }).streamArn ?? "";
    const item = { id: { S: "a" }, v: { N: "1" } };
    send("PutItem", { TableName: "str", Item: item });
    send("PutItem", { TableName: "str", Item: item }); // unchanged: no record
    expect(() =>
      send("PutItem", {
        TableName: "str",
        Item: item,
        ConditionExpression: "attribute_not_exists(id)",
      }),
    ).toThrow();
    send("PutItem", { TableName: "str", Item: { ...item, v: { N: "2" } } });
    send("DeleteItem", { TableName: "str", Key: { id: { S: "a" } } });
    send("DeleteItem", { TableName: "str", Key: { id: { S: "a" } } }); // nothing to delete
    send("UpdateItem", {
      TableName: "str",
      Key: { id: { S: "b" } },
      UpdateExpression: "SET v = :v",
      ExpressionAttributeValues: { ":v": { N: "1" } },
    });
    send("UpdateItem", {
      TableName: "str",
      Key: { id: { S: "b" } },
      UpdateExpression: "SET v = :v",
      ExpressionAttributeValues: { ":v": { N: "1.0" } },
    }); // the same number: unchanged, no record
    const records = model.streams.shards(streamArn).flatMap((s) => s.records);
    expect(records.map((r) => r.eventName)).toEqual(["INSERT", "MODIFY", "REMOVE", "INSERT"]);
    expect(records[0]?.record.dynamodb?.NewImage).toBeUndefined();
  });
});
