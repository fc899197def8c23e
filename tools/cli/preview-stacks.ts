/**
 * `npm run --silent preview-stacks [-- --project-dir <dir>]`: prints the PR preview's stacks as
 * the `key=value` lines GitHub Actions reads from `$GITHUB_OUTPUT`: `stacks`, `targets` and
 * `replicating`, each a JSON list of `{ stack, region, roleVariable }` (tools/offline/preview-stacks.ts).
 * `--help` prints the usage. Exit codes: 0 listed, 1 the stack files cannot be laid out (every
 * problem on stderr), 2 bad arguments.
 */
import * as path from "node:path";
import { runMain, tokenProblems } from "../common/cli-args";
import { defaultProjectDir } from "../offline";
import { githubOutputLines, previewStacks, PreviewStacksError } from "../offline/preview-stacks";

const USAGE =
  "usage: npm run --silent preview-stacks -- [--project-dir <dir>]\n" +
  "  --project-dir <dir>  the Pulumi project (default: this repository)";

function main(): Promise<number> {
  const { values, problems } = tokenProblems(process.argv.slice(2), {
    "project-dir": { type: "string" },
  });
  if (problems.length > 0) {
    console.error(`${problems.join("; ")}\n${USAGE}`);
    return Promise.resolve(2);
  }
  const dir = values["project-dir"];
  const projectDir = typeof dir === "string" ? path.resolve(dir) : defaultProjectDir;
  try {
    process.stdout.write(githubOutputLines(previewStacks(projectDir)));
    return Promise.resolve(0);
  } catch (error: unknown) {
    if (error instanceof PreviewStacksError) {
      console.error("Cannot lay out the stacks for the preview:");
      for (const problem of error.problems) console.error(`  - ${problem}`);
      return Promise.resolve(1);
    }
    throw error;
  }
}

void runMain(main, USAGE);
