/** `npm run simulate`'s options (tools/cli/simulate.ts). */
import { tokenProblems } from "../common/cli-args";

export const SIMULATE_USAGE =
  "usage: npm run simulate -- [--runs N] [--seed S] [--path P] [--max-operations M] [--shrink-seconds T]\n" +
  "  --runs N            runs to explore (default 100)\n" +
  "  --seed S            fast-check's seed (default: random, printed)\n" +
  "  --path P            replay the counterexample at this path of seed S (printed with a failure)\n" +
  "  --max-operations M  operations per workload, at most (default 10)\n" +
  "  --shrink-seconds T  shrinking a failure, at most (default 60; then the smallest case so far)";

const OPTIONS = {
  runs: { type: "string" },
  seed: { type: "string" },
  path: { type: "string" },
  "max-operations": { type: "string" },
  "shrink-seconds": { type: "string" },
  help: { type: "boolean" },
} as const;

/** The options, or every problem at once. */
export function parseSimulateArgs(
  argv: readonly string[],
  random: () => number = Math.random,
): {
  runs: number;
  seed: number;
  path: string | undefined;
  maxOperations: number;
  shrinkSeconds: number;
  help: boolean;
} {
  const { values, problems } = tokenProblems(argv, OPTIONS);
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (typeof raw !== "string") return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`--${name} must be an integer from ${String(min)} to ${String(max)}: "${raw}"`);
    }
    return value;
  };
  const runs = integer("runs", 100, 1, 1_000_000);
  const seed = integer("seed", Math.floor(random() * 2 ** 31), 0, 2 ** 31 - 1);
  const maxOperations = integer("max-operations", 10, 1, 100);
  const shrinkSeconds = integer("shrink-seconds", 60, 0, 86_400);
  const path = typeof values.path === "string" ? values.path : undefined;
  if (path !== undefined && !/^\d+(:\d+)*$/.test(path)) {
    problems.push(`--path must be fast-check's path, numbers separated by ":": "${path}"`);
  }
  if (path !== undefined && typeof values.seed !== "string") {
    problems.push("--path needs the --seed it was printed with");
  }
  if (problems.length > 0) throw new Error(`${problems.join("; ")}\n${SIMULATE_USAGE}`);
  return { runs, seed, path, maxOperations, shrinkSeconds, help: values.help === true };
}
