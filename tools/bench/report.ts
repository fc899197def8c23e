/**
 * The benchmark's results document (tools/bench/results.json) and its Markdown rendering
 * (tools/bench/results.md): when and where it ran, each metric as median / min / max over the runs,
 * and each target with the measured value and pass or fail.
 */
import type { Summary } from "./stats";

export interface Machine {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  /** The machine's Node.js, which runs the bench and the in-process parts. */
  readonly node: string;
  /** The Node.js of the function's runtime, which runs the cold loads (tools/common/lambda-node.ts). */
  readonly lambdaNode: string;
  readonly platform: string;
}

/** One row of the results: a measured quantity. */
export interface Metric {
  readonly part: string;
  readonly name: string;
  readonly unit: string;
  readonly summary: Summary;
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

export interface BenchResults {
  readonly date: string;
  readonly machine: Machine;
  readonly runs: number;
  readonly conditions: string;
  readonly notes: readonly string[];
  readonly metrics: readonly Metric[];
  readonly targets: readonly Target[];
}

/** Numbers as people read them: integers grouped, fractions to three significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString("en-US");
  return Number(value.toPrecision(3)).toString();
}

export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const lines = [
    "# Benchmark results",
    "",
    `Date: ${results.date}. Machine: ${machine.cores} cores (${machine.cpuModel}), ` +
      `${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node} ` +
      `(cold loads on the function runtime's Node ${machine.lambdaNode}). ` +
      `Runs per measurement: ${results.runs} (median, min, max).`,
    "",
    `Conditions: ${results.conditions}`,
    "",
    "## Targets",
    "",
    "| Target | Wanted | Measured (median) | Result |",
    "| --- | --- | --- | --- |",
    ...results.targets.map(
      (target) =>
        `| ${target.name} | ${target.target} | ${target.measured} | ${target.pass ? "pass" : "**FAIL**"} |`,
    ),
    "",
    "## Measurements",
    "",
    "| Part | Metric | Median | Min | Max | Unit |",
    "| --- | --- | --- | --- | --- | --- |",
    ...results.metrics.map(
      (metric) =>
        `| ${metric.part} | ${metric.name} | ${formatNumber(metric.summary.median)} | ` +
        `${formatNumber(metric.summary.min)} | ${formatNumber(metric.summary.max)} | ${metric.unit} |`,
    ),
  ];
  if (results.notes.length > 0) {
    lines.push("", "## Notes", "", ...results.notes.map((note) => `- ${note}`));
  }
  return `${lines.join("\n")}\n`;
}
