/**
 * The `data-pipeline:masking` key at preview (lib/masking-config.ts through validateConfig): each
 * rule refuses what it should, with the key path and the value, and accepts what it should.
 */
import { ConfigValidationError, validateConfig, type RawStackConfig } from "../lib/config";

const MASKING = "data-pipeline:masking";

function raw(masking: unknown, stack = "prod"): RawStackConfig {
  return {
    stack,
    project: "data-pipeline",
    organization: "acme",
    values: {
      "aws:region": "eu-west-1",
      ...(stack === "prod" ? { "data-pipeline:replicationTargets": '["dev","staging"]' } : {}),
      [MASKING]: typeof masking === "string" ? masking : JSON.stringify(masking),
    },
  };
}

function problemsOf(masking: unknown, stack = "prod"): string[] {
  try {
    validateConfig(raw(masking, stack));
  } catch (error: unknown) {
    if (error instanceof ConfigValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

const good = {
  items: {
    email: "email",
    "profile.phone": "hash",
    "cards[*]": "redact",
    notes: "drop",
    pk: "hash",
    age: { strategy: "hash", type: "N" },
  },
  objects: [
    { prefix: "private/", exclude: true },
    {
      prefix: "exports/",
      format: "jsonl",
      fields: { email: "email", "user.name": "hash" },
      metadata: { owner: "hash" },
      tags: { customer: "redact" },
    },
    { prefix: "reports/", format: "csv", fields: { "Phone Number": "redact" } },
    { prefix: "", metadata: { owner: "hash" } },
  ],
  unmaskedTargets: ["staging"],
};

describe("masking config", () => {
  it("reads the rules, the unmasked targets and the key's secret", () => {
    const config = validateConfig(
      raw({
        ...good,
        keySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:masking-AbCdEf",
      }),
    );
    expect(config.masking).toEqual({
      rules: {
        items: {
          email: "email",
          "profile.phone": "hash",
          "cards[*]": "redact",
          notes: "drop",
          pk: "hash",
          age: "hash",
        },
        objects: [
          { prefix: "private/", exclude: true },
          {
            prefix: "exports/",
            format: "jsonl",
            fields: { email: "email", "user.name": "hash" },
            metadata: { owner: "hash" },
            tags: { customer: "redact" },
          },
          { prefix: "reports/", format: "csv", fields: { "Phone Number": "redact" } },
          { prefix: "", metadata: { owner: "hash" } },
        ],
        unmaskedTargets: ["staging"],
      },
      keySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:masking-AbCdEf",
    });
    expect(validateConfig(raw(good)).masking?.keySecretArn).toBeUndefined();
  });

  it("is off unless set", () => {
    const values = Object.fromEntries(
      Object.entries(raw(good).values).filter(([name]) => name !== MASKING),
    );
    expect(validateConfig({ ...raw(good), values }).masking).toBeUndefined();
  });

  it.each([
    [
      "a path that is not a path",
      { items: { "profile..phone": "hash" } },
      /data-pipeline:masking\.items\.profile\.\.phone = "profile\.\.phone" \(not an attribute path/,
    ],
    [
      "email on a number",
      { items: { age: { strategy: "email", type: "N" } } },
      /data-pipeline:masking\.items\.age = \{"strategy":"email","type":"N"\} \(email masks strings \(S or SS\), and the rule declares N\)/,
    ],
    [
      "a transform on an excluded prefix (in the same rule)",
      { objects: [{ prefix: "private/", exclude: true, format: "csv", fields: { a: "hash" } }] },
      /data-pipeline:masking\.objects\[0\]\.format = "csv" \(a transform on an excluded prefix \("private\/" is never replicated\)\)/,
    ],
    [
      "a transform under an excluded prefix",
      {
        objects: [
          { prefix: "private/", exclude: true },
          { prefix: "private/exports/", format: "json", fields: { a: "hash" } },
        ],
      },
      /data-pipeline:masking\.objects = "private\/exports\/" \(a transform on an excluded prefix \(under "private\/"/,
    ],
    [
      "a key attribute with redact",
      { items: { pk: "redact" } },
      /data-pipeline:masking\.items\.pk = "redact" \(pk is a key attribute: only hash keeps every item addressable/,
    ],
    [
      "a key attribute with a nested path",
      { items: { "sk.part": "hash" } },
      /data-pipeline:masking\.items\.sk\.part = "sk\.part" \(sk is a key attribute \(S\): it has no nested values\)/,
    ],
    [
      "an unknown strategy",
      { items: { email: "scramble" } },
      /data-pipeline:masking\.items\.email = "scramble" \(unknown strategy; known: hash, email, redact, drop\)/,
    ],
    [
      "an unknown format",
      { objects: [{ prefix: "x/", format: "xml", fields: { a: "hash" } }] },
      /data-pipeline:masking\.objects\[0\]\.format = "xml" \(unknown format; known: json, jsonl, csv\)/,
    ],
    [
      "an unknown key",
      { items: { email: "email" }, secret: "x" },
      /data-pipeline:masking\.secret = "x" \(unknown key; known: items, objects, unmaskedTargets, keySecretArn\)/,
    ],
    [
      "an unknown key of an object rule",
      { objects: [{ prefix: "x/", exclude: true, excluded: true }] },
      /data-pipeline:masking\.objects\[0\]\.excluded = true \(unknown key/,
    ],
    [
      "fields without a format",
      { objects: [{ prefix: "x/", fields: { a: "hash" } }] },
      /data-pipeline:masking\.objects\[0\]\.format = undefined \(fields need a format/,
    ],
    [
      "a format without fields",
      { objects: [{ prefix: "x/", format: "csv" }] },
      /data-pipeline:masking\.objects\[0\]\.fields = undefined \(format csv needs the fields to mask\)/,
    ],
    [
      "a JSON field that is not a path",
      { objects: [{ prefix: "x/", format: "jsonl", fields: { "a[": "hash" } }] },
      /data-pipeline:masking\.objects\[0\]\.fields\.a\[ = "a\[" \(not a JSON path/,
    ],
    [
      "metadata in capitals",
      { objects: [{ prefix: "x/", metadata: { Owner: "hash" } }] },
      /data-pipeline:masking\.objects\[0\]\.metadata\.Owner = "Owner" \(user metadata names are lower case/,
    ],
    [
      "a prefix listed twice",
      {
        objects: [
          { prefix: "x/", exclude: true },
          { prefix: "x/", exclude: true },
        ],
      },
      /data-pipeline:masking\.objects = "x\/" \(prefix listed twice\)/,
    ],
    [
      "an unmasked target that is not a target",
      { items: { email: "email" }, unmaskedTargets: ["qa"] },
      /data-pipeline:masking\.unmaskedTargets = "qa" \(not a replication target \(targets: dev, staging\)\)/,
    ],
    [
      "a key secret that is not a secret's ARN",
      { items: { email: "email" }, keySecretArn: "masking-key" },
      /data-pipeline:masking\.keySecretArn = "masking-key" \(must be the ARN of an AWS Secrets Manager secret\)/,
    ],
    [
      "rules that mask nothing",
      {},
      /data-pipeline:masking = \{\} \(masks nothing: give items or objects rules, or remove the key\)/,
    ],
    [
      "something that is not a map",
      '["email"]',
      /data-pipeline:masking = \["email"\] \(must be a map/,
    ],
  ])("refuses %s", (_name, masking, message) => {
    expect(() => validateConfig(raw(masking))).toThrow(message);
  });

  it("lists every problem at once", () => {
    expect(
      problemsOf({ items: { pk: "redact", "a..b": "hash" }, objects: [{ prefix: 3 }] }),
    ).toHaveLength(3);
  });

  it("is refused by a stack that replicates nothing", () => {
    expect(problemsOf(good, "dev")).toEqual([
      expect.stringMatching(
        /^data-pipeline:masking = .* \(only a replicating stack uses it, and this stack sets no data-pipeline:replicationTargets: remove it\)$/,
      ),
    ]);
  });

  it.each([
    ["a hash of a key attribute", { items: { pk: "hash", sk: { strategy: "hash", type: "S" } } }],
    ["email on a declared string set", { items: { aliases: { strategy: "email", type: "SS" } } }],
    ["an exclusion alone", { objects: [{ prefix: "private/", exclude: true }] }],
    [
      "metadata and tags alone",
      { objects: [{ prefix: "", metadata: { owner: "drop" }, tags: { t: "hash" } }] },
    ],
  ])("accepts %s", (_name, masking) => {
    expect(() => validateConfig(raw(masking))).not.toThrow();
  });
});
