/**
 * The offline commands (`npm run plan`, `npm run consistency`, `npm run --silent preview-stacks`)
 * as functions of their arguments: each parses, runs and prints through `io`, and returns its
 * exit code; `planner` plans one stack (the real runner, `planStack`, when not given). tools/cli/*.ts run them on the process's arguments; the tests run them in-process
 * (with a planner of their own) and spawn each real script once.
 */
import * as path from "node:path";
import { tokenProblems } from "../common/cli-args";
import { defaultProjectDir } from "./stack-config";
import {
  AllowListError,
  consistencyReport,
  loadAllowList,
  renderReport,
  type AllowListEntry,
} from "./consistency";
import {
  discoverStacks,
  parsePlanArgs,
  planDocument,
  PlanProblemsError,
  planStacks,
  renderTree,
  UsageError,
  type PlanArgs,
  type Planner,
} from "./plan-report";
import { githubOutputLines, previewStacks, PreviewStacksError } from "./preview-stacks";

/** Where a command prints: its standard output and error streams. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's own streams. */
export const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function printProblems(io: CommandIo, heading: string, problems: readonly string[]): void {
  io.err(`${heading}\n${problems.map((problem) => `  - ${problem}\n`).join("")}`);
}

/**
 * `npm run plan -- --stack <name> [--json] [--project-dir <dir>]`: the stack's resource tree, or
 * with `--json` the plan document alone on stdout. 0 planned, 1 the stack cannot be planned
 * (every problem on stderr), 2 bad arguments.
 */
export async function planCommand(
  argv: readonly string[],
  io: CommandIo,
  planner?: Planner,
): Promise<number> {
  let args: PlanArgs;
  try {
    args = parsePlanArgs(argv);
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n`);
    return 2;
  }
  try {
    const plans = await planStacks([args.stack], {
      projectDir: args.projectDir,
      planner,
    });
    const plan = plans[args.stack];
    if (plan === undefined) throw new Error(`no plan for stack "${args.stack}"`);
    io.out(
      args.json ? `${JSON.stringify(planDocument(plan), null, 2)}\n` : `${renderTree(plan)}\n`,
    );
    return 0;
  } catch (error: unknown) {
    if (!(error instanceof PlanProblemsError)) throw error;
    printProblems(io, `Cannot plan stack "${args.stack}":`, error.problems);
    return 1;
  }
}

export const CONSISTENCY_USAGE =
  "usage: npm run consistency -- [--allow-list <file>] [--project-dir <dir>]\n" +
  "  --allow-list <file>  intended differences (default: <project>/consistency-allow-list.json)\n" +
  "  --project-dir <dir>  the Pulumi project (default: this repository)";

/**
 * `npm run consistency [-- --allow-list <file>] [--project-dir <dir>]`: plans every stack of the
 * project and prints each difference with its verdict. 0 every difference is allowed, 1 drift or
 * a stack cannot be planned, 2 bad arguments or allow-list.
 */
export async function consistencyCommand(
  argv: readonly string[],
  io: CommandIo,
  planner?: Planner,
): Promise<number> {
  const { values, problems } = tokenProblems(argv, {
    "allow-list": { type: "string" },
    "project-dir": { type: "string" },
  });
  if (problems.length > 0) {
    io.err(`${problems.join("; ")}\n${CONSISTENCY_USAGE}\n`);
    return 2;
  }
  const dir = values["project-dir"];
  const projectDir = path.resolve(typeof dir === "string" ? dir : defaultProjectDir);
  const list = values["allow-list"];
  let entries: AllowListEntry[];
  try {
    entries = loadAllowList(
      typeof list === "string"
        ? path.resolve(list)
        : path.join(projectDir, "consistency-allow-list.json"),
    );
  } catch (error: unknown) {
    if (!(error instanceof AllowListError)) throw error;
    io.err(`${error.message}\n`);
    return 2;
  }
  try {
    const plans = await planStacks(discoverStacks(projectDir), {
      projectDir,
      planner,
    });
    const report = consistencyReport(Object.values(plans), entries);
    io.out(`${renderReport(report)}\n`);
    return report.ok ? 0 : 1;
  } catch (error: unknown) {
    if (!(error instanceof PlanProblemsError)) throw error;
    printProblems(io, "Cannot plan the stacks:", error.problems);
    return 1;
  }
}

export const PREVIEW_STACKS_USAGE =
  "usage: npm run --silent preview-stacks -- [--project-dir <dir>]\n" +
  "  --project-dir <dir>  the Pulumi project (default: this repository)";

/**
 * `npm run --silent preview-stacks [-- --project-dir <dir>]`: the PR preview's stacks as the
 * `key=value` lines GitHub Actions reads from `$GITHUB_OUTPUT`. 0 listed, 1 the stack files
 * cannot be laid out (every problem on stderr), 2 bad arguments.
 */
export function previewStacksCommand(argv: readonly string[], io: CommandIo): number {
  const { values, problems } = tokenProblems(argv, { "project-dir": { type: "string" } });
  if (problems.length > 0) {
    io.err(`${problems.join("; ")}\n${PREVIEW_STACKS_USAGE}\n`);
    return 2;
  }
  const dir = values["project-dir"];
  try {
    io.out(
      githubOutputLines(
        previewStacks(typeof dir === "string" ? path.resolve(dir) : defaultProjectDir),
      ),
    );
    return 0;
  } catch (error: unknown) {
    if (!(error instanceof PreviewStacksError)) throw error;
    printProblems(io, "Cannot lay out the stacks for the preview:", error.problems);
    return 1;
  }
}
