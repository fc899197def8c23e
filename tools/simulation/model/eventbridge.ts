/**
 * A model of Amazon EventBridge's default event bus for the deterministic simulation: rules with
 * an event pattern and one target each, the pattern matcher, and delivery to the targets as
 * EventBridge documents it (at least once, in no promised order, with delays, retried per the
 * target's retry policy and then sent to the target's dead-letter queue).
 *
 * Sources:
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html and
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *   (earlier: eb-event-patterns.html, eb-event-patterns-content-based-filtering.html,
 *   eb-event-patterns-arrays.html, eb-event-patterns-null-values.html)
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html (retry policy, DLQ)
 * - https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html
 * - https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-troubleshooting.html (duplicates)
 * - where the pages are terse, the README of aws/event-ruler (the matching library EventBridge
 *   publishes) was read for how AWS understands them; nothing was copied from it.
 *
 * Silent choices (the docs do not say; the model takes what is hardest for a client):
 * - Silent: a first delivery is delayed by a uniform random 0..maxDeliveryDelayMs (default 3 s),
 *   so two events put in order can reach the target in either order.
 * - Silent: a matched event is delivered a second time with probability duplicateProbability
 *   (default 0.1), with its own random delay, possibly before the first copy.
 * - Silent: EventBridge promises no order for a classic bus's targets; deliveries due at once go in
 *   the order of their (random) due times.
 * - Silent: the retry back off is "full jitter" over an exponential: a random 0..min(900 s,
 *   1 s * 2^retry). With the default policy (185 retries) this spreads retries over about the
 *   documented 24 hours.
 * - Silent: a target that throws an error whose `name` is not one of the documented DLQ error
 *   codes (nor an SDK name mapped below) failed to receive the event the way a throttled target
 *   does: ERROR_CODE "THROTTLING", retried.
 * - Silent: the maximum event age is checked when a retry comes due: an event older than
 *   MaximumEventAgeInSeconds then goes to the DLQ (EXHAUSTED_RETRY_CONDITION
 *   "MaximumEventAgeInSeconds") without another attempt.
 * - Silent: RETRY_ATTEMPTS is the number of retries made (attempts - 1); an error that is not
 *   retried has RETRY_ATTEMPTS "0" and no EXHAUSTED_RETRY_CONDITION.
 * - Silent: a field whose value is an empty array has no leaf value: it does not exist for
 *   `exists`, and matches no value (the matcher works on leaf values, as the array page says an
 *   event array matches when "the intersection of the event pattern array and the event array is
 *   non-empty").
 * - Silent: `equals-ignore-case` compares `toLowerCase()` forms (EventBridge's exact case folding
 *   is not documented).
 * - Silent: a rule whose pattern is not valid is refused by putRule with an error named
 *   InvalidEventPatternException (what PutRule answers), as this model has no SDK client for it.
 *
 * Not modelled: CIDR matching of IPv6 addresses (IPv4 `cidr` is); the numeric exactness rule "300,
 * 300.0, and 3.0e2 are not considered equal" (events arrive here parsed, where they are one
 * number); input transformers; more than one target per rule; scheduled rules; archives.
 */

import type { Clock, Rng, TimedModel } from "./types";
import { chance, type DeadLetterMessage, type Destination } from "./lambda-types";

/** The rule's target: deliver() throws to signal that the target failed to receive the event. */
export interface EventBridgeTarget {
  /** The target's ARN, for the dead-letter attribute TARGET_ARN. */
  readonly arn?: string;
  deliver(event: unknown): void;
}

export interface RetryPolicy {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeInSeconds: number;
}

export interface EventBridgeRule {
  readonly name: string;
  readonly eventPattern: Record<string, unknown>;
  readonly target: EventBridgeTarget;
  readonly retryPolicy?: RetryPolicy;
  readonly deadLetter?: Destination;
}

export interface EventBridgeOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly region?: string;
  readonly accountId?: string;
  /** Upper bound of the random delay of a first delivery (Silent; default 3000). */
  readonly maxDeliveryDelayMs?: number;
  /** Probability that a matched event is delivered twice (Silent; default 0.1). */
  readonly duplicateProbability?: number;
}

/** An error PutRule answers for a pattern it refuses. */
export class InvalidEventPatternException extends Error {
  override readonly name = "InvalidEventPatternException";
}

// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html: "By default,
// EventBridge retries sending the event for 24 hours and up to 185 times with an exponential back
// off and jitter, or randomized delay."
const defaultRetryPolicy: RetryPolicy = {
  maximumRetryAttempts: 185,
  maximumEventAgeInSeconds: 86400,
};
const backoffBaseMs = 1000;
const backoffCapMs = 900_000;

/**
 * The ERROR_CODE values the DLQ page lists as samples ("The following is a sample of the error
 * codes a DLQ can return").
 */
const documentedErrorCodes = new Set([
  "CONNECTION_FAILURE",
  "CROSS_ACCOUNT_INGESTION_FAILED",
  "CROSS_REGION_INGESTION_FAILED",
  "ERROR_FROM_TARGET",
  "EVENTS_IN_BATCH_REQUEST_REJECTED",
  "FAILED_TO_ASSUME_ROLE",
  "INTERNAL_ERROR",
  "INVALID_JSON",
  "INVALID_PARAMETER",
  "NO_PERMISSIONS",
  "NO_RESOURCE",
  "RESOURCE_ALREADY_EXISTS",
  "RESOURCE_LIMIT_EXCEEDED",
  "RESOURCE_MODIFICATION_COLLISION",
  "RULE_NOT_FOUND",
  "SDK_CLIENT_ERROR",
  "THIRD_ACCOUNT_HOP_DETECTED",
  "THIRD_REGION_HOP_DETECTED",
  "THROTTLING",
  "TIMEOUT",
  "TRANSIENT_ASSUME_ROLE",
  "UNKNOWN",
]);

/** How the Lambda SDK names the errors of a target that EventBridge reports under a code. */
const sdkErrorCodes: Readonly<Record<string, string>> = {
  TooManyRequestsException: "THROTTLING",
  ThrottlingException: "THROTTLING",
  ResourceNotFoundException: "NO_RESOURCE",
  AccessDeniedException: "NO_PERMISSIONS",
  AccessDeniedForDependencyException: "NO_PERMISSIONS",
};

/**
 * eb-rule-dlq.html: "Some events are dropped or sent to a DLQ without any retry attempts. For
 * example, for errors that result from missing permissions to a target, or a target resource that
 * no longer exists ... Rather than retrying, EventBridge sends these events directly to the DLQ".
 * The hop-detection and malformed-input codes are as permanent (retrying cannot change them).
 */
const unretriedErrorCodes = new Set([
  "NO_PERMISSIONS",
  "NO_RESOURCE",
  "FAILED_TO_ASSUME_ROLE",
  "INVALID_JSON",
  "INVALID_PARAMETER",
  "THIRD_ACCOUNT_HOP_DETECTED",
  "THIRD_REGION_HOP_DETECTED",
]);

interface Delivery {
  readonly seq: number;
  readonly rule: EventBridgeRule;
  readonly event: Record<string, unknown>;
  /** When the event reached the bus, for the maximum event age. */
  readonly receivedAt: number;
  dueAt: number;
  /** Attempts made so far. */
  attempts: number;
  /** How the last attempt failed. */
  lastFailure: Failure;
}

export class EventBridgeModel implements TimedModel {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly region: string;
  private readonly accountId: string;
  private readonly maxDeliveryDelayMs: number;
  private readonly duplicateProbability: number;
  private readonly rules = new Map<string, EventBridgeRule>();
  private deliveries: Delivery[] = [];
  private nextSeq = 0;

  constructor(options: EventBridgeOptions) {
    this.clock = options.clock;
    this.rng = options.rng;
    this.region = options.region ?? "us-east-1";
    this.accountId = options.accountId ?? "123456789012";
    this.maxDeliveryDelayMs = options.maxDeliveryDelayMs ?? 3000;
    this.duplicateProbability = options.duplicateProbability ?? 0.1;
  }

  /** A rule on the default bus (PutRule + PutTargets): a rule of the same name is replaced. */
  putRule(rule: EventBridgeRule): void {
    validatePattern(rule.eventPattern, "");
    if (rule.retryPolicy !== undefined) validateRetryPolicy(rule.retryPolicy);
    this.rules.set(rule.name, rule);
  }

  /** An event on the bus (what S3 sends): each matching rule's target gets it. */
  putEvent(event: Record<string, unknown>): void {
    const now = this.clock.now();
    for (const rule of this.rules.values()) {
      if (!this.matches(rule.eventPattern, event)) continue;
      this.schedule(rule, event, now);
      // eb-troubleshooting.html: "In rare cases, the same rule can be triggered more than once for
      // a single event or scheduled time, or the same target can be invoked more than once for a
      // given triggered rule."
      if (chance(this.rng, this.duplicateProbability)) this.schedule(rule, event, now);
    }
  }

  matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
    return matches(pattern, event);
  }

  /** Deliveries not yet made nor given up (in flight, or waiting for a retry). */
  pendingDeliveries(): number {
    return this.deliveries.length;
  }

  nextDue(): number | undefined {
    let due: number | undefined;
    for (const delivery of this.deliveries) {
      if (due === undefined || delivery.dueAt < due) due = delivery.dueAt;
    }
    return due;
  }

  runDue(): void {
    const now = this.clock.now();
    const due = this.deliveries
      .filter((delivery) => delivery.dueAt <= now)
      .sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    this.deliveries = this.deliveries.filter((delivery) => delivery.dueAt > now);
    for (const delivery of due) this.attempt(delivery, now);
  }

  private schedule(rule: EventBridgeRule, event: Record<string, unknown>, now: number): void {
    this.deliveries.push({
      seq: this.nextSeq++,
      rule,
      // Each delivery hands the target its own copy, as a separate HTTP request would.
      event: structuredClone(event),
      receivedAt: now,
      dueAt: now + this.rng() * this.maxDeliveryDelayMs,
      attempts: 0,
      lastFailure: { code: "UNKNOWN", message: "" },
    });
  }

  private attempt(delivery: Delivery, now: number): void {
    const policy = delivery.rule.retryPolicy ?? defaultRetryPolicy;
    // API_RetryPolicy.html: "Retry attempts continue until either the maximum number of attempts
    // is made or until the duration of the MaximumEventAgeInSeconds is met."
    if (
      delivery.attempts > 0 &&
      now - delivery.receivedAt >= policy.maximumEventAgeInSeconds * 1000
    ) {
      this.deadLetter(delivery, delivery.lastFailure, "MaximumEventAgeInSeconds");
      return;
    }
    delivery.attempts += 1;
    try {
      delivery.rule.target.deliver(structuredClone(delivery.event));
    } catch (error) {
      this.failed(delivery, classify(error), policy, now);
    }
  }

  private failed(delivery: Delivery, failure: Failure, policy: RetryPolicy, now: number): void {
    delivery.lastFailure = failure;
    if (unretriedErrorCodes.has(failure.code)) {
      this.deadLetter(delivery, failure, undefined);
      return;
    }
    const retries = delivery.attempts - 1;
    if (retries >= policy.maximumRetryAttempts) {
      this.deadLetter(delivery, failure, "MaximumRetryAttempts");
      return;
    }
    const ceiling = Math.min(backoffCapMs, backoffBaseMs * 2 ** retries);
    delivery.dueAt = now + this.rng() * ceiling;
    this.deliveries.push(delivery);
  }

  private deadLetter(
    delivery: Delivery,
    failure: Failure,
    exhausted: "MaximumRetryAttempts" | "MaximumEventAgeInSeconds" | undefined,
  ): void {
    const dlq = delivery.rule.deadLetter;
    // eb-rule-dlq.html: "If an event isn't delivered after all retry attempts are exhausted, the
    // event is dropped" (without a DLQ).
    if (dlq === undefined) return;
    // eb-rule-dlq.html: "Each message in your DLQ will include the following custom attributes:
    // RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS".
    const attributes: Record<string, string> = {
      RULE_ARN: `arn:aws:events:${this.region}:${this.accountId}:rule/${delivery.rule.name}`,
      TARGET_ARN:
        delivery.rule.target.arn ??
        `arn:aws:lambda:${this.region}:${this.accountId}:function:target`,
      ERROR_CODE: failure.code,
      ERROR_MESSAGE: failure.message,
      RETRY_ATTEMPTS: String(Math.max(0, delivery.attempts - 1)),
    };
    if (exhausted !== undefined) attributes.EXHAUSTED_RETRY_CONDITION = exhausted;
    const message: DeadLetterMessage = {
      MessageBody: JSON.stringify(delivery.event),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [
          name,
          { DataType: "String" as const, StringValue: value },
        ]),
      ),
    };
    dlq.send(message);
  }
}

/** How a target failed to receive an event, as the DLQ attributes report it. */
interface Failure {
  readonly code: string;
  readonly message: string;
}

/** The DLQ error code of what deliver() threw (see the header's Silent choice). */
function classify(error: unknown): Failure {
  if (!(error instanceof Error)) {
    return { code: "THROTTLING", message: typeof error === "string" ? error : "Unknown error" };
  }
  const code = documentedErrorCodes.has(error.name)
    ? error.name
    : (sdkErrorCodes[error.name] ?? "THROTTLING");
  return { code, message: error.message };
}

/** API_RetryPolicy.html: MaximumEventAgeInSeconds "Valid Range: Minimum value of 60. Maximum
 * value of 86400"; MaximumRetryAttempts "Minimum value of 0. Maximum value of 185". */
function validateRetryPolicy(policy: RetryPolicy): void {
  const { maximumRetryAttempts: attempts, maximumEventAgeInSeconds: age } = policy;
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > 185) {
    throw new RangeError(`MaximumRetryAttempts must be 0-185, not ${attempts}`);
  }
  if (!Number.isInteger(age) || age < 60 || age > 86400) {
    throw new RangeError(`MaximumEventAgeInSeconds must be 60-86400, not ${age}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pattern matching
// ---------------------------------------------------------------------------------------------

type Leaf = string | number | boolean | null;

const operatorKeys = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "wildcard",
  "anything-but",
  "numeric",
  "exists",
  "cidr",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isLeaf(value: unknown): value is Leaf {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean"
  );
}

/**
 * Does the event match the pattern? Exported pure, as EventBridge's TestEventPattern.
 *
 * eb-create-pattern.html: "For an event pattern to match an event, the event must contain all the
 * field names listed in the event pattern. The field names must also appear in the event with the
 * same nesting structure." and "EventBridge ignores the fields in the event that aren't included
 * in the event pattern."
 */
export function matches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return matchObject(pattern, event);
}

/**
 * A `$or` list: eb-create-pattern-operators.html (Or) "Location is "New York", or Day is
 * "Monday"": `"$or": [ { "Location": [ "New York" ] }, { "Day": [ "Monday" ] } ]`. As Event Ruler
 * reads it, `$or` is the operator only for an array of two or more objects that name no operator;
 * anything else is a field named "$or".
 */
function isOrList(value: unknown): value is Record<string, unknown>[] {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    value.every(
      (branch) => isRecord(branch) && Object.keys(branch).every((k) => !operatorKeys.has(k)),
    )
  );
}

interface Field {
  readonly present: boolean;
  readonly value?: unknown;
}

function fieldOf(container: unknown, key: string): Field {
  return isRecord(container) && Object.hasOwn(container, key)
    ? { present: true, value: container[key] }
    : { present: false };
}

function matchObject(pattern: Record<string, unknown>, container: unknown): boolean {
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === "$or" && isOrList(sub)) {
      if (!sub.some((branch) => matchObject(branch, container))) return false;
      continue;
    }
    const field = fieldOf(container, key);
    const ok = Array.isArray(sub)
      ? matchLeafList(sub, field)
      : isRecord(sub) && matchNested(sub, field);
    if (!ok) return false;
  }
  return true;
}

/** The objects of an event array, arrays of arrays flattened. */
function objectsIn(values: readonly unknown[]): Record<string, unknown>[] {
  return values.flatMap((value) =>
    Array.isArray(value) ? objectsIn(value) : isRecord(value) ? [value] : [],
  );
}

/**
 * A nested pattern object. For an event array of objects the pattern must match within one
 * element: as Event Ruler documents, it "will refuse to recognize any match in which any two
 * fields are within JSON objects that are in different elements of the same array".
 */
function matchNested(sub: Record<string, unknown>, field: Field): boolean {
  if (field.present && Array.isArray(field.value)) {
    const elements = objectsIn(field.value);
    return elements.length > 0
      ? elements.some((element) => matchObject(sub, element))
      : matchObject(sub, undefined);
  }
  return matchObject(sub, field.present ? field.value : undefined);
}

/**
 * The leaf values of a field: none when it is missing or an object (content-filtering page:
 * "Exists matching only works on leaf nodes. It does not work on intermediate nodes", and the
 * example with `"c-count": { "c1": 100 }` matches `exists: false`); each scalar of an array.
 */
function leafValues(field: Field): Leaf[] {
  if (!field.present) return [];
  const flatten = (value: unknown): Leaf[] =>
    Array.isArray(value) ? value.flatMap(flatten) : isLeaf(value) ? [value] : [];
  return flatten(field.value);
}

/**
 * eb-event-patterns-arrays.html: "An event pattern matches the event if any of the values in the
 * array match the value in the event. If the value in the event is an array, then the event
 * pattern matches if the intersection of the event pattern array and the event array is
 * non-empty."
 */
function matchLeafList(matchers: readonly unknown[], field: Field): boolean {
  const values = leafValues(field);
  return matchers.some((matcher) => matchOne(matcher, values));
}

function matchOne(matcher: unknown, values: readonly Leaf[]): boolean {
  if (!isRecord(matcher)) {
    // eb-create-pattern.html: "For strings, EventBridge uses exact character-by-character matching
    // without case-folding or any other string normalization." Null and "" are distinct
    // (eb-event-patterns-null-values.html: "Null values and empty strings are not
    // interchangeable in pattern matching").
    return values.some((value) => value === matcher);
  }
  if (Object.hasOwn(matcher, "exists")) {
    // Content filtering: "Exists matching works on the presence or absence of a field in the JSON
    // of the event." A missing field matches `exists: false` only.
    return matcher.exists === values.length > 0;
  }
  // Every other operator needs the field: a missing field has no value to compare (so
  // `anything-but` does not match a missing field, while it does match a null one).
  return values.some((value) => matchOperator(matcher, value));
}

function lower(text: string): string {
  return text.toLowerCase();
}

/** `"x"` or `{ "equals-ignore-case": "x" }`, as prefix and suffix take them. */
function textOperand(operand: unknown): { text: string; ignoreCase: boolean } {
  if (typeof operand === "string") return { text: operand, ignoreCase: false };
  const folded = isRecord(operand) ? operand["equals-ignore-case"] : undefined;
  return { text: typeof folded === "string" ? folded : "", ignoreCase: true };
}

function startsWith(value: Leaf, operand: unknown): boolean {
  if (typeof value !== "string") return false;
  const { text, ignoreCase } = textOperand(operand);
  return ignoreCase ? lower(value).startsWith(lower(text)) : value.startsWith(text);
}

function endsWith(value: Leaf, operand: unknown): boolean {
  if (typeof value !== "string") return false;
  const { text, ignoreCase } = textOperand(operand);
  return ignoreCase ? lower(value).endsWith(lower(text)) : value.endsWith(text);
}

function equalsIgnoreCase(value: Leaf, operand: unknown): boolean {
  if (typeof value !== "string") return false;
  const texts = Array.isArray(operand) ? operand : [operand];
  return texts.some((text) => typeof text === "string" && lower(text) === lower(value));
}

function matchOperator(matcher: Record<string, unknown>, value: Leaf): boolean {
  const [name, operand] = Object.entries(matcher)[0] ?? ["", undefined];
  switch (name) {
    // Operators page: "Begins with ... "Region": [ {"prefix": "us-" } ]" and "Begins with
    // (ignore case) ... {"prefix": { "equals-ignore-case": "eventb" }}"; prefix matching "for
    // string values".
    case "prefix":
      return startsWith(value, operand);
    // "Ends with ... "FileName": [ { "suffix": ".png" } ]" and its ignore-case form.
    case "suffix":
      return endsWith(value, operand);
    // "Equals (ignore case) ... "Name": [ { "equals-ignore-case": "alice" } ]".
    case "equals-ignore-case":
      return equalsIgnoreCase(value, operand);
    // "Wildcard ... Any file with a .png extension, located within the folder "dir"".
    case "wildcard":
      return typeof value === "string" && wildcardMatches(String(operand), value);
    // Content filtering: "Numeric matching works with values that are JSON numbers".
    case "numeric":
      return typeof value === "number" && Array.isArray(operand) && numericMatches(operand, value);
    case "cidr":
      return typeof value === "string" && cidrMatches(String(operand), value);
    // Content filtering: "Anything-but matching matches anything except what's provided in the
    // rule."
    case "anything-but":
      return !excluded(operand, value);
    default:
      return false;
  }
}

/** Is the value among what anything-but excludes? */
function excluded(operand: unknown, value: Leaf): boolean {
  if (Array.isArray(operand)) return operand.some((item) => item === value);
  if (!isRecord(operand)) return operand === value;
  const [name, inner] = Object.entries(operand)[0] ?? ["", undefined];
  const many = (test: (one: unknown) => boolean): boolean =>
    Array.isArray(inner) ? inner.some(test) : test(inner);
  switch (name) {
    // "Anything-but (begins with) ... "Region": [ { "anything-but": {"prefix": "us-" } } ]".
    case "prefix":
      return many((one) => startsWith(value, one));
    // "Anything-but (ends with) ... { "anything-but": { "suffix": ".png" } }".
    case "suffix":
      return many((one) => endsWith(value, one));
    // "Anything-but (ignore case) ... { "anything-but": { "equals-ignore-case": "initializing" }}".
    case "equals-ignore-case":
      return equalsIgnoreCase(value, inner);
    // "Anything-but using a wildcard ... { "anything-but": { "wildcard": "*/lib/*" }}".
    case "wildcard":
      return many((one) => typeof value === "string" && wildcardMatches(String(one), value));
    default:
      return false;
  }
}

/**
 * `*` matches any run of characters (zero or more); `\*` is a literal asterisk and `\\` a
 * backslash (Event Ruler: "To match the asterisk character specifically, a wildcard character can
 * be escaped with a backslash").
 */
function wildcardMatches(pattern: string, value: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern.charAt(i);
    if (char === "\\") {
      i += 1;
      source += escapeRegExp(pattern.charAt(i));
    } else {
      source += char === "*" ? "[\\s\\S]*" : escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`).test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** `[">", 0, "<=", 5]`: every comparison holds. */
function numericMatches(operand: readonly unknown[], value: number): boolean {
  for (let i = 0; i + 1 < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    if (typeof bound !== "number") return false;
    const holds =
      op === "<"
        ? value < bound
        : op === "<="
          ? value <= bound
          : op === "="
            ? value === bound
            : op === ">"
              ? value > bound
              : op === ">=" && value >= bound;
    if (!holds) return false;
  }
  return true;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && Number(part) <= 255)) {
    return undefined;
  }
  return parts.reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** Content filtering: "IP address matching ... "sourceIPAddress": [ { "cidr": "10.0.0.0/24" } ]". */
function cidrMatches(cidr: string, value: string): boolean {
  const [network = "", bitsText = ""] = cidr.split("/");
  const base = parseIpv4(network);
  const address = parseIpv4(value);
  const bits = Number(bitsText);
  if (base === undefined || address === undefined) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(base / size);
}

// ---------------------------------------------------------------------------------------------
// Pattern validation (what PutRule refuses)
// ---------------------------------------------------------------------------------------------

function invalid(path: string, reason: string): never {
  throw new InvalidEventPatternException(
    `Event pattern is not valid. Reason: ${reason} at ${path === "" ? "the pattern" : path}`,
  );
}

function validatePattern(pattern: unknown, path: string): void {
  if (!isRecord(pattern)) invalid(path, "a pattern must be a JSON object");
  for (const [key, sub] of Object.entries(pattern)) {
    const at = path === "" ? key : `${path}.${key}`;
    if (key === "$or" && isOrList(sub)) {
      sub.forEach((branch, index) => {
        validatePattern(branch, `${at}[${index}]`);
      });
    } else if (Array.isArray(sub)) {
      // Every value to match is given in an array (eb-create-pattern.html: "the value to match is
      // in a JSON array").
      if (sub.length === 0) invalid(at, "an empty array matches nothing");
      sub.forEach((matcher) => {
        validateMatcher(matcher, at);
      });
    } else if (isRecord(sub)) {
      validatePattern(sub, at);
    } else {
      invalid(at, "match values must be inside an array");
    }
  }
}

function validateMatcher(matcher: unknown, at: string): void {
  if (isLeaf(matcher)) return;
  if (!isRecord(matcher)) invalid(at, "a match value must be a JSON value or an operator");
  const entries = Object.entries(matcher);
  const [name, operand] = entries[0] ?? ["", undefined];
  if (entries.length !== 1 || !operatorKeys.has(name)) invalid(at, `unknown operator ${name}`);
  const ok = operandIsValid(name, operand);
  if (!ok) invalid(at, `invalid operand for ${name}`);
}

function isTextOperand(operand: unknown): boolean {
  return (
    typeof operand === "string" ||
    (isRecord(operand) &&
      Object.keys(operand).length === 1 &&
      typeof operand["equals-ignore-case"] === "string")
  );
}

function isValidWildcard(pattern: unknown): boolean {
  // Event Ruler: "consecutive wildcard characters are not allowed" and "A backslash escaping any
  // character other than asterisk or backslash is not allowed".
  return typeof pattern === "string" && !pattern.includes("**") && !/\\(?![*\\])/.test(pattern);
}

function isAnythingButOperand(operand: unknown): boolean {
  if (typeof operand === "string" || typeof operand === "number") return true;
  if (Array.isArray(operand)) {
    // Content filtering: anything-but takes "lists that contain only strings, or only numbers".
    return (
      operand.length > 0 &&
      (operand.every((item) => typeof item === "string") ||
        operand.every((item) => typeof item === "number"))
    );
  }
  if (!isRecord(operand) || Object.keys(operand).length !== 1) return false;
  const [name, inner] = Object.entries(operand)[0] ?? ["", undefined];
  const strings = (value: unknown): boolean =>
    typeof value === "string" ||
    (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string"));
  if (name === "wildcard") {
    return Array.isArray(inner) ? inner.every(isValidWildcard) : isValidWildcard(inner);
  }
  return ["prefix", "suffix", "equals-ignore-case"].includes(name) && strings(inner);
}

function isNumericOperand(operand: unknown): boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) return false;
  const ops = ["<", "<=", "=", ">", ">="];
  for (let i = 0; i < operand.length; i += 2) {
    const bound: unknown = operand[i + 1];
    if (!ops.includes(String(operand[i])) || typeof bound !== "number" || !Number.isFinite(bound)) {
      return false;
    }
  }
  return (
    operand.length === 2 ||
    (String(operand[0]).startsWith(">") && String(operand[2]).startsWith("<"))
  );
}

function operandIsValid(name: string, operand: unknown): boolean {
  switch (name) {
    case "prefix":
    case "suffix":
      return isTextOperand(operand);
    case "equals-ignore-case":
      return typeof operand === "string";
    case "wildcard":
      return isValidWildcard(operand);
    case "anything-but":
      return isAnythingButOperand(operand);
    case "numeric":
      return isNumericOperand(operand);
    case "exists":
      return typeof operand === "boolean";
    case "cidr": {
      const [network = "", bits = ""] = String(operand).split("/");
      return (
        typeof operand === "string" &&
        parseIpv4(network) !== undefined &&
        /^\d{1,2}$/.test(bits) &&
        Number(bits) <= 32
      );
    }
    default:
      return false;
  }
}
