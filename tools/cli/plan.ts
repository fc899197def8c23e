/**
 * `npm run plan -- --stack <name> [--json] [--project-dir <dir>]`: runs the real program offline
 * (Pulumi mocks, the stack's own config; prod's stack references get the offline plans' outputs
 * of the stacks it references) and prints the resource tree, or with `--json` the document
 * `{ stack, resources: [{ urn, type, name, parent, inputs }], outputs }` alone on stdout.
 * `--help` prints the usage. Exit codes: 0 planned, 1 the stack cannot be planned (every
 * problem on stderr), 2 bad arguments. (tools/offline/commands.ts)
 */
import { runMain } from "../common/cli-args";
import { planCommand, processIo } from "../offline/commands";
import { PLAN_USAGE } from "../offline/plan-report";

void runMain(() => planCommand(process.argv.slice(2), processIo), PLAN_USAGE);
