/**
 * Collects what a benchmark run measures: metrics (median / min / max over the runs), targets
 * and notes, logging each metric as it is recorded.
 */
import { errorMessage } from "../common/guards";
import { formatNumber, type Metric, type Target } from "./report";
import { summarize } from "./stats";
import { unmeasured } from "./targets";

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

  /**
   * Runs one part of the benchmark. A part that throws gets a failed row naming the error (its
   * stack is logged), and the run goes on with the other parts; returns whether it ran through.
   */
  async part(name: string, measure: () => Promise<void> | void): Promise<boolean> {
    try {
      await measure();
      return true;
    } catch (error: unknown) {
      this.log(error instanceof Error ? (error.stack ?? error.message) : String(error));
      this.target(
        unmeasured(
          `The ${name} part ran to its end`,
          "no error",
          errorMessage(error).slice(0, 300),
        ),
      );
      return false;
    }
  }
}
