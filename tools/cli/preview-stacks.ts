/**
 * `npm run --silent preview-stacks [-- --project-dir <dir>]`: prints the PR preview's stacks as
 * the `key=value` lines GitHub Actions reads from `$GITHUB_OUTPUT`: `stacks`, `targets` and
 * `replicating`, each a JSON list of `{ stack, region, roleVariable }`
 * (tools/offline/preview-stacks.ts). `--help` prints the usage. Exit codes: 0 listed, 1 the stack
 * files cannot be laid out (every problem on stderr), 2 bad arguments. (tools/offline/commands.ts)
 */
import { runMain } from "../common/cli-args";
import { PREVIEW_STACKS_USAGE, previewStacksCommand, processIo } from "../offline/commands";

void runMain(
  () => Promise.resolve(previewStacksCommand(process.argv.slice(2), processIo)),
  PREVIEW_STACKS_USAGE,
);
