/**
 * The replicating stack's alarms: the function failing or throttled, the table stream falling
 * behind, the rule failing to deliver, dead letters that could not be stored, and per target and
 * kind (object, item) changes that fail or take longer than the latency threshold (15 minutes by
 * default, like S3 Replication Time Control). Every alarm notifies the failure topic when it
 * fires, and the failure and success topics when it recovers. Thresholds come from config
 * (`AlarmConfig`); the function's own metrics are named in lib/replication/metric-names.ts.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { replicationServiceName, type AlarmConfig } from "./config";
import {
  changeKinds,
  replicationMetricDimensions,
  replicationMetricNames,
  replicationMetricsNamespace,
  type ChangeKind,
} from "./replication/metric-names";
import {
  alarmName,
  pipelineAlarmIds,
  replicationAlarmDescriptions,
  targetAlarmIds,
} from "./resource-texts";

/** One target as the alarms see it: its stack (for names) and environment (the dimension). */
export interface AlarmTarget {
  readonly stack: string;
  readonly environment: pulumi.Input<string>;
}

export interface ReplicationAlarmsArgs {
  readonly alarms: AlarmConfig;
  /** The source environment, for descriptions. */
  readonly environment: string;
  /** The replication function's physical name: the prefix of every alarm's name. */
  readonly functionName: string;
  readonly function: aws.lambda.Function;
  readonly rule: aws.cloudwatch.EventRule;
  readonly targets: readonly AlarmTarget[];
  readonly failureTopic: aws.sns.Topic;
  readonly successTopic: aws.sns.Topic;
  readonly tags: Readonly<Record<string, string>>;
}

/** A per-target alarm on one of the function's own metrics. */
export interface TargetAlarm {
  readonly stack: string;
  readonly kind: ChangeKind;
  readonly alarm: aws.cloudwatch.MetricAlarm;
}

export interface ReplicationAlarms {
  readonly errors: aws.cloudwatch.MetricAlarm;
  readonly throttles: aws.cloudwatch.MetricAlarm;
  readonly iteratorAge: aws.cloudwatch.MetricAlarm;
  readonly destinationFailures: aws.cloudwatch.MetricAlarm;
  readonly ruleFailedInvocations: aws.cloudwatch.MetricAlarm;
  readonly ruleDeadLetterFailures: aws.cloudwatch.MetricAlarm;
  readonly latency: readonly TargetAlarm[];
  readonly failedChanges: readonly TargetAlarm[];
  /** Every alarm above, in that order. */
  readonly all: readonly aws.cloudwatch.MetricAlarm[];
}

/** What differs between the alarms; the rest (period, actions, comparison) is shared. */
interface AlarmSpec {
  /** Suffix of the logical name (`<name>-alarm-<id>`) and of the physical name. */
  readonly id: string;
  /** From lib/resource-texts.ts, which config validation checks against AWS's limits. */
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, pulumi.Input<string>>;
  readonly statistic: "Sum" | "Maximum";
  readonly threshold: number;
}

/**
 * Declares every alarm as children of `parent`. Missing data is "not breaching" for all of them,
 * each for its own reason (noted at each spec): every metric here is published only when something
 * happens (an invocation, a batch, a failure, a replicated change), so no data means nothing
 * happened, not that something is wrong. A failing pipeline is still caught: its failed attempts
 * publish errors or failed changes, and what it gives up on reaches the dead-letter queue, whose
 * alarm (lib/data-plane.ts) reads a queue metric that SQS keeps publishing while the queue holds
 * messages.
 * (TreatMissingData: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
 */
export function createReplicationAlarms(
  name: string,
  args: ReplicationAlarmsArgs,
  parent: pulumi.Resource,
): ReplicationAlarms {
  const { alarms: config, environment } = args;
  const functionDimensions = { FunctionName: args.function.name };
  const ruleDimensions = { RuleName: args.rule.name };
  const descriptions = replicationAlarmDescriptions(environment, config);

  const alarm = (spec: AlarmSpec): aws.cloudwatch.MetricAlarm =>
    new aws.cloudwatch.MetricAlarm(
      `${name}-alarm-${spec.id}`,
      {
        name: alarmName(args.functionName, spec.id),
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        statistic: spec.statistic,
        period: config.periodSeconds,
        evaluationPeriods: config.evaluationPeriods,
        threshold: spec.threshold,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [args.failureTopic.arn],
        // Recoveries go to the failure topic (whoever was paged hears it is over) and to the
        // success topic (healthy again), which no longer carries one message per change.
        okActions: [args.failureTopic.arn, args.successTopic.arn],
        tags: args.tags,
      },
      { parent },
    );

  // Lambda metrics: https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
  // Missing data: Lambda publishes Errors and Throttles only for invocation requests; none, none.
  const errors = alarm({
    id: pipelineAlarmIds.errors,
    description: descriptions.errors,
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: functionDimensions,
    statistic: "Sum",
    threshold: config.errorsThreshold,
  });
  const throttles = alarm({
    id: pipelineAlarmIds.throttles,
    description: descriptions.throttles,
    namespace: "AWS/Lambda",
    metricName: "Throttles",
    dimensions: functionDimensions,
    statistic: "Sum",
    threshold: config.throttlesThreshold,
  });
  // IteratorAge (milliseconds): "the age of the last record in the event"; "Lambda emits the
  // IteratorAge metric when your function finishes processing a batch of records"
  // (https://docs.aws.amazon.com/lambda/latest/dg/events-dynamodb-metrics.html). Missing data: no
  // batch, so no record waiting (an idle table).
  const iteratorAge = alarm({
    id: pipelineAlarmIds.iteratorAge,
    description: descriptions.iteratorAge,
    namespace: "AWS/Lambda",
    metricName: "IteratorAge",
    dimensions: functionDimensions,
    statistic: "Maximum",
    threshold: config.iteratorAgeSeconds * 1000,
  });
  // DestinationDeliveryFailures: Lambda could not write a failure record (async invocation or
  // stream batch) to the dead-letter queue, so the change is lost. Any is too many. Missing data:
  // published only when a delivery was attempted.
  const destinationFailures = alarm({
    id: pipelineAlarmIds.destinationFailures,
    description: descriptions.destinationFailures,
    namespace: "AWS/Lambda",
    metricName: "DestinationDeliveryFailures",
    dimensions: functionDimensions,
    statistic: "Sum",
    threshold: 0,
  });

  // EventBridge metrics: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html
  // Missing data: "EventBridge only sends this metric to CloudWatch if it isn't zero."
  const ruleFailedInvocations = alarm({
    id: pipelineAlarmIds.ruleFailedInvocations,
    description: descriptions.ruleFailedInvocations,
    namespace: "AWS/Events",
    metricName: "FailedInvocations",
    dimensions: ruleDimensions,
    statistic: "Sum",
    threshold: config.failedInvocationsThreshold,
  });
  // InvocationsFailedToBeSentToDlq: an event the rule gave up on could not be stored either.
  // Missing data: published only when it happens.
  const ruleDeadLetterFailures = alarm({
    id: pipelineAlarmIds.ruleDeadLetterFailures,
    description: descriptions.ruleDeadLetterFailures,
    namespace: "AWS/Events",
    metricName: "InvocationsFailedToBeSentToDlq",
    dimensions: ruleDimensions,
    statistic: "Sum",
    threshold: 0,
  });

  // The function's own metrics, per target and kind (lib/replication/metric-names.ts). Powertools
  // adds the `service` dimension to each, so the alarms name it too.
  const ownDimensions = (target: AlarmTarget, kind: ChangeKind) => ({
    [replicationMetricDimensions.service]: replicationServiceName,
    [replicationMetricDimensions.target]: target.environment,
    [replicationMetricDimensions.kind]: kind,
  });
  const perTarget = (make: (target: AlarmTarget, kind: ChangeKind) => AlarmSpec): TargetAlarm[] =>
    args.targets.flatMap((target) =>
      changeKinds.map((kind) => ({ stack: target.stack, kind, alarm: alarm(make(target, kind)) })),
    );
  // Missing data: the latency is published for each replicated change only; none, no change.
  const latency = perTarget((target, kind) => ({
    id: targetAlarmIds.latency(target.stack, kind),
    description: descriptions.latency(target.stack, kind),
    namespace: replicationMetricsNamespace,
    metricName: replicationMetricNames.latency,
    dimensions: ownDimensions(target, kind),
    statistic: "Maximum",
    threshold: config.replicationLatencySeconds * 1000,
  }));
  // Failed changes: given up by the function (dead-lettered), once per change and target; an
  // attempt Lambda retries is not counted (partial batch failures do not count as function
  // Errors either). Missing data: no change given up for this target and kind.
  const failedChanges = perTarget((target, kind) => ({
    id: targetAlarmIds.failed(target.stack, kind),
    description: descriptions.failed(target.stack, kind),
    namespace: replicationMetricsNamespace,
    metricName: replicationMetricNames.failed,
    dimensions: ownDimensions(target, kind),
    statistic: "Sum",
    threshold: config.failedChangesThreshold,
  }));

  return {
    errors,
    throttles,
    iteratorAge,
    destinationFailures,
    ruleFailedInvocations,
    ruleDeadLetterFailures,
    latency,
    failedChanges,
    all: [
      errors,
      throttles,
      iteratorAge,
      destinationFailures,
      ruleFailedInvocations,
      ruleDeadLetterFailures,
      ...latency.map((a) => a.alarm),
      ...failedChanges.map((a) => a.alarm),
    ],
  };
}
