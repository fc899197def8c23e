/**
 * Operability of the real program under the offline mocks: the replicating stack's alarms (metric,
 * namespace, dimensions, statistic, threshold, actions), the alert e-mail subscriptions of every
 * stack, and the dashboard, whose body must be valid JSON naming the real function, queue, rule
 * and alarms.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { replicationServiceName, validateConfig } from "../../lib/config";
import { replicationAlarmTexts } from "../../lib/resource-texts";
import type { DashboardBody, MetricWidget, Widget } from "../../lib/dashboard";
import {
  replicationMetricDimensions,
  replicationMetricNames,
  replicationMetricsNamespace,
  replicationMetricUnits,
} from "../../lib/replication/metric-names";
import { loadStackConfig, type PlannedResource, type StackPlan } from "../../tools/offline";
import { renderTree } from "../../tools/offline/plan-report";
import { planAllStacks, planInJest, type AllStacks } from "../support/pulumi-plan";
import { jsonInput, named, ofType, only, output } from "../support/pulumi-query";

const T = {
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  topic: "aws:sns/topic:Topic",
  fn: "aws:lambda/function:Function",
  rule: "aws:cloudwatch/eventRule:EventRule",
  queue: "aws:sqs/queue:Queue",
} as const;

const tags = { Environment: "prod", Project: "data-pipeline", ManagedBy: "pulumi" };
const functionName = "company-replication-prod";
/** Dashboards are account-global: the dashboard is named as the role is, with the region. */
const dashboardName = "company-replication-prod-eu-west-1";

// At most four plans per file: each plan adds exit listeners to the process (Node warns at 11).
let stacks: AllStacks;
let tuned: StackPlan;

beforeAll(async () => {
  stacks = await planAllStacks();
  const targets = { dev: stacks.dev.outputs, staging: stacks.staging.outputs };
  tuned = await planInJest("prod", {
    stackOutputs: targets,
    config: {
      "data-pipeline:alarmPeriodSeconds": "60",
      "data-pipeline:alarmEvaluationPeriods": "5",
      "data-pipeline:alarmErrorsThreshold": "3",
      "data-pipeline:alarmThrottlesThreshold": "4",
      "data-pipeline:alarmFailedInvocationsThreshold": "2",
      "data-pipeline:alarmFailedChangesThreshold": "7",
      "data-pipeline:alarmIteratorAgeSeconds": "120",
      "data-pipeline:alarmReplicationLatencySeconds": "300",
      "data-pipeline:alertEmails": '["ops@example.com","data-team@example.org"]',
    },
  });
});

const arnOf = (r: PlannedResource): string => r.state.arn as string;
const alarm = (plan: StackPlan, id: string): PlannedResource =>
  named(plan, T.alarm, `pipeline-alarm-${id}`);
const topicArn = (plan: StackPlan, which: "failed" | "succeeded"): string =>
  arnOf(named(plan, T.topic, `pipeline-replication-${which}`));

describe("the replicating stack's alarms", () => {
  const prod = (): StackPlan => stacks.prod;
  const ruleName = (plan: StackPlan): string => only(plan, T.rule).state.name as string;
  const shared = (plan: StackPlan) => ({
    period: 300,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [topicArn(plan, "failed")],
    okActions: [topicArn(plan, "failed"), topicArn(plan, "succeeded")],
    tags,
  });

  it("has exactly the pipeline alarms plus two per target and kind, and the DLQ alarm", () => {
    expect(
      ofType(prod(), T.alarm)
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      [
        "pipeline-dlq-depth",
        "pipeline-alarm-errors",
        "pipeline-alarm-throttles",
        "pipeline-alarm-iterator-age",
        "pipeline-alarm-destination-failures",
        "pipeline-alarm-rule-failed-invocations",
        "pipeline-alarm-rule-dead-letter-failures",
        ...["dev", "staging"].flatMap((target) =>
          ["object", "item"].flatMap((kind) => [
            `pipeline-alarm-latency-${target}-${kind}`,
            `pipeline-alarm-failed-${target}-${kind}`,
          ]),
        ),
      ].sort(),
    );
  });

  it.each([
    ["errors", "AWS/Lambda", "Errors", "Sum", 0],
    ["throttles", "AWS/Lambda", "Throttles", "Sum", 0],
    ["iterator-age", "AWS/Lambda", "IteratorAge", "Maximum", 900_000],
    ["destination-failures", "AWS/Lambda", "DestinationDeliveryFailures", "Sum", 0],
  ])(
    "%s: %s %s (%s) of the real function above %d",
    (id, namespace, metricName, statistic, threshold) => {
      const { alarmDescription, ...inputs } = alarm(prod(), id).inputs;

      expect(inputs).toEqual({
        name: `${functionName}-${id}`,
        namespace,
        metricName,
        dimensions: { FunctionName: functionName },
        statistic,
        threshold,
        ...shared(prod()),
      });
      expect(alarmDescription).toMatch(/^The |^Lambda could not /);
      expect(alarmDescription).toContain('Runbook: README "Operating it".');
    },
  );

  it.each([
    ["rule-failed-invocations", "FailedInvocations"],
    ["rule-dead-letter-failures", "InvocationsFailedToBeSentToDlq"],
  ])("%s: AWS/Events %s of the real rule", (id, metricName) => {
    const { alarmDescription, ...inputs } = alarm(prod(), id).inputs;

    expect(inputs).toEqual({
      name: `${functionName}-${id}`,
      namespace: "AWS/Events",
      metricName,
      dimensions: { RuleName: ruleName(prod()) },
      statistic: "Sum",
      threshold: 0,
      ...shared(prod()),
    });
    expect(ruleName(prod())).toMatch(/^pipeline-object-changes-[0-9a-f]{7}$/);
    expect(alarmDescription).toEqual(expect.any(String));
  });

  it.each(["dev", "staging"])(
    "alarms on %s's replication latency (15 minutes) and failed changes, per kind",
    (target) => {
      for (const kind of ["object", "item"]) {
        const dimensions = {
          service: replicationServiceName,
          TargetEnvironment: target,
          Kind: kind,
        };
        const latency = alarm(prod(), `latency-${target}-${kind}`).inputs;
        const failed = alarm(prod(), `failed-${target}-${kind}`).inputs;

        expect(latency).toMatchObject({
          name: `${functionName}-latency-${target}-${kind}`,
          namespace: replicationMetricsNamespace,
          metricName: replicationMetricNames.latency,
          dimensions,
          statistic: "Maximum",
          threshold: 15 * 60 * 1000,
          ...shared(prod()),
        });
        expect(latency.alarmDescription).toContain(`to reach ${target}`);
        expect(failed).toMatchObject({
          name: `${functionName}-failed-${target}-${kind}`,
          namespace: replicationMetricsNamespace,
          metricName: replicationMetricNames.failed,
          dimensions,
          statistic: "Sum",
          threshold: 0,
          ...shared(prod()),
        });
      }
    },
  );

  it("pins the names of the function's metrics (renaming one loses its history)", () => {
    expect(replicationMetricsNamespace).toBe("DataPipeline/Replication");
    expect(replicationMetricNames).toEqual({
      replicated: "ChangesReplicated",
      skipped: "ChangesSkipped",
      failed: "ChangesFailed",
      archived: "ChangesArchived",
      latency: "ReplicationLatency",
    });
  });

  it("matches the EMF Powertools Metrics writes for a change: namespace, dimensions, unit", () => {
    // What the function does per target and kind (see lib/replication/metric-names.ts).
    const metrics = new Metrics({
      namespace: replicationMetricsNamespace,
      serviceName: replicationServiceName,
    });
    metrics.addDimension(replicationMetricDimensions.target, "staging");
    metrics.addDimension(replicationMetricDimensions.kind, "item");
    metrics.addMetric(replicationMetricNames.latency, MetricUnit.Milliseconds, 1234);
    metrics.addMetric(replicationMetricNames.failed, MetricUnit.Count, 1);
    const emf = metrics.serializeMetrics();
    const [directive] = emf._aws.CloudWatchMetrics;
    const dimensionSets = directive?.Dimensions ?? [[]];
    const emitted = (names: readonly string[]) =>
      Object.fromEntries(names.map((name) => [name, emf[name]]));

    for (const [id, metric] of [
      ["latency-staging-item", "latency"],
      ["failed-staging-item", "failed"],
    ] as const) {
      const { namespace, metricName, dimensions } = alarm(prod(), id).inputs;
      expect(directive?.Namespace).toBe(namespace);
      expect(dimensionSets.map(emitted)).toEqual([dimensions]);
      expect(directive?.Metrics).toContainEqual({
        Name: metricName,
        Unit: replicationMetricUnits[metric],
      });
    }
  });

  it("applies the configured period, evaluation periods and thresholds (seconds to ms)", () => {
    const thresholds = Object.fromEntries(
      ofType(tuned, T.alarm)
        .filter((r) => r.name.startsWith("pipeline-alarm-"))
        .map((r) => [r.name.replace("pipeline-alarm-", ""), r.inputs.threshold]),
    );

    expect(thresholds).toEqual({
      errors: 3,
      throttles: 4,
      "iterator-age": 120_000,
      "destination-failures": 0,
      "rule-failed-invocations": 2,
      "rule-dead-letter-failures": 0,
      "latency-dev-object": 300_000,
      "latency-dev-item": 300_000,
      "latency-staging-object": 300_000,
      "latency-staging-item": 300_000,
      "failed-dev-object": 7,
      "failed-dev-item": 7,
      "failed-staging-object": 7,
      "failed-staging-item": 7,
    });
    for (const r of ofType(tuned, T.alarm).filter((a) => a.name.startsWith("pipeline-alarm-"))) {
      expect([r.name, r.inputs.period, r.inputs.evaluationPeriods]).toEqual([r.name, 60, 5]);
    }
  });

  it.each(["dev", "staging", "prod"] as const)(
    "notifies %s's failure topic from every alarm, and its failure and success topics on recovery",
    (s) => {
      const plan = stacks[s];
      const alarms = ofType(plan, T.alarm);

      expect(alarms.length).toBe(s === "prod" ? 15 : 1);
      for (const r of alarms) {
        expect([r.name, r.inputs.alarmActions, r.inputs.okActions]).toEqual([
          r.name,
          [topicArn(plan, "failed")],
          [topicArn(plan, "failed"), topicArn(plan, "succeeded")],
        ]);
      }
    },
  );
});

describe("alert e-mail subscriptions", () => {
  it.each(["dev", "staging", "prod"] as const)("%s subscribes no one by default", (s) => {
    expect(ofType(stacks[s], T.subscription)).toEqual([]);
  });

  it("subscribes each configured address to the failure topic by e-mail, in prod", () => {
    expect(ofType(tuned, T.subscription).map((r) => [r.name, r.inputs])).toEqual([
      [
        "pipeline-alert-ops@example.com",
        { topic: topicArn(tuned, "failed"), protocol: "email", endpoint: "ops@example.com" },
      ],
      [
        "pipeline-alert-data-team@example.org",
        {
          topic: topicArn(tuned, "failed"),
          protocol: "email",
          endpoint: "data-team@example.org",
        },
      ],
    ]);
  });
});

describe("the alarms' texts", () => {
  it("are those config validation checks against AWS's limits (lib/resource-texts.ts)", () => {
    const prod = stacks.prod;
    const file = loadStackConfig("prod");
    const declared = ofType(prod, T.alarm)
      .filter((r) => r.inputs.name !== undefined)
      .map((r) => [r.inputs.name, r.inputs.alarmDescription]);
    const checked = replicationAlarmTexts({
      functionName,
      environment: "prod",
      alarms: validateConfig({ ...file, project: file.project.name, organization: "o" }).alarms,
      targetStacks: ["dev", "staging"],
    }).map((t) => [t.name, t.description]);

    expect(declared.length).toBe(14);
    expect(declared).toEqual(expect.arrayContaining(checked));
    expect(checked).toEqual(expect.arrayContaining(declared));
  });
});

describe("the replication dashboard", () => {
  const prod = (): StackPlan => stacks.prod;
  const body = (plan: StackPlan = prod()): DashboardBody =>
    jsonInput(only(plan, T.dashboard), "dashboardBody") as unknown as DashboardBody;
  const metricWidgets = (plan?: StackPlan): MetricWidget[] =>
    body(plan).widgets.filter((w: Widget): w is MetricWidget => w.type === "metric");
  const graph = (title: string, plan?: StackPlan): MetricWidget => {
    const found = metricWidgets(plan).find((w) => w.properties.title === title);
    if (found === undefined) throw new Error(`no graph "${title}"`);
    return found;
  };

  it("exists in the replicating stack only, named with its region as the role is", () => {
    expect(only(prod(), T.dashboard).inputs.dashboardName).toBe(dashboardName);
    expect(ofType(stacks.dev, T.dashboard)).toEqual([]);
    expect(ofType(stacks.staging, T.dashboard)).toEqual([]);
  });

  it("exports its console address", () => {
    expect(output(prod(), "replicationDashboardUrl")).toBe(
      `https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/${dashboardName}`,
    );
    expect(stacks.dev.outputs.replicationDashboardUrl).toBeUndefined();
  });

  it("is valid JSON naming the real function, queue and rule", () => {
    const text = only(prod(), T.dashboard).inputs.dashboardBody as string;
    const queueName = only(prod(), T.queue).state.name as string;
    const ruleName = only(prod(), T.rule).state.name as string;

    expect(() => JSON.parse(text) as unknown).not.toThrow();
    expect(graph("Dead-letter queue depth").properties.metrics).toEqual([
      [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        queueName,
        { stat: "Maximum", label: "dead letters" },
      ],
    ]);
    expect(graph("Object-change rule deliveries").properties.metrics).toEqual(
      [
        "Invocations",
        "FailedInvocations",
        "InvocationsSentToDlq",
        "InvocationsFailedToBeSentToDlq",
      ].map((metric) => [
        "AWS/Events",
        metric,
        "RuleName",
        ruleName,
        { stat: "Sum", label: metric },
      ]),
    );
    expect(graph("Function invocations").properties.metrics).toEqual(
      ["Invocations", "Errors", "Throttles", "DestinationDeliveryFailures"].map((metric) => [
        "AWS/Lambda",
        metric,
        "FunctionName",
        functionName,
        { stat: "Sum", label: metric },
      ]),
    );
    expect(graph("Function duration").properties).toMatchObject({
      metrics: [
        [
          "AWS/Lambda",
          "Duration",
          "FunctionName",
          functionName,
          { stat: "Average", label: "Duration average" },
        ],
        [
          "AWS/Lambda",
          "Duration",
          "FunctionName",
          functionName,
          { stat: "Maximum", label: "Duration maximum" },
        ],
      ],
      annotations: { horizontal: [{ label: "timeout", value: 120_000 }] },
    });
    expect(graph("Table stream iterator age (maximum)").properties).toMatchObject({
      metrics: [["AWS/Lambda", "IteratorAge", "FunctionName", functionName, { stat: "Maximum" }]],
      annotations: { horizontal: [{ label: "iterator age alarm", value: 900_000 }] },
    });
    const header = body().widgets[0];
    expect(header?.type === "text" && header.properties.markdown).toContain(
      `Function \`${functionName}\`, rule \`${ruleName}\`, dead-letter queue \`${queueName}\``,
    );
  });

  it("shows the state of every alarm of the stack", () => {
    const alarmWidgets = body().widgets.filter((w) => w.type === "alarm");

    expect(alarmWidgets.flatMap((w) => w.properties.alarms).sort()).toEqual(
      ofType(prod(), T.alarm).map(arnOf).sort(),
    );
    expect(alarmWidgets.flatMap((w) => w.properties.alarms)).toContain(
      `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${functionName}-latency-dev-object`,
    );
  });

  it.each(["dev", "staging"])("graphs %s's changes and latency per kind", (target) => {
    const own = (metric: string, kind: string, stat: string) => [
      replicationMetricsNamespace,
      metric,
      "service",
      "replication",
      "TargetEnvironment",
      target,
      "Kind",
      kind,
      { stat, label: `${metric} ${kind}s` },
    ];

    expect(graph(`Changes into ${target}`).properties.metrics).toEqual(
      ["object", "item"].flatMap((kind) =>
        ["ChangesReplicated", "ChangesSkipped", "ChangesFailed", "ChangesArchived"].map((m) =>
          own(m, kind, "Sum"),
        ),
      ),
    );
    expect(graph(`Replication latency into ${target} (maximum)`).properties).toMatchObject({
      metrics: ["object", "item"].map((kind) => own("ReplicationLatency", kind, "Maximum")),
      annotations: { horizontal: [{ label: "latency alarm", value: 900_000 }] },
    });
  });

  it("graphs every metric in the stack's region, and the configured thresholds", () => {
    for (const widget of metricWidgets()) {
      expect([widget.properties.title, widget.properties.region]).toEqual([
        widget.properties.title,
        "eu-west-1",
      ]);
    }
    expect(graph("Replication latency into dev (maximum)", tuned).properties.annotations).toEqual({
      horizontal: [{ label: "latency alarm", value: 300_000 }],
    });
  });
});

describe("the offline plan's tree", () => {
  it("shows each alarm's metric and threshold, the dashboard and the subscriptions", () => {
    const tree = renderTree(tuned);

    expect(tree).toMatch(
      /pipeline-alarm-latency-dev-object\n.*name: company-replication-prod-latency-dev-object\n.*metricName: ReplicationLatency\n.*threshold: 300000/,
    );
    expect(tree).toMatch(
      /pipeline-dashboard\n.*dashboardName: company-replication-prod-eu-west-1\n/,
    );
    expect(tree).toMatch(
      /pipeline-alert-ops@example.com\n.*protocol: email\n.*endpoint: ops@example.com/,
    );
  });
});
