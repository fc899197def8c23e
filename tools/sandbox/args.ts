/** Command line of `npm start` (tools/cli/sandbox.ts): `[--keep] [--seed <integer>]`. */

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
  const problems: string[] = [];
  let keep = false;
  let seed = 1;
  const seen = new Set<string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    const [name, inline] = arg.startsWith("--")
      ? (arg.split(/=(.*)/s) as [string, string?])
      : [arg];
    if (name === "--keep" || name === "--seed") {
      if (seen.has(name)) problems.push(`${name} given more than once`);
      seen.add(name);
    }
    if (name === "--keep") {
      if (inline !== undefined) problems.push(`--keep takes no value: "${arg}"`);
      keep = true;
    } else if (name === "--seed") {
      const value = inline ?? argv[++index];
      if (value === undefined || value.startsWith("--")) {
        problems.push("--seed needs a value");
        if (value !== undefined) index--;
      } else if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        problems.push(`--seed must be a non-negative integer: "${value}"`);
      } else {
        seed = Number(value);
      }
    } else {
      problems.push(`unknown argument: "${arg}"`);
    }
  }
  if (problems.length > 0) {
    throw new SandboxUsageError(`${problems.join("\n")}\n${SANDBOX_USAGE}`);
  }
  return { keep, seed };
}
