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

/** Which metric a target's result counts in. */
function metricOf(result: TargetResult): keyof typeof replicationMetricNames {
  if (!result.ok) return "failed";
  return result.action === "skipped" || result.action === "absent" ? "skipped" : "replicated";
}

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
    const metric = metricOf(result);
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
      recordResults(sink, "object", change, results);
      return results;
    },
    replicateItem: async (change, options) => {
      const results = await replicator.replicateItem(change, options);
      recordResults(sink, "item", change, results);
      return results;
    },
  };
}
