/**
 * The strategies on every DynamoDB type and JSON value, paths that do not exist, the canonical
 * rules and version, and sealing (lib/replication/masking.ts), beside masking.test.ts. Expected
 * values are computed here from the documented algorithm: HMAC-SHA-256 under the key of the typed
 * input ("S:", "N:", "B:", "E:", "BOOL:", "version:"), lower-case RFC 4648 base32 without padding.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  MASKED_EMAIL_DOMAIN,
  NO_MASKING,
  REDACTED,
  canonicalRules,
  createMasker,
  maskItem,
  maskJson,
  maskTexts,
  masksAnything,
  objectRuleOf,
  parsePath,
  pathRoot,
  type Item,
  type MaskingRules,
} from "../../lib/replication/masking";

import { base32, maskingOracle } from "../support/masking-oracle";
const key = Buffer.from("the strategies' key, thirty-two b");
const otherKey = Buffer.from("another key altogether, 32 bytes!");

const oracle = maskingOracle(key);
const { hmac, hashed, emailed } = oracle;
/** `canonical`: the number as DynamoDB stores it, stated by the test. */
const hashedNumber = (canonical: string): string => String(oracle.hashedNumber(canonical));
const hashedBinary = (bytes: Uint8Array): Uint8Array =>
  new Uint8Array(hmac(Buffer.concat([Buffer.from("B:"), bytes])));
const hashedBool = (value: boolean): boolean => ((hmac(`BOOL:${String(value)}`)[0] ?? 0) & 1) === 1;
const redactedBytes = new Uint8Array(Buffer.from(REDACTED));

const rules: MaskingRules = {
  items: { pk: "hash" },
  objects: [{ prefix: "exports/", format: "jsonl", fields: { email: "email" } }],
  unmaskedTargets: [],
};
const masker = createMasker(rules, key);

describe("masksAnything and pathRoot", () => {
  it("masks something when there are item paths or object rules, nothing without either", () => {
    expect(masksAnything(NO_MASKING)).toBe(false);
    expect(masksAnything({ items: {}, objects: [], unmaskedTargets: ["prod"] })).toBe(false);
    expect(masksAnything({ items: { pk: "hash" }, objects: [], unmaskedTargets: [] })).toBe(true);
    expect(
      masksAnything({ items: {}, objects: [{ prefix: "p/", exclude: true }], unmaskedTargets: [] }),
    ).toBe(true);
  });

  it("is the first step's name, none when a path starts elsewhere", () => {
    expect(pathRoot(parsePath("profile.phones[*]") ?? [])).toBe("profile");
    expect(pathRoot([{ kind: "each" }])).toBeUndefined();
    expect(pathRoot([])).toBeUndefined();
  });

  it("reads multi-digit indexes and consecutive list steps", () => {
    expect(parsePath("m[12][*].x")).toEqual([
      { kind: "name", name: "m" },
      { kind: "index", index: 12 },
      { kind: "each" },
      { kind: "name", name: "x" },
    ]);
  });
});

describe("each strategy on each DynamoDB type", () => {
  const bytes = new Uint8Array([0, 1, 2, 255]);

  it.each<[string, AttributeValue, AttributeValue]>([
    ["S", { S: "Ada" }, { S: hashed("Ada") }],
    ["N", { N: "1815" }, { N: hashedNumber("1815") }],
    ["B", { B: bytes }, { B: hashedBinary(bytes) }],
    ["SS", { SS: ["a", "b"] }, { SS: [hashed("a"), hashed("b")] }],
    ["NS", { NS: ["1", "2.50"] }, { NS: [hashedNumber("1"), hashedNumber("2.5")] }],
    [
      "BS",
      { BS: [bytes, new Uint8Array([7])] },
      { BS: [hashedBinary(bytes), hashedBinary(new Uint8Array([7]))] },
    ],
    ["BOOL true", { BOOL: true }, { BOOL: hashedBool(true) }],
    ["BOOL false", { BOOL: false }, { BOOL: hashedBool(false) }],
    [
      "L (each element by its own type)",
      { L: [{ S: "a" }, { N: "3" }, { L: [{ BOOL: true }] }, { NULL: true }] },
      {
        L: [
          { S: hashed("a") },
          { N: hashedNumber("3") },
          { L: [{ BOOL: hashedBool(true) }] },
          { NULL: true },
        ],
      },
    ],
    [
      "M (each value, names kept)",
      { M: { name: { S: "Ada" }, born: { N: "1815" }, ids: { SS: ["x"] } } },
      {
        M: {
          name: { S: hashed("Ada") },
          born: { N: hashedNumber("1815") },
          ids: { SS: [hashed("x")] },
        },
      },
    ],
    ["NULL", { NULL: true }, { NULL: true }],
  ])("hash: %s", (_, value, expected) => {
    expect(masker.attribute(value, "hash")).toEqual(expected);
  });

  it.each<[string, AttributeValue, AttributeValue]>([
    ["S", { S: " Ada@Example.COM " }, { S: emailed("ada@example.com") }],
    ["SS", { SS: ["a@b.c", "A@B.C"] }, { SS: [emailed("a@b.c"), emailed("a@b.c")] }],
    // Not a string: masked as hash masks it.
    ["N", { N: "42" }, { N: hashedNumber("42") }],
    ["NS", { NS: ["42"] }, { NS: [hashedNumber("42")] }],
    ["B", { B: bytes }, { B: hashedBinary(bytes) }],
    ["BS", { BS: [bytes] }, { BS: [hashedBinary(bytes)] }],
    ["BOOL", { BOOL: true }, { BOOL: hashedBool(true) }],
    [
      "L (strings as addresses, the rest hashed)",
      { L: [{ S: "a@b.c" }, { N: "1" }] },
      { L: [{ S: emailed("a@b.c") }, { N: hashedNumber("1") }] },
    ],
    ["M", { M: { to: { S: "a@b.c" } } }, { M: { to: { S: emailed("a@b.c") } } }],
    ["NULL", { NULL: true }, { NULL: true }],
  ])("email: %s", (_, value, expected) => {
    expect(masker.attribute(value, "email")).toEqual(expected);
  });

  it.each<[string, AttributeValue, AttributeValue]>([
    ["SS (one placeholder, however many members)", { SS: ["a", "b", "c"] }, { SS: [REDACTED] }],
    ["NS", { NS: ["1", "2"] }, { NS: ["0"] }],
    ["B", { B: bytes }, { B: redactedBytes }],
    ["BS", { BS: [bytes, bytes] }, { BS: [redactedBytes] }],
    ["BOOL false", { BOOL: false }, { BOOL: false }],
    ["NULL", { NULL: true }, { NULL: true }],
  ])("redact: %s", (_, value, expected) => {
    expect(masker.attribute(value, "redact")).toEqual(expected);
  });

  it("hashes numbers by their canonical text: what DynamoDB stores as one number is one pseudonym", () => {
    const cases: [string, string][] = [
      ["-0.00", "0"],
      ["+5", "5"],
      [".5", "0.5"],
      ["-000.250", "-0.25"],
      ["1e3", "1000"],
      [" 1E3 ", "1000"],
      ["12345678901234567890123456789012345678", "12345678901234567890123456789012345678"],
      ["Infinity", "Infinity"],
      [" not a number ", "not a number"],
    ];
    for (const [input, canonical] of cases) {
      expect(masker.attribute({ N: input }, "hash")).toEqual({ N: hashedNumber(canonical) });
    }
  });

  it("types inputs before keying them: a string, a number and bytes with the same text differ", () => {
    const asString = masker.attribute({ S: "7" }, "hash").S;
    const asNumber = masker.attribute({ N: "7" }, "hash").N;
    expect(asString).toBe(hashed("7"));
    expect(asNumber).toBe(hashedNumber("7"));
    expect(asString?.slice(2)).not.toBe(asNumber);
    expect(masker.attribute({ B: Buffer.from("7") }, "hash").B).not.toEqual(
      new Uint8Array(hmac("S:7")),
    );
  });

  it("is deterministic under one key and differs under another, on every type", () => {
    const other = createMasker(rules, otherKey);
    const values: AttributeValue[] = [
      { S: "Ada" },
      { N: "1815" },
      { B: bytes },
      { SS: ["a"] },
      { NS: ["1"] },
      { BS: [bytes] },
      { L: [{ S: "a" }] },
      { M: { a: { S: "a" } } },
    ];
    for (const value of values) {
      expect(masker.attribute(value, "hash")).toEqual(
        createMasker(rules, key).attribute(value, "hash"),
      );
      expect(other.attribute(value, "hash")).not.toEqual(masker.attribute(value, "hash"));
    }
    expect(other.text("a@b.c", "email")).not.toBe(masker.text("a@b.c", "email"));
    expect(other.text("a@b.c", "email").endsWith(`@${MASKED_EMAIL_DOMAIN}`)).toBe(true);
  });
});

describe("each strategy on JSON values", () => {
  it.each<[string, unknown, unknown]>([
    ["a string", "Ada", hashed("Ada")],
    ["a number (by its canonical text)", 2.5, Number(hashedNumber("2.5"))],
    ["true", true, hashedBool(true)],
    ["false", false, hashedBool(false)],
    ["an array", ["a", 1, [false]], [hashed("a"), Number(hashedNumber("1")), [hashedBool(false)]]],
    ["an object", { a: "x", b: { c: 3 } }, { a: hashed("x"), b: { c: Number(hashedNumber("3")) } }],
    ["null", null, null],
  ])("hash: %s", (_, value, expected) => {
    expect(masker.json(value, "hash")).toEqual(expected);
  });

  it.each<[string, unknown, unknown]>([
    ["a string", " A@B.C", emailed("a@b.c")],
    ["a number", 42, Number(hashedNumber("42"))],
    ["a boolean", true, hashedBool(true)],
    ["an array", ["a@b.c", 1], [emailed("a@b.c"), Number(hashedNumber("1"))]],
    ["an object", { to: "a@b.c" }, { to: emailed("a@b.c") }],
    ["null", null, null],
  ])("email: %s", (_, value, expected) => {
    expect(masker.json(value, "email")).toEqual(expected);
  });

  it.each<[string, unknown, unknown]>([
    ["a number", 42, 0],
    ["a boolean", true, false],
    ["an array", ["a", "b"], []],
    ["null", null, null],
  ])("redact: %s", (_, value, expected) => {
    expect(masker.json(value, "redact")).toEqual(expected);
  });

  it("masks text as the string strategies do", () => {
    expect(masker.text("Ada", "hash")).toBe(hashed("Ada"));
    expect(masker.text("\tAda@Example.com\n", "email")).toBe(emailed("ada@example.com"));
    expect(masker.text("Ada", "redact")).toBe(REDACTED);
  });

  it("gives distinct addresses to addresses that differ by one character", () => {
    const inputs = ["ada@example.com", "ada@example.co", "ad@example.com", "ada+1@example.com"];
    const addresses = inputs.map((input) => masker.text(input, "email"));
    expect(addresses).toEqual(inputs.map(emailed));
    expect(new Set(addresses).size).toBe(inputs.length);
  });
});

describe("maskItem on paths that do not exist or do not fit", () => {
  const item: Item = {
    pk: { S: "user#1" },
    contacts: {
      L: [
        { M: { email: { S: "a@b.c" }, kind: { S: "home" } } },
        { S: "not a map" },
        { M: { kind: { S: "work" } } },
      ],
    },
    matrix: { L: [{ L: [{ N: "1" }, { N: "2" }] }, { L: [{ N: "3" }] }] },
    profile: { M: { phones: { SS: ["+1 555"] } } },
  };

  it("masks where the path exists and leaves every other value as it is", () => {
    const masked = maskItem(
      createMasker(
        {
          items: {
            "contacts[*].email": "email",
            "matrix[*][1]": "hash",
            "profile.phones": "redact",
            "missing.deeper[*]": "hash",
            "contacts[7].email": "hash",
            "pk.inner": "hash",
            "profile[*]": "hash",
            "profile.phones[0]": "hash",
            "contacts[*].kind.x": "drop",
          },
          objects: [],
          unmaskedTargets: [],
        },
        key,
      ),
      item,
    );
    expect(masked).toEqual({
      pk: { S: "user#1" },
      contacts: {
        L: [
          { M: { email: { S: emailed("a@b.c") }, kind: { S: "home" } } },
          { S: "not a map" },
          { M: { kind: { S: "work" } } },
        ],
      },
      matrix: { L: [{ L: [{ N: "1" }, { N: hashedNumber("2") }] }, { L: [{ N: "3" }] }] },
      profile: { M: { phones: { SS: [REDACTED] } } },
    });
  });

  it("drops a top-level attribute, a nested one in every element and every element of a list", () => {
    const masked = maskItem(
      createMasker(
        {
          items: { pk: "drop", "contacts[*].kind": "drop", "matrix[*]": "drop" },
          objects: [],
          unmaskedTargets: [],
        },
        key,
      ),
      item,
    );
    expect(masked).toEqual({
      contacts: {
        L: [{ M: { email: { S: "a@b.c" } } }, { S: "not a map" }, { M: {} }],
      },
      matrix: { L: [] },
      profile: item.profile,
    });
  });

  it("skips a rule whose path is not a path (the config's check refuses it first)", () => {
    const masked = maskItem(
      createMasker(
        { items: { "pk[": "hash", "": "drop", pk: "redact" }, objects: [], unmaskedTargets: [] },
        key,
      ),
      { pk: { S: "x" }, other: { N: "1" } },
    );
    expect(masked).toEqual({ pk: { S: REDACTED }, other: { N: "1" } });
  });
});

describe("maskJson, maskTexts, objectRuleOf", () => {
  it("masks through arrays by index and each, skipping paths that are not paths or not there", () => {
    const document = {
      users: [{ email: "a@b.c" }, { email: "d@e.f" }, "x"],
      tags: ["t0", "t1", "t2"],
    };
    expect(
      maskJson(masker, document, {
        "users[1].email": "email",
        "users[*].name": "hash",
        "tags[1]": "drop",
        "tags[9]": "redact",
        "nothing.here": "hash",
        "users..email": "hash",
      }),
    ).toEqual({
      users: [{ email: "a@b.c" }, { email: emailed("d@e.f") }, "x"],
      tags: ["t0", "t2"],
    });
  });

  it("leaves a document that is not an object where a path names a field", () => {
    expect(maskJson(masker, ["a@b.c"], { email: "email" })).toEqual(["a@b.c"]);
    expect(maskJson(masker, "a@b.c", { email: "email" })).toBe("a@b.c");
    expect(maskJson(masker, { list: "not a list" }, { "list[*]": "hash" })).toEqual({
      list: "not a list",
    });
  });

  it("copies the values as they are without rules", () => {
    const values = { owner: "ada" };
    const copied = maskTexts(masker, values, undefined);
    expect(copied).toEqual(values);
    expect(copied).not.toBe(values);
    expect(maskTexts(masker, values, { owner: "email" })).toEqual({ owner: emailed("ada") });
  });

  it("takes the first of two rules with equally long matching prefixes", () => {
    const twice: MaskingRules = {
      items: {},
      objects: [
        { prefix: "a/", format: "csv" },
        { prefix: "b/", exclude: true },
        { prefix: "a/", format: "json" },
      ],
      unmaskedTargets: [],
    };
    expect(objectRuleOf(twice, "a/x")?.format).toBe("csv");
  });
});

describe("canonical rules and the version", () => {
  const a: MaskingRules = {
    items: { z: "hash", a: "drop" },
    objects: [
      { prefix: "p/", format: "csv", fields: { b: "redact", a: "hash" }, tags: { t: "drop" } },
      { prefix: "o/", exclude: true, metadata: { m: "email" } },
      { prefix: "o/", exclude: true },
    ],
    unmaskedTargets: ["prod"],
  };
  const expected = JSON.stringify({
    items: [
      ["a", "drop"],
      ["z", "hash"],
    ],
    objects: [
      {
        prefix: "o/",
        exclude: true,
        format: null,
        fields: [],
        metadata: [["m", "email"]],
        tags: [],
      },
      { prefix: "o/", exclude: true, format: null, fields: [], metadata: [], tags: [] },
      {
        prefix: "p/",
        exclude: false,
        format: "csv",
        fields: [
          ["a", "hash"],
          ["b", "redact"],
        ],
        metadata: [],
        tags: [["t", "drop"]],
      },
    ],
  });

  it("orders every map and the rules by prefix; the unmasked targets are no part of it", () => {
    expect(canonicalRules(a)).toBe(expected);
    const reordered: MaskingRules = {
      items: { a: "drop", z: "hash" },
      objects: [a.objects[1], a.objects[2], a.objects[0]].flatMap((rule) => (rule ? [rule] : [])),
      unmaskedTargets: [],
    };
    expect(canonicalRules(reordered)).toBe(expected);
  });

  it("is the keyed digest of the canonical rules", () => {
    expect(createMasker(a, key).version).toBe(`m1-${base32(hmac(`version:${expected}`), 16)}`);
    expect(createMasker(NO_MASKING, key).version).toBe(
      `m1-${base32(hmac('version:{"items":[],"objects":[]}'), 16)}`,
    );
  });
});

describe("seal and unseal", () => {
  it("opens what it sealed, each seal under a fresh IV, and nothing sealed under another key", () => {
    const text = '{"pk":{"S":"user#1 Zoë 😀"}}';
    const once = masker.seal(text);
    const twice = masker.seal(text);
    expect(once).not.toBe(twice);
    expect(once).toMatch(/^[A-Za-z0-9_-]+$/);
    // IV (12 bytes), tag (16), then the ciphertext, as long as the text's bytes.
    expect(Buffer.from(once, "base64url")).toHaveLength(28 + Buffer.byteLength(text));
    expect(once).not.toContain(Buffer.from(text).toString("base64url").slice(0, 8));
    expect(masker.unseal(once)).toBe(text);
    expect(createMasker(NO_MASKING, key).unseal(twice)).toBe(text);
    expect(() => createMasker(rules, otherKey).unseal(once)).toThrow();
  });

  it("refuses a sealed text that was altered", () => {
    const sealed = Buffer.from(masker.seal("secret"), "base64url");
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(() => masker.unseal(sealed.toString("base64url"))).toThrow();
  });
});
