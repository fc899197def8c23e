/** Command line of `npm run bench` (tools/cli/bench.ts): `[--runs <n>] [--only <part>,...]`. */
import { tokenProblems } from "../common/cli-args";

/** The parts of the benchmark, in the order they run. */
export const BENCH_PARTS = [
  "throughput",
  "bytes",
  "resync",
  "masking",
  "bundle",
  "plan",
  "test",
] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

/** Runs per measurement below which results are not recorded. */
export const MIN_RUNS = 5;

export const BENCH_USAGE =
  "Usage: npm run bench -- [--runs <n>] [--only <part>[,<part>...]]\n" +
  `  --runs <n>     runs per measurement (default ${MIN_RUNS}; results are only written with n >= ${MIN_RUNS})\n` +
  `  --only <part>  ${BENCH_PARTS.join(", ")} (default: all)`;

export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

export interface BenchArgs {
  readonly runs: number;
  readonly parts: readonly BenchPart[];
}

function isPart(name: string): name is BenchPart {
  return (BENCH_PARTS as readonly string[]).includes(name);
}

/** Parses the arguments; throws one `BenchUsageError` naming every problem. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const { values, problems } = tokenProblems(argv, {
    runs: { type: "string" },
    only: { type: "string" },
  });
  let runs = MIN_RUNS;
  if (typeof values.runs === "string") {
    if (!/^\d+$/.test(values.runs) || Number(values.runs) < 1) {
      problems.push(`--runs must be a positive integer: "${values.runs}"`);
    } else {
      runs = Number(values.runs);
    }
  }
  let parts: readonly BenchPart[] = BENCH_PARTS;
  if (typeof values.only === "string") {
    const wanted = values.only.split(",");
    const unknown = wanted.filter((part) => !isPart(part));
    if (unknown.length > 0) {
      problems.push(
        `--only names unknown parts: ${unknown.map((part) => `"${part}"`).join(", ")} (parts: ${BENCH_PARTS.join(", ")})`,
      );
    } else {
      parts = wanted.filter(isPart);
    }
  }
  if (problems.length > 0) throw new BenchUsageError(`${problems.join("\n")}\n${BENCH_USAGE}`);
  return { runs, parts };
}
