/**
 * The offline plans of every stack, made once per run of the suite: the jest global setup
 * (test/support/global-setup.ts) plans them in a child process, or finds them kept under the hash
 * of everything a plan depends on, and suites read them here instead of planning again.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import * as path from "node:path";
import { hashFiles } from "../../lib/bundle";
import type { StackPlan } from "../../tools/offline";
import type { LayoutStack } from "./accounts-layout";
import { TSX_NODE_ARGS } from "./run-script";

const root = path.resolve(__dirname, "..", "..");

/** The environment variable through which the global setup hands the plans' file to suites. */
export const SHARED_PLANS_VARIABLE = "DATA_PIPELINE_SHARED_PLANS";

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true })
    .flatMap((entry) => {
      const file = path.join(directory, entry.name);
      if (entry.isDirectory()) return filesUnder(file);
      return entry.name.endsWith(".ts") ? [file] : [];
    })
    .sort();
}

/**
 * What the global setup writes: the committed stacks' plans, the cross-account layout's, and
 * those of the project with a fourth environment.
 */
export interface SharedPlansFile {
  readonly committed: Readonly<Record<string, StackPlan>>;
  readonly layout: Readonly<Record<LayoutStack, StackPlan>>;
  readonly fourthEnvironment: Readonly<Record<string, StackPlan>>;
}

/**
 * The hash of what the plans depend on: the program, the offline runner, stack files, the
 * layout's definition, lockfile.
 */
export function plansSourceHash(): string {
  const stackFiles = readdirSync(root)
    .filter((name) => /^Pulumi(\..+)?\.yaml$/.test(name))
    .sort()
    .map((name) => path.join(root, name));
  return hashFiles(
    [
      path.join(root, "index.ts"),
      ...filesUnder(path.join(root, "lib")),
      ...filesUnder(path.join(root, "tools", "offline")),
      ...stackFiles,
      path.join(__dirname, "accounts-layout.ts"),
      path.join(__dirname, "fourth-environment-layout.ts"),
      path.join(__dirname, "plan-all-child.ts"),
      path.join(root, "package-lock.json"),
    ],
    root,
  );
}

/** Makes (or finds) the plans' file for the current sources; returns its path. */
export function ensureSharedPlans(
  cacheDir: string = path.join(root, "node_modules", ".cache", "offline-plans"),
): string {
  const file = path.join(cacheDir, `${plansSourceHash()}.json`);
  if (existsSync(file)) return file;
  mkdirSync(cacheDir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  execFileSync(
    process.execPath,
    [...TSX_NODE_ARGS, path.join(__dirname, "plan-all-child.ts"), partial],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  renameSync(partial, file);
  return file;
}

let loaded: SharedPlansFile | undefined;

function sharedPlansFile(): SharedPlansFile {
  if (loaded === undefined) {
    const file = process.env[SHARED_PLANS_VARIABLE] ?? ensureSharedPlans();
    loaded = JSON.parse(readFileSync(file, "utf8")) as SharedPlansFile;
  }
  return loaded;
}

/** Every committed stack's plan, as planned once for this run. */
export function sharedPlans(): Readonly<Record<string, StackPlan>> {
  return sharedPlansFile().committed;
}

/** The plans of the cross-account layout (test/support/accounts-layout.ts), planned once. */
export function sharedLayoutPlans(): Record<LayoutStack, StackPlan> {
  return { ...sharedPlansFile().layout };
}

/** One stack's shared plan. */
export function sharedPlan(stack: string): StackPlan {
  const plan = sharedPlans()[stack];
  if (plan === undefined) throw new Error(`no shared plan of stack "${stack}"`);
  return plan;
}

/**
 * The plans of the project with a fourth environment (test/support/fourth-environment-layout.ts),
 * in the order they were planned.
 */
export function sharedFourthEnvironmentPlans(): Readonly<Record<string, StackPlan>> {
  return sharedPlansFile().fourthEnvironment;
}
