/**
 * DynamoDB attribute values for the simulation's model (tools/simulation/model/dynamodb.ts): the
 * number format (38 significant digits, the documented range), the item size as DynamoDB counts it
 * against the 400 KB limit, the ordering DynamoDB uses to compare S / N / B values, equality of any
 * two values, and the validation DynamoDB applies to the values it is given.
 *
 * Silent: (1) the size of a number: the page says "approximately (1 byte per two significant
 * digits) + (1 byte)"; the model counts ceil(digits / 2) + 1 (0 has no significant digit: 1 byte).
 * (2) Numbers are returned in a canonical decimal form (no exponent, no leading or trailing zero),
 * so "1.50" is read back as "1.5" and "1E2" as "100": DynamoDB stores numbers, not strings
 * (Unconfirmed: a client that compares the string it wrote with the string it reads is exposed).
 * (3) Set elements are kept in the order first written; DynamoDB documents no order for sets.
 */
import { DynamoDBServiceException, type AttributeValue } from "@aws-sdk/client-dynamodb";

export type Item = Record<string, AttributeValue>;

/** The 400 KB item limit: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 * "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
 * (UTF-8 length) and attribute value lengths (again binary length)." */
export const MAX_ITEM_BYTES = 400 * 1024;

/** A ValidationException as the SDK throws it: DynamoDB has no class for it, so the base
 * exception with `name` "ValidationException" (status 400, client fault). */
export function validationError(message: string): DynamoDBServiceException {
  return new DynamoDBServiceException({
    name: "ValidationException",
    $fault: "client",
    message,
    $metadata: { httpStatusCode: 400 },
  });
}

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** A number parsed into sign, significant digits and the exponent of its first digit. */
interface ParsedNumber {
  readonly negative: boolean;
  /** Significant digits, no leading or trailing zero; "" for zero. */
  readonly digits: string;
  /** The value is 0.d1d2d3... x 10^exponent. */
  readonly exponent: number;
}

const NUMBER_PATTERN = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Parses a DynamoDB number. https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 * "Numbers can have up to 38 digits of precision. Exceeding this results in an exception."
 * "Positive range: 1E-130 to 9.9999999999999999999999999999999999999E+125"; "Leading and
 * trailing zeroes are trimmed."
 */
export function parseNumber(text: string): ParsedNumber {
  const match = NUMBER_PATTERN.exec(text.trim());
  const intPart = match?.[2] ?? "";
  const fracPart = match?.[3] ?? "";
  if (match === null || (intPart === "" && fracPart === "")) {
    throw validationError("A value provided cannot be converted into a number");
  }
  const all = intPart + fracPart;
  const firstNonZero = all.search(/[1-9]/);
  if (firstNonZero < 0) return { negative: false, digits: "", exponent: 0 };
  const lastNonZero = all.length - 1 - (/[1-9]0*$/.exec(all)?.[0].length ?? 1) + 1;
  const digits = all.slice(firstNonZero, lastNonZero + 1);
  const exponent = intPart.length - firstNonZero + Number(match[4] ?? "0");
  if (digits.length > 38) {
    throw validationError("Attempting to store more than 38 significant digits in a Number");
  }
  // 0.d x 10^exponent: 9.99..E+125 has exponent 126; 1E-130 has exponent -129.
  if (exponent > 126) {
    throw validationError(
      "Number overflow. Attempting to store a number with magnitude larger than supported range",
    );
  }
  if (exponent < -129) {
    throw validationError(
      "Number underflow. Attempting to store a number with magnitude smaller than supported range",
    );
  }
  return { negative: match[1] === "-", digits, exponent };
}

/** The canonical decimal form of a number (see the header's Silent (2)). */
export function canonicalNumber(text: string): string {
  const { negative, digits, exponent } = parseNumber(text);
  if (digits === "") return "0";
  let body: string;
  if (exponent <= 0) body = `0.${"0".repeat(-exponent)}${digits}`;
  else if (exponent >= digits.length) body = digits + "0".repeat(exponent - digits.length);
  else body = `${digits.slice(0, exponent)}.${digits.slice(exponent)}`;
  return negative ? `-${body}` : body;
}

/** Numeric comparison of two DynamoDB numbers: negative, zero or positive. */
export function compareNumbers(a: string, b: string): number {
  const x = parseNumber(a);
  const y = parseNumber(b);
  const signOf = (n: ParsedNumber): number => (n.digits === "" ? 0 : n.negative ? -1 : 1);
  const sx = signOf(x);
  const sy = signOf(y);
  if (sx !== sy) return sx - sy;
  if (sx === 0) return 0;
  const magnitude =
    x.exponent !== y.exponent
      ? x.exponent - y.exponent
      : compareStrings(x.digits.padEnd(38, "0"), y.digits.padEnd(38, "0"));
  return sx * magnitude;
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 * "DynamoDB collates and compares strings using the bytes of the underlying UTF-8 string
 * encoding. For example, "a" (0x61) is greater than "A" (0x41)". */
export function compareStrings(a: string, b: string): number {
  return compareBytes(encoder.encode(a), encoder.encode(b));
}

/** Binary values compare as unsigned bytes ("DynamoDB treats each byte of the binary data as
 * unsigned when it compares binary values", same page). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export type ValueType = "S" | "N" | "B" | "SS" | "NS" | "BS" | "M" | "L" | "NULL" | "BOOL";

export function typeOf(value: AttributeValue): ValueType | undefined {
  if (value.S !== undefined) return "S";
  if (value.N !== undefined) return "N";
  if (value.B !== undefined) return "B";
  if (value.SS !== undefined) return "SS";
  if (value.NS !== undefined) return "NS";
  if (value.BS !== undefined) return "BS";
  if (value.M !== undefined) return "M";
  if (value.L !== undefined) return "L";
  if (value.NULL !== undefined) return "NULL";
  if (value.BOOL !== undefined) return "BOOL";
  return undefined;
}

/** Ordering of two scalars of the same type S, N or B; undefined when they cannot be ordered. */
export function compareScalars(a: AttributeValue, b: AttributeValue): number | undefined {
  if (a.S !== undefined && b.S !== undefined) return compareStrings(a.S, b.S);
  if (a.N !== undefined && b.N !== undefined) return compareNumbers(a.N, b.N);
  if (a.B !== undefined && b.B !== undefined) return compareBytes(a.B, b.B);
  return undefined;
}

function sameMembers<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => eq(x, y)));
}

/** Equality as the `=` comparator sees it: same type and same value (sets ignore order). */
export function valuesEqual(a: AttributeValue, b: AttributeValue): boolean {
  if (a.S !== undefined) return a.S === b.S;
  if (a.N !== undefined) return b.N !== undefined && compareNumbers(a.N, b.N) === 0;
  if (a.B !== undefined) return b.B !== undefined && compareBytes(a.B, b.B) === 0;
  if (a.BOOL !== undefined) return a.BOOL === b.BOOL;
  if (a.NULL !== undefined) return b.NULL !== undefined;
  if (a.SS !== undefined) return b.SS !== undefined && sameMembers(a.SS, b.SS, (x, y) => x === y);
  if (a.NS !== undefined) {
    return b.NS !== undefined && sameMembers(a.NS, b.NS, (x, y) => compareNumbers(x, y) === 0);
  }
  if (a.BS !== undefined) {
    return b.BS !== undefined && sameMembers(a.BS, b.BS, (x, y) => compareBytes(x, y) === 0);
  }
  if (a.L !== undefined) {
    const other = b.L;
    return (
      other?.length === a.L.length &&
      a.L.every((x, i) => {
        const y = other[i];
        return y !== undefined && valuesEqual(x, y);
      })
    );
  }
  if (a.M !== undefined) return b.M !== undefined && itemsEqual(a.M, b.M);
  return false;
}

export function itemsEqual(a: Item, b: Item): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => {
    const x = a[k];
    const y = b[k];
    return x !== undefined && y !== undefined && valuesEqual(x, y);
  });
}

function numberSize(text: string): number {
  return Math.ceil(parseNumber(text).digits.length / 2) + 1;
}

/**
 * The size of a value, as https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * counts it: "The size of a string is (number of UTF-8-encoded bytes of attribute name) + (number
 * of UTF-8-encoded bytes)"; a number "(1 byte per two significant digits) + (1 byte)"; binary "the
 * value's raw byte length"; "The size of a null attribute or a Boolean attribute is ... (1 byte)";
 * "An attribute of type List or Map requires 3 bytes of overhead, regardless of its contents";
 * and each List or Map element "also requires 1 byte of overhead". Sets: the sum of their
 * elements (Silent: the page gives no overhead for sets).
 */
export function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8Length(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8Length(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.L !== undefined) return value.L.reduce((n, v) => n + valueSize(v) + 1, 3);
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce((n, [k, v]) => n + utf8Length(k) + valueSize(v) + 1, 3);
  }
  return 0;
}

/** "The total size of an item is the sum of the lengths of its attribute names and values". */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + utf8Length(k) + valueSize(v), 0);
}

const SET_NAMES = { SS: "string set", NS: "number set", BS: "binary set" } as const;

function checkSet(kind: keyof typeof SET_NAMES, length: number, distinct: number): void {
  // The empty-set and duplicate messages as DynamoDB words them ("An string set  may not be
  // empty"; "Input collection ... contains duplicates").
  if (length === 0) {
    throw validationError(
      `One or more parameter values were invalid: An ${SET_NAMES[kind]}  may not be empty`,
    );
  }
  if (distinct !== length) {
    throw validationError(
      "One or more parameter values were invalid: Input collection contains duplicates",
    );
  }
}

/**
 * Validates a value and returns it in canonical form (numbers canonical, binary copied).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 * "All of the elements within a set must be of the same type"; "The values within a set must be
 * unique"; "DynamoDB does not support empty sets".
 */
export function canonicalValue(value: AttributeValue): AttributeValue {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: canonicalNumber(value.N) };
  if (value.B !== undefined) return { B: Uint8Array.from(value.B) };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) {
    if (!value.NULL)
      throw validationError(
        "One or more parameter values were invalid: Null attribute value types must have the value of true",
      );
    return { NULL: true };
  }
  if (value.SS !== undefined) {
    checkSet("SS", value.SS.length, new Set(value.SS).size);
    return { SS: [...value.SS] };
  }
  if (value.NS !== undefined) {
    const ns = value.NS.map(canonicalNumber);
    checkSet("NS", ns.length, new Set(ns).size);
    return { NS: ns };
  }
  if (value.BS !== undefined) {
    const bs = value.BS.map((b) => Uint8Array.from(b));
    const distinct = new Set(bs.map((b) => Buffer.from(b).toString("base64"))).size;
    checkSet("BS", bs.length, distinct);
    return { BS: bs };
  }
  if (value.L !== undefined) return { L: value.L.map(canonicalValue) };
  if (value.M !== undefined) return { M: canonicalItem(value.M) };
  throw validationError(
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
  );
}

export function canonicalItem(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) out[k] = canonicalValue(v);
  return out;
}

/** A deep copy, so that what the model hands out cannot change its state. */
export function cloneValue(value: AttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Uint8Array.from(value.B) };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Uint8Array.from(b)) };
  if (value.L !== undefined) return { L: value.L.map(cloneValue) };
  if (value.M !== undefined) return { M: cloneItem(value.M) };
  return { ...value };
}

export function cloneItem(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) out[k] = cloneValue(v);
  return out;
}
