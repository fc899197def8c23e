/**
 * EventBridge event-pattern matching, for the operators the program's rule uses, as the
 * EventBridge user guide defines them:
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html: "For an
 *   event pattern to match an event, the event must contain all the field names listed in the
 *   event pattern. The field names must also appear in the event with the same nesting
 *   structure." Values to match are in JSON arrays, any of which may match (OR).
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html: "If
 *   the value in the event is an array, then the event pattern matches if the intersection of
 *   the event pattern array and the event array is non-empty."
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html:
 *   `[null]` matches a null value; "Null values and empty strings are not interchangeable".
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html:
 *   `prefix` ("for string values"), `anything-but` (a value, a list "that contain only strings,
 *   or only numbers", or `{ "prefix": ... }`), `exists` ("only works on leaf nodes"), `$or`.
 *
 * An absent field never matches a value, `prefix` or `anything-but` (the "must contain all the
 * field names" rule); only `{ "exists": false }` matches absence. Other operators (`numeric`,
 * `suffix`, `wildcard`, `equals-ignore-case`, `cidr`) are refused with a PatternError rather
 * than guessed.
 */

/** An event pattern (parsed JSON): nested objects whose leaves are arrays of matchers. */
export type EventPattern = Readonly<Record<string, unknown>>;

/** The pattern uses an operator or a shape this simulation does not implement, or is malformed. */
export class PatternError extends Error {
  override readonly name = "PatternError";
}

type Leaf = string | number | boolean | null;

const isObject = (value: unknown): value is EventPattern =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isLeaf = (value: unknown): value is Leaf =>
  value === null || ["string", "number", "boolean"].includes(typeof value);

/** `anything-but`: a value, a list of only strings or only numbers, or `{ prefix }`. */
function anythingBut(operand: unknown, value: Leaf, at: string): boolean {
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const prefix = operand.prefix;
    if (keys.length !== 1 || typeof prefix !== "string") {
      throw new PatternError(`${at}: anything-but takes a value, a list or { "prefix": string }`);
    }
    // A non-string value has no prefix, so it is "anything but" one that starts with it.
    return typeof value !== "string" || !value.startsWith(prefix);
  }
  const excluded: readonly unknown[] = Array.isArray(operand) ? operand : [operand];
  const kinds = new Set(excluded.map((entry) => typeof entry));
  if (excluded.length === 0 || kinds.size !== 1 || !(kinds.has("string") || kinds.has("number"))) {
    throw new PatternError(
      `${at}: anything-but lists only strings or only numbers, got ${JSON.stringify(operand)}`,
    );
  }
  return !excluded.includes(value);
}

/** One matcher of a leaf array against one present leaf value of the event. */
function matchesValue(matcher: unknown, value: Leaf, at: string): boolean {
  if (isLeaf(matcher)) return matcher === value;
  if (!isObject(matcher)) {
    throw new PatternError(`${at}: a matcher is a value or an operator object, got an array`);
  }
  const entries = Object.entries(matcher);
  const [operator, operand] = entries[0] ?? [];
  if (entries.length !== 1 || operator === undefined || operand === undefined) {
    throw new PatternError(
      `${at}: an operator object has exactly one key: ${JSON.stringify(matcher)}`,
    );
  }
  switch (operator) {
    case "prefix":
      if (typeof operand !== "string") throw new PatternError(`${at}: prefix takes a string`);
      return typeof value === "string" && value.startsWith(operand);
    case "anything-but":
      return anythingBut(operand, value, at);
    case "exists":
      if (typeof operand !== "boolean") throw new PatternError(`${at}: exists takes true or false`);
      return operand; // the field is present here
    default:
      throw new PatternError(`${at}: operator "${operator}" is not simulated`);
  }
}

const isExistsFalse = (matcher: unknown): boolean => isObject(matcher) && matcher.exists === false;

/** A leaf array of matchers against the event's field (absent when `present` is false). */
function matchesLeaf(
  matchers: readonly unknown[],
  present: boolean,
  value: unknown,
  at: string,
): boolean {
  if (!present) return matchers.some(isExistsFalse);
  // `exists` "only works on leaf nodes": an object in the event is no leaf for any matcher.
  if (isObject(value)) return false;
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  return matchers.some((matcher) =>
    values.some((entry) => isLeaf(entry) && matchesValue(matcher, entry, at)),
  );
}

function matchesObject(pattern: EventPattern, event: unknown, at: string): boolean {
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([field, expected]) => {
    const path = at === "" ? field : `${at}.${field}`;
    if (field === "$or") {
      if (!Array.isArray(expected) || expected.length === 0 || !expected.every(isObject)) {
        throw new PatternError(`${path}: $or takes a list of patterns`);
      }
      return expected.some((alternative) => matchesObject(alternative, event, path));
    }
    const present = Object.hasOwn(fields, field);
    const value: unknown = fields[field];
    if (Array.isArray(expected)) return matchesLeaf(expected, present, value, path);
    if (isObject(expected)) return matchesObject(expected, present ? value : undefined, path);
    throw new PatternError(`${path}: a pattern field holds an object or an array of matchers`);
  });
}

/** Whether `event` matches `pattern`, as EventBridge decides; throws PatternError on a bad pattern. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return matchesObject(pattern, event, "");
}
