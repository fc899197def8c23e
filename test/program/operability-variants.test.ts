/**
 * Operability under other stack data: a target whose environment is not its stack name (the alarm
 * and dashboard dimension follow the environment), and alert e-mails in a target stack.
 */
import type { DashboardBody } from "../../lib/dashboard";
import type { PlannedResource, StackPlan } from "../../tools/offline";
import { planInJest } from "../support/pulumi-plan";
import { sharedPlan } from "../support/shared-plans";
import { jsonInput, named, only } from "../support/pulumi-query";

let devWithAlerts: StackPlan;
let renamedTarget: StackPlan;

beforeAll(async () => {
  devWithAlerts = await planInJest("dev", {
    config: { "data-pipeline:alertEmails": '["oncall@example.com"]' },
  });
  const staging = sharedPlan("staging");
  // The dev stack calls its environment something else than its stack name.
  renamedTarget = await planInJest("prod", {
    stackOutputs: {
      dev: { ...devWithAlerts.outputs, environment: "development" },
      staging: staging.outputs,
    },
  });
});

const arnOf = (r: PlannedResource): string => r.state.arn as string;

it("subscribes alert e-mails in a target stack too (its DLQ alarm notifies its failure topic)", () => {
  const subscription = only(devWithAlerts, "aws:sns/topicSubscription:TopicSubscription");

  expect(subscription.inputs).toEqual({
    topic: arnOf(named(devWithAlerts, "aws:sns/topic:Topic", "pipeline-replication-failed")),
    protocol: "email",
    endpoint: "oncall@example.com",
  });
  expect(subscription.parent).toBe(
    "urn:pulumi:dev::data-pipeline::data-pipeline:index:EnvironmentComponent::pipeline",
  );
});

it("takes the target dimension from the target stack's environment output", () => {
  const alarm = named(
    renamedTarget,
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "pipeline-alarm-latency-dev-object",
  );
  const body = jsonInput(
    only(renamedTarget, "aws:cloudwatch/dashboard:Dashboard"),
    "dashboardBody",
  ) as unknown as DashboardBody;
  const changes = body.widgets.find(
    (w) => w.type === "metric" && w.properties.title === "Changes into dev",
  );

  expect(alarm.inputs.dimensions).toEqual({
    service: "replication",
    TargetEnvironment: "development",
    Kind: "object",
  });
  expect(alarm.inputs.name).toBe("company-replication-prod-latency-dev-object");
  expect(changes?.type === "metric" && changes.properties.metrics[0]).toContain("development");
});
