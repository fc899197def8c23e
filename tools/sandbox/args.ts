/** Command line of `npm start` (tools/cli/sandbox.ts): `[--keep] [--seed <integer>]`. */
import { tokenProblems } from "../common/cli-args";

export const SANDBOX_USAGE =
  "Usage: npm start -- [--keep] [--seed <integer>]\n" +
  "  --keep         leave the emulators running after the run (Ctrl-C stops them)\n" +
  "  --seed <n>     delivery order seed (default 1)";

export class SandboxUsageError extends Error {
  override readonly name = "SandboxUsageError";
}

export interface SandboxArgs {
  readonly keep: boolean;
  readonly seed: number;
}

/** Parses the arguments; throws one `SandboxUsageError` naming every problem. */
export function parseSandboxArgs(argv: readonly string[]): SandboxArgs {
  const { values, problems } = tokenProblems(argv, {
    keep: { type: "boolean" },
    seed: { type: "string" },
  });
  let seed = 1;
  if (typeof values.seed === "string") {
    if (!/^\d+$/.test(values.seed) || !Number.isSafeInteger(Number(values.seed))) {
      problems.push(`--seed must be a non-negative integer: "${values.seed}"`);
    } else {
      seed = Number(values.seed);
    }
  }
  if (problems.length > 0) {
    throw new SandboxUsageError(`${problems.join("\n")}\n${SANDBOX_USAGE}`);
  }
  return { keep: values.keep === true, seed };
}
