/** The resources' texts (lib/resource-texts.ts) against AWS's length limits: each rule throws and passes. */
import type { AlarmConfig } from "../lib/config";
import {
  batchRoleDescription,
  replicationAlarmTexts,
  replicationRoleDescription,
  resourceTextChecks,
  textLimits,
  textProblems,
  type ResourceTextsArgs,
  type TextCheck,
  type TextLimit,
} from "../lib/resource-texts";

const alarms: AlarmConfig = {
  periodSeconds: 300,
  evaluationPeriods: 1,
  errorsThreshold: 0,
  throttlesThreshold: 0,
  failedInvocationsThreshold: 0,
  failedChangesThreshold: 0,
  iteratorAgeSeconds: 900,
  replicationLatencySeconds: 900,
};

const args = (overrides: Partial<ResourceTextsArgs> = {}): ResourceTextsArgs => ({
  environment: "prod",
  functionName: "company-replication-prod",
  alarms,
  targetStacks: ["dev", "staging"],
  sourceAccountId: undefined,
  ...overrides,
});

describe("textProblems", () => {
  const limits = Object.entries(textLimits) as [string, TextLimit][];

  it.each(limits)("refuses a %s one character over its limit, naming it", (_name, limit) => {
    const check: TextCheck = {
      limit,
      text: "x".repeat(limit.max + 1),
      keys: ["environment"],
      value: "v",
    };

    expect(textProblems([check])).toEqual([
      {
        ...check,
        reason: `makes the ${limit.what} ${limit.max + 1} characters (max ${limit.max}): "${check.text}"`,
      },
    ]);
  });

  it.each(limits)("accepts a %s of exactly its limit", (_name, limit) => {
    const check: TextCheck = {
      limit,
      text: "x".repeat(limit.max),
      keys: ["environment"],
      value: "v",
    };

    expect(textProblems([check])).toEqual([]);
  });

  it("has the limits of the API references", () => {
    expect(Object.fromEntries(limits.map(([name, limit]) => [name, limit.max]))).toEqual({
      functionDescription: 256,
      ruleDescription: 512,
      keyDescription: 8192,
      roleDescription: 1000,
      alarmName: 255,
      alarmDescription: 1024,
    });
  });
});

describe("resourceTextChecks", () => {
  it("checks the topic key's and the DLQ alarm's descriptions in a target stack, by environment", () => {
    expect(
      resourceTextChecks(args({ targetStacks: [] })).map((c) => [c.limit, c.text, c.keys]),
    ).toEqual([
      [textLimits.keyDescription, "Encrypts the prod replication topics", ["environment"]],
      [
        textLimits.alarmDescription,
        "Messages in the prod replication dead-letter queue",
        ["environment"],
      ],
    ]);
  });

  it("adds a cross-account target's table key description", () => {
    const checks = resourceTextChecks(args({ targetStacks: [], sourceAccountId: "333333333333" }));

    expect(checks.map((c) => c.text)).toContain(
      "Encrypts the prod metadata table, shared with the replication role of account 333333333333",
    );
  });

  it("checks the function's description by the targets it lists", () => {
    const targets = ["a".repeat(100), "b".repeat(100), "c".repeat(100)];
    const problems = textProblems(resourceTextChecks(args({ targetStacks: targets })));

    expect(problems.map((p) => [p.keys, p.value, p.limit])).toEqual([
      [["replicationTargets"], JSON.stringify(targets), textLimits.functionDescription],
    ]);
    expect(problems[0]?.reason).toMatch(
      /^makes the Lambda function description 333 characters \(max 256\): "Replicates prod changes into a+, b+, c+"$/,
    );
    expect(textProblems(resourceTextChecks(args({ targetStacks: targets.slice(0, 2) })))).toEqual(
      [],
    );
  });

  it("checks every alarm's name, by the function's name parts or by its target", () => {
    const functionName = "f".repeat(250);
    const problems = textProblems(resourceTextChecks(args({ functionName })));

    // Every pipeline alarm (the shortest id is "errors"), and every per-target alarm.
    expect(problems.filter((p) => p.limit === textLimits.alarmName).map((p) => p.keys)).toEqual([
      ...Array<string[]>(6).fill(["namePrefix", "environment", "nameSuffix"]),
      ...Array<string[]>(8).fill(["replicationTargets"]),
    ]);
    expect(problems[0]?.value).toBe(functionName);
    expect(problems.find((p) => p.keys[0] === "replicationTargets")?.value).toBe("dev");
    expect(textProblems(resourceTextChecks(args({ functionName: "f".repeat(64) })))).toEqual([]);
  });

  it("checks every alarm's description, by the environment or by the target it names", () => {
    const problems = textProblems(
      resourceTextChecks(args({ environment: "e".repeat(950), targetStacks: ["t".repeat(200)] })),
    );
    const descriptions = problems.filter((p) => p.limit === textLimits.alarmDescription);

    expect(descriptions.map((p) => p.keys[0])).toEqual([
      ...Array<string>(6).fill("environment"),
      ...Array<string>(4).fill("replicationTargets"),
    ]);
  });
});

describe("replicationAlarmTexts", () => {
  it("names the pipeline's alarms, then latency and failed changes per target and kind", () => {
    const texts = replicationAlarmTexts({
      functionName: "fn",
      environment: "prod",
      alarms,
      targetStacks: ["dev"],
    });

    expect(texts.map((t) => [t.name, t.target])).toEqual([
      ["fn-errors", undefined],
      ["fn-throttles", undefined],
      ["fn-iterator-age", undefined],
      ["fn-destination-failures", undefined],
      ["fn-rule-failed-invocations", undefined],
      ["fn-rule-dead-letter-failures", undefined],
      ["fn-latency-dev-object", "dev"],
      ["fn-latency-dev-item", "dev"],
      ["fn-failed-dev-object", "dev"],
      ["fn-failed-dev-item", "dev"],
    ]);
    for (const text of texts)
      expect(text.description).toMatch(/ Runbook: README "Operating it"\.$/);
  });
});

describe("constant texts", () => {
  // CreateRole, Description: "Pattern: [\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*"
  // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
  const fitsRolePattern = (text: string): boolean =>
    Array.from({ length: text.length }, (_, i) => text.charCodeAt(i)).every((code) => {
      return (
        code === 0x09 ||
        code === 0x0a ||
        code === 0x0d ||
        (code >= 0x20 && code <= 0x7e) ||
        (code >= 0xa1 && code <= 0xff)
      );
    });

  it.each([replicationRoleDescription, batchRoleDescription])(
    "the role description %j fits CreateRole",
    (description) => {
      expect(description.length).toBeLessThanOrEqual(textLimits.roleDescription.max);
      expect(fitsRolePattern(description)).toBe(true);
    },
  );

  it("the role pattern refuses what CreateRole refuses", () => {
    expect(fitsRolePattern("Réplication\tLambda")).toBe(true);
    expect(fitsRolePattern("Replication \u2013 Lambda")).toBe(false);
    expect(fitsRolePattern("\u0000")).toBe(false);
  });
});
