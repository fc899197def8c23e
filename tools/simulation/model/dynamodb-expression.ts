/**
 * DynamoDB expressions for the simulation's model (tools/simulation/model/dynamodb.ts): condition
 * and filter expressions, update expressions (SET, REMOVE, ADD, DELETE) and projection
 * expressions, with ExpressionAttributeNames (#n) and ExpressionAttributeValues (:v), parsed and
 * evaluated as https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 * ("Comparison operator and function reference") and
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 * describe them.
 *
 * Silent: (1) size() of a string counts UTF-8 bytes (the reference says only that it "returns a
 * number that represents an attribute's size"); of a number, Boolean or null it has no value, so
 * a comparison with it is false. (2) An unescaped reserved word (dynamodb-reserved.ts) used as
 * an attribute name is rejected with "Attribute name is a reserved keyword; reserved keyword:
 * ..." (the documented rule; the wording is DynamoDB's as commonly reported). (3) The syntax error
 * messages follow DynamoDB's "Invalid
 * ConditionExpression: Syntax error; token: ..." form without claiming its exact wording.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type Item,
  canonicalNumber,
  canonicalValue,
  cloneItem,
  cloneValue,
  compareNumbers,
  compareScalars,
  typeOf,
  utf8Length,
  validationError,
  valuesEqual,
} from "./dynamodb-values";
import { RESERVED_WORDS } from "./dynamodb-reserved";

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = "name" | "placeholder" | "value" | "int" | "punct" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

const PUNCTUATION = ["<>", "<=", ">=", "=", "<", ">", "(", ")", ",", ".", "[", "]", "+", "-"];

function tokenize(expression: string, label: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const rest = expression.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const word = /^([#:]?)([A-Za-z0-9_]+)/.exec(rest);
    if (word) {
      const kind: TokenKind =
        word[1] === "#"
          ? "placeholder"
          : word[1] === ":"
            ? "value"
            : /^\d+$/.test(word[2] ?? "")
              ? "int"
              : "name";
      tokens.push({ kind, text: word[0] });
      i += word[0].length;
      continue;
    }
    const punct = PUNCTUATION.find((p) => rest.startsWith(p));
    if (punct === undefined) {
      throw validationError(
        `Invalid ${label}: Syntax error; token: "${rest.charAt(0)}", near: "${rest.slice(0, 10)}"`,
      );
    }
    tokens.push({ kind: "punct", text: punct });
    i += punct.length;
  }
  tokens.push({ kind: "end", text: "<EOF>" });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// The expression's context: names and values, and which of them were used

export class ExpressionContext {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();

  constructor(
    private readonly names: Readonly<Record<string, string>> | undefined,
    private readonly values: Readonly<Record<string, AttributeValue>> | undefined,
  ) {}

  name(placeholder: string): string {
    const resolved = this.names?.[placeholder];
    if (resolved === undefined) {
      throw validationError(
        `Invalid expression: An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`,
      );
    }
    this.usedNames.add(placeholder);
    return resolved;
  }

  value(placeholder: string): AttributeValue {
    const resolved = this.values?.[placeholder];
    if (resolved === undefined) {
      throw validationError(
        `Invalid expression: An expression attribute value used in expression is not defined; attribute value: ${placeholder}`,
      );
    }
    this.usedValues.add(placeholder);
    return canonicalValue(resolved);
  }

  /** https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html
   * DynamoDB rejects names and values that no expression of the request uses ("Value provided
   * in ExpressionAttributeValues unused in expressions"). */
  checkAllUsed(): void {
    const unusedNames = Object.keys(this.names ?? {}).filter((n) => !this.usedNames.has(n));
    if (unusedNames.length > 0) {
      throw validationError(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(", ")}}`,
      );
    }
    const unusedValues = Object.keys(this.values ?? {}).filter((v) => !this.usedValues.has(v));
    if (unusedValues.length > 0) {
      throw validationError(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(", ")}}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Document paths

export type PathElement = string | number;
export type Path = readonly PathElement[];

class Parser {
  private position = 0;
  private readonly tokens: Token[];

  constructor(
    expression: string,
    private readonly label: string,
    private readonly context: ExpressionContext,
  ) {
    this.tokens = tokenize(expression, label);
  }

  peek(offset = 0): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)] ?? END;
  }

  next(): Token {
    const token = this.peek();
    this.position = Math.min(this.position + 1, this.tokens.length - 1);
    return token;
  }

  isKeyword(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === "name" && token.text.toUpperCase() === word;
  }

  isPunct(text: string): boolean {
    const token = this.peek();
    return token.kind === "punct" && token.text === text;
  }

  expectPunct(text: string): void {
    if (!this.isPunct(text)) this.fail();
  }

  consumePunct(text: string): void {
    this.expectPunct(text);
    this.next();
  }

  fail(): never {
    const token = this.peek();
    throw validationError(
      `Invalid ${this.label}: Syntax error; token: "${token.text}", near: "${this.near()}"`,
    );
  }

  private near(): string {
    return this.tokens
      .slice(Math.max(0, this.position - 1), this.position + 2)
      .filter((t) => t.kind !== "end")
      .map((t) => t.text)
      .join(" ");
  }

  atEnd(): boolean {
    return this.peek().kind === "end";
  }

  path(): Path {
    const elements: PathElement[] = [this.pathName()];
    for (;;) {
      if (this.isPunct(".")) {
        this.next();
        elements.push(this.pathName());
      } else if (this.isPunct("[")) {
        this.next();
        const index = this.next();
        if (index.kind !== "int") this.fail();
        elements.push(Number(index.text));
        this.consumePunct("]");
      } else {
        return elements;
      }
    }
  }

  private pathName(): string {
    const token = this.next();
    if (token.kind === "placeholder") return this.context.name(token.text);
    if (token.kind === "name") {
      if (RESERVED_WORDS.has(token.text.toUpperCase())) {
        throw validationError(
          `Invalid ${this.label}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`,
        );
      }
      return token.text;
    }
    this.position--;
    return this.fail();
  }

  valueRef(): AttributeValue {
    const token = this.next();
    if (token.kind !== "value") {
      this.position--;
      this.fail();
    }
    return this.context.value(token.text);
  }
}

const END: Token = { kind: "end", text: "<EOF>" };

export function valueAt(item: Item, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined = { M: item };
  for (const element of path) {
    if (current === undefined) return undefined;
    if (typeof element === "number") current = current.L?.[element];
    else current = current.M?.[element];
  }
  return current;
}

function pathText(path: Path): string {
  return path.map((e, i) => (typeof e === "number" ? `[${e}]` : i === 0 ? e : `.${e}`)).join("");
}

// ---------------------------------------------------------------------------------------------
// Conditions

type Operand =
  | { readonly kind: "path"; readonly path: Path }
  | { readonly kind: "value"; readonly value: AttributeValue }
  | { readonly kind: "size"; readonly path: Path };

type Comparator = "=" | "<>" | "<" | "<=" | ">" | ">=";

type Condition =
  | { readonly kind: "and" | "or"; readonly left: Condition; readonly right: Condition }
  | { readonly kind: "not"; readonly operand: Condition }
  | {
      readonly kind: "compare";
      readonly op: Comparator;
      readonly left: Operand;
      readonly right: Operand;
    }
  | {
      readonly kind: "between";
      readonly operand: Operand;
      readonly low: Operand;
      readonly high: Operand;
    }
  | { readonly kind: "in"; readonly operand: Operand; readonly list: readonly Operand[] }
  | {
      readonly kind: "function";
      readonly name: string;
      readonly path: Path;
      readonly argument?: Operand;
    };

const COMPARATORS: readonly string[] = ["=", "<>", "<", "<=", ">", ">="];

function isComparator(text: string): text is Comparator {
  return COMPARATORS.includes(text);
}
const CONDITION_FUNCTIONS = [
  "attribute_exists",
  "attribute_not_exists",
  "attribute_type",
  "begins_with",
  "contains",
];

class ConditionParser extends Parser {
  condition(): Condition {
    let left = this.conjunction();
    while (this.isKeyword("OR")) {
      this.next();
      left = { kind: "or", left, right: this.conjunction() };
    }
    return left;
  }

  private conjunction(): Condition {
    let left = this.negation();
    while (this.isKeyword("AND")) {
      this.next();
      left = { kind: "and", left, right: this.negation() };
    }
    return left;
  }

  private negation(): Condition {
    if (this.isKeyword("NOT")) {
      this.next();
      return { kind: "not", operand: this.negation() };
    }
    return this.primary();
  }

  private primary(): Condition {
    if (this.isPunct("(")) {
      this.next();
      const inner = this.condition();
      this.consumePunct(")");
      return inner;
    }
    const head = this.peek();
    const functionName = head.text.toLowerCase();
    if (
      head.kind === "name" &&
      CONDITION_FUNCTIONS.includes(functionName) &&
      this.peek(1).text === "("
    ) {
      return this.functionCall(functionName);
    }
    const operand = this.operand();
    if (this.isKeyword("BETWEEN")) {
      this.next();
      const low = this.operand();
      if (!this.isKeyword("AND")) this.fail();
      this.next();
      return { kind: "between", operand, low, high: this.operand() };
    }
    if (this.isKeyword("IN")) {
      this.next();
      this.consumePunct("(");
      const list = [this.operand()];
      while (this.isPunct(",")) {
        this.next();
        list.push(this.operand());
      }
      this.consumePunct(")");
      return { kind: "in", operand, list };
    }
    const op = this.peek();
    if (op.kind !== "punct" || !isComparator(op.text)) this.fail();
    this.next();
    return { kind: "compare", op: op.text, left: operand, right: this.operand() };
  }

  private functionCall(name: string): Condition {
    this.next();
    this.consumePunct("(");
    const path = this.path();
    let argument: Operand | undefined;
    if (name === "attribute_type" || name === "begins_with" || name === "contains") {
      this.consumePunct(",");
      argument = this.operand();
    }
    this.consumePunct(")");
    return argument === undefined
      ? { kind: "function", name, path }
      : { kind: "function", name, path, argument };
  }

  operand(): Operand {
    const token = this.peek();
    if (token.kind === "value") return { kind: "value", value: this.valueRef() };
    if (token.kind === "name" && token.text.toLowerCase() === "size" && this.peek(1).text === "(") {
      this.next();
      this.next();
      const path = this.path();
      this.consumePunct(")");
      return { kind: "size", path };
    }
    if (token.kind === "name" || token.kind === "placeholder") {
      return { kind: "path", path: this.path() };
    }
    return this.fail();
  }
}

/** A parsed condition or filter expression, evaluated against an item. */
export class ConditionExpression {
  private constructor(private readonly root: Condition) {}

  static parse(
    expression: string,
    context: ExpressionContext,
    label = "ConditionExpression",
  ): ConditionExpression {
    const parser = new ConditionParser(expression, label, context);
    const root = parser.condition();
    if (!parser.atEnd()) parser.fail();
    return new ConditionExpression(root);
  }

  /** Evaluates against an item; a missing item is an item with no attribute. */
  matches(item: Item | undefined): boolean {
    return evaluate(this.root, item ?? {});
  }
}

function resolve(operand: Operand, item: Item): AttributeValue | undefined {
  if (operand.kind === "value") return operand.value;
  const value = valueAt(item, operand.path);
  if (operand.kind === "path" || value === undefined) return value;
  return sizeOf(value);
}

/** size(path): "Returns a number that represents an attribute's size" (see Silent (1)). */
function sizeOf(value: AttributeValue): AttributeValue | undefined {
  const count =
    value.S !== undefined
      ? utf8Length(value.S)
      : (value.B?.length ??
        value.SS?.length ??
        value.NS?.length ??
        value.BS?.length ??
        value.L?.length ??
        (value.M !== undefined ? Object.keys(value.M).length : undefined));
  return count === undefined ? undefined : { N: String(count) };
}

function compare(op: Comparator, a: AttributeValue | undefined, b: AttributeValue | undefined) {
  if (a === undefined || b === undefined) return false;
  if (op === "=") return valuesEqual(a, b);
  if (op === "<>") return !valuesEqual(a, b);
  // "a < b: true if a is less than b" only for values of the same scalar type; otherwise false.
  const order = compareScalars(a, b);
  if (order === undefined) return false;
  if (op === "<") return order < 0;
  if (op === "<=") return order <= 0;
  if (op === ">") return order > 0;
  return order >= 0;
}

function evaluate(condition: Condition, item: Item): boolean {
  switch (condition.kind) {
    case "and":
      return evaluate(condition.left, item) && evaluate(condition.right, item);
    case "or":
      return evaluate(condition.left, item) || evaluate(condition.right, item);
    case "not":
      return !evaluate(condition.operand, item);
    case "compare":
      return compare(condition.op, resolve(condition.left, item), resolve(condition.right, item));
    case "between": {
      const value = resolve(condition.operand, item);
      return (
        compare(">=", value, resolve(condition.low, item)) &&
        compare("<=", value, resolve(condition.high, item))
      );
    }
    case "in": {
      const value = resolve(condition.operand, item);
      return condition.list.some((candidate) => compare("=", value, resolve(candidate, item)));
    }
    case "function":
      return evaluateFunction(condition, item);
  }
}

function evaluateFunction(
  condition: Extract<Condition, { kind: "function" }>,
  item: Item,
): boolean {
  const value = valueAt(item, condition.path);
  const argument = condition.argument === undefined ? undefined : resolve(condition.argument, item);
  switch (condition.name) {
    case "attribute_exists":
      return value !== undefined;
    case "attribute_not_exists":
      return value === undefined;
    case "attribute_type":
      return value !== undefined && argument?.S !== undefined && typeOf(value) === argument.S;
    case "begins_with":
      return beginsWith(value, argument);
    default:
      return contains(value, argument);
  }
}

function beginsWith(value: AttributeValue | undefined, prefix: AttributeValue | undefined) {
  if (value?.S !== undefined && prefix?.S !== undefined) return value.S.startsWith(prefix.S);
  if (value?.B !== undefined && prefix?.B !== undefined) {
    const p = prefix.B;
    return p.length <= value.B.length && p.every((byte, i) => value.B[i] === byte);
  }
  return false;
}

/** contains(path, operand): true if the path is a String containing the operand as a substring,
 * a set containing it as an element, or a List containing it (the reference's description,
 * paraphrased). */
function contains(value: AttributeValue | undefined, operand: AttributeValue | undefined) {
  if (value === undefined || operand === undefined) return false;
  if (value.S !== undefined) return operand.S !== undefined && value.S.includes(operand.S);
  if (value.SS !== undefined) return operand.S !== undefined && value.SS.includes(operand.S);
  if (value.NS !== undefined) {
    const n = operand.N;
    return n !== undefined && value.NS.some((x) => compareNumbers(x, n) === 0);
  }
  if (value.BS !== undefined) return value.BS.some((b) => valuesEqual({ B: b }, operand));
  if (value.L !== undefined) return value.L.some((e) => valuesEqual(e, operand));
  return false;
}

// ---------------------------------------------------------------------------------------------
// Projections

export function parseProjection(expression: string, context: ExpressionContext): Path[] {
  const parser = new Parser(expression, "ProjectionExpression", context);
  const paths = [parser.path()];
  while (parser.isPunct(",")) {
    parser.next();
    paths.push(parser.path());
  }
  if (!parser.atEnd()) parser.fail();
  return paths;
}

/** The item with only the projected attributes (nested paths keep their enclosing maps). */
export function project(item: Item, paths: readonly Path[]): Item {
  const out: Item = {};
  for (const path of paths) {
    const value = valueAt(item, path);
    if (value === undefined) continue;
    const first = path[0];
    if (path.length === 1 && typeof first === "string") out[first] = cloneValue(value);
    else setProjected(out, path, value);
  }
  return out;
}

function setProjected(out: Item, path: Path, value: AttributeValue): void {
  // A list element is projected into a list holding the projected elements, in order.
  let container: AttributeValue = { M: out };
  path.forEach((element, i) => {
    const last = i === path.length - 1;
    const nextIsIndex = typeof path[i + 1] === "number";
    const fresh = (): AttributeValue =>
      last ? cloneValue(value) : nextIsIndex ? { L: [] } : { M: {} };
    if (typeof element === "string" && container.M !== undefined) {
      container = container.M[element] ??= fresh();
    } else if (container.L !== undefined) {
      const created = fresh();
      container.L.push(created);
      container = created;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Updates

type SetValue =
  | { readonly kind: "operand"; readonly operand: Operand }
  | { readonly kind: "if_not_exists"; readonly path: Path; readonly fallback: SetValue }
  | { readonly kind: "list_append"; readonly first: SetValue; readonly second: SetValue }
  | {
      readonly kind: "arithmetic";
      readonly op: "+" | "-";
      readonly left: SetValue;
      readonly right: SetValue;
    };

type UpdateAction =
  | { readonly kind: "SET"; readonly path: Path; readonly value: SetValue }
  | { readonly kind: "REMOVE"; readonly path: Path }
  | { readonly kind: "ADD" | "DELETE"; readonly path: Path; readonly value: AttributeValue };

const CLAUSES = ["SET", "REMOVE", "ADD", "DELETE"] as const;
type Clause = (typeof CLAUSES)[number];

class UpdateParser extends Parser {
  actions(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<Clause>();
    while (!this.atEnd()) {
      const clause = CLAUSES.find((c) => this.isKeyword(c));
      if (clause === undefined) this.fail();
      if (seen.has(clause)) {
        throw validationError(
          `Invalid UpdateExpression: The "${clause}" section can only be used once in an update expression;`,
        );
      }
      seen.add(clause);
      this.next();
      actions.push(this.action(clause));
      while (this.isPunct(",")) {
        this.next();
        actions.push(this.action(clause));
      }
    }
    if (actions.length === 0) this.fail();
    return actions;
  }

  private action(clause: Clause): UpdateAction {
    const path = this.path();
    if (clause === "REMOVE") return { kind: "REMOVE", path };
    if (clause === "SET") {
      this.consumePunct("=");
      return { kind: "SET", path, value: this.setValue() };
    }
    return { kind: clause, path, value: this.valueRef() };
  }

  private setValue(): SetValue {
    const left = this.setOperand();
    if (this.isPunct("+") || this.isPunct("-")) {
      const op = this.next().text === "+" ? "+" : "-";
      return { kind: "arithmetic", op, left, right: this.setOperand() };
    }
    return left;
  }

  private setOperand(): SetValue {
    const token = this.peek();
    const name = token.text.toLowerCase();
    if (token.kind === "name" && this.peek(1).text === "(") {
      if (name === "if_not_exists") {
        this.next();
        this.next();
        const path = this.path();
        this.consumePunct(",");
        const fallback = this.setOperand();
        this.consumePunct(")");
        return { kind: "if_not_exists", path, fallback };
      }
      if (name === "list_append") {
        this.next();
        this.next();
        const first = this.setOperand();
        this.consumePunct(",");
        const second = this.setOperand();
        this.consumePunct(")");
        return { kind: "list_append", first, second };
      }
      this.fail();
    }
    if (token.kind === "value")
      return { kind: "operand", operand: { kind: "value", value: this.valueRef() } };
    if (token.kind === "name" || token.kind === "placeholder") {
      return { kind: "operand", operand: { kind: "path", path: this.path() } };
    }
    return this.fail();
  }
}

function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function updateError(message: string): Error {
  return validationError(`Invalid UpdateExpression: ${message}`);
}

/** A parsed update expression, applied to a copy of an item. */
export class UpdateExpression {
  private constructor(private readonly actions: readonly UpdateAction[]) {}

  static parse(expression: string, context: ExpressionContext): UpdateExpression {
    const parser = new UpdateParser(expression, "UpdateExpression", context);
    const actions = parser.actions();
    actions.forEach((a, i) => {
      const other = actions.slice(i + 1).find((b) => overlaps(a.path, b.path));
      if (other !== undefined) {
        throw updateError(
          `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [${pathText(a.path)}], path two: [${pathText(other.path)}]`,
        );
      }
    });
    return new UpdateExpression(actions);
  }

  /** The top-level attribute names the expression writes (to refuse key updates). */
  topLevelNames(): string[] {
    return this.actions.map((a) => String(a.path[0]));
  }

  /** Applies every action to a copy of `item`: all operands are read from the item before the
   * update (paraphrase of the update-expression page: the operands of SET refer to the item as it
   * was when the update began; Silent for ADD and DELETE, which do the same here). */
  apply(item: Item): Item {
    const before = item;
    const after = cloneItem(item);
    const removals: Path[] = [];
    for (const action of this.actions) {
      if (action.kind === "REMOVE") removals.push(action.path);
      else if (action.kind === "SET") setAt(after, action.path, evaluateSet(action.value, before));
      else if (action.kind === "ADD") addAt(after, before, action.path, action.value);
      else deleteAt(after, before, action.path, action.value);
    }
    // List elements are removed from the highest index down, so indexes refer to the old list.
    removals.sort(byLastIndexDescending).forEach((path) => {
      removeAt(after, path);
    });
    return after;
  }
}

function byLastIndexDescending(a: Path, b: Path): number {
  const x = a[a.length - 1];
  const y = b[b.length - 1];
  return typeof x === "number" && typeof y === "number" ? y - x : 0;
}

function evaluateSet(value: SetValue, item: Item): AttributeValue {
  switch (value.kind) {
    case "operand": {
      const resolved = resolve(value.operand, item);
      if (resolved === undefined) {
        throw validationError(
          "The provided expression refers to an attribute that does not exist in the item",
        );
      }
      return resolved;
    }
    case "if_not_exists":
      return valueAt(item, value.path) ?? evaluateSet(value.fallback, item);
    case "list_append": {
      const first = evaluateSet(value.first, item);
      const second = evaluateSet(value.second, item);
      if (first.L === undefined || second.L === undefined) {
        throw validationError(
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: " +
            (typeOf(first.L === undefined ? first : second) ?? "?"),
        );
      }
      return { L: [...first.L, ...second.L] };
    }
    case "arithmetic": {
      const left = evaluateSet(value.left, item);
      const right = evaluateSet(value.right, item);
      if (left.N === undefined || right.N === undefined) {
        throw validationError(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${value.op}, operand type: ${typeOf(left.N === undefined ? left : right) ?? "?"}`,
        );
      }
      return { N: addNumbers(left.N, value.op === "+" ? right.N : negate(right.N)) };
    }
  }
}

function negate(n: string): string {
  return n.startsWith("-") ? n.slice(1) : `-${n}`;
}

/** Exact decimal addition (numbers carry up to 38 digits: no floating point). */
export function addNumbers(a: string, b: string): string {
  const scale = (text: string): [bigint, number] => {
    const canonical = canonicalNumber(text);
    const [int, frac = ""] = canonical.replace("-", "").split(".");
    const magnitude = BigInt((int ?? "0") + frac);
    return [canonical.startsWith("-") ? -magnitude : magnitude, frac.length];
  };
  const [x, fx] = scale(a);
  const [y, fy] = scale(b);
  const f = Math.max(fx, fy);
  const sum = x * 10n ** BigInt(f - fx) + y * 10n ** BigInt(f - fy);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(f + 1, "0");
  const text = f === 0 ? digits : `${digits.slice(0, digits.length - f)}.${digits.slice(-f)}`;
  return canonicalNumber(negative ? `-${text}` : text);
}

function invalidPath(): Error {
  return validationError(
    "The document path provided in the update expression is invalid for update",
  );
}

/** The container and the last element of a path, creating nothing. */
function parentOf(item: Item, path: Path): { parent: AttributeValue; last: PathElement } {
  const last = path[path.length - 1];
  const parent = valueAt(item, path.slice(0, -1));
  if (last === undefined || parent === undefined) throw invalidPath();
  return { parent, last };
}

function setAt(item: Item, path: Path, value: AttributeValue): void {
  const { parent, last } = parentOf(item, path);
  if (typeof last === "string" && parent.M !== undefined) parent.M[last] = cloneValue(value);
  else if (typeof last === "number" && parent.L !== undefined) {
    // An index past the end of the list appends (paraphrase of the update-expression page: the
    // new element is added at the end of the list).
    if (last >= parent.L.length) parent.L.push(cloneValue(value));
    else parent.L[last] = cloneValue(value);
  } else throw invalidPath();
}

function removeAt(item: Item, path: Path): void {
  const last = path[path.length - 1];
  const parent = valueAt(item, path.slice(0, -1));
  if (parent === undefined || last === undefined) return;
  if (typeof last === "string" && parent.M !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- an attribute removed by name
    delete parent.M[last];
  } else if (typeof last === "number" && parent.L !== undefined && last < parent.L.length) {
    parent.L.splice(last, 1);
  }
}

/** ADD: to a number, adds; to a set, adds elements; on a missing attribute, sets it.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 * "The ADD action supports only number and set data types." */
function addAt(after: Item, before: Item, path: Path, operand: AttributeValue): void {
  const current = valueAt(before, path);
  if (current === undefined) {
    if (operand.N === undefined && !isSet(operand)) throw addTypeError("ADD", operand);
    setAt(after, path, operand);
    return;
  }
  if (current.N !== undefined && operand.N !== undefined) {
    setAt(after, path, { N: addNumbers(current.N, operand.N) });
    return;
  }
  const merged = mergeSets(current, operand, "add");
  if (merged === undefined) throw addTypeError("ADD", operand);
  setAt(after, path, merged);
}

/** DELETE: removes elements from a set ("DELETE - Removes one or more elements from a set.");
 * a set left empty is removed, since "DynamoDB does not support empty sets" (paraphrase). */
function deleteAt(after: Item, before: Item, path: Path, operand: AttributeValue): void {
  const current = valueAt(before, path);
  if (!isSet(operand)) throw addTypeError("DELETE", operand);
  if (current === undefined) return;
  const remaining = mergeSets(current, operand, "delete");
  if (remaining === undefined) throw addTypeError("DELETE", operand);
  if ((remaining.SS ?? remaining.NS ?? remaining.BS ?? []).length === 0) removeAt(after, path);
  else setAt(after, path, remaining);
}

function isSet(value: AttributeValue): boolean {
  return value.SS !== undefined || value.NS !== undefined || value.BS !== undefined;
}

function addTypeError(clause: string, operand: AttributeValue): Error {
  return updateError(
    `Incorrect operand type for operator or function; operator: ${clause}, operand type: ${typeOf(operand) ?? "?"}`,
  );
}

function mergeSets(
  current: AttributeValue,
  operand: AttributeValue,
  mode: "add" | "delete",
): AttributeValue | undefined {
  const combine = <T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): T[] =>
    mode === "add"
      ? [...a, ...b.filter((y) => !a.some((x) => eq(x, y)))]
      : a.filter((x) => !b.some((y) => eq(x, y)));
  if (current.SS !== undefined && operand.SS !== undefined) {
    return { SS: combine(current.SS, operand.SS, (x, y) => x === y) };
  }
  if (current.NS !== undefined && operand.NS !== undefined) {
    return { NS: combine(current.NS, operand.NS, (x, y) => compareNumbers(x, y) === 0) };
  }
  if (current.BS !== undefined && operand.BS !== undefined) {
    return { BS: combine(current.BS, operand.BS, (x, y) => valuesEqual({ B: x }, { B: y })) };
  }
  return undefined;
}
