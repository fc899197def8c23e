// cloudwatch-alarm-has-action: every alarm notifies someone, over resources and the real plans.
import { TYPES } from "../../policy/baseline";
import { checkPlan } from "../../policy/rule-set";
import { cloudwatchAlarmHasAction } from "../../policy/rules/cloudwatch";
import { planAllStacks, type AllStacks } from "../support/pulumi-plan";

const topic = "arn:aws:sns:eu-west-1:123456789012:pipeline-replication-failed";
const check = (props: Record<string, unknown>, type: string = TYPES.metricAlarm): string[] =>
  cloudwatchAlarmHasAction.validate(type, props);

describe("cloudwatch-alarm-has-action", () => {
  it("accepts an alarm with an action, its actions enabled or left at the default", () => {
    expect(check({ alarmActions: [topic] })).toEqual([]);
    expect(check({ alarmActions: [topic], actionsEnabled: true })).toEqual([]);
    expect(check({ alarmRule: "ALARM(a)", alarmActions: [topic] }, TYPES.compositeAlarm)).toEqual(
      [],
    );
  });

  it.each([
    ["no alarmActions", {}, "alarmActions = undefined (must name at least one action"],
    ["an empty list", { alarmActions: [] }, "alarmActions = [] (must name"],
    ["only empty entries", { alarmActions: [""] }, 'alarmActions = [""] (must name'],
    ["not a list", { alarmActions: topic }, `alarmActions = "${topic}" (must name`],
  ])("rejects an alarm with %s", (_what, props, message) => {
    expect(check(props)).toEqual([expect.stringContaining(message)]);
  });

  it("rejects disabled actions, and names both problems at once", () => {
    expect(check({ alarmActions: [topic], actionsEnabled: false })).toEqual([
      "actionsEnabled = false (must not be false: the alarm would notify no one)",
    ]);
    expect(check({ actionsEnabled: false }, TYPES.compositeAlarm)).toHaveLength(2);
  });

  it("ignores other resource types", () => {
    expect(check({}, TYPES.topic)).toEqual([]);
  });
});

describe("cloudwatch-alarm-has-action over the offline plans", () => {
  let plans: AllStacks;

  beforeAll(async () => {
    plans = await planAllStacks();
  }, 60_000);

  it("sees every alarm of prod (15) and finds none without an action", () => {
    const alarms = plans.prod.resources.filter((r) => r.type === TYPES.metricAlarm);

    expect(alarms).toHaveLength(15);
    expect(checkPlan(plans.prod)).toEqual([]);
  });

  it("reports an alarm of the real plan whose actions are removed", () => {
    const resources = plans.prod.resources.map((r) =>
      r.name === "pipeline-alarm-latency-dev-object"
        ? { ...r, inputs: { ...r.inputs, alarmActions: [] } }
        : r,
    );

    expect(checkPlan({ resources })).toEqual([
      {
        policy: "cloudwatch-alarm-has-action",
        urn: expect.stringMatching(/::pipeline-alarm-latency-dev-object$/) as unknown,
        message: "alarmActions = [] (must name at least one action, such as the failure topic)",
      },
    ]);
  });
});
