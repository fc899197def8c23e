/** Config of alerts and alarms (lib/config.ts): every rule throws, naming the key and the value. */
import {
  alarmAgeLimitSeconds,
  ConfigValidationError,
  validateConfig,
  type RawStackConfig,
} from "../lib/config";
import { replicationRetry } from "../lib/replication-plane";

const key = (name: string): string => `data-pipeline:${name}`;

/** Prod's raw config: it replicates into dev and staging. */
function raw(values: Record<string, string | undefined> = {}): RawStackConfig {
  return {
    stack: "prod",
    project: "data-pipeline",
    organization: "acme",
    values: {
      "aws:region": "eu-west-1",
      [key("replicationTargets")]: '["dev","staging"]',
      ...values,
    },
  };
}

function problemsOf(values: Record<string, string | undefined>): string[] {
  try {
    validateConfig(raw(values));
  } catch (error: unknown) {
    if (error instanceof ConfigValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("alert and alarm keys", () => {
  it("reads every key", () => {
    const config = validateConfig(
      raw({
        [key("alertEmails")]: '["ops@example.com","Data.Team+alerts@corp.example.co.uk"]',
        [key("alarmPeriodSeconds")]: "60",
        [key("alarmEvaluationPeriods")]: "3",
        [key("alarmErrorsThreshold")]: "2",
        [key("alarmThrottlesThreshold")]: "5",
        [key("alarmFailedInvocationsThreshold")]: "1",
        [key("alarmFailedChangesThreshold")]: "10",
        [key("alarmIteratorAgeSeconds")]: "120",
        [key("alarmReplicationLatencySeconds")]: "300",
      }),
    );

    expect(config.alertEmails).toEqual(["ops@example.com", "Data.Team+alerts@corp.example.co.uk"]);
    expect(config.alarms).toEqual({
      periodSeconds: 60,
      evaluationPeriods: 3,
      errorsThreshold: 2,
      throttlesThreshold: 5,
      failedInvocationsThreshold: 1,
      failedChangesThreshold: 10,
      iteratorAgeSeconds: 120,
      replicationLatencySeconds: 300,
    });
  });

  it("defaults the latency and iterator age thresholds to 15 minutes, like S3 RTC", () => {
    const { alarms, alertEmails } = validateConfig(raw());

    expect([alarms.replicationLatencySeconds, alarms.iteratorAgeSeconds]).toEqual([900, 900]);
    expect(alertEmails).toEqual([]);
  });

  it("bounds the age thresholds by the age after which a change is dead-lettered", () => {
    expect(alarmAgeLimitSeconds).toBe(replicationRetry.eventMaximumAgeSeconds);
    expect(alarmAgeLimitSeconds).toBe(replicationRetry.streamMaximumRecordAgeSeconds);
  });
});

describe("alert and alarm rules", () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    [
      "an invalid e-mail address",
      { [key("alertEmails")]: '["ops@example.com","not-an-email"]' },
      /data-pipeline:alertEmails = "not-an-email" \(not an e-mail address\)/,
    ],
    [
      "an address without a domain",
      { [key("alertEmails")]: '["ops@localhost"]' },
      /alertEmails = "ops@localhost" \(not an e-mail address\)/,
    ],
    [
      "an address listed twice (case aside)",
      { [key("alertEmails")]: '["ops@example.com","OPS@example.com"]' },
      /alertEmails = "OPS@example.com" \(listed twice\)/,
    ],
    [
      "alert e-mails that are not a list",
      { [key("alertEmails")]: '"ops@example.com"' },
      /alertEmails = "\\"ops@example.com\\"" \(must be a list of strings\)/,
    ],
    [
      "a negative error threshold",
      { [key("alarmErrorsThreshold")]: "-1" },
      /data-pipeline:alarmErrorsThreshold = "-1" \(min 0\)/,
    ],
    [
      "a fractional throttle threshold",
      { [key("alarmThrottlesThreshold")]: "0.5" },
      /alarmThrottlesThreshold = "0.5" \(must be an integer\)/,
    ],
    [
      "a failed invocation threshold over the bound",
      { [key("alarmFailedInvocationsThreshold")]: "1000001" },
      /alarmFailedInvocationsThreshold = "1000001" \(max 1000000\)/,
    ],
    [
      "a negative failed change threshold",
      { [key("alarmFailedChangesThreshold")]: "-5" },
      /alarmFailedChangesThreshold = "-5" \(min 0\)/,
    ],
    [
      "a negative iterator age",
      { [key("alarmIteratorAgeSeconds")]: "-60" },
      /alarmIteratorAgeSeconds = "-60" \(min 1\)/,
    ],
    [
      "an iterator age alarm that could never fire",
      { [key("alarmIteratorAgeSeconds")]: "3600" },
      /alarmIteratorAgeSeconds = "3600" \(must be below 3600: older changes are dead-lettered/,
    ],
    [
      "a latency alarm that could never fire",
      { [key("alarmReplicationLatencySeconds")]: "86400" },
      /alarmReplicationLatencySeconds = "86400" \(must be below 3600/,
    ],
    [
      "a latency that is not a number",
      { [key("alarmReplicationLatencySeconds")]: "15m" },
      /alarmReplicationLatencySeconds = "15m" \(must be an integer\)/,
    ],
    [
      "a period that is not a multiple of 60",
      { [key("alarmPeriodSeconds")]: "90" },
      /data-pipeline:alarmPeriodSeconds = "90" \(must be a multiple of 60\)/,
    ],
    [
      "a sub-minute period",
      { [key("alarmPeriodSeconds")]: "30" },
      /alarmPeriodSeconds = "30" \(min 60\)/,
    ],
    [
      "zero evaluation periods",
      { [key("alarmEvaluationPeriods")]: "0" },
      /alarmEvaluationPeriods = "0" \(min 1\)/,
    ],
    [
      "evaluation over a day with periods under an hour",
      { [key("alarmPeriodSeconds")]: "300", [key("alarmEvaluationPeriods")]: "289" },
      /alarmEvaluationPeriods = "289" with data-pipeline:alarmPeriodSeconds = "300" spans 86700 s \(CloudWatch's limit: 86400 s for periods under an hour, 604800 s otherwise\)/,
    ],
    [
      "evaluation over seven days with hourly periods",
      { [key("alarmPeriodSeconds")]: "3600", [key("alarmEvaluationPeriods")]: "169" },
      /alarmEvaluationPeriods = "169" with data-pipeline:alarmPeriodSeconds = "3600" spans 608400 s/,
    ],
  ];

  it.each(cases)("rejects %s", (_name, values, message) => {
    expect(() => validateConfig(raw(values))).toThrow(message);
  });

  const fine: [string, Record<string, string>][] = [
    ["valid e-mail addresses", { [key("alertEmails")]: '["ops@example.com","a.b+c@x.example"]' }],
    ["no alert e-mails", { [key("alertEmails")]: "[]" }],
    [
      "zero thresholds",
      { [key("alarmErrorsThreshold")]: "0", [key("alarmThrottlesThreshold")]: "0" },
    ],
    ["the largest count threshold", { [key("alarmFailedInvocationsThreshold")]: "1000000" }],
    ["a failed change threshold", { [key("alarmFailedChangesThreshold")]: "3" }],
    ["an iterator age just under the limit", { [key("alarmIteratorAgeSeconds")]: "3599" }],
    ["a one-second latency threshold", { [key("alarmReplicationLatencySeconds")]: "1" }],
    ["a one-minute period", { [key("alarmPeriodSeconds")]: "60" }],
    [
      "exactly one day of five-minute periods",
      { [key("alarmPeriodSeconds")]: "300", [key("alarmEvaluationPeriods")]: "288" },
    ],
    [
      "exactly seven days of hourly periods",
      { [key("alarmPeriodSeconds")]: "3600", [key("alarmEvaluationPeriods")]: "168" },
    ],
  ];

  it.each(fine)("accepts %s", (_name, values) => {
    expect(() => validateConfig(raw(values))).not.toThrow();
  });

  it("lists every alert and alarm problem at once, and no follow-up problem of a bad period", () => {
    expect(
      problemsOf({
        [key("alertEmails")]: '["x"]',
        [key("alarmPeriodSeconds")]: "45",
        [key("alarmEvaluationPeriods")]: "100000",
        [key("alarmErrorsThreshold")]: "-2",
        [key("alarmReplicationLatencySeconds")]: "0",
      }),
    ).toEqual([
      'data-pipeline:alertEmails = "x" (not an e-mail address)',
      'data-pipeline:alarmPeriodSeconds = "45" (min 60)',
      'data-pipeline:alarmEvaluationPeriods = "100000" (max 10080)',
      'data-pipeline:alarmErrorsThreshold = "-2" (min 0)',
      'data-pipeline:alarmReplicationLatencySeconds = "0" (min 1)',
    ]);
  });
});
