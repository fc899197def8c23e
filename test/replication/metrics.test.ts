/** The function's metrics (lib/replication/metrics.ts): one data point per change and target. */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ReplicationTarget } from "../../lib/replication/contract";
import { createMetrics, recordResults } from "../../lib/replication/metrics";
import {
  replicationMetricDimensions,
  replicationMetricsNamespace,
} from "../../lib/replication/metric-names";
import type { TargetResult } from "../../lib/replication/outcome";
import { recorder } from "../support/metrics-recorder";
import { settings } from "../support/settings";

const [dev, staging] = settings.targets as [ReplicationTarget, ReplicationTarget];

const result = (
  target: ReplicationTarget,
  outcome: TargetResult["ok"] | "skipped" | "absent",
): TargetResult =>
  outcome === false
    ? { ok: false, target, error: { name: "E", message: "e" }, attempts: 1, retryable: true }
    : { ok: true, target, action: outcome === true ? "copied" : outcome };

describe("recordResults", () => {
  it("counts each target's result, and the latency of what was written", () => {
    const { sink, points } = recorder();
    const time = "2026-11-28T12:00:00.000Z";

    recordResults(
      sink,
      "object",
      { time },
      [result(dev, true), result(staging, false)],
      Date.parse(time) + 1500,
    );

    // One data point per metric, each with both dimensions: a single metric is written out at
    // its addMetric, so a second one would go without them.
    expect(points).toEqual([
      {
        dimensions: { TargetEnvironment: "dev", Kind: "object" },
        metrics: [["ChangesReplicated", MetricUnit.Count, 1]],
      },
      {
        dimensions: { TargetEnvironment: "dev", Kind: "object" },
        metrics: [["ReplicationLatency", MetricUnit.Milliseconds, 1500]],
      },
      {
        dimensions: { TargetEnvironment: "staging", Kind: "object" },
        metrics: [["ChangesFailed", MetricUnit.Count, 1]],
      },
    ]);
  });

  it("counts a change the target already held, or had nothing to delete for, as skipped, without latency", () => {
    const { sink, points } = recorder();

    recordResults(sink, "item", { time: "2026-11-28T12:00:00Z" }, [
      result(dev, "skipped"),
      result(staging, "absent"),
    ]);

    expect(points.map((p) => p.metrics)).toEqual([
      [["ChangesSkipped", MetricUnit.Count, 1]],
      [["ChangesSkipped", MetricUnit.Count, 1]],
    ]);
  });

  it("leaves the latency out when the change carries no time (a resync)", () => {
    const { sink, points } = recorder();

    recordResults(sink, "object", { time: undefined }, [result(dev, true)]);

    expect(points[0]?.metrics).toEqual([["ChangesReplicated", MetricUnit.Count, 1]]);
  });
});

describe("an archived source", () => {
  it("is counted as ChangesArchived, neither a failure nor a write", () => {
    const { sink, points } = recorder();

    recordResults(sink, "object", { time: "2026-11-28T12:00:00Z" }, [
      { ok: true, target: dev, action: "archived" },
    ]);

    expect(points.map((p) => p.metrics)).toEqual([[["ChangesArchived", MetricUnit.Count, 1]]]);
  });
});

describe("createMetrics", () => {
  it("writes the namespace and dimensions the alarms read", () => {
    const metrics = createMetrics("replication");
    metrics.addDimension(replicationMetricDimensions.target, "dev");
    metrics.addMetric("ChangesReplicated", MetricUnit.Count, 1);

    const emf = metrics.serializeMetrics();

    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe(replicationMetricsNamespace);
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([["service", "TargetEnvironment"]]);
    expect(emf.service).toBe("replication");
  });
});
