/**
 * `npm run consistency [-- --allow-list <file>] [--project-dir <dir>]`: plans every stack of the
 * project offline (referenced stacks first), compares them after normalising the environment
 * names, and prints a table of every difference with its verdict. Exit codes: 0 every difference
 * is on the allow-list (consistency-allow-list.json), 1 drift or a stack cannot be planned,
 * 2 bad arguments or allow-list. `--help` prints the usage. (tools/offline/commands.ts)
 */
import { runMain } from "../common/cli-args";
import { CONSISTENCY_USAGE, consistencyCommand, processIo } from "../offline/commands";

void runMain(() => consistencyCommand(process.argv.slice(2), processIo), CONSISTENCY_USAGE);
