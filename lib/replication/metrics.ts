/**
 * The function's own metrics, in CloudWatch's embedded metric format through Powertools Metrics
 * (log lines CloudWatch turns into metrics: no API call, no permission): per change and target,
 * one data point of `ChangesReplicated`, `ChangesSkipped` or `ChangesFailed`, and for a change
 * written, its `ReplicationLatency` from the change's time at the source to the write. Names and
 * dimensions come from metric-names.ts, which the program's alarms and dashboard read too.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ItemChange, ObjectChange } from "./events";
import {
  replicationMetricDimensions,
  replicationMetricNames,
  replicationMetricsNamespace,
  type ChangeKind,
} from "./metric-names";
import type { TargetResult } from "./outcome";
import type { Replicator } from "./replicator";

/** Where the data points go: Powertools Metrics, or a test's recorder. */
export type MetricsSink = Pick<Metrics, "singleMetric">;

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: replicationMetricsNamespace, serviceName });
}

type CountMetric = Exclude<keyof typeof replicationMetricNames, "latency">;

/**
 * Which count a target's result goes in. `willRetry`: the change is delivered again (a stream
 * record or a Batch Operations task with a retryable failure), so its failures are attempts.
 */
function metricOf(result: TargetResult, willRetry: boolean): CountMetric {
  if (!result.ok) return willRetry ? "retried" : "failed";
  switch (result.action) {
    case "skipped":
    case "absent":
      return "skipped";
    case "archived":
      return "archived";
    case "copied":
    case "put":
    case "tagged":
    case "deleted":
      return "replicated";
  }
}

/**
 * Whether the caller has the change delivered again: with `retried` set, a result with a
 * retryable failure makes the stream mapping or Batch Operations deliver it again (invocation.ts
 * decides exactly so), and only then are its failures not yet given up.
 */
export const willBeRetried = (
  results: readonly TargetResult[],
  retried: boolean | undefined,
): boolean => retried === true && results.some((result) => !result.ok && result.retryable);

/**
 * Emits one data point per target result, each with exactly the `TargetEnvironment` and `Kind`
 * dimensions (plus Powertools' `service`), as the alarms expect. `now` is when the writes ended.
 */
export function recordResults(
  sink: MetricsSink,
  kind: ChangeKind,
  change: Pick<ObjectChange | ItemChange, "time">,
  results: readonly TargetResult[],
  now: number = Date.now(),
  willRetry = false,
): void {
  const changedAt = change.time === undefined ? Number.NaN : Date.parse(change.time);
  for (const result of results) {
    // A single metric is written out at its `addMetric`: each data point gets its own, with the
    // dimensions added first (a second `addMetric` would go out without them).
    const emit = (
      name: string,
      unit: (typeof MetricUnit)[keyof typeof MetricUnit],
      value: number,
    ): void => {
      const point = sink.singleMetric();
      point.addDimension(replicationMetricDimensions.target, result.target.environment);
      point.addDimension(replicationMetricDimensions.kind, kind);
      point.addMetric(name, unit, value);
    };
    const metric = metricOf(result, willRetry);
    emit(replicationMetricNames[metric], MetricUnit.Count, 1);
    if (metric === "replicated" && !Number.isNaN(changedAt)) {
      emit(replicationMetricNames.latency, MetricUnit.Milliseconds, Math.max(0, now - changedAt));
    }
  }
}

/** The replicator, with every result counted (the function's; redrive and resync count nothing). */
export function withMetrics(replicator: Replicator, sink: MetricsSink): Replicator {
  return {
    settings: replicator.settings,
    replicateObject: async (change, options) => {
      const results = await replicator.replicateObject(change, options);
      const again = willBeRetried(results, options?.retried);
      recordResults(sink, "object", change, results, Date.now(), again);
      return results;
    },
    replicateItem: async (change, options) => {
      const results = await replicator.replicateItem(change, options);
      const again = willBeRetried(results, options?.retried);
      recordResults(sink, "item", change, results, Date.now(), again);
      return results;
    },
  };
}
