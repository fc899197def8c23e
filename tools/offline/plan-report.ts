/**
 * The offline plan as a tool: argument parsing of `npm run plan`, planning stacks together with
 * the stacks they reference (targets first, their outputs fed to the referencing stack as stack
 * references), every problem gathered before anything runs, and the two renderings of a plan: a
 * readable tree and the JSON document `{ stack, resources, outputs }`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tokenProblems } from "../common/cli-args";
import { ConfigValidationError, validateConfig } from "../../lib/config";
import {
  defaultProjectDir,
  loadStackConfig,
  planStack,
  type PlainRecord,
  type PlanOptions,
  type StackConfigFile,
  type StackPlan,
} from "./";
import { errorMessage } from "../common/guards";

/** Usage of `npm run plan`. */
export const PLAN_USAGE =
  "usage: npm run plan -- --stack <name> [--json] [--project-dir <dir>]\n" +
  "  --stack <name>       the stack to plan (Pulumi.<name>.yaml)\n" +
  "  --json               print the plan as JSON { stack, resources, outputs } (stdout only)\n" +
  "  --project-dir <dir>  the Pulumi project (default: this repository)";

/** Bad command line arguments (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** One or more stacks cannot be planned; `problems` lists every reason. */
export class PlanProblemsError extends Error {
  override readonly name = "PlanProblemsError";

  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

export interface PlanArgs {
  readonly stack: string;
  readonly json: boolean;
  readonly projectDir: string | undefined;
}

const PLAN_OPTIONS = {
  stack: { type: "string" },
  json: { type: "boolean" },
  "project-dir": { type: "string" },
} as const;

/** Parses `--stack <name> [--json] [--project-dir <dir>]`; throws one UsageError listing all problems. */
export function parsePlanArgs(argv: readonly string[]): PlanArgs {
  const { values, problems } = tokenProblems(argv, PLAN_OPTIONS);
  const stack = values.stack;
  if (stack === undefined) problems.push("--stack is required");
  const projectDir = values["project-dir"];
  if (problems.length > 0 || typeof stack !== "string") {
    throw new UsageError(`${problems.join("; ")}\n${PLAN_USAGE}`);
  }
  return {
    stack,
    json: values.json === true,
    projectDir: typeof projectDir === "string" ? projectDir : undefined,
  };
}

/** The stacks of a project: every `Pulumi.<stack>.yaml` next to Pulumi.yaml, sorted. */
export function discoverStacks(projectDir: string = defaultProjectDir): string[] {
  if (!fs.existsSync(projectDir)) return [];
  return fs
    .readdirSync(projectDir)
    .map((file) => /^Pulumi\.(.+)\.ya?ml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

/** Plans one stack (the default is the real runner; jest passes one that isolates modules). */
export type Planner = (stack: string, options: PlanOptions) => Promise<StackPlan>;

export interface PlanStacksOptions {
  /** Default: this repository. */
  readonly projectDir?: string | undefined;
  /** Config laid over a stack's file, by stack (`namespace:key`; undefined removes a key). */
  readonly config?: Readonly<Record<string, Readonly<Record<string, string | undefined>>>>;
  /** Default: `planStack`. */
  readonly planner?: Planner;
  /** Default: `organization`, as the runner. */
  readonly organization?: string;
}

interface LoadedStack {
  readonly file: StackConfigFile;
  readonly values: Record<string, string>;
  readonly references: string[];
}

function withOverrides(
  values: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string | undefined>> | undefined,
): Record<string, string> {
  const result: Record<string, string> = { ...values };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) {
      Reflect.deleteProperty(result, key);
    } else {
      result[key] = value;
    }
  }
  return result;
}

/** The stacks a stack references: its `replicationTargets` (invalid lists are the program's to report). */
function referencedStacks(values: Readonly<Record<string, string>>, project: string): string[] {
  const raw = values[`${project}:replicationTargets`];
  if (raw === undefined) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

/** Problems of a stack's config as the program would report them, each on its own. */
function configProblems(loaded: LoadedStack, organization: string): string[] {
  try {
    validateConfig({
      stack: loaded.file.stack,
      project: loaded.file.project.name,
      organization,
      values: loaded.values,
    });
    return [];
  } catch (error: unknown) {
    if (error instanceof ConfigValidationError) {
      const where = path.basename(loaded.file.file);
      return error.problems.map((problem) => `${where}: ${problem}`);
    }
    return [`Stack "${loaded.file.stack}": ${errorMessage(error)}`];
  }
}

/**
 * Plans `stacks` and every stack they reference, referenced stacks first (their outputs are the
 * stack references of the stacks that name them). Before anything runs, checks that every stack
 * file exists, that references form no cycle and that every config is valid; throws one
 * `PlanProblemsError` listing every problem. Returns the plans by stack name.
 */
export async function planStacks(
  stacks: readonly string[],
  options: PlanStacksOptions = {},
): Promise<Record<string, StackPlan>> {
  const projectDir = options.projectDir ?? defaultProjectDir;
  const planner = options.planner ?? planStack;
  const organization = options.organization ?? "organization";
  const problems: string[] = [];
  const loaded = new Map<string, LoadedStack | undefined>();
  const order: { stack: string; references: readonly string[] }[] = [];

  const visit = (stack: string, trail: readonly string[]): void => {
    if (trail.includes(stack)) {
      problems.push(`Stack reference cycle: ${[...trail, stack].join(" -> ")}`);
      return;
    }
    if (loaded.has(stack)) return;
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
      const known = discoverStacks(projectDir);
      const referrer = trail.at(-1);
      problems.push(
        `Unknown stack "${stack}"${referrer === undefined ? "" : ` (referenced by "${referrer}")`}: ` +
          `no ${file} (stacks: ${known.length === 0 ? "none" : known.join(", ")})`,
      );
      loaded.set(stack, undefined);
      return;
    }
    let entry: LoadedStack | undefined;
    try {
      const stackFile = loadStackConfig(stack, projectDir);
      const values = withOverrides(stackFile.values, options.config?.[stack]);
      entry = {
        file: stackFile,
        values,
        references: referencedStacks(values, stackFile.project.name),
      };
    } catch (error: unknown) {
      problems.push(errorMessage(error));
    }
    loaded.set(stack, entry);
    if (entry === undefined) return;
    problems.push(...configProblems(entry, organization));
    for (const reference of entry.references) visit(reference, [...trail, stack]);
    order.push({ stack, references: entry.references });
  };
  for (const stack of stacks) visit(stack, []);
  if (problems.length > 0) throw new PlanProblemsError(problems);

  const plans: Record<string, StackPlan> = {};
  for (const { stack, references } of order) {
    const stackOutputs: Record<string, PlainRecord> = Object.fromEntries(
      Object.entries(plans)
        .filter(([name]) => references.includes(name))
        .map(([name, plan]) => [name, plan.outputs]),
    );
    try {
      plans[stack] = await planner(stack, {
        projectDir,
        organization,
        stackOutputs,
        ...(options.config?.[stack] === undefined ? {} : { config: options.config[stack] }),
      });
    } catch (error: unknown) {
      throw new PlanProblemsError([`Stack "${stack}" failed to plan: ${errorMessage(error)}`]);
    }
  }
  return plans;
}

/** One resource of the JSON document. */
export interface PlanDocumentResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The parent's URN; null for the stack itself. */
  readonly parent: string | null;
  readonly inputs: PlainRecord;
}

/** What `npm run plan -- --json` prints. */
export interface PlanDocument {
  readonly stack: string;
  readonly resources: PlanDocumentResource[];
  readonly outputs: PlainRecord;
}

/** The JSON document of a plan: every resource with its resolved inputs, and the outputs. */
export function planDocument(plan: StackPlan): PlanDocument {
  return {
    stack: plan.stack,
    resources: plan.resources.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent ?? null,
      inputs: r.inputs,
    })),
    outputs: plan.outputs,
  };
}

/** Inputs the tree shows (when present), in this order. */
export const keyInputs = [
  "name",
  "bucket",
  "description",
  "hashKey",
  "rangeKey",
  "billingMode",
  "deletionProtectionEnabled",
  "streamEnabled",
  "versioningConfiguration",
  "runtime",
  "handler",
  "memorySize",
  "timeout",
  "retentionInDays",
  "messageRetentionSeconds",
  "eventPattern",
  "principal",
  "sourceArn",
  "startingPosition",
  "batchSize",
  "metricName",
  "threshold",
  "dashboardName",
  "protocol",
  "endpoint",
  "tags",
] as const;

const maxValueLength = 160;

/** One input value on one line: strings as they are, tags as k=v, the rest as compact JSON. */
export function formatValue(key: string, value: unknown): string {
  let text: string;
  if (key === "tags" && typeof value === "object" && value !== null && !Array.isArray(value)) {
    text = Object.entries(value)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ");
  } else if (typeof value === "string") {
    text = value;
  } else {
    text = JSON.stringify(value);
  }
  return text.length > maxValueLength ? `${text.slice(0, maxValueLength - 1)}…` : text;
}

/** The readable tree: each resource under its parent, with its key inputs; then the outputs. */
export function renderTree(plan: StackPlan): string {
  const children = new Map<string | undefined, StackPlan["resources"]>();
  const urns = new Set(plan.resources.map((r) => r.urn));
  for (const resource of plan.resources) {
    // A resource whose parent is not in the plan is shown at the top.
    const parent =
      resource.parent !== undefined && urns.has(resource.parent) ? resource.parent : undefined;
    const list = children.get(parent) ?? [];
    list.push(resource);
    children.set(parent, list);
  }
  const lines = [
    `Stack ${plan.stack} (project ${plan.project}): ${plan.resources.length} resources`,
  ];
  const walk = (parent: string | undefined, indent: string): void => {
    const list = children.get(parent) ?? [];
    list.forEach((resource, index) => {
      const last = index === list.length - 1;
      const top = parent === undefined;
      lines.push(`${indent}${top ? "" : last ? "└─ " : "├─ "}${resource.type}  ${resource.name}`);
      const inner = `${indent}${top ? "" : last ? "   " : "│  "}`;
      const hasChildren = (children.get(resource.urn) ?? []).length > 0;
      for (const key of keyInputs) {
        const value = resource.inputs[key];
        if (value !== undefined) {
          lines.push(`${inner}${hasChildren ? "│" : " "}    ${key}: ${formatValue(key, value)}`);
        }
      }
      walk(resource.urn, inner);
    });
  };
  walk(undefined, "");
  lines.push("Outputs:");
  for (const [key, value] of Object.entries(plan.outputs)) {
    lines.push(`    ${key}: ${formatValue(key, value)}`);
  }
  return lines.join("\n");
}
