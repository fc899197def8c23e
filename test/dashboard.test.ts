/** The dashboard body (lib/dashboard.ts) as a pure function: layout, alarm widgets, console URL. */
import {
  dashboardAlarmsPerWidget,
  dashboardUrl,
  replicationDashboardBody,
  type DashboardValues,
  type Widget,
} from "../lib/dashboard";
import { validateConfig } from "../lib/config";
import { replicationAlarmTexts } from "../lib/resource-texts";

const values = (overrides: Partial<DashboardValues> = {}): DashboardValues => ({
  region: "eu-west-1",
  environment: "prod",
  functionName: "company-replication-prod",
  ruleName: "rule-1",
  queueName: "dlq-1",
  targets: [
    { stack: "dev", environment: "dev" },
    { stack: "staging", environment: "staging" },
  ],
  alarmArns: ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"],
  latencyThresholdMs: 900_000,
  iteratorAgeThresholdMs: 900_000,
  timeoutMs: 60_000,
  ...overrides,
});

/** The grid cells a widget covers, as `x,y` strings. */
function cells(widget: Widget): string[] {
  const covered: string[] = [];
  for (let x = widget.x; x < widget.x + widget.width; x += 1) {
    for (let y = widget.y; y < widget.y + widget.height; y += 1) covered.push(`${x},${y}`);
  }
  return covered;
}

describe("replicationDashboardBody", () => {
  it("lays the widgets out on the 24-column grid without overlaps", () => {
    const { widgets } = replicationDashboardBody(values());
    const all = widgets.flatMap(cells);

    expect(new Set(all).size).toBe(all.length);
    for (const widget of widgets) {
      expect(widget.x + widget.width).toBeLessThanOrEqual(24);
    }
    // Header, alarms, two graphs per target, five pipeline graphs.
    expect(widgets.map((w) => w.type)).toEqual([
      "text",
      "alarm",
      ...Array<string>(4).fill("metric"),
      ...Array<string>(5).fill("metric"),
    ]);
  });

  it("adds two graphs per target, below the alarms", () => {
    const one = replicationDashboardBody(values({ targets: [{ stack: "qa", environment: "q" }] }));
    const titles = one.widgets.flatMap((w) => (w.type === "metric" ? [w.properties.title] : []));

    expect(titles.slice(0, 2)).toEqual([
      "Changes into qa",
      "Replication latency into qa (maximum)",
    ]);
    expect(JSON.stringify(one)).toContain('"TargetEnvironment","q"');
  });

  it("splits the alarms into widgets of at most 100, each shown once", () => {
    const arns = Array.from({ length: 2 * dashboardAlarmsPerWidget + 1 }, (_, i) => `arn:${i}`);
    const { widgets } = replicationDashboardBody(values({ alarmArns: arns }));
    const alarmWidgets = widgets.filter((w) => w.type === "alarm");

    expect(alarmWidgets.map((w) => w.properties.alarms.length)).toEqual([100, 100, 1]);
    expect(alarmWidgets.flatMap((w) => w.properties.alarms)).toEqual(arns);
    const all = widgets.flatMap(cells);
    expect(new Set(all).size).toBe(all.length);
  });

  it("stays far within the 500 widgets a body may have, with as many targets as config allows", () => {
    // "It can include an array of between 0 and 500 widget objects"
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
    // The function's 4 KB environment bounds the targets (lib/config.ts): 8 pass, 9 do not.
    const stacks = (count: number): string[] => Array.from({ length: count }, (_, i) => `t${i}`);
    const raw = (count: number) => ({
      stack: "prod",
      project: "data-pipeline",
      organization: "o",
      values: {
        "aws:region": "eu-west-1",
        "data-pipeline:replicationTargets": JSON.stringify(stacks(count)),
      },
    });
    expect(() => validateConfig(raw(8))).not.toThrow();
    expect(() => validateConfig(raw(9))).toThrow(/makes the Lambda environment up to \d+ bytes/);
    const alarms = replicationAlarmTexts({
      functionName: "f",
      environment: "prod",
      alarms: validateConfig(raw(8)).alarms,
      targetStacks: stacks(8),
    });

    const { widgets } = replicationDashboardBody(
      values({
        targets: stacks(8).map((stack) => ({ stack, environment: stack })),
        alarmArns: [...alarms.map((a) => a.name), "dlq-alarm"],
      }),
    );

    // Header, one alarm widget (39 alarms), two graphs per target, five pipeline graphs.
    expect(widgets.length).toBe(1 + 1 + 2 * 8 + 5);
  });

  it("starts at the last six hours and keeps each graph's period", () => {
    const body = replicationDashboardBody(values());

    expect([body.start, body.periodOverride]).toEqual(["-PT6H", "inherit"]);
    for (const widget of body.widgets) {
      if (widget.type === "metric") expect(widget.properties.period).toBe(60);
    }
  });
});

describe("dashboardUrl", () => {
  it.each([
    ["eu-west-1", "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1"],
    ["cn-north-1", "https://cn-north-1.console.amazonaws.cn/cloudwatch/home?region=cn-north-1"],
    [
      "us-gov-west-1",
      "https://us-gov-west-1.console.amazonaws-us-gov.com/cloudwatch/home?region=us-gov-west-1",
    ],
  ])("opens the dashboard in the %s console", (region, prefix) => {
    expect(dashboardUrl(region, "company-replication-prod")).toBe(
      `${prefix}#dashboards/dashboard/company-replication-prod`,
    );
  });
});
