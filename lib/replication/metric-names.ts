/**
 * The names of the replication function's own CloudWatch metrics: one definition for the function
 * (Powertools Metrics, embedded metric format) and for the program's alarms and dashboard
 * (lib/alarms.ts, lib/dashboard.ts), so the two cannot drift. Constants only: no imports, nothing
 * that costs the function's cold start.
 *
 * Powertools Metrics adds its `service` dimension (POWERTOOLS_SERVICE_NAME) to every dimension set,
 * so each metric is identified by `service`, `TargetEnvironment` and `Kind`; CloudWatch matches a
 * metric only by its full dimension set, and the alarms name all three.
 */

/**
 * CloudWatch namespace of the function's metrics. A build-time constant on both sides: the
 * function passes it to Powertools Metrics (`namespace`), so no environment variable carries it.
 */
export const replicationMetricsNamespace = "DataPipeline/Replication";

/**
 * Metric names: one data point per change and target, in exactly one of the counts, from the
 * attempt that settles the change (an attempt Lambda or Batch Operations retries counts nothing:
 * lib/replication/README.md, "Metrics").
 */
export const replicationMetricNames = {
  /** A change written into the target (unit Count, value 1). */
  replicated: "ChangesReplicated",
  /** A change the target already held, nothing written (unit Count, value 1). */
  skipped: "ChangesSkipped",
  /**
   * A change the function gave up on for the target: dead-lettered, or a Batch Operations task
   * answered PermanentFailure (unit Count, value 1).
   */
  failed: "ChangesFailed",
  /**
   * A change of an archived source object (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering archive
   * tier), which replicates when the object is restored (unit Count, value 1).
   */
  archived: "ChangesArchived",
  /**
   * Milliseconds from the change's time at the source (the event's `time`, the stream record's
   * `ApproximateCreationDateTime`) to the write in the target (unit Milliseconds; replicated
   * changes only).
   */
  latency: "ReplicationLatency",
} as const;

/** Units of the metrics, as CloudWatch and Powertools' `MetricUnit` spell them. */
export const replicationMetricUnits = {
  replicated: "Count",
  skipped: "Count",
  failed: "Count",
  archived: "Count",
  latency: "Milliseconds",
} as const;

/** Dimension names of every metric. */
export const replicationMetricDimensions = {
  /** Powertools' default dimension: the service name (`POWERTOOLS_SERVICE_NAME`). */
  service: "service",
  /** The target's environment name, as in the function's `TARGETS` (`dev`, `staging`). */
  target: "TargetEnvironment",
  /** What changed: one of `changeKinds`. */
  kind: "Kind",
} as const;

/** Values of the `Kind` dimension: an S3 object or a DynamoDB item. */
export const changeKinds = ["object", "item"] as const;
export type ChangeKind = (typeof changeKinds)[number];
