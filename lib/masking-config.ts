/**
 * The `data-pipeline:masking` config key of a replicating stack: parsed and checked before any
 * resource is declared, every problem named with its key path and value. What it becomes: the
 * masking rules in the function's environment (lib/replication/masking.ts applies them) and,
 * unless the config names one, a masking key the stack creates in AWS Secrets Manager
 * (lib/masking-key.ts).
 *
 * ```yaml
 * data-pipeline:masking:
 *   items:                       # attribute paths -> hash | email | redact | drop
 *     email: email
 *     profile.phone: hash
 *     cards[*]: redact
 *     age: { strategy: hash, type: N }   # a declared type lets preview refuse `email` on it
 *   objects:                     # by key prefix (the longest matching one applies)
 *     - { prefix: private/, exclude: true }
 *     - prefix: exports/
 *       format: jsonl            # json | jsonl | csv
 *       fields: { email: email, user.name: hash }
 *       metadata: { owner: hash }
 *       tags: { customer: hash }
 *   unmaskedTargets: [staging]   # written unmasked (production-grade controls)
 *   keySecretArn: arn:aws:secretsmanager:...   # use this secret instead of creating one
 * ```
 */
import {
  maskingStrategies,
  objectFormats,
  parsePath,
  pathRoot,
  type MaskingRules,
  type MaskingStrategy,
  type ObjectFormat,
  type ObjectRule,
} from "./replication/masking";

/** The masking settings of a replicating stack. */
export interface MaskingConfig {
  readonly rules: MaskingRules;
  /** The masking key's secret when the config names one; else the stack creates it. */
  readonly keySecretArn: string | undefined;
}

/** DynamoDB types a rule may declare for its attribute. */
const attributeTypes = ["S", "N", "B", "SS", "NS", "BS", "BOOL", "NULL", "L", "M"] as const;
/** Types an address can be: a string, or a set of them. */
const emailTypes: readonly string[] = ["S", "SS"];

const secretArnPattern =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A value as the message quotes it (`undefined` for a key that is not there). */
const show = (value: unknown): string =>
  value === undefined ? "undefined" : JSON.stringify(value);

export interface MaskingContext {
  /** The stack's replication targets (unmaskedTargets must be among them). */
  readonly targets: readonly string[];
  /** The table's key attributes and their types (masked with `hash` only). */
  readonly keyAttributes: Readonly<Record<string, string>>;
}

/**
 * Reads `value` (the key's parsed JSON) into masking settings, or lists every problem
 * (`<key>.<path> = <value> (<reason>)`).
 */
export function readMaskingConfig(
  key: string,
  value: unknown,
  context: MaskingContext,
): { config: MaskingConfig | undefined; problems: string[] } {
  const problems: string[] = [];
  const bad = (at: string, got: unknown, reason: string): void => {
    problems.push(`${key}${at} = ${show(got)} (${reason})`);
  };
  if (!isRecord(value)) {
    bad("", value, "must be a map with items, objects, unmaskedTargets, keySecretArn");
    return { config: undefined, problems };
  }
  for (const name of Object.keys(value)) {
    if (!["items", "objects", "unmaskedTargets", "keySecretArn"].includes(name)) {
      bad(
        `.${name}`,
        value[name],
        "unknown key; known: items, objects, unmaskedTargets, keySecretArn",
      );
    }
  }
  const items = readItemRules(value.items, context, bad);
  const objects = readObjectRules(value.objects, bad);
  const unmaskedTargets: string[] = [];
  if (value.unmaskedTargets !== undefined) {
    if (
      !Array.isArray(value.unmaskedTargets) ||
      !value.unmaskedTargets.every((each): each is string => typeof each === "string")
    ) {
      bad(".unmaskedTargets", value.unmaskedTargets, "must be a list of target stack names");
    } else {
      for (const target of value.unmaskedTargets) {
        if (!context.targets.includes(target)) {
          bad(
            ".unmaskedTargets",
            target,
            `not a replication target (targets: ${context.targets.join(", ")})`,
          );
        } else if (!unmaskedTargets.includes(target)) {
          unmaskedTargets.push(target);
        }
      }
    }
  }
  let keySecretArn: string | undefined;
  if (value.keySecretArn !== undefined) {
    if (typeof value.keySecretArn !== "string" || !secretArnPattern.test(value.keySecretArn)) {
      bad(".keySecretArn", value.keySecretArn, "must be the ARN of an AWS Secrets Manager secret");
    } else {
      keySecretArn = value.keySecretArn;
    }
  }
  if (problems.length === 0 && Object.keys(items).length === 0 && objects.length === 0) {
    bad("", value, "masks nothing: give items or objects rules, or remove the key");
  }
  return problems.length > 0
    ? { config: undefined, problems }
    : { config: { rules: { items, objects, unmaskedTargets }, keySecretArn }, problems };
}

type Bad = (at: string, got: unknown, reason: string) => void;

const isStrategy = (value: unknown): value is MaskingStrategy =>
  typeof value === "string" && (maskingStrategies as readonly string[]).includes(value);

/** A strategy (or `{ strategy, type }`); undefined (and a problem) when it is not one. */
function readStrategy(
  at: string,
  raw: unknown,
  bad: Bad,
): { strategy: MaskingStrategy; type: string | undefined } | undefined {
  const strategy = isRecord(raw) ? raw.strategy : raw;
  const type = isRecord(raw) ? raw.type : undefined;
  if (isRecord(raw)) {
    for (const name of Object.keys(raw)) {
      if (name !== "strategy" && name !== "type")
        bad(`${at}.${name}`, raw[name], "unknown key; known: strategy, type");
    }
  }
  let ok = true;
  if (!isStrategy(strategy)) {
    bad(at, strategy, `unknown strategy; known: ${maskingStrategies.join(", ")}`);
    ok = false;
  }
  if (
    type !== undefined &&
    !(typeof type === "string" && (attributeTypes as readonly string[]).includes(type))
  ) {
    bad(`${at}.type`, type, `unknown DynamoDB type; known: ${attributeTypes.join(", ")}`);
    ok = false;
  }
  if (ok && strategy === "email" && typeof type === "string" && !emailTypes.includes(type)) {
    bad(at, raw, `email masks strings (S or SS), and the rule declares ${type}`);
    ok = false;
  }
  return ok && isStrategy(strategy)
    ? { strategy, type: typeof type === "string" ? type : undefined }
    : undefined;
}

function readItemRules(
  raw: unknown,
  context: MaskingContext,
  bad: Bad,
): Record<string, MaskingStrategy> {
  const rules: Record<string, MaskingStrategy> = {};
  if (raw === undefined) return rules;
  if (!isRecord(raw)) {
    bad(".items", raw, "must be a map of attribute paths to strategies");
    return rules;
  }
  for (const [path, value] of Object.entries(raw)) {
    const at = `.items.${path}`;
    const steps = parsePath(path);
    if (steps === undefined) {
      bad(at, path, "not an attribute path (name, name.key, name[*], name[0], ...)");
      continue;
    }
    const rule = readStrategy(at, value, bad);
    if (rule === undefined) continue;
    const root = pathRoot(steps) ?? "";
    const keyType = context.keyAttributes[root];
    if (keyType !== undefined) {
      if (steps.length > 1) {
        bad(at, path, `${root} is a key attribute (${keyType}): it has no nested values`);
        continue;
      }
      if (rule.strategy !== "hash") {
        bad(
          at,
          value,
          `${root} is a key attribute: only hash keeps every item addressable (a replica's key must be unique and the same on every path)`,
        );
        continue;
      }
      if (rule.type !== undefined && rule.type !== keyType) {
        bad(`${at}.type`, rule.type, `${root} is a key attribute of type ${keyType}`);
        continue;
      }
    }
    rules[path] = rule.strategy;
  }
  return rules;
}

function readTextRules(
  at: string,
  raw: unknown,
  bad: Bad,
  lowerCase: boolean,
): Record<string, MaskingStrategy> | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw)) {
    bad(at, raw, "must be a map of names to strategies");
    return undefined;
  }
  const rules: Record<string, MaskingStrategy> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (lowerCase && name !== name.toLowerCase()) {
      bad(`${at}.${name}`, name, "user metadata names are lower case (S3 stores them so)");
      continue;
    }
    const rule = readStrategy(`${at}.${name}`, value, bad);
    if (rule !== undefined) rules[name] = rule.strategy;
  }
  return rules;
}

function readObjectRules(raw: unknown, bad: Bad): ObjectRule[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    bad(".objects", raw, "must be a list of rules, each with a prefix");
    return [];
  }
  const rules: ObjectRule[] = [];
  raw.forEach((entry: unknown, index) => {
    const at = `.objects[${String(index)}]`;
    if (!isRecord(entry)) {
      bad(at, entry, "must be a map with prefix and exclude or format/fields/metadata/tags");
      return;
    }
    for (const name of Object.keys(entry)) {
      if (!["prefix", "exclude", "format", "fields", "metadata", "tags"].includes(name)) {
        bad(
          `${at}.${name}`,
          entry[name],
          "unknown key; known: prefix, exclude, format, fields, metadata, tags",
        );
      }
    }
    const { prefix, exclude, format } = entry;
    if (typeof prefix !== "string") {
      bad(`${at}.prefix`, prefix, 'must be a key prefix ("" for every key)');
      return;
    }
    if (exclude !== undefined && typeof exclude !== "boolean") {
      bad(`${at}.exclude`, exclude, "must be true or false");
      return;
    }
    if (
      format !== undefined &&
      !(typeof format === "string" && (objectFormats as readonly string[]).includes(format))
    ) {
      bad(`${at}.format`, format, `unknown format; known: ${objectFormats.join(", ")}`);
      return;
    }
    if (exclude === true) {
      for (const name of ["format", "fields", "metadata", "tags"]) {
        if (entry[name] !== undefined) {
          bad(
            `${at}.${name}`,
            entry[name],
            `a transform on an excluded prefix ("${prefix}" is never replicated)`,
          );
        }
      }
      rules.push({ prefix, exclude: true });
      return;
    }
    const fields = readFieldRules(
      `${at}.fields`,
      entry.fields,
      format as ObjectFormat | undefined,
      bad,
    );
    if (format !== undefined && fields === undefined) {
      bad(`${at}.fields`, entry.fields, `format ${format} needs the fields to mask`);
    }
    if (fields !== undefined && format === undefined) {
      bad(`${at}.format`, format, `fields need a format (${objectFormats.join(", ")})`);
    }
    const metadata = readTextRules(`${at}.metadata`, entry.metadata, bad, true);
    const tags = readTextRules(`${at}.tags`, entry.tags, bad, false);
    if (fields === undefined && metadata === undefined && tags === undefined) {
      bad(at, entry, "masks nothing: give exclude, or format and fields, metadata or tags");
    }
    rules.push({
      prefix,
      ...(format === undefined ? {} : { format: format as ObjectFormat }),
      ...(fields === undefined ? {} : { fields }),
      ...(metadata === undefined ? {} : { metadata }),
      ...(tags === undefined ? {} : { tags }),
    });
  });
  const prefixes = rules.map((rule) => rule.prefix);
  prefixes.forEach((prefix, index) => {
    if (prefixes.indexOf(prefix) !== index) bad(".objects", prefix, "prefix listed twice");
  });
  for (const rule of rules) {
    if (rule.exclude === true) continue;
    const under = rules.find(
      (other) => other.exclude === true && rule.prefix.startsWith(other.prefix),
    );
    if (under !== undefined) {
      bad(
        ".objects",
        rule.prefix,
        `a transform on an excluded prefix (under "${under.prefix}", which is never replicated)`,
      );
    }
  }
  return rules;
}

function readFieldRules(
  at: string,
  raw: unknown,
  format: ObjectFormat | undefined,
  bad: Bad,
): Record<string, MaskingStrategy> | undefined {
  if (raw === undefined) return undefined;
  if (!isRecord(raw) || Object.keys(raw).length === 0) {
    bad(at, raw, "must be a map of fields to strategies");
    return undefined;
  }
  const rules: Record<string, MaskingStrategy> = {};
  for (const [field, value] of Object.entries(raw)) {
    if (format !== "csv" && parsePath(field) === undefined) {
      bad(`${at}.${field}`, field, "not a JSON path (name, name.key, name[*], name[0], ...)");
      continue;
    }
    const rule = readStrategy(`${at}.${field}`, value, bad);
    if (rule !== undefined) rules[field] = rule.strategy;
  }
  return rules;
}
