/**
 * Collects what a benchmark run measures: metrics (median / min / max over the runs), targets
 * and notes, logging each metric as it is recorded.
 */
import { formatNumber, type Metric, type Target } from "./report";
import { summarize } from "./stats";

export class BenchRecorder {
  readonly metrics: Metric[] = [];
  readonly targets: Target[] = [];
  readonly notes: string[] = [];

  constructor(private readonly log: (line: string) => void) {}

  /** Records a metric; returns its median. */
  metric(part: string, name: string, unit: string, values: readonly number[]): number {
    const summary = summarize(values);
    this.metrics.push({ part, name, unit, summary });
    this.log(
      `  ${name}: median ${formatNumber(summary.median)} ${unit} (min ${formatNumber(summary.min)}, max ${formatNumber(summary.max)})`,
    );
    return summary.median;
  }

  target(target: Target): void {
    this.targets.push(target);
    this.log(
      `  target ${target.pass ? "met" : "MISSED"}: ${target.name}: ${target.measured} (wanted ${target.target})`,
    );
  }

  note(text: string): void {
    this.notes.push(text);
    this.log(`  note: ${text}`);
  }
}
