/**
 * The consistency report (pure): normalises what differs between stacks by construction (the
 * environment name inside physical names, ARNs, URNs, tags and descriptions), compares the
 * resource sets (type + logical name) and every input (deep paths, JSON documents such as
 * policies parsed), and checks each difference against the documented allow-list.
 */
import * as fs from "node:fs";
import type { StackPlan } from "./";
import { errorMessage, escapeRegExp, isRecord } from "../common/guards";

/** Stands in for a stack's own environment name after normalisation. */
export const environmentToken = "{env}";

/** The input path of a difference in which stacks have a resource at all. */
export const presencePath = "@presence";

/** One allow-list entry: which differences are intended, and why. */
export interface AllowListEntry {
  /** `<type>::<logical name>` pattern; `*` matches any run of characters. */
  readonly resource: string;
  /** Input path pattern (`tags.Owner`, `policy.Statement[2]*`), or `@presence`. */
  readonly input: string;
  /** Why this difference is intended (shown in the report). */
  readonly reason: string;
}

/** Thrown once with every problem of an allow-list. */
export class AllowListError extends Error {
  override readonly name = "AllowListError";

  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid allow-list ${source}: ${problems.join("; ")}`);
  }
}

/** Validates an allow-list document `{ entries: [{ resource, input, reason }] }`. */
export function parseAllowList(document: unknown, source = "allow-list"): AllowListEntry[] {
  if (!isRecord(document) || !Array.isArray(document.entries)) {
    throw new AllowListError(source, ['must be an object with an "entries" list']);
  }
  const problems: string[] = [];
  const entries: AllowListEntry[] = [];
  document.entries.forEach((entry: unknown, index) => {
    if (!isRecord(entry)) {
      problems.push(`entries[${index}] = ${JSON.stringify(entry)} (must be an object)`);
      return;
    }
    for (const key of Object.keys(entry)) {
      if (!["resource", "input", "reason"].includes(key)) {
        problems.push(`entries[${index}].${key} (unknown key; known: resource, input, reason)`);
      }
    }
    const fields: Record<string, string> = {};
    for (const key of ["resource", "input", "reason"] as const) {
      const value = entry[key];
      if (typeof value !== "string" || value.trim() === "") {
        problems.push(
          `entries[${index}].${key} = ${value === undefined ? "undefined" : JSON.stringify(value)} (must be a non-empty string)`,
        );
      } else {
        fields[key] = value;
      }
    }
    if (fields.resource !== undefined && !fields.resource.includes("::")) {
      problems.push(
        `entries[${index}].resource = ${JSON.stringify(fields.resource)} (must be "<type>::<name>")`,
      );
    }
    const { resource, input, reason } = fields;
    if (resource !== undefined && input !== undefined && reason !== undefined) {
      entries.push({ resource, input, reason });
    }
  });
  if (problems.length > 0) throw new AllowListError(source, problems);
  return entries;
}

/** Reads and validates an allow-list file (JSON). */
export function loadAllowList(file: string): AllowListEntry[] {
  let document: unknown;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
  } catch (error: unknown) {
    throw new AllowListError(file, [errorMessage(error)]);
  }
  return parseAllowList(document, file);
}

/** Matches `text` against a pattern in which `*` matches any run of characters. */
export function globMatch(pattern: string, text: string): boolean {
  const source = pattern.split("*").map(escapeRegExp).join(".*");
  return new RegExp(`^${source}$`).test(text);
}

/** Replaces `environment` where it stands as a word (not inside `production` or `devices`). */
export function normaliseString(text: string, environment: string): string {
  const word = new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(environment)}(?![A-Za-z0-9])`, "g");
  return text.replace(word, environmentToken);
}

function parseJsonDocument(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

function childPath(parent: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
  return segment.startsWith("[") || parent === "" ? `${parent}${segment}` : `${parent}.${segment}`;
}

/**
 * Flattens a value into leaf paths (`tags.Environment`, `rules[0].status`); strings that hold
 * JSON objects or lists (policies, event patterns) are parsed and flattened too. Strings and keys
 * are normalised for `environment`; empty objects and lists are leaves.
 */
export function flattenInputs(value: unknown, environment: string): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  const visit = (current: unknown, at: string): void => {
    if (typeof current === "string") {
      const parsed = parseJsonDocument(current);
      if (parsed !== undefined) {
        visit(parsed, at);
      } else {
        leaves.set(at, normaliseString(current, environment));
      }
    } else if (Array.isArray(current)) {
      if (current.length === 0) leaves.set(at, []);
      current.forEach((item, index) => {
        visit(item, `${at}[${index}]`);
      });
    } else if (isRecord(current)) {
      const entries = Object.entries(current);
      if (entries.length === 0) leaves.set(at, {});
      for (const [key, item] of entries) {
        visit(item, childPath(at, normaliseString(key, environment)));
      }
    } else {
      leaves.set(at, current);
    }
  };
  visit(value, "");
  return leaves;
}

/** A resource of one stack, normalised. */
export interface NormalisedResource {
  /** `<type>::<logical name>`, the logical name normalised. */
  readonly key: string;
  readonly type: string;
  readonly name: string;
  readonly inputs: Map<string, unknown>;
}

/** A stack's resources keyed by `<type>::<logical name>`. */
export interface NormalisedStack {
  readonly stack: string;
  readonly environment: string;
  readonly resources: Map<string, NormalisedResource>;
}

/** The environment a plan is for: its `environment` output, else the stack name. */
export function planEnvironment(plan: StackPlan): string {
  const environment = plan.outputs.environment;
  return typeof environment === "string" && environment !== "" ? environment : plan.stack;
}

/** Stands in for the random suffix Pulumi appends to auto-named resources (`name-1a2b3c4`). */
export const autoNameToken = "{auto}";

/** Stands in for generated uuids (KMS key ids, event source mapping ids). */
export const uuidToken = "{uuid}";

const uuidPattern =
  /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/g;

/**
 * Replaces what differs per stack by construction in generated names: Pulumi's auto-name suffix
 * after any of `logicalNames` (`pipeline-dlq-84895b9` -> `pipeline-dlq-{auto}`) and uuids.
 */
export function normaliseGenerated(text: string, logicalNames: readonly string[]): string {
  let result = text.replace(uuidPattern, uuidToken);
  for (const name of logicalNames) {
    const suffixed = new RegExp(
      `(?<![A-Za-z0-9-])${escapeRegExp(name)}-[0-9a-f]{7}(?![A-Za-z0-9])`,
      "g",
    );
    result = result.replace(suffixed, `${name}-${autoNameToken}`);
  }
  return result;
}

/** Stands in for a stack's own account id after normalisation. */
export const accountToken = "{account}";

/** Stands in for a stack's own region after normalisation. */
export const regionToken = "{region}";

/**
 * Replaces the stack's own account id and region where they stand alone (in names, ARNs, URLs):
 * with one account per environment, or environments in several regions, they differ between
 * stacks by construction, as the environment name does. Another account's id (a grant's
 * principal) is left as it is, and so is a region inside an IAM ARN.
 */
export function normaliseAccountAndRegion(
  text: string,
  accountId: string | undefined,
  region: string | undefined,
): string {
  let result = text;
  if (accountId !== undefined && accountId !== "") {
    result = result.replace(
      new RegExp(`(?<!\\d)${escapeRegExp(accountId)}(?!\\d)`, "g"),
      accountToken,
    );
  }
  // IAM is global: an IAM ARN has no region, so a region in it is part of a name (the replicating
  // stack's role, named in a target's grants) and stays.
  if (region !== undefined && region !== "" && !/^arn:[^:]+:iam::/.test(text)) {
    result = result.replace(
      new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(region)}(?![A-Za-z0-9])`, "g"),
      regionToken,
    );
  }
  return result;
}

function outputString(plan: StackPlan, key: string): string | undefined {
  const value = plan.outputs[key];
  return typeof value === "string" ? value : undefined;
}

/**
 * Normalises a plan: the environment (and stack) name inside names and inputs becomes `{env}`,
 * its own account id (output `accountId`) `{account}`, its region (output `region`) `{region}`,
 * auto-name suffixes `{auto}`, generated uuids `{uuid}`.
 */
export function normalisePlan(plan: StackPlan): NormalisedStack {
  const environment = planEnvironment(plan);
  const accountId = outputString(plan, "accountId");
  const region = outputString(plan, "region");
  // Longest first, so `pipeline-dlq-policy` is not read as `pipeline-dlq` + suffix.
  const logicalNames = [...new Set(plan.resources.map((r) => r.name))].sort(
    (a, b) => b.length - a.length,
  );
  const normalise = (text: string): string =>
    normaliseGenerated(
      normaliseAccountAndRegion(
        normaliseString(normaliseString(text, environment), plan.stack),
        accountId,
        region,
      ),
      logicalNames,
    );
  const resources = new Map<string, NormalisedResource>();
  for (const resource of plan.resources) {
    const name = normalise(resource.name);
    const key = `${resource.type}::${name}`;
    const inputs = new Map(
      [...flattenInputs(resource.inputs, environment)].map(([k, v]) => [
        normalise(k),
        typeof v === "string" ? normalise(v) : v,
      ]),
    );
    resources.set(key, { key, type: resource.type, name, inputs });
  }
  return { stack: plan.stack, environment, resources };
}

/** One difference between the stacks. */
export interface Difference {
  /** `<type>::<logical name>` (normalised). */
  readonly resource: string;
  /** Deep input path, or `@presence` when not every stack has the resource. */
  readonly input: string;
  /** The (normalised) value per stack; `undefined` when absent. */
  readonly values: Readonly<Record<string, unknown>>;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares normalised stacks: a resource missing from some stack is one `@presence` difference;
 * among the stacks that have a resource, every input path whose values differ (or that some lack)
 * is one difference.
 */
export function compareStacks(stacks: readonly NormalisedStack[]): Difference[] {
  const keys: string[] = [];
  for (const stack of stacks) {
    for (const key of stack.resources.keys()) if (!keys.includes(key)) keys.push(key);
  }
  const differences: Difference[] = [];
  for (const key of keys) {
    const present = stacks.flatMap((s) => {
      const resource = s.resources.get(key);
      return resource === undefined ? [] : [{ stack: s.stack, inputs: resource.inputs }];
    });
    if (present.length < stacks.length) {
      differences.push({
        resource: key,
        input: presencePath,
        values: Object.fromEntries(stacks.map((s) => [s.stack, s.resources.has(key)])),
      });
    }
    const paths: string[] = [];
    for (const stack of present) {
      for (const p of stack.inputs.keys()) {
        if (!paths.includes(p)) paths.push(p);
      }
    }
    for (const p of paths) {
      const values = present.map((s) => s.inputs.get(p));
      const first = values[0];
      if (values.some((v) => !sameValue(v, first))) {
        differences.push({
          resource: key,
          input: p,
          values: Object.fromEntries(present.map((s, i) => [s.stack, values[i]])),
        });
      }
    }
  }
  return differences;
}

/** A difference with its verdict. */
export interface Finding extends Difference {
  readonly allowed: boolean;
  /** The allow-list's reason when allowed. */
  readonly reason: string | undefined;
}

/** The report over all stacks. */
export interface ConsistencyReport {
  readonly stacks: readonly string[];
  readonly findings: readonly Finding[];
  /** Allow-list entries that matched no difference (stale; worth removing). */
  readonly unusedEntries: readonly AllowListEntry[];
  /** True when every difference is allow-listed. */
  readonly ok: boolean;
}

/** Checks each difference against the allow-list (first matching entry wins). */
export function checkDifferences(
  stacks: readonly string[],
  differences: readonly Difference[],
  allowList: readonly AllowListEntry[],
): ConsistencyReport {
  const used = new Set<AllowListEntry>();
  const findings = differences.map((difference): Finding => {
    const entry = allowList.find(
      (e) => globMatch(e.resource, difference.resource) && globMatch(e.input, difference.input),
    );
    if (entry !== undefined) used.add(entry);
    return { ...difference, allowed: entry !== undefined, reason: entry?.reason };
  });
  return {
    stacks,
    findings,
    unusedEntries: allowList.filter((e) => !used.has(e)),
    ok: findings.every((f) => f.allowed),
  };
}

/** Plans in, report out: normalise, compare, check. */
export function consistencyReport(
  plans: readonly StackPlan[],
  allowList: readonly AllowListEntry[],
): ConsistencyReport {
  const stacks = plans.map(normalisePlan);
  return checkDifferences(
    plans.map((p) => p.stack),
    compareStacks(stacks),
    allowList,
  );
}

const maxCell = 48;

/** One table cell for a value: `—` when absent, strings as they are, the rest as JSON. */
export function formatCell(value: unknown, input: string): string {
  if (input === presencePath) return value === true ? "present" : "—";
  if (value === undefined) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > maxCell ? `${text.slice(0, maxCell - 1)}…` : text;
}

/** The report as a table (one row per difference) with a summary line. */
export function renderReport(report: ConsistencyReport): string {
  const header = ["", "resource", "input", ...report.stacks, "reason"];
  const rows = report.findings.map((f) => [
    f.allowed ? "allowed" : "DRIFT",
    f.resource,
    f.input,
    ...report.stacks.map((s) => formatCell(f.values[s], f.input)),
    f.reason ?? "not on the allow-list",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join(" | ")
      .trimEnd();
  const drift = report.findings.filter((f) => !f.allowed).length;
  const lines: string[] = [];
  if (rows.length > 0) {
    lines.push(line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...rows.map(line));
  }
  for (const entry of report.unusedEntries) {
    lines.push(`note: allow-list entry ${entry.resource} ${entry.input} matched no difference`);
  }
  lines.push(
    `${report.stacks.join(", ")}: ${report.findings.length} difference(s), ` +
      `${report.findings.length - drift} allowed, ${drift} not allowed` +
      (report.ok ? " — consistent" : " — DRIFT"),
  );
  return lines.join("\n");
}
