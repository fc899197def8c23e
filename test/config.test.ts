/** Config validation (lib/config.ts) and naming rules (lib/naming.ts): each rule throws and passes. */
import {
  ConfigValidationError,
  validateConfig,
  type RawStackConfig,
  maxBatchSize,
  replicatingOnlyKeys,
  secretConfigKeys,
  streamRecordBudgetMs,
} from "../lib/config";
import {
  environmentBytes,
  lambdaEnvironmentProblems,
  reservedLambdaEnvironmentKeys,
} from "../lib/lambda-environment";
import { contractVariableNames } from "../lib/replication/contract";
import {
  autoNamePattern,
  bucketNameProblems,
  dashboardNameProblems,
  functionNameProblems,
  logGroupNameProblems,
  physicalNames,
  tableNameProblems,
} from "../lib/naming";
import { standardTags } from "../lib/tags";

const key = (name: string): string => `data-pipeline:${name}`;

/** A stack's raw config; prod replicates into dev and staging unless `values` say otherwise. */
function raw(values: Record<string, string | undefined> = {}, stack = "prod"): RawStackConfig {
  const targets = key("replicationTargets");
  const replicating =
    stack === "prod" && !(targets in values) ? { [targets]: '["dev","staging"]' } : {};
  return {
    stack,
    project: "data-pipeline",
    organization: "acme",
    values: { "aws:region": "eu-west-1", ...replicating, ...values },
  };
}

function problemsOf(values: Record<string, string | undefined>, stack = "prod"): string[] {
  try {
    validateConfig(raw(values, stack));
  } catch (error: unknown) {
    if (error instanceof ConfigValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("validateConfig defaults", () => {
  it("derives the environment from the stack name and fills every default", () => {
    const config = validateConfig(raw({}, "staging"));

    expect(config).toEqual({
      stack: "staging",
      project: "data-pipeline",
      organization: "acme",
      environment: "staging",
      deletionProtection: false,
      region: "eu-west-1",
      namePrefix: "company",
      nameSuffix: undefined,
      lambda: {
        memoryMb: 256,
        timeoutSeconds: 60,
        logLevel: "INFO",
        maxAttempts: 5,
        batchSize: 10,
        extraEnvironment: {},
      },
      logRetentionDays: 30,
      lifecycleDays: 30,
      replicationTargets: [],
      replicationKeyPrefixes: [],
      tags: {},
      alertEmails: [],
      alarms: {
        periodSeconds: 300,
        evaluationPeriods: 1,
        errorsThreshold: 0,
        throttlesThreshold: 0,
        failedInvocationsThreshold: 0,
        failedChangesThreshold: 0,
        iteratorAgeSeconds: 900,
        replicationLatencySeconds: 900,
      },
    });
  });

  it("lets an ephemeral stack declare its environment and a name suffix", () => {
    const config = validateConfig(
      raw({ [key("environment")]: "dev", [key("nameSuffix")]: "pr-42" }, "pr-42"),
    );

    expect(config.environment).toBe("dev");
    expect(config.nameSuffix).toBe("pr-42");
  });

  it("reads every key", () => {
    const config = validateConfig(
      raw({
        [key("organization")]: "other-org",
        [key("namePrefix")]: "acme",
        [key("lambdaMemoryMb")]: "1024",
        [key("lambdaTimeoutSeconds")]: "300",
        [key("lambdaEnvironment")]: '{"FEATURE":"on"}',
        [key("logLevel")]: "DEBUG",
        [key("maxAttempts")]: "3",
        [key("batchSize")]: "100",
        [key("logRetentionDays")]: "90",
        [key("lifecycleDays")]: "7",
        [key("replicationTargets")]: '["dev","staging"]',
        [key("replicationKeyPrefixes")]: '["incoming/"]',
        [key("tags")]: '{"CostCenter":"42"}',
      }),
    );

    expect(config).toMatchObject({
      organization: "other-org",
      namePrefix: "acme",
      lambda: {
        memoryMb: 1024,
        timeoutSeconds: 300,
        logLevel: "DEBUG",
        maxAttempts: 3,
        batchSize: 100,
        extraEnvironment: { FEATURE: "on" },
      },
      logRetentionDays: 90,
      lifecycleDays: 7,
      replicationTargets: ["dev", "staging"],
      replicationKeyPrefixes: ["incoming/"],
      tags: { CostCenter: "42" },
    });
  });
});

describe("validateConfig rules", () => {
  const cases: [string, Record<string, string | undefined>, RegExp, string?][] = [
    [
      "environment that cannot be part of a name",
      { [key("environment")]: "Q_A" },
      /environment = "Q_A" \(must be lowercase letters, digits and hyphens/,
    ],
    [
      "environment defaulting to a stack name that cannot be part of a name",
      {},
      /data-pipeline:environment = "PR_7"/,
      "PR_7",
    ],
    [
      "deletion protection that is not a boolean",
      { [key("deletionProtection")]: "yes" },
      /data-pipeline:deletionProtection = "yes" \(must be true or false\)/,
    ],
    [
      "unknown key",
      { [key("lambdaTimeout")]: "30" },
      /data-pipeline:lambdaTimeout = "30" \(unknown key/,
    ],
    ["missing region", { "aws:region": undefined }, /aws:region is not set/],
    ["malformed region", { "aws:region": "Europe" }, /aws:region = "Europe" \(not an AWS region/],
    [
      "Lambda timeout over 300 s",
      { [key("lambdaTimeoutSeconds")]: "900" },
      /data-pipeline:lambdaTimeoutSeconds = "900" \(max 300\)/,
    ],
    [
      "Lambda timeout not an integer",
      { [key("lambdaTimeoutSeconds")]: "1.5" },
      /lambdaTimeoutSeconds = "1.5" \(must be an integer\)/,
    ],
    [
      "Lambda timeout empty",
      { [key("lambdaTimeoutSeconds")]: " " },
      /lambdaTimeoutSeconds = " " \(must be an integer\)/,
    ],
    [
      "Lambda memory under 128 MB",
      { [key("lambdaMemoryMb")]: "64" },
      /lambdaMemoryMb = "64" \(min 128\)/,
    ],
    [
      "log retention CloudWatch does not offer",
      { [key("logRetentionDays")]: "10" },
      /logRetentionDays = "10" \(must be one of 1, 3, 5/,
    ],
    [
      "log level Powertools does not know",
      { [key("logLevel")]: "VERBOSE" },
      /logLevel = "VERBOSE"/,
    ],
    [
      "replication target equal to the source",
      { [key("replicationTargets")]: '["dev","prod"]' },
      /replicationTargets = "prod" \(a stack cannot replicate into itself\)/,
    ],
    [
      "replication target listed twice",
      { [key("replicationTargets")]: '["dev","dev"]' },
      /replicationTargets = "dev" \(listed twice\)/,
    ],
    [
      "replication target that is not a stack name",
      { [key("replicationTargets")]: '["a b"]' },
      /replicationTargets = "a b" \(not a stack name\)/,
    ],
    [
      "replication targets not a list",
      { [key("replicationTargets")]: '"dev"' },
      /replicationTargets = "\\"dev\\"" \(must be a list of strings\)/,
    ],
    [
      "replication targets not JSON",
      { [key("replicationTargets")]: "dev, staging" },
      /replicationTargets = "dev, staging" \(must be JSON/,
    ],
    [
      "empty key prefix",
      { [key("replicationKeyPrefixes")]: '[""]' },
      /replicationKeyPrefixes = "" \(empty prefix/,
    ],
    [
      "key prefixes that make the rule's event pattern longer than EventBridge's 2048 characters",
      { [key("replicationKeyPrefixes")]: JSON.stringify(["p".repeat(1709)]) },
      /data-pipeline:replicationKeyPrefixes = "\[\\"p{1709}\\"\]" \(makes the EventBridge rule's event pattern 2049 characters \(max 2048, EventBridge's default quota\)\)/,
    ],
    [
      "name prefix with capitals",
      { [key("namePrefix")]: "Company" },
      /namePrefix = "Company" \(must be lowercase/,
    ],
    [
      "name suffix with a dot",
      { [key("nameSuffix")]: "pr.42" },
      /nameSuffix = "pr.42" \(must be lowercase/,
    ],
    [
      "bucket name over 63 characters",
      { [key("namePrefix")]: "a-very-long-company-prefix-for-buckets" },
      /S3 bucket name "a-very-long-company-prefix-for-buckets-data-prod-eu-west-1-123456789012" .*must be 3-63 characters \(is 71\) \(checked with a 12-digit account id\)/,
    ],
    [
      "reserved Lambda environment key",
      { [key("lambdaEnvironment")]: '{"AWS_REGION":"eu-west-1"}' },
      /data-pipeline:lambdaEnvironment sets "AWS_REGION" \(reserved by AWS Lambda\)/,
    ],
    [
      "Lambda environment key the program sets",
      { [key("lambdaEnvironment")]: '{"REGION":"x"}' },
      /lambdaEnvironment sets "REGION" \(set by the program\)/,
    ],
    [
      "invalid Lambda environment key",
      { [key("lambdaEnvironment")]: '{"1X":"y"}' },
      /lambdaEnvironment has an invalid variable name "1X"/,
    ],
    [
      "Lambda environment over 4 KB",
      {
        [key("lambdaEnvironment")]: JSON.stringify({ BIG: "x".repeat(4000) }),
        [key("replicationTargets")]: '["dev"]',
      },
      /lambdaEnvironment makes the Lambda environment up to \d+ bytes \(max 4096 in total\)/,
    ],
    [
      "Lambda environment not a map of strings",
      { [key("lambdaEnvironment")]: '{"N":1}' },
      /lambdaEnvironment = "\{\\"N\\":1\}" \(must be a map of strings to strings\)/,
    ],
    [
      "tag overriding a standard tag",
      { [key("tags")]: '{"Environment":"x"}' },
      /tags = "Environment" \(set by the program\)/,
    ],
    [
      "tag key in the aws: namespace",
      { [key("tags")]: '{"aws:foo":"x"}' },
      /tags = "aws:foo" \(tag keys may not start with aws: in any case \(reserved for AWS\)\)/,
    ],
    [
      "tag key in the AWS: namespace, in capitals",
      { [key("tags")]: '{"AWS:Foo":"x"}' },
      /tags = "AWS:Foo" \(tag keys may not start with aws: in any case/,
    ],
    [
      "tag key over 128 characters",
      { [key("tags")]: JSON.stringify({ ["k".repeat(129)]: "x" }) },
      /tags = "k{129}" \(tag keys are 1-128 characters \(is 129\)\)/,
    ],
    [
      "targets that make the function's description longer than Lambda's 256 characters",
      { [key("replicationTargets")]: JSON.stringify(["a", "b", "c"].map((c) => c.repeat(100))) },
      /data-pipeline:replicationTargets = "\[\\"a{100}\\",\\"b{100}\\",\\"c{100}\\"\]" \(makes the Lambda function description 333 characters \(max 256\): "Replicates prod changes into a{100}, b{100}, c{100}"\)/,
    ],
    [
      "tag value over 256 characters",
      { [key("tags")]: JSON.stringify({ Team: "v".repeat(257) }) },
      /tags = "v{257}" \(value of tag Team: 1-256 characters \(is 257; SQS refuses an empty value\)\)/,
    ],
    [
      "empty tag value (SQS refuses it)",
      { [key("tags")]: '{"Team":""}' },
      /tags = "" \(value of tag Team: 1-256 characters \(is 0; SQS refuses an empty value\)\)/,
    ],
    [
      "tag value with a comma (IAM and DynamoDB refuse it)",
      { [key("tags")]: '{"Team":"data,ops"}' },
      /tags = "data,ops" \(value of tag Team: only letters, digits, spaces and _ \. : \/ = \+ - \(DynamoDB allows no other\)\)/,
    ],
    [
      "tag value with an ampersand",
      { [key("tags")]: '{"Team":"data&ops"}' },
      /tags = "data&ops" \(value of tag Team: only letters/,
    ],
    [
      "tag value with an at sign (IAM takes it, DynamoDB does not)",
      { [key("tags")]: '{"Owner":"ops@example.com"}' },
      /tags = "ops@example.com" \(value of tag Owner: only letters/,
    ],
    [
      "tag key with a character no service allows",
      { [key("tags")]: '{"Cost#Center":"42"}' },
      /tags = "Cost#Center" \(tag keys may contain only letters, digits, spaces and _ \. : \/ = \+ -/,
    ],
    [
      "tag key differing from a standard tag's only in case (IAM refuses it)",
      { [key("tags")]: '{"environment":"x"}' },
      /tags = "environment" \(differs from the tag Environment only in case \(IAM refuses that on a role\)\)/,
    ],
    [
      "two tag keys differing only in case",
      { [key("tags")]: '{"Team":"a","TEAM":"b"}' },
      /tags = "TEAM" \(differs from the tag Team only in case/,
    ],
    [
      "more tags than a resource takes with the program's three",
      {
        [key("tags")]: JSON.stringify(
          Object.fromEntries(Array.from({ length: 48 }, (_, i) => [`T${i}`, "v"])),
        ),
      },
      /tags = "\[\\"T0\\",.*\\"T47\\"\]" \(48 tags and the program's 3 make 51 on every resource \(max 50 per resource\)\)/,
    ],
  ];

  // Every row has four columns, so jest does not mistake the last parameter for `done`.
  const rows = cases.map(
    ([name, values, message, stack]) => [name, values, message, stack ?? "prod"] as const,
  );

  it.each(rows)("rejects %s", (_name, values, message, stack) => {
    expect(() => validateConfig(raw(values, stack))).toThrow(message);
  });

  it.each(rows)("names the stack for %s", (_name, values, _message, stack) => {
    expect(() => validateConfig(raw(values, stack))).toThrow(`Invalid stack config "${stack}": `);
  });

  const fine: [string, Record<string, string>][] = [
    ["a known environment", { [key("environment")]: "dev" }],
    ["a Lambda timeout of 300 s", { [key("lambdaTimeoutSeconds")]: "300" }],
    ["the largest Lambda memory", { [key("lambdaMemoryMb")]: "10240" }],
    ["a retention CloudWatch offers", { [key("logRetentionDays")]: "3653" }],
    [
      "replication targets other than the source",
      { [key("replicationTargets")]: '["dev","staging"]' },
    ],
    [
      "a bucket name of exactly 63 characters",
      { [key("namePrefix")]: "abcdefghijklmnopqrstuvwxyz-0" },
    ],
    ["an extra Lambda variable", { [key("lambdaEnvironment")]: '{"FEATURE_FLAG":"on"}' }],
    [
      "a Lambda environment just under 4 KB",
      {
        [key("lambdaEnvironment")]: JSON.stringify({ BIG: "x".repeat(3200) }),
        [key("replicationTargets")]: '["dev"]',
      },
    ],
    ["an extra tag", { [key("tags")]: '{"CostCenter":"42"}' }],
    [
      "tags of every character every service allows",
      {
        [key("tags")]: JSON.stringify({
          "Équipe données": "Ops: a/b=c+d-e_f.g 42",
          ["k".repeat(128)]: "v".repeat(256),
        }),
      },
    ],
    [
      "47 extra tags (50 with the program's)",
      {
        [key("tags")]: JSON.stringify(
          Object.fromEntries(Array.from({ length: 47 }, (_, i) => [`T${i}`, "v"])),
        ),
      },
    ],
    [
      "two targets of 100 characters (a function description of 231)",
      { [key("replicationTargets")]: JSON.stringify(["a", "b"].map((c) => c.repeat(100))) },
    ],
    ["key prefixes", { [key("replicationKeyPrefixes")]: '["a/","b/"]' }],
    [
      "key prefixes that make an event pattern of exactly 2048 characters",
      { [key("replicationKeyPrefixes")]: JSON.stringify(["p".repeat(1708)]) },
    ],
  ];

  it.each(fine)("accepts %s", (_name, values) => {
    expect(() => validateConfig(raw(values))).not.toThrow();
  });

  it("gathers every problem into one error, in key order of discovery", () => {
    const problems = problemsOf({
      [key("environment")]: "Q A",
      [key("lambdaTimeoutSeconds")]: "900",
      [key("lambdaEnvironment")]: '{"AWS_REGION":"x","_HANDLER":"y"}',
    });

    expect(problems).toEqual([
      'data-pipeline:environment = "Q A" (must be lowercase letters, digits and hyphens, starting and ending with a letter or digit)',
      'data-pipeline:lambdaTimeoutSeconds = "900" (max 300)',
      'data-pipeline:lambdaEnvironment sets "AWS_REGION" (reserved by AWS Lambda)',
      'data-pipeline:lambdaEnvironment sets "_HANDLER" (reserved by AWS Lambda)',
    ]);
  });

  it("checks the worst-case environment of every target (63-char buckets, 255-char tables)", () => {
    const oneTarget = JSON.stringify({ PAD: "x".repeat(3200) });

    expect(
      problemsOf({
        [key("lambdaEnvironment")]: oneTarget,
        [key("replicationTargets")]: '["dev"]',
      }),
    ).toEqual([]);
    expect(
      problemsOf({
        [key("lambdaEnvironment")]: oneTarget,
        [key("replicationTargets")]: '["dev","staging"]',
      }),
    ).toEqual([
      expect.stringMatching(
        /lambdaEnvironment makes the Lambda environment up to \d+ bytes \(max 4096 in total\)/,
      ),
    ]);
  });

  it("accepts any environment that can be part of a name, and deletion protection by config", () => {
    const config = validateConfig(
      raw({ [key("environment")]: "qa", [key("deletionProtection")]: "true" }, "qa"),
    );

    expect(config.environment).toBe("qa");
    expect(config.deletionProtection).toBe(true);
    expect(validateConfig(raw({ [key("deletionProtection")]: "false" })).deletionProtection).toBe(
      false,
    );
  });
});

describe("keys only a replicating stack uses", () => {
  it("are refused, all at once, by a stack that replicates nothing", () => {
    const values = {
      [key("logRetentionDays")]: "14",
      [key("batchSize")]: "5",
      [key("alarmErrorsThreshold")]: "2",
      [key("lifecycleDays")]: "7",
    };

    expect(problemsOf(values, "dev")).toEqual(
      ["batchSize", "logRetentionDays", "alarmErrorsThreshold"].map(
        (name) =>
          `data-pipeline:${name} = "${values[key(name)] ?? ""}" (only a replicating stack uses ` +
          "it, and this stack sets no data-pipeline:replicationTargets: remove it)",
      ),
    );
  });

  it("are each accepted by a replicating stack, and each refused elsewhere", () => {
    const sample: Record<(typeof replicatingOnlyKeys)[number], string> = {
      organization: "acme",
      replicationKeyPrefixes: '["a/"]',
      lambdaMemoryMb: "512",
      lambdaTimeoutSeconds: "120",
      lambdaEnvironment: '{"FEATURE":"on"}',
      logLevel: "DEBUG",
      maxAttempts: "3",
      batchSize: "5",
      logRetentionDays: "14",
      alarmPeriodSeconds: "60",
      alarmEvaluationPeriods: "2",
      alarmErrorsThreshold: "1",
      alarmThrottlesThreshold: "1",
      alarmFailedInvocationsThreshold: "1",
      alarmFailedChangesThreshold: "1",
      masking: '{"items":{"email":"email"}}',
      alarmIteratorAgeSeconds: "60",
      alarmReplicationLatencySeconds: "60",
    };
    for (const name of replicatingOnlyKeys) {
      expect(problemsOf({ [key(name)]: sample[name] }, "prod")).toEqual([]);
      expect(problemsOf({ [key(name)]: sample[name] }, "staging")).toEqual([
        expect.stringContaining(`data-pipeline:${name} = `) as unknown,
      ]);
    }
  });
});

describe("lambdaEnvironmentProblems", () => {
  it.each(reservedLambdaEnvironmentKeys)("rejects the reserved key %s", (name) => {
    expect(lambdaEnvironmentProblems({ [name]: "x" })).toEqual([
      `lambda environment sets "${name}" (reserved by AWS Lambda)`,
    ]);
  });

  it("accepts REGION and the rest of the contract", () => {
    const env = Object.fromEntries(contractVariableNames.map((k) => [k, "v"]));

    expect(lambdaEnvironmentProblems(env)).toEqual([]);
    expect(contractVariableNames).toContain("REGION");
  });

  it("counts keys and values in UTF-8 bytes", () => {
    expect(environmentBytes({ AB: "é" })).toBe(4);
    expect(lambdaEnvironmentProblems({ KEY: "x".repeat(4093) })).toEqual([]);
    expect(lambdaEnvironmentProblems({ KEY: "x".repeat(4094) })).toEqual([
      "lambda environment is 4097 bytes (max 4096 in total)",
    ]);
  });
});

describe("naming", () => {
  it("builds the physical names from prefix, environment, region and uniqueness", () => {
    expect(
      physicalNames({
        namePrefix: "company",
        environment: "prod",
        region: "eu-west-1",
        uniqueness: "123456789012",
      }),
    ).toEqual({
      bucket: "company-data-prod-eu-west-1-123456789012",
      table: "company-metadata-prod",
      replicationFunction: "company-replication-prod",
      replicationLogGroup: "/aws/lambda/company-replication-prod",
      replicationRole: "company-replication-prod-eu-west-1",
      replicationDashboard: "company-replication-prod-eu-west-1",
      maskingSecret: "company-masking-prod",
    });
  });

  it("carries a configured suffix into the account-scoped names", () => {
    expect(
      physicalNames({
        namePrefix: "company",
        environment: "dev",
        region: "eu-west-1",
        uniqueness: "pr-42",
        nameSuffix: "pr-42",
      }),
    ).toEqual({
      bucket: "company-data-dev-eu-west-1-pr-42",
      table: "company-metadata-dev-pr-42",
      replicationFunction: "company-replication-dev-pr-42",
      replicationLogGroup: "/aws/lambda/company-replication-dev-pr-42",
      replicationRole: "company-replication-dev-eu-west-1-pr-42",
      replicationDashboard: "company-replication-dev-eu-west-1-pr-42",
      maskingSecret: "company-masking-dev-pr-42",
    });
  });

  it.each([
    ["ab", /must be 3-63 characters \(is 2\)/],
    ["a".repeat(64), /must be 3-63 characters \(is 64\)/],
    ["Data-Bucket", /only lowercase letters, digits, dots and hyphens/],
    ["-bucket", /must begin and end with a letter or digit/],
    ["bucket-", /must begin and end with a letter or digit/],
    ["my..bucket", /two adjacent dots/],
    ["192.168.5.4", /IP address/],
    ["xn--bucket", /must not start with "xn--"/],
    ["sthree-bucket", /must not start with "sthree-"/],
    ["amzn-s3-demo-bucket", /must not start with "amzn-s3-demo-"/],
    ["bucket-s3alias", /must not end with "-s3alias"/],
    ["bucket--ol-s3", /must not end with "--ol-s3"/],
    ["bucket.mrap", /must not end with ".mrap"/],
    ["bucket--x-s3", /must not end with "--x-s3"/],
    ["bucket--table-s3", /must not end with "--table-s3"/],
  ])("rejects the bucket name %s", (name, problem) => {
    expect(bucketNameProblems(name).join("; ")).toMatch(problem);
  });

  it.each(["abc", "a".repeat(63), "company-data-prod-eu-west-1-123456789012", "my.bucket.1"])(
    "accepts the bucket name %s",
    (name) => {
      expect(bucketNameProblems(name)).toEqual([]);
    },
  );

  it("names the dashboards of one environment in two regions apart (dashboards are account-global)", () => {
    const names = ["eu-west-1", "us-east-1"].map(
      (region) =>
        physicalNames({ namePrefix: "company", environment: "prod", region, uniqueness: "" })
          .replicationDashboard,
    );

    expect(names).toEqual([
      "company-replication-prod-eu-west-1",
      "company-replication-prod-us-east-1",
    ]);
  });

  it("checks CloudWatch dashboard names", () => {
    expect(dashboardNameProblems("d".repeat(256))).toEqual(["must be 1-255 characters (is 256)"]);
    expect(dashboardNameProblems("")).toEqual(["must be 1-255 characters (is 0)"]);
    expect(dashboardNameProblems("prod.dashboard")).toEqual([
      "may contain only letters, digits, '-' and '_'",
    ]);
    expect(dashboardNameProblems(`Company_replication-prod-eu-west-1${"d".repeat(221)}`)).toEqual(
      [],
    );
  });

  it("checks CloudWatch Logs log group names", () => {
    expect(logGroupNameProblems(`/aws/lambda/${"f".repeat(501)}`)).toEqual([
      "must be 1-512 characters (is 513)",
    ]);
    expect(logGroupNameProblems("/aws/lambda/fn v1")).toEqual([
      "may contain only letters, digits and '.-_/#'",
    ]);
    expect(logGroupNameProblems(`/aws/lambda/My_fn.v1-#${"f".repeat(490)}`)).toEqual([]);
  });

  it("checks DynamoDB table names", () => {
    expect(tableNameProblems("ab")).toEqual(["must be 3-255 characters (is 2)"]);
    expect(tableNameProblems("t".repeat(256))).toEqual(["must be 3-255 characters (is 256)"]);
    expect(tableNameProblems("my table")).toEqual([
      "may contain only letters, digits, '_', '-' and '.'",
    ]);
    expect(tableNameProblems("My_table.v1-x")).toEqual([]);
  });

  it("checks Lambda function names", () => {
    expect(functionNameProblems("f".repeat(65))).toEqual(["must be 1-64 characters (is 65)"]);
    expect(functionNameProblems("")).toEqual(["must be 1-64 characters (is 0)"]);
    expect(functionNameProblems("fn.v1")).toEqual([
      "may contain only letters, digits, '_' and '-'",
    ]);
    expect(functionNameProblems("company-replication-prod")).toEqual([]);
  });

  it("recognises Pulumi's auto-names: the logical name, a hyphen, 7 hex digits", () => {
    const pattern = autoNamePattern("pipeline-replication-role");

    expect("pipeline-replication-role-1a2b3c4").toMatch(pattern);
    expect("pipeline-replication-role-1a2b3c").not.toMatch(pattern);
    expect("pipeline-replication-roleX1a2b3c4").not.toMatch(pattern);
    expect("a.b-1234567").toMatch(autoNamePattern("a.b"));
    expect("aXb-1234567").not.toMatch(autoNamePattern("a.b"));
  });

  it.each([
    ["pipeline", "role", "eu-west-1", undefined],
    ["pipeline", "role", "us-gov-west-1", "abc1234"],
    ["a", "b", "cn-north-1", "0"],
    ["company", "prod", "eu-west-1", undefined],
  ])(
    "names the replication role (%s, %s, %s, suffix %s) unlike its earlier auto-name",
    (namePrefix, environment, region, nameSuffix) => {
      const { replicationRole } = physicalNames({
        namePrefix,
        environment,
        region,
        uniqueness: nameSuffix ?? "",
        nameSuffix,
      });

      // The region's own hyphens leave the fixed name at least five; the auto-name has three.
      expect(replicationRole).not.toMatch(autoNamePattern("pipeline-replication-role"));
      expect(replicationRole.split("-").length).toBeGreaterThanOrEqual(6);
    },
  );

  it("rejects a function name over 64 characters through the config", () => {
    const functionProblem = /Lambda function name "company-replication-prod-s+" .*1-64 characters/;

    expect(problemsOf({ [key("nameSuffix")]: "s".repeat(39) }).join("\n")).not.toMatch(
      functionProblem,
    );
    expect(problemsOf({ [key("nameSuffix")]: "s".repeat(40) })).toContainEqual(
      expect.stringMatching(/Lambda function name "company-replication-prod-s{40}" .*\(is 65\)/),
    );
  });
});

describe("standardTags", () => {
  it("sets Environment, Project and ManagedBy over extra tags", () => {
    expect(standardTags("prod", "data-pipeline", { Team: "data", ManagedBy: "me" })).toEqual({
      Team: "data",
      Environment: "prod",
      Project: "data-pipeline",
      ManagedBy: "pulumi",
    });
  });
});

describe("secret config values", () => {
  it("refuses a secret of this namespace, naming the key, and lets other namespaces' secrets be", () => {
    const secret = (keys: string[]) => () =>
      validateConfig({ ...raw({ [key("lambdaEnvironment")]: '{"TOKEN":"x"}' }), secretKeys: keys });

    expect(secret(["data-pipeline:lambdaEnvironment"])).toThrow(
      /data-pipeline:lambdaEnvironment is a secret, but its value would reach the Lambda environment, names or tags in clear text/,
    );
    expect(secret(["aws:secretKey"])).not.toThrow();
  });

  it("reads the secret keys the Pulumi CLI passes in PULUMI_CONFIG_SECRET_KEYS", () => {
    expect(secretConfigKeys({ PULUMI_CONFIG_SECRET_KEYS: '["data-pipeline:tags",3]' })).toEqual([
      "data-pipeline:tags",
    ]);
    expect(secretConfigKeys({ PULUMI_CONFIG_SECRET_KEYS: '{"a":1}' })).toEqual([]);
    expect(secretConfigKeys({})).toEqual([]);
  });
});

describe("batchSize bound", () => {
  it("keeps a batch within half the timeout at the planning cost per record", () => {
    expect(maxBatchSize(60)).toBe(120);
    expect(maxBatchSize(120)).toBe(240);
    expect(maxBatchSize(1)).toBe(2);
    expect(() =>
      validateConfig(raw({ [key("batchSize")]: "120", [key("lambdaTimeoutSeconds")]: "60" })),
    ).not.toThrow();
    expect(() =>
      validateConfig(raw({ [key("batchSize")]: "121", [key("lambdaTimeoutSeconds")]: "60" })),
    ).toThrow(
      `data-pipeline:batchSize = "121" (max 120 with lambdaTimeoutSeconds 60: a batch must fit half the timeout at ${streamRecordBudgetMs} ms per record)`,
    );
  });
});
