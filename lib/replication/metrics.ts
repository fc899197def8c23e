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

/** Where the data points go: Powertools Metrics, or a test's recorder. */
export type MetricsSink = Pick<Metrics, "singleMetric">;

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: replicationMetricsNamespace, serviceName });
}

type CountMetric = Exclude<keyof typeof replicationMetricNames, "latency">;

/** Which count a target's result goes in. */
function metricOf(result: TargetResult): CountMetric {
  if (!result.ok) return "failed";
  switch (result.action) {
    case "skipped":
    case "absent":
    case "excluded":
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
 * Emits one data point per target result, each with exactly the `TargetEnvironment` and `Kind`
 * dimensions (plus Powertools' `service`), as the alarms expect. `now` is when the writes ended.
 * The caller counts a change once, on the attempt that settles it (invocation.ts): a failure
 * counted here was dead-lettered (or answered PermanentFailure).
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
