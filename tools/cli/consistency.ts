/**
 * `npm run consistency [-- --allow-list <file>] [--project-dir <dir>]`: plans every stack of the
 * project offline (referenced stacks first), compares them after normalising the environment
 * names, and prints a table of every difference with its verdict. Exit codes: 0 every difference
 * is on the allow-list (consistency-allow-list.json), 1 drift or a stack cannot be planned,
 * 2 bad arguments or allow-list. `--help` prints the usage.
 */
import * as path from "node:path";
import {
  AllowListError,
  consistencyReport,
  loadAllowList,
  renderReport,
} from "../offline/consistency";
import { defaultProjectDir } from "../offline";
import { discoverStacks, PlanProblemsError, planStacks, UsageError } from "../offline/plan-report";
import { runMain, tokenProblems } from "../common/cli-args";

const USAGE =
  "usage: npm run consistency -- [--allow-list <file>] [--project-dir <dir>]\n" +
  "  --allow-list <file>  intended differences (default: <project>/consistency-allow-list.json)\n" +
  "  --project-dir <dir>  the Pulumi project (default: this repository)";

function parse(argv: readonly string[]): { allowList: string; projectDir: string } {
  const { values, problems } = tokenProblems(argv, {
    "allow-list": { type: "string" },
    "project-dir": { type: "string" },
  });
  if (problems.length > 0) throw new UsageError(`${problems.join("; ")}\n${USAGE}`);
  const projectDir = path.resolve(
    typeof values["project-dir"] === "string" ? values["project-dir"] : defaultProjectDir,
  );
  const allowList =
    typeof values["allow-list"] === "string"
      ? path.resolve(values["allow-list"])
      : path.join(projectDir, "consistency-allow-list.json");
  return { allowList, projectDir };
}

async function main(): Promise<number> {
  let options: { allowList: string; projectDir: string };
  let entries: ReturnType<typeof loadAllowList>;
  try {
    options = parse(process.argv.slice(2));
    entries = loadAllowList(options.allowList);
  } catch (error: unknown) {
    if (error instanceof UsageError || error instanceof AllowListError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  const stacks = discoverStacks(options.projectDir);
  try {
    const plans = await planStacks(stacks, { projectDir: options.projectDir });
    const report = consistencyReport(Object.values(plans), entries);
    console.log(renderReport(report));
    return report.ok ? 0 : 1;
  } catch (error: unknown) {
    if (error instanceof PlanProblemsError) {
      console.error("Cannot plan the stacks:");
      for (const problem of error.problems) console.error(`  - ${problem}`);
      return 1;
    }
    throw error;
  }
}

void runMain(main, USAGE);
