/**
 * The benchmark's pure parts: its command line, the summary statistics, pairwise comparisons and
 * the Markdown report. (The measurements themselves run in `npm run bench`, not in the tests.)
 */
import { BENCH_PARTS, MIN_RUNS, parseBenchArgs } from "../../tools/bench/args";
import { formatNumber, renderMarkdown, type BenchResults } from "../../tools/bench/report";
import { pairwiseDifferences, pairwiseRatios, summarize } from "../../tools/bench/stats";

describe("parseBenchArgs", () => {
  it("defaults to every part and the minimum runs; takes --runs and --only in both forms", () => {
    expect(parseBenchArgs([])).toEqual({ runs: MIN_RUNS, parts: [...BENCH_PARTS] });
    expect(parseBenchArgs(["--runs", "7", "--only=bytes,plan"])).toEqual({
      runs: 7,
      parts: ["bytes", "plan"],
    });
    expect(parseBenchArgs(["--only", "test"])).toEqual({ runs: MIN_RUNS, parts: ["test"] });
  });

  it("names every problem at once, then the usage", () => {
    expect(() =>
      parseBenchArgs(["--runs", "0", "--only", "speed,bytes", "--fast", "extra"]),
    ).toThrow(
      /^unknown option "--fast"\nunexpected argument "extra"\n--runs must be a positive integer: "0"\n--only names unknown parts: "speed" \(parts: throughput, bytes, resync, masking, bundle, plan, test\)\nUsage: npm run bench/,
    );
    expect(() => parseBenchArgs(["--only", "--runs", "5"])).toThrow(
      /^--only needs a value, not the option "--runs"\nunexpected argument "5"\nUsage/,
    );
    expect(() => parseBenchArgs(["--runs", "2", "--runs"])).toThrow(
      /--runs given more than once\n--runs needs a value\nUsage/,
    );
    expect(() => parseBenchArgs(["--runs=1.5"])).toThrow(
      /--runs must be a positive integer: "1.5"/,
    );
  });
});

describe("summarize", () => {
  it("gives the median (odd and even counts), min, max and the runs", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: 3, values: [5, 1, 3] });
    expect(summarize([4, 1, 3, 10])).toMatchObject({ median: 3.5, min: 1, max: 10, runs: 4 });
    expect(() => summarize([])).toThrow(/at least one value/);
  });
});

describe("pairwise comparisons", () => {
  it("compare the measurements of one run with each other", () => {
    expect(pairwiseRatios([10, 30, 8], [5, 10, 8])).toEqual([2, 3, 1]);
    expect(pairwiseDifferences([10, 30, 8], [5, 10, 9])).toEqual([5, 20, -1]);
    // The median of the ratios is not the ratio of the medians: a slow run affects both sides.
    expect(summarize(pairwiseRatios([100, 200, 300], [90, 210, 290])).median).toBeCloseTo(
      1.0345,
      3,
    );
  });

  it("need as many values on each side", () => {
    expect(() => pairwiseRatios([1, 2], [1])).toThrow(
      /as many numerators as denominators \(2 vs 1\)/,
    );
    expect(() => pairwiseDifferences([1], [1, 2])).toThrow(
      /as many values as subtrahends \(1 vs 2\)/,
    );
  });
});

describe("renderMarkdown", () => {
  it("shows the date, the machine, each target with pass or FAIL, and each metric", () => {
    const results: BenchResults = {
      date: "2026-11-28T15:00:00.000Z",
      machine: {
        cores: 2,
        cpuModel: "CPU X",
        memoryGiB: 24,
        node: "v20.20.2",
        lambdaNode: "v24.22.3",
        platform: "linux 6",
      },
      runs: 5,
      conditions: "quiet machine",
      notes: ["a note"],
      metrics: [
        {
          part: "bytes 1 KB",
          name: "handler, on its sockets, per target",
          unit: "bytes",
          summary: summarize([3054, 3060, 3050]),
        },
      ],
      targets: [
        { name: "Throughput", target: ">= 1x", measured: "1.2x", pass: true },
        { name: "Bytes", target: "<= 4,096 bytes", measured: "4,228 bytes", pass: false },
      ],
    };

    const markdown = renderMarkdown(results);

    expect(markdown).toContain(
      "Date: 2026-11-28T15:00:00.000Z. Machine: 2 cores (CPU X), 24 GiB, linux 6, Node v20.20.2 (cold loads on the function runtime's Node v24.22.3).",
    );
    expect(markdown).toContain("| Throughput | >= 1x | 1.2x | pass |");
    expect(markdown).toContain("| Bytes | <= 4,096 bytes | 4,228 bytes | **FAIL** |");
    expect(markdown).toContain(
      "| bytes 1 KB | handler, on its sockets, per target | 3,054 | 3,050 | 3,060 | bytes |",
    );
    expect(markdown).toContain("## Notes\n\n- a note");
    expect(renderMarkdown({ ...results, notes: [] })).not.toContain("## Notes");
  });

  it("formats numbers for reading", () => {
    expect([formatNumber(134220138), formatNumber(1.2345), formatNumber(0.04567)]).toEqual([
      "134,220,138",
      "1.23",
      "0.0457",
    ]);
    expect(formatNumber(Number.NaN)).toBe("NaN");
  });
});
