/**
 * The replicating stack's CloudWatch dashboard: per target, the function's own metrics (changes
 * replicated, skipped, failed; replication latency) for objects and items; every alarm's state;
 * dead-letter queue depth; stream iterator age; the rule's deliveries; the function's invocations,
 * errors, throttles and duration. The body is built by a pure function from resolved names, so a
 * test can read exactly what the console will show.
 * Body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { replicationServiceName } from "./config";
import {
  changeKinds,
  replicationMetricDimensions,
  replicationMetricNames,
  replicationMetricsNamespace,
} from "./replication/metric-names";

/** The resolved names and numbers the body is built from. */
export interface DashboardValues {
  readonly region: string;
  /** The source environment (`prod`). */
  readonly environment: string;
  readonly functionName: string;
  readonly ruleName: string;
  readonly queueName: string;
  /** Each target's stack and environment (the `TargetEnvironment` dimension). */
  readonly targets: readonly { readonly stack: string; readonly environment: string }[];
  /** ARNs of every alarm to show. */
  readonly alarmArns: readonly string[];
  readonly latencyThresholdMs: number;
  readonly iteratorAgeThresholdMs: number;
  readonly timeoutMs: number;
}

/** `[namespace, metric, dimension name, value, ..., rendering options]`. */
type MetricLine = readonly (string | { readonly stat: string; readonly label: string })[];

interface Annotation {
  readonly label: string;
  readonly value: number;
}

export interface MetricWidget {
  readonly type: "metric";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: "timeSeries";
    readonly stacked: false;
    readonly period: number;
    readonly metrics: readonly MetricLine[];
    readonly annotations?: { readonly horizontal: readonly Annotation[] };
    readonly yAxis: { readonly left: { readonly min: 0; readonly label: string } };
  };
}

export interface AlarmWidget {
  readonly type: "alarm";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title: string;
    readonly alarms: readonly string[];
    readonly sortBy: "stateUpdatedTimestamp";
  };
}

export interface TextWidget {
  readonly type: "text";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: { readonly markdown: string };
}

export type Widget = MetricWidget | AlarmWidget | TextWidget;

export interface DashboardBody {
  readonly start: string;
  readonly periodOverride: "inherit";
  readonly widgets: readonly Widget[];
}

/** An alarm status widget shows at most this many alarms ("1-100 ARNs"). */
export const dashboardAlarmsPerWidget = 100;

/** Graph period (seconds): the finest the standard-resolution metrics allow. */
export const dashboardPeriodSeconds = 60;

/** Builds the dashboard body (pure). */
export function replicationDashboardBody(values: DashboardValues): DashboardBody {
  const { region, functionName, ruleName, queueName } = values;
  const fn = (metric: string, stat: string, label: string): MetricLine => [
    "AWS/Lambda",
    metric,
    "FunctionName",
    functionName,
    { stat, label },
  ];
  const rule = (metric: string, label: string): MetricLine => [
    "AWS/Events",
    metric,
    "RuleName",
    ruleName,
    { stat: "Sum", label },
  ];
  const own = (metric: string, target: string, kind: string, stat: string): MetricLine => [
    replicationMetricsNamespace,
    metric,
    replicationMetricDimensions.service,
    replicationServiceName,
    replicationMetricDimensions.target,
    target,
    replicationMetricDimensions.kind,
    kind,
    { stat, label: `${metric} ${kind}s` },
  ];
  const graph = (
    position: { x: number; y: number; width: number },
    title: string,
    unit: string,
    metrics: readonly MetricLine[],
    annotations?: readonly Annotation[],
  ): MetricWidget => ({
    type: "metric",
    ...position,
    height: 6,
    properties: {
      title,
      region,
      view: "timeSeries",
      stacked: false,
      period: dashboardPeriodSeconds,
      metrics,
      ...(annotations === undefined ? {} : { annotations: { horizontal: annotations } }),
      yAxis: { left: { min: 0, label: unit } },
    },
  });

  const header: TextWidget = {
    type: "text",
    x: 0,
    y: 0,
    width: 24,
    height: 2,
    properties: {
      markdown:
        `# Replication from ${values.environment}\n` +
        `Function \`${functionName}\`, rule \`${ruleName}\`, dead-letter queue \`${queueName}\`. ` +
        `What each alarm means and what to do: the README's "Operating it" section.`,
    },
  };
  const alarms: AlarmWidget[] = [];
  for (let first = 0; first < values.alarmArns.length; first += dashboardAlarmsPerWidget) {
    alarms.push({
      type: "alarm",
      x: 0,
      y: 2 + alarms.length * 4,
      width: 24,
      height: 4,
      properties: {
        title: "Alarms",
        alarms: values.alarmArns.slice(first, first + dashboardAlarmsPerWidget),
        sortBy: "stateUpdatedTimestamp",
      },
    });
  }
  const top = 2 + alarms.length * 4;

  const perTarget = values.targets.flatMap((target, index): MetricWidget[] => {
    const y = top + index * 6;
    return [
      graph(
        { x: 0, y, width: 12 },
        `Changes into ${target.stack}`,
        "Count",
        changeKinds.flatMap((kind) =>
          [
            replicationMetricNames.replicated,
            replicationMetricNames.skipped,
            replicationMetricNames.failed,
            replicationMetricNames.archived,
          ].map((metric) => own(metric, target.environment, kind, "Sum")),
        ),
      ),
      graph(
        { x: 12, y, width: 12 },
        `Replication latency into ${target.stack} (maximum)`,
        "Milliseconds",
        changeKinds.map((kind) =>
          own(replicationMetricNames.latency, target.environment, kind, "Maximum"),
        ),
        [{ label: "latency alarm", value: values.latencyThresholdMs }],
      ),
    ];
  });

  const y = top + values.targets.length * 6;
  const pipeline: MetricWidget[] = [
    graph({ x: 0, y, width: 8 }, "Dead-letter queue depth", "Messages", [
      [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        queueName,
        { stat: "Maximum", label: "dead letters" },
      ],
    ]),
    graph(
      { x: 8, y, width: 8 },
      "Table stream iterator age (maximum)",
      "Milliseconds",
      [fn("IteratorAge", "Maximum", "IteratorAge")],
      [{ label: "iterator age alarm", value: values.iteratorAgeThresholdMs }],
    ),
    graph({ x: 16, y, width: 8 }, "Object-change rule deliveries", "Count", [
      rule("Invocations", "Invocations"),
      rule("FailedInvocations", "FailedInvocations"),
      rule("InvocationsSentToDlq", "InvocationsSentToDlq"),
      rule("InvocationsFailedToBeSentToDlq", "InvocationsFailedToBeSentToDlq"),
    ]),
    graph({ x: 0, y: y + 6, width: 12 }, "Function invocations", "Count", [
      fn("Invocations", "Sum", "Invocations"),
      fn("Errors", "Sum", "Errors"),
      fn("Throttles", "Sum", "Throttles"),
      fn("DestinationDeliveryFailures", "Sum", "DestinationDeliveryFailures"),
    ]),
    graph(
      { x: 12, y: y + 6, width: 12 },
      "Function duration",
      "Milliseconds",
      [
        fn("Duration", "Average", "Duration average"),
        fn("Duration", "Maximum", "Duration maximum"),
      ],
      [{ label: "timeout", value: values.timeoutMs }],
    ),
  ];

  return {
    start: "-PT6H",
    periodOverride: "inherit",
    widgets: [header, ...alarms, ...perTarget, ...pipeline],
  };
}

/**
 * The console address of a dashboard. The console's domain depends on the partition, which the
 * region names (`cn-*`: aws-cn, `us-gov-*`: aws-us-gov).
 */
export function dashboardUrl(region: string, dashboardName: string): string {
  const domain = region.startsWith("cn-")
    ? "console.amazonaws.cn"
    : region.startsWith("us-gov-")
      ? "console.amazonaws-us-gov.com"
      : "console.aws.amazon.com";
  return `https://${region}.${domain}/cloudwatch/home?region=${region}#dashboards/dashboard/${encodeURIComponent(dashboardName)}`;
}

export interface ReplicationDashboardArgs {
  readonly region: string;
  readonly environment: string;
  /** The dashboard's physical name (`PhysicalNames.replicationDashboard`, account-global). */
  readonly dashboardName: string;
  readonly function: aws.lambda.Function;
  readonly rule: aws.cloudwatch.EventRule;
  readonly queue: aws.sqs.Queue;
  readonly targets: readonly {
    readonly stack: string;
    readonly environment: pulumi.Input<string>;
  }[];
  readonly alarms: readonly aws.cloudwatch.MetricAlarm[];
  readonly latencyThresholdMs: number;
  readonly iteratorAgeThresholdMs: number;
  readonly timeoutMs: number;
}

export interface ReplicationDashboard {
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly url: pulumi.Output<string>;
}

/** Declares the dashboard as a child of `parent`; its body names the real resources. */
export function createReplicationDashboard(
  name: string,
  args: ReplicationDashboardArgs,
  parent: pulumi.Resource,
): ReplicationDashboard {
  const body = pulumi
    .output({
      functionName: args.function.name,
      ruleName: args.rule.name,
      queueName: args.queue.name,
      targets: args.targets.map((t) => ({ stack: t.stack, environment: t.environment })),
      alarmArns: args.alarms.map((alarm) => alarm.arn),
    })
    .apply((resolved) =>
      JSON.stringify(
        replicationDashboardBody({
          ...resolved,
          region: args.region,
          environment: args.environment,
          latencyThresholdMs: args.latencyThresholdMs,
          iteratorAgeThresholdMs: args.iteratorAgeThresholdMs,
          timeoutMs: args.timeoutMs,
        }),
      ),
    );
  const dashboard = new aws.cloudwatch.Dashboard(
    `${name}-dashboard`,
    { dashboardName: args.dashboardName, dashboardBody: body },
    // A new name (the region added, or any name part changed) replaces the dashboard: created
    // before the old one is deleted, as the roles are (createReplicationRole in
    // lib/replication-plane.ts), so the stack is never without one.
    { parent, deleteBeforeReplace: false },
  );
  return {
    dashboard,
    url: dashboard.dashboardName.apply((dashboardName) => dashboardUrl(args.region, dashboardName)),
  };
}
