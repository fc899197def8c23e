/**
 * Masking in flight: the rules (which attribute paths, JSON fields, CSV columns, user metadata
 * and tags are personal data, and how to mask each), their parsing and checks (shared by the
 * program's config validation and the function's contract), and the strategies, applied to
 * DynamoDB attribute values, JSON values and plain text alike, so that the same input masks to the
 * same output in every table and object (joins still work):
 *
 * - `hash`: a keyed pseudonym, HMAC-SHA-256 under the masking key, of the same type (a string
 *   stays a string, a number a number, a set a set of as many members, a list or map keeps its
 *   shape with each leaf hashed);
 * - `email`: a pseudonymous address in the reserved `example.invalid` domain ("invalid" is reserved
 *   by RFC 2606 and never resolves), the same for the same address (case and surrounding spaces
 *   aside), distinct for distinct ones;
 * - `redact`: a fixed placeholder of the same type;
 * - `drop`: the attribute or field is removed.
 *
 * Nothing here fetches the key or touches AWS: masking-key.ts fetches it, items.ts and objects.ts
 * apply the masker.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

export const maskingStrategies = ["hash", "email", "redact", "drop"] as const;
export type MaskingStrategy = (typeof maskingStrategies)[number];

/** Object formats whose contents are masked (read, masked and written by the function). */
export const objectFormats = ["json", "jsonl", "csv"] as const;
export type ObjectFormat = (typeof objectFormats)[number];

/** The reserved domain of pseudonymous addresses. */
export const MASKED_EMAIL_DOMAIN = "example.invalid";
/** What `redact` writes in a string. */
export const REDACTED = "[redacted]";
/**
 * What `redact` writes in a tag value: S3 refuses brackets in tags ("Pattern:
 * ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$", https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_S3Tag.html;
 * object tags follow the same restrictions,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html), and a replica
 * PutObjectTagging refuses could never be written.
 */
export const REDACTED_TAG = "redacted";

/** One rule for objects under a key prefix. */
export interface ObjectRule {
  readonly prefix: string;
  /** Never replicated. */
  readonly exclude?: boolean;
  /** Masked contents (with `fields`); without, the object is copied server-side. */
  readonly format?: ObjectFormat;
  /** JSON paths (json, jsonl) or CSV column names, to a strategy. */
  readonly fields?: Readonly<Record<string, MaskingStrategy>>;
  /** User metadata names (lower case, without `x-amz-meta-`), to a strategy. */
  readonly metadata?: Readonly<Record<string, MaskingStrategy>>;
  /** Tag keys, to a strategy. */
  readonly tags?: Readonly<Record<string, MaskingStrategy>>;
}

/** The masking rules of a replicating stack (config `data-pipeline:masking`). */
export interface MaskingRules {
  /** Attribute paths of items (top level, nested map keys, list elements), to a strategy. */
  readonly items: Readonly<Record<string, MaskingStrategy>>;
  readonly objects: readonly ObjectRule[];
  /** Target environments written unmasked (production-grade controls). */
  readonly unmaskedTargets: readonly string[];
}

export const NO_MASKING: MaskingRules = { items: {}, objects: [], unmaskedTargets: [] };

/** Whether the rules mask anything at all. */
export const masksAnything = (rules: MaskingRules): boolean =>
  Object.keys(rules.items).length > 0 || rules.objects.length > 0;

/** One step of a path: a map key or attribute name, every list element, or one of them. */
export type PathStep =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "each" }
  | { readonly kind: "index"; readonly index: number };

const NAME = /^[^.[\]]+/;

/**
 * Parses `a`, `a.b`, `a[*]`, `a[2].b`, `a.b[*].c`; undefined when it is not a path. A name may
 * hold any character but `.`, `[` and `]`.
 */
export function parsePath(path: string): PathStep[] | undefined {
  const steps: PathStep[] = [];
  let rest = path;
  let expectName = true;
  while (rest.length > 0) {
    if (expectName) {
      const name = NAME.exec(rest)?.[0];
      if (name === undefined) return undefined;
      steps.push({ kind: "name", name });
      rest = rest.slice(name.length);
      expectName = false;
      continue;
    }
    if (rest.startsWith("[*]")) {
      steps.push({ kind: "each" });
      rest = rest.slice(3);
    } else if (/^\[\d+\]/.test(rest)) {
      const index = /^\[(\d+)\]/.exec(rest)?.[1] ?? "0";
      steps.push({ kind: "index", index: Number(index) });
      rest = rest.slice(index.length + 2);
    } else if (rest.startsWith(".")) {
      rest = rest.slice(1);
      expectName = true;
    } else {
      return undefined;
    }
  }
  return expectName || steps.length === 0 ? undefined : steps;
}

/** The top-level attribute a path starts at. */
export const pathRoot = (steps: readonly PathStep[]): string | undefined =>
  steps[0]?.kind === "name" ? steps[0].name : undefined;

/** The object rule of a key: the longest matching prefix, or none. */
export function objectRuleOf(rules: MaskingRules, key: string): ObjectRule | undefined {
  let found: ObjectRule | undefined;
  for (const rule of rules.objects) {
    if (
      key.startsWith(rule.prefix) &&
      (found === undefined || rule.prefix.length > found.prefix.length)
    ) {
      found = rule;
    }
  }
  return found;
}

/** A masker: the strategies under one key, and the version of key and rules it masks with. */
export interface Masker {
  readonly rules: MaskingRules;
  /**
   * Identifies the key and the rules (a keyed digest, which reveals neither): a replica records
   * it, and a replica of another version is masked again by the next write or a resync.
   */
  readonly version: string;
  /** Masks a string as `strategy` would mask a string value (metadata, tags, CSV cells). */
  text(value: string, strategy: Exclude<MaskingStrategy, "drop">): string;
  /** Masks a DynamoDB attribute value. */
  attribute(value: AttributeValue, strategy: Exclude<MaskingStrategy, "drop">): AttributeValue;
  /** Masks a JSON value. */
  json(value: unknown, strategy: Exclude<MaskingStrategy, "drop">): unknown;
  /**
   * Seals a text (AES-256-GCM under a key derived from the masking key): what a dead letter
   * carries instead of a value the rules mask, so that redrive (which may read the key) can
   * replay it, and nobody else can read it.
   */
  seal(text: string): string;
  /** Opens a sealed text; throws when it was not sealed under this key. */
  unseal(sealed: string): string;
}

/** The canonical text of the rules, for the version: every map in key order. */
export function canonicalRules(rules: MaskingRules): string {
  const sorted = (map: Readonly<Record<string, string>> | undefined) =>
    Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    items: sorted(rules.items),
    objects: [...rules.objects]
      .sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0))
      .map((rule) => ({
        prefix: rule.prefix,
        exclude: rule.exclude === true,
        format: rule.format ?? null,
        fields: sorted(rule.fields),
        metadata: sorted(rule.metadata),
        tags: sorted(rule.tags),
      })),
  });
}

const base32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Bytes as lower-case base32 (RFC 4648 alphabet, no padding): safe in addresses and keys. */
function toBase32(bytes: Uint8Array, characters: number): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < characters) {
      out += base32[(value >>> (bits - 5)) & 31] ?? "";
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/**
 * The canonical text of a number, as DynamoDB stores it ("Leading and trailing zeroes are
 * trimmed", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html):
 * `1815.0`, `+01815` and `1815` are one number. Textual, so 38 significant digits stay exact.
 */
function canonicalNumber(text: string): string {
  const match = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (match === null) {
    const value = Number(text);
    return Number.isFinite(value) ? String(value) : text.trim();
  }
  const [, sign = "", whole = "", fraction = ""] = match;
  const integer = whole.replace(/^0+(?=\d)/, "") || "0";
  const decimals = fraction.replace(/0+$/, "");
  const digits = decimals === "" ? integer : `${integer}.${decimals}`;
  return sign === "-" && /[1-9]/.test(digits) ? `-${digits}` : digits;
}

/**
 * The masker of `rules` under `key` (the masking secret's bytes). Inputs are typed before they
 * are keyed ("S:", "N:", "B:"), so that a string and a number with the same digits differ.
 */
export function createMasker(rules: MaskingRules, key: Uint8Array): Masker {
  const digest = (text: string | Uint8Array): Buffer =>
    createHmac("sha256", key).update(text).digest();
  const hashString = (value: string): string => `h_${toBase32(digest(`S:${value}`), 26)}`;
  /** A 48-bit integer: exact in a JavaScript number and in a DynamoDB number. */
  const hashNumber = (value: string): number =>
    digest(`N:${canonicalNumber(value)}`).readUIntBE(0, 6);
  const hashBinary = (value: Uint8Array): Uint8Array =>
    new Uint8Array(digest(Buffer.concat([Buffer.from("B:"), value])));
  const email = (value: string): string =>
    `u${toBase32(digest(`E:${value.trim().toLowerCase()}`), 26)}@${MASKED_EMAIL_DOMAIN}`;

  const text = (value: string, strategy: Exclude<MaskingStrategy, "drop">): string => {
    switch (strategy) {
      case "hash":
        return hashString(value);
      case "email":
        return email(value);
      case "redact":
        return REDACTED;
    }
  };

  const attribute = (
    value: AttributeValue,
    strategy: Exclude<MaskingStrategy, "drop">,
  ): AttributeValue => {
    if (value.S !== undefined) return { S: text(value.S, strategy) };
    if (value.SS !== undefined) {
      return strategy === "redact"
        ? { SS: [REDACTED] }
        : { SS: value.SS.map((each) => text(each, strategy)) };
    }
    // An address is a string: `email` on anything else masks it as `hash` does (nothing leaks).
    const kind = strategy === "email" ? "hash" : strategy;
    if (value.N !== undefined) return { N: kind === "redact" ? "0" : String(hashNumber(value.N)) };
    if (value.NS !== undefined) {
      return { NS: kind === "redact" ? ["0"] : value.NS.map((each) => String(hashNumber(each))) };
    }
    if (value.B !== undefined) {
      return { B: kind === "redact" ? new TextEncoder().encode(REDACTED) : hashBinary(value.B) };
    }
    if (value.BS !== undefined) {
      return {
        BS: kind === "redact" ? [new TextEncoder().encode(REDACTED)] : value.BS.map(hashBinary),
      };
    }
    if (value.BOOL !== undefined) {
      return {
        BOOL:
          kind === "redact" ? false : ((digest(`BOOL:${String(value.BOOL)}`)[0] ?? 0) & 1) === 1,
      };
    }
    if (value.L !== undefined) {
      return kind === "redact"
        ? { L: [] }
        : { L: value.L.map((each) => attribute(each, strategy)) };
    }
    if (value.M !== undefined) {
      return kind === "redact"
        ? { M: {} }
        : {
            M: Object.fromEntries(
              Object.entries(value.M).map(([name, each]) => [name, attribute(each, strategy)]),
            ),
          };
    }
    // NULL carries nothing.
    return value;
  };

  const json = (value: unknown, strategy: Exclude<MaskingStrategy, "drop">): unknown => {
    if (typeof value === "string") return text(value, strategy);
    const kind = strategy === "email" ? "hash" : strategy;
    if (typeof value === "number") return kind === "redact" ? 0 : hashNumber(String(value));
    if (typeof value === "boolean") {
      return kind === "redact" ? false : ((digest(`BOOL:${String(value)}`)[0] ?? 0) & 1) === 1;
    }
    if (Array.isArray(value))
      return kind === "redact" ? [] : value.map((each) => json(each, strategy));
    if (typeof value === "object" && value !== null) {
      return kind === "redact"
        ? {}
        : Object.fromEntries(
            Object.entries(value).map(([name, each]) => [name, json(each, strategy)]),
          );
    }
    return value;
  };

  const version = `m1-${toBase32(digest(`version:${canonicalRules(rules)}`), 16)}`;
  const sealKey = digest("seal:v1");
  const seal = (plain: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", sealKey, iv);
    const sealed = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString("base64url");
  };
  const unseal = (text: string): string => {
    const bytes = Buffer.from(text, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", sealKey, bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  };
  return { rules, version, text, attribute, json, seal, unseal };
}

/** How a path walks a value (DynamoDB maps and lists, JSON objects and arrays) and rebuilds it. */
export interface Shape<V> {
  /** The named child of a map/object, if it is one. */
  child(value: V, name: string): V | undefined;
  /** The elements of a list/array, if it is one. */
  elements(value: V): readonly V[] | undefined;
  withChild(value: V, name: string, child: V | undefined): V;
  withElements(value: V, elements: readonly V[]): V;
}

/** Applies `leaf` at the end of `steps` inside `value`; `undefined` from `leaf` drops it. */
function applyAt<V>(
  shape: Shape<V>,
  value: V,
  steps: readonly PathStep[],
  leaf: (value: V) => V | undefined,
): V | undefined {
  const [step, ...rest] = steps;
  if (step === undefined) return leaf(value);
  if (step.kind === "name") {
    const child = shape.child(value, step.name);
    if (child === undefined) return value;
    return shape.withChild(value, step.name, applyAt(shape, child, rest, leaf));
  }
  const elements = shape.elements(value);
  if (elements === undefined) return value;
  const next: V[] = [];
  elements.forEach((element, index) => {
    if (step.kind === "index" && index !== step.index) {
      next.push(element);
      return;
    }
    const masked = applyAt(shape, element, rest, leaf);
    if (masked !== undefined) next.push(masked);
  });
  return shape.withElements(value, next);
}

/** A copy of `map` with `name` set to `child`, or without it (`undefined`). */
function replaced<V>(
  map: Readonly<Record<string, V>>,
  name: string,
  child: V | undefined,
): Record<string, V> {
  // In place: a masked document keeps its fields' order (a spread copies the fields in order, and
  // assigning a field the copy has keeps its place). Spreads and computed keys define fields, so
  // a field named `__proto__` stays a field. Called per masked field of every document of a
  // transformed object: no array of entries per call.
  if (child !== undefined) return { ...map, [name]: child };
  const rest = { ...map };
  Reflect.deleteProperty(rest, name);
  return rest;
}

export const attributeShape: Shape<AttributeValue> = {
  child: (value, name) => value.M?.[name],
  elements: (value) => value.L,
  withChild: (value, name, child) => ({ M: replaced(value.M ?? {}, name, child) }),
  withElements: (_value, elements) => ({ L: [...elements] }),
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const jsonShape: Shape<unknown> = {
  child: (value, name) => (isObject(value) ? value[name] : undefined),
  elements: (value) => (Array.isArray(value) ? (value as unknown[]) : undefined),
  withChild: (value, name, child) => replaced(value as Record<string, unknown>, name, child),
  withElements: (_value, elements) => [...elements],
};

export type Item = Record<string, AttributeValue>;

/** Masks an item by the rules' item paths. */
export function maskItem(masker: Masker, item: Item): Item {
  let masked: AttributeValue = { M: item };
  for (const [path, strategy] of Object.entries(masker.rules.items)) {
    const steps = parsePath(path);
    if (steps === undefined) continue;
    const next: AttributeValue | undefined = applyAt(attributeShape, masked, steps, (value) =>
      strategy === "drop" ? undefined : masker.attribute(value, strategy),
    );
    masked = next ?? { M: {} };
  }
  return masked.M ?? {};
}

/** Masks a JSON document by field paths (the top level is the document itself). */
export function maskJson(
  masker: Masker,
  document: unknown,
  fields: Readonly<Record<string, MaskingStrategy>>,
): unknown {
  let masked = document;
  for (const [path, strategy] of Object.entries(fields)) {
    const steps = parsePath(path);
    if (steps === undefined) continue;
    masked = applyAt(jsonShape, masked, steps, (value) =>
      strategy === "drop" ? undefined : masker.json(value, strategy),
    );
  }
  return masked;
}

/**
 * Masks named entries of a string map (user metadata, tags); `drop` removes them, `redact` writes
 * `redacted` (REDACTED for metadata, REDACTED_TAG for tags).
 */
export function maskTexts(
  masker: Masker,
  values: Readonly<Record<string, string>>,
  rules: Readonly<Record<string, MaskingStrategy>> | undefined,
  redacted: string = REDACTED,
): Record<string, string> {
  if (rules === undefined) return { ...values };
  const masked: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const strategy = rules[name];
    if (strategy === "drop") continue;
    masked[name] =
      strategy === undefined
        ? value
        : strategy === "redact"
          ? redacted
          : masker.text(value, strategy);
  }
  return masked;
}

/** Masks an object's tags by `rules`, as S3 lets a tag be written (REDACTED_TAG). */
export const maskTags = (
  masker: Masker,
  tags: Readonly<Record<string, string>>,
  rules: Readonly<Record<string, MaskingStrategy>> | undefined,
): Record<string, string> => maskTexts(masker, tags, rules, REDACTED_TAG);
