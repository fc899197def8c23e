// CloudWatch baseline: every alarm notifies someone. An alarm without an action (or with its
// actions disabled) changes state in the console and nobody hears of it.
import { TYPES } from "../baseline";
import { listAt, quote } from "../props";
import type { ResourceRule } from "../types";

export const cloudwatchAlarmHasAction: ResourceRule = {
  name: "cloudwatch-alarm-has-action",
  description:
    "Each metric or composite alarm names at least one alarm action (alarmActions) and does not disable its actions.",
  validate(type, props) {
    if (type !== TYPES.metricAlarm && type !== TYPES.compositeAlarm) return [];
    const problems: string[] = [];
    const actions = listAt(props, "alarmActions").filter(
      (action) => typeof action === "string" && action !== "",
    );
    if (actions.length === 0) {
      problems.push(
        `alarmActions = ${quote(props.alarmActions)} (must name at least one action, such as the failure topic)`,
      );
    }
    if (props.actionsEnabled === false) {
      problems.push("actionsEnabled = false (must not be false: the alarm would notify no one)");
    }
    return problems;
  },
};
