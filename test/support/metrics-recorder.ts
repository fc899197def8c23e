/** A metrics sink for tests: records each data point as { dimensions, metrics }. */
import type { MetricsSink } from "../../lib/replication/metrics";

export interface RecordedPoint {
  readonly dimensions: Record<string, string>;
  readonly metrics: [string, string, number][];
}

export function recorder(): { sink: MetricsSink; points: RecordedPoint[] } {
  const points: { dimensions: Record<string, string>; metrics: [string, string, number][] }[] = [];
  const sink: MetricsSink = {
    singleMetric: () => {
      const point = {
        dimensions: {} as Record<string, string>,
        metrics: [] as [string, string, number][],
      };
      points.push(point);
      const single = {
        addDimension: (name: string, value: string) => {
          point.dimensions[name] = value;
        },
        addMetric: (name: string, unit: string, value: number) => {
          point.metrics.push([name, unit, value]);
        },
      };
      return single as unknown as ReturnType<MetricsSink["singleMetric"]>;
    },
  };
  return { sink, points };
}
