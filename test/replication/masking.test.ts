/** The masking rules and strategies (lib/replication/masking.ts). */
import {
  MASKED_EMAIL_DOMAIN,
  NO_MASKING,
  REDACTED,
  createMasker,
  maskItem,
  maskJson,
  maskTags,
  maskTexts,
  objectRuleOf,
  parsePath,
  type MaskingRules,
} from "../../lib/replication/masking";

const key = new TextEncoder().encode("a masking key of thirty-two bytes!");
const rules: MaskingRules = {
  items: {
    email: "email",
    "profile.phone": "hash",
    "cards[*]": "redact",
    "notes[0]": "drop",
    age: "hash",
    pk: "hash",
  },
  objects: [
    { prefix: "private/", exclude: true },
    { prefix: "exports/", format: "jsonl", fields: { email: "email", "user.name": "hash" } },
    { prefix: "exports/csv/", format: "csv", fields: { phone: "redact" } },
  ],
  unmaskedTargets: [],
};
const masker = createMasker(rules, key);

describe("parsePath", () => {
  it.each([
    ["a", [{ kind: "name", name: "a" }]],
    [
      "a.b",
      [
        { kind: "name", name: "a" },
        { kind: "name", name: "b" },
      ],
    ],
    ["a[*].b", [{ kind: "name", name: "a" }, { kind: "each" }, { kind: "name", name: "b" }]],
    [
      "list[2]",
      [
        { kind: "name", name: "list" },
        { kind: "index", index: 2 },
      ],
    ],
    ["user#id:x-y", [{ kind: "name", name: "user#id:x-y" }]],
  ])("reads %s", (path, steps) => {
    expect(parsePath(path)).toEqual(steps);
  });

  it.each(["", ".a", "a.", "a..b", "a[", "a[x]", "a]b", "[*]", "a[*]b", "a.[0]"])(
    "refuses %p",
    (path) => {
      expect(parsePath(path)).toBeUndefined();
    },
  );
});

describe("the strategies", () => {
  it("hash: a keyed pseudonym of the same type, the same for the same input", () => {
    const masked = masker.attribute({ S: "Ada Lovelace" }, "hash");
    expect(masked.S).toMatch(/^h_[a-z2-7]{26}$/);
    expect(masker.attribute({ S: "Ada Lovelace" }, "hash")).toEqual(masked);
    expect(masker.attribute({ S: "Ada Lovelac" }, "hash")).not.toEqual(masked);
    expect(masker.attribute({ N: "1815" }, "hash").N).toMatch(/^\d+$/);
    expect(masker.attribute({ N: "1815" }, "hash")).toEqual(
      masker.attribute({ N: "1815.0" }, "hash"),
    );
    for (const same of ["+01815", "1815.000", "01815."]) {
      expect(masker.attribute({ N: same }, "hash")).toEqual(
        masker.attribute({ N: "1815" }, "hash"),
      );
    }
    expect(masker.attribute({ N: "-0.50" }, "hash")).toEqual(
      masker.attribute({ N: "-.5" }, "hash"),
    );
    expect(masker.attribute({ N: "18150" }, "hash")).not.toEqual(
      masker.attribute({ N: "1815" }, "hash"),
    );
    expect(masker.attribute({ SS: ["a", "b", "c"] }, "hash").SS).toHaveLength(3);
    expect(masker.attribute({ B: new Uint8Array([1, 2]) }, "hash").B).toHaveLength(32);
    expect(masker.json(1815, "hash")).toBe(Number(masker.attribute({ N: "1815" }, "hash").N));
  });

  it("hash: another key gives other pseudonyms (without the key a guess cannot be checked)", () => {
    const other = createMasker(rules, new TextEncoder().encode("another key"));
    expect(other.text("Ada Lovelace", "hash")).not.toBe(masker.text("Ada Lovelace", "hash"));
    expect(other.version).not.toBe(masker.version);
  });

  it("email: an address in the reserved domain, the same across items and objects, distinct for distinct inputs", () => {
    const address = masker.text("Ada@Example.com", "email");
    expect(address).toMatch(
      new RegExp(`^u[a-z2-7]{26}@${MASKED_EMAIL_DOMAIN.replace(".", "\\.")}$`),
    );
    expect(masker.attribute({ S: " ada@example.com " }, "email").S).toBe(address);
    expect(masker.json("ada@example.com", "email")).toBe(address);
    const many = new Set(
      Array.from({ length: 2000 }, (_, i) => masker.text(`user${i}@example.com`, "email")),
    );
    expect(many.size).toBe(2000);
  });

  it("email on something that is not a string masks it as hash does (nothing leaks)", () => {
    expect(masker.attribute({ N: "42" }, "email")).toEqual(masker.attribute({ N: "42" }, "hash"));
  });

  it("redact: a fixed placeholder of the same type", () => {
    expect(masker.attribute({ S: "x" }, "redact")).toEqual({ S: REDACTED });
    expect(masker.attribute({ N: "9" }, "redact")).toEqual({ N: "0" });
    expect(masker.attribute({ BOOL: true }, "redact")).toEqual({ BOOL: false });
    expect(masker.attribute({ L: [{ S: "a" }] }, "redact")).toEqual({ L: [] });
    expect(masker.attribute({ M: { a: { S: "a" } } }, "redact")).toEqual({ M: {} });
    expect(masker.json({ a: 1 }, "redact")).toEqual({});
    expect(masker.json("x", "redact")).toBe(REDACTED);
  });

  it("the version names the key and the rules: the same for the same, another when either changes", () => {
    expect(createMasker(rules, key).version).toBe(masker.version);
    expect(createMasker({ ...rules, items: { email: "hash" } }, key).version).not.toBe(
      masker.version,
    );
  });
});

describe("maskItem", () => {
  it("masks top-level attributes, nested map keys and list elements; drops what the rules drop", () => {
    const item = {
      pk: { S: "user#1" },
      email: { S: "ada@example.com" },
      profile: { M: { phone: { S: "+44 20 7946 0000" }, city: { S: "London" } } },
      cards: { L: [{ S: "4111 1111 1111 1111" }, { S: "5500 0000 0000 0004" }] },
      notes: { L: [{ S: "call ada@example.com" }, { S: "kept" }] },
      plain: { S: "not personal" },
    };

    const masked = maskItem(masker, item);

    expect(masked.pk?.S).toBe(masker.text("user#1", "hash"));
    expect(masked.email?.S).toBe(masker.text("ada@example.com", "email"));
    expect(masked.profile).toEqual({
      M: { phone: { S: masker.text("+44 20 7946 0000", "hash") }, city: { S: "London" } },
    });
    expect(masked.cards).toEqual({ L: [{ S: REDACTED }, { S: REDACTED }] });
    expect(masked.notes).toEqual({ L: [{ S: "kept" }] });
    expect(masked.plain).toEqual({ S: "not personal" });
    expect(Object.keys(masked)).toEqual(Object.keys(item));
  });

  it("leaves an item alone where its attributes do not have the paths' shape", () => {
    expect(maskItem(masker, { profile: { S: "a string, not a map" } })).toEqual({
      profile: { S: "a string, not a map" },
    });
    expect(maskItem(createMasker(NO_MASKING, key), { email: { S: "a@b.c" } })).toEqual({
      email: { S: "a@b.c" },
    });
  });
});

describe("maskJson, maskTexts, objectRuleOf", () => {
  it("masks JSON fields by path, keeping the document's order", () => {
    const document = { id: 7, email: "ada@example.com", user: { name: "Ada", role: "admin" } };
    const masked = maskJson(masker, document, { email: "email", "user.name": "hash", id: "drop" });
    expect(masked).toEqual({
      email: masker.text("ada@example.com", "email"),
      user: { name: masker.text("Ada", "hash"), role: "admin" },
    });
    expect(Object.keys(masked as object)).toEqual(["email", "user"]);
    const reordered = maskJson(masker, { a: 1, b: "x", c: 2 }, { b: "hash" });
    expect(Object.keys(reordered as object)).toEqual(["a", "b", "c"]);
  });

  it("masks a field named __proto__ as any other field, never touching the prototype", () => {
    const document: unknown = JSON.parse(
      '{"__proto__":"ada@example.com","keep":1,"x":{"__proto__":2}}',
    );
    const masked = maskJson(masker, document, { ["__proto__"]: "email", "x.__proto__": "drop" });
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(masked, "__proto__")?.value).toBe(
      masker.text("ada@example.com", "email"),
    );
    expect(Object.keys(masked as object)).toEqual(["__proto__", "keep", "x"]);
    expect(Object.keys(Reflect.get(masked as object, "x") as object)).toEqual([]);
  });

  it("masks the named metadata or tags and drops the dropped ones", () => {
    expect(
      maskTexts(masker, { owner: "ada", team: "data", note: "x" }, { owner: "hash", note: "drop" }),
    ).toEqual({
      owner: masker.text("ada", "hash"),
      team: "data",
    });
  });

  it("redacts a tag as S3 lets a tag be written, metadata with the placeholder of strings", () => {
    const rules = { owner: "redact", team: "hash" } as const;
    const tags = maskTags(masker, { owner: "ada", team: "data", kept: "x" }, rules);
    expect(tags).toEqual({ owner: "redacted", team: masker.text("data", "hash"), kept: "x" });
    // S3's tag pattern (https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html).
    for (const value of Object.values(tags))
      expect(value).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    expect(maskTexts(masker, { owner: "ada" }, rules)).toEqual({ owner: REDACTED });
  });

  it("takes the rule of the longest matching prefix", () => {
    expect(objectRuleOf(rules, "exports/csv/a.csv")?.format).toBe("csv");
    expect(objectRuleOf(rules, "exports/a.jsonl")?.format).toBe("jsonl");
    expect(objectRuleOf(rules, "private/x")?.exclude).toBe(true);
    expect(objectRuleOf(rules, "public/x")).toBeUndefined();
  });
});
