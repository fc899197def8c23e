/**
 * `npm run plan -- --stack <name> [--json] [--project-dir <dir>]`: runs the real program offline
 * (Pulumi mocks, the stack's own config; prod's stack references get the offline plans' outputs
 * of the stacks it references) and prints the resource tree, or with `--json` the document
 * `{ stack, resources: [{ urn, type, name, parent, inputs }], outputs }` alone on stdout.
 * `--help` prints the usage. Exit codes: 0 planned, 1 the stack cannot be planned (every
 * problem on stderr), 2 bad arguments.
 */
import {
  parsePlanArgs,
  planDocument,
  PLAN_USAGE,
  PlanProblemsError,
  planStacks,
  renderTree,
  UsageError,
  type PlanArgs,
} from "../offline/plan-report";
import { runMain } from "../common/cli-args";

async function main(): Promise<number> {
  let args: PlanArgs;
  try {
    args = parsePlanArgs(process.argv.slice(2));
  } catch (error: unknown) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  try {
    const plans = await planStacks([args.stack], { projectDir: args.projectDir });
    const plan = plans[args.stack];
    if (plan === undefined) throw new Error(`no plan for stack "${args.stack}"`);
    process.stdout.write(
      args.json ? `${JSON.stringify(planDocument(plan), null, 2)}\n` : `${renderTree(plan)}\n`,
    );
    return 0;
  } catch (error: unknown) {
    if (error instanceof PlanProblemsError) {
      console.error(`Cannot plan stack "${args.stack}":`);
      for (const problem of error.problems) console.error(`  - ${problem}`);
      return 1;
    }
    throw error;
  }
}

void runMain(main, PLAN_USAGE);
