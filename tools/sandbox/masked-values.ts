/**
 * What masking did, for the sandbox's final output: every value a rule masks in prod (item
 * attributes, JSON Lines and JSON fields, CSV cells, user metadata, tags) beside the same value in
 * a masked target's replica, and the check that the target holds none of those prod values
 * anywhere (its items, object contents, metadata and tags), as text.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { parse } from "csv-parse/sync";
import {
  attributeShape,
  jsonShape,
  objectRuleOf,
  parsePath,
  type Item,
  type MaskingStrategy,
  type ObjectRule,
  type PathStep,
  type Shape,
} from "../../lib/replication/masking";
import type { SandboxMasking } from "./masking";
import { formatTable, itemKeyOf, sortedJson, type EnvironmentState } from "./state";

/** One masked value: where, the rule's strategy, prod's value and the replica's (undefined: absent). */
export interface MaskedValue {
  readonly where: string;
  readonly strategy: MaskingStrategy;
  readonly source: string;
  readonly replica: string | undefined;
}

/** What reading a value along a path needs of the function's own walk (lib/replication/masking.ts). */
type Walk<V> = Pick<Shape<V>, "child" | "elements">;

/** Every value `steps` reaches in `value`, each with its path spelt out (`cards[1]`, `a.b`). */
function valuesAt<V>(
  walk: Walk<V>,
  value: V,
  steps: readonly PathStep[],
  at = "",
): { path: string; value: V }[] {
  const [step, ...rest] = steps;
  if (step === undefined) return [{ path: at, value }];
  if (step.kind === "name") {
    const child = walk.child(value, step.name);
    return child === undefined
      ? []
      : valuesAt(walk, child, rest, at === "" ? step.name : `${at}.${step.name}`);
  }
  const elements = walk.elements(value) ?? [];
  return elements.flatMap((element, index) =>
    step.kind === "index" && index !== step.index
      ? []
      : valuesAt(walk, element, rest, `${at}[${String(index)}]`),
  );
}

/** The one value at a spelt-out path, if there is one. */
function valueAt<V>(walk: Walk<V>, value: V, path: string): V | undefined {
  const steps = parsePath(path);
  return steps === undefined ? undefined : valuesAt(walk, value, steps)[0]?.value;
}

/** An attribute value as text: a string or number as it is, anything else as JSON. */
function attributeText(value: AttributeValue): string {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  return sortedJson(value);
}

const jsonText = (value: unknown): string =>
  typeof value === "string" ? value : JSON.stringify(value);

/** Pairs of (source, replica) values of each path a rule names. */
function pairs<V>(
  walk: Walk<V>,
  rules: Readonly<Record<string, MaskingStrategy>>,
  source: V,
  replica: V | undefined,
  text: (value: V) => string,
  where: (path: string) => string,
): MaskedValue[] {
  return Object.entries(rules).flatMap(([path, strategy]) => {
    const steps = parsePath(path);
    if (steps === undefined) return [];
    return valuesAt(walk, source, steps).map((found) => {
      const held = replica === undefined ? undefined : valueAt(walk, replica, found.path);
      return {
        where: where(found.path),
        strategy,
        source: text(found.value),
        replica: held === undefined ? undefined : text(held),
      };
    });
  });
}

const lines = (body: Uint8Array): string[] =>
  Buffer.from(body)
    .toString("utf8")
    .split("\n")
    .filter((line) => line.trim() !== "");

/** The masked fields of one object's contents under `rule`. */
function contentValues(
  key: string,
  rule: ObjectRule,
  source: Uint8Array,
  replica: Uint8Array | undefined,
): MaskedValue[] {
  const fields = rule.fields ?? {};
  if (rule.format === "csv") {
    const [header = [], ...rows] = parse(Buffer.from(source), { bom: true });
    const [replicaHeader = [], ...replicaRows] =
      replica === undefined ? [] : parse(Buffer.from(replica), { bom: true });
    return rows.flatMap((row, index) =>
      header.flatMap((column, at): MaskedValue[] => {
        const strategy = fields[column];
        if (strategy === undefined) return [];
        const replicaAt = replicaHeader.indexOf(column);
        return [
          {
            where: `${key} row ${String(index + 1)}: ${column}`,
            strategy,
            source: row[at] ?? "",
            replica: replicaAt < 0 ? undefined : replicaRows[index]?.[replicaAt],
          },
        ];
      }),
    );
  }
  const parseAll = (body: Uint8Array): unknown[] =>
    rule.format === "jsonl"
      ? lines(body).map((line): unknown => JSON.parse(line))
      : [JSON.parse(Buffer.from(body).toString("utf8"))];
  const replicas = replica === undefined ? [] : parseAll(replica);
  return parseAll(source).flatMap((document, index) =>
    pairs(jsonShape, fields, document, replicas[index], jsonText, (path) =>
      rule.format === "jsonl" ? `${key} line ${String(index + 1)}: ${path}` : `${key}: ${path}`,
    ),
  );
}

/** The masked entries of a string map (user metadata, tags). */
function textValues(
  what: string,
  rules: Readonly<Record<string, MaskingStrategy>> | undefined,
  source: Readonly<Record<string, string>>,
  replica: Readonly<Record<string, string>> | undefined,
): MaskedValue[] {
  return Object.entries(rules ?? {}).flatMap(([name, strategy]): MaskedValue[] => {
    const value = source[name];
    return value === undefined
      ? []
      : [{ where: `${what} ${name}`, strategy, source: value, replica: replica?.[name] }];
  });
}

/**
 * Every value the rules mask in `source`, beside `replica`'s (a masked target): items in key
 * order, then objects in key order, each with its contents, metadata and tags.
 */
export function maskedValues(
  source: EnvironmentState,
  replica: EnvironmentState,
  masking: SandboxMasking,
): MaskedValue[] {
  const view = masking.itemView(replica.environment);
  const items = [...source.itemValues].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const values = items.flatMap(([key, item]) => {
    const masked = view.item(item);
    const held = masked === undefined ? undefined : replica.itemValues.get(itemKeyOf(masked));
    return pairs(
      attributeShape,
      masking.rules.items,
      { M: item },
      held === undefined ? undefined : { M: held },
      attributeText,
      (path) => `item ${key}: ${path}`,
    );
  });
  const objects = [...source.objectSnapshots].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, object] of objects) {
    const rule = objectRuleOf(masking.rules, key);
    if (rule === undefined || rule.exclude === true) continue;
    const held = replica.objectSnapshots.get(key);
    if (rule.format !== undefined) {
      values.push(...contentValues(key, rule, object.body, held?.body));
    }
    values.push(...textValues(`${key} metadata`, rule.metadata, object.metadata, held?.metadata));
    values.push(...textValues(`${key} tag`, rule.tags, object.tags, held?.tags));
  }
  return values;
}

/** What the table shows for a value the replica does not hold. */
export const ABSENT = "(dropped)";

/** The table: where, the rule, prod's value, the replica's. */
export function renderMaskedValues(
  values: readonly MaskedValue[],
  source: string,
  replica: string,
): string {
  return formatTable(
    ["where", "rule", source, replica],
    values.map((value) => [value.where, value.strategy, value.source, value.replica ?? ABSENT]),
  );
}

/** Every string and number an attribute value holds, at any depth. */
function leavesOf(value: AttributeValue): string[] {
  if (value.S !== undefined) return [value.S];
  if (value.N !== undefined) return [value.N];
  if (value.SS !== undefined) return value.SS;
  if (value.NS !== undefined) return value.NS;
  if (value.L !== undefined) return value.L.flatMap(leavesOf);
  if (value.M !== undefined) return Object.values(value.M).flatMap(leavesOf);
  return [];
}

/** Everything a state holds, as text: item values, object contents, metadata and tags. */
function textsOf(state: EnvironmentState): string[] {
  return [
    ...[...state.itemValues.values()].flatMap((item: Item) => leavesOf({ M: item })),
    ...[...state.objectSnapshots.values()].flatMap((object) => [
      Buffer.from(object.body).toString("utf8"),
      ...Object.values(object.metadata),
      ...Object.values(object.tags),
    ]),
  ];
}

/** A problem for each of prod's masked values that `replica` holds anywhere, as it is. */
export function unmaskedValues(
  values: readonly MaskedValue[],
  replica: EnvironmentState,
): string[] {
  const texts = textsOf(replica);
  return values
    .filter((value) => value.source !== "" && texts.some((text) => text.includes(value.source)))
    .map((value) => `${replica.environment}: holds prod's ${value.where} unmasked`);
}
