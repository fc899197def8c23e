/**
 * The benchmark's pure parts: its command line, the summary statistics and the Markdown table.
 * (The measurements themselves run in `npm run bench`, not in the test suite.)
 */
import { formatNumber, renderMarkdown, type BenchResults } from "../../tools/bench/report";
import { BENCH_PARTS, MIN_RUNS, parseBenchArgs, summarize } from "../../tools/bench/stats";

describe("parseBenchArgs", () => {
  it("defaults to every part and the minimum runs; takes --runs and --only in both forms", () => {
    expect(parseBenchArgs([])).toEqual({ runs: MIN_RUNS, parts: [...BENCH_PARTS] });
    expect(parseBenchArgs(["--runs", "7", "--only=bytes,plan"])).toEqual({
      runs: 7,
      parts: ["bytes", "plan"],
    });
  });

  it("names every problem at once", () => {
    expect(() =>
      parseBenchArgs(["--runs", "0", "--only", "speed,bytes", "--fast", "--runs"]),
    ).toThrow(
      /--runs must be a positive integer: "0"\n--only names unknown parts: "speed" \(parts: throughput, bytes, resync, bundle, plan, test\)\nunknown argument: "--fast"\n--runs needs a value\nUsage: npm run bench/,
    );
    expect(() => parseBenchArgs(["--only", "--runs", "5"])).toThrow(/^--only needs a value\nUsage/);
  });
});

describe("summarize", () => {
  it("gives the median (odd and even counts), min, max and the runs", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: 3, values: [5, 1, 3] });
    expect(summarize([4, 1, 3, 10])).toMatchObject({ median: 3.5, min: 1, max: 10, runs: 4 });
    expect(() => summarize([])).toThrow(/at least one value/);
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
        platform: "linux 6",
      },
      runs: 5,
      conditions: "quiet machine",
      notes: ["a note"],
      metrics: [
        {
          part: "bytes 1 KB",
          name: "handler, per target",
          unit: "bytes",
          summary: summarize([3054, 3060, 3050]),
        },
      ],
      targets: [
        { name: "Throughput", target: ">= 1x", measured: "1.2x", pass: true },
        { name: "Bytes", target: "< 2,048 bytes", measured: "3,054 bytes", pass: false },
      ],
    };

    const markdown = renderMarkdown(results);

    expect(markdown).toContain(
      "Date: 2026-11-28T15:00:00.000Z. Machine: 2 cores (CPU X), 24 GiB, linux 6, Node v20.20.2.",
    );
    expect(markdown).toContain("| Throughput | >= 1x | 1.2x | pass |");
    expect(markdown).toContain("| Bytes | < 2,048 bytes | 3,054 bytes | **FAIL** |");
    expect(markdown).toContain(
      "| bytes 1 KB | handler, per target | 3,054 | 3,050 | 3,060 | bytes |",
    );
    expect(markdown).toContain("- a note");
  });

  it("formats numbers for reading", () => {
    expect([formatNumber(134220138), formatNumber(1.2345), formatNumber(0.04567)]).toEqual([
      "134,220,138",
      "1.23",
      "0.0457",
    ]);
  });
});
