/**
 * Runs the offline plan (tools/offline) inside jest: the program is loaded in an isolated module
 * registry, so each stack runs the real index.ts afresh. The three stacks are planned once per
 * test file, prod with the dev and staging outputs as its stack references.
 */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { planStack, type PlanOptions, type StackPlan } from "../../tools/offline";
import type { ChildPlanRequest, ChildPlanResult } from "./pulumi-plan-child";
import { TSX_NODE_ARGS } from "./run-script";
import { sharedPlan } from "./shared-plans";

const execFileAsync = promisify(execFile);

/** Loads a module in a fresh jest module registry and returns its exports. */
export function isolatedLoad(file: string): unknown {
  let exported: unknown;
  jest.isolateModules(() => {
    exported = jest.requireActual<Record<string, unknown>>(file);
  });
  return exported;
}

/** `planStack` for jest. */
export function planInJest(stack: string, options: PlanOptions = {}): Promise<StackPlan> {
  return planStack(stack, { ...options, load: isolatedLoad });
}

export interface AllStacks {
  readonly dev: StackPlan;
  readonly staging: StackPlan;
  readonly prod: StackPlan;
}

/**
 * The plans of dev, staging and prod as the stack files give them (prod reading the others'
 * outputs), planned once per run by the global setup.
 */
export function planAllStacks(): Promise<AllStacks> {
  return Promise.resolve({
    dev: sharedPlan("dev"),
    staging: sharedPlan("staging"),
    prod: sharedPlan("prod"),
  });
}

/** Plans stacks in one tsx child process (see pulumi-plan-child.ts); resolves to its results. */
export async function planInChild(
  requests: readonly ChildPlanRequest[],
): Promise<ChildPlanResult[]> {
  const root = path.resolve(__dirname, "..", "..");
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      process.execPath,
      [...TSX_NODE_ARGS, path.join(__dirname, "pulumi-plan-child.ts"), JSON.stringify(requests)],
      { cwd: root, maxBuffer: 16 * 1024 * 1024 },
    ));
  } catch (error: unknown) {
    // After a program that failed late, the Pulumi runtime's exit hook reports the promises the
    // failure left pending and sets exit code 1: the results are printed all the same.
    const printed = (error as { stdout?: unknown }).stdout;
    if (typeof printed !== "string" || !printed.trim().endsWith("]")) throw error;
    stdout = printed;
  }
  const last = stdout.trim().split("\n").pop() ?? "[]";
  return JSON.parse(last) as ChildPlanResult[];
}
