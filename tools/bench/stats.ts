/** Median, min and max of repeated measurements, and the bench's command line. */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
  readonly values: readonly number[];
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize needs at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  const at = (index: number): number => sorted[index] ?? Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? at(middle) : (at(middle - 1) + at(middle)) / 2;
  return {
    median,
    min: at(0),
    max: at(sorted.length - 1),
    runs: values.length,
    values,
  };
}

export const BENCH_PARTS = ["throughput", "bytes", "resync", "bundle", "plan", "test"] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

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

/** Parses the arguments; throws one `BenchUsageError` naming every problem. */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const problems: string[] = [];
  let runs = MIN_RUNS;
  let parts: BenchPart[] = [...BENCH_PARTS];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    const [name, inline] = arg.split(/=(.*)/s) as [string, string?];
    if (name !== "--runs" && name !== "--only") {
      problems.push(`unknown argument: "${arg}"`);
      continue;
    }
    const value = inline ?? argv[++index];
    if (value === undefined || value.startsWith("--")) {
      problems.push(`${name} needs a value`);
      if (value !== undefined) index--;
      continue;
    }
    if (name === "--runs") {
      if (!/^\d+$/.test(value) || Number(value) < 1) {
        problems.push(`--runs must be a positive integer: "${value}"`);
      } else {
        runs = Number(value);
      }
    } else {
      const wanted = value.split(",");
      const unknown = wanted.filter((part) => !(BENCH_PARTS as readonly string[]).includes(part));
      if (unknown.length > 0) {
        problems.push(
          `--only names unknown parts: ${unknown.map((part) => `"${part}"`).join(", ")} (parts: ${BENCH_PARTS.join(", ")})`,
        );
      } else {
        parts = wanted as BenchPart[];
      }
    }
  }
  if (problems.length > 0) throw new BenchUsageError(`${problems.join("\n")}\n${BENCH_USAGE}`);
  return { runs, parts };
}
