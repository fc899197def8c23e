/**
 * Accounts and partitions (lib/accounts.ts) and the config rules of the cross-account layout
 * (lib/config.ts): the pinned account, the replicating stack's account a target grants, the role
 * name both sides derive. Every rule throws and passes.
 */
import {
  accountRootArn,
  dynamodbViaService,
  parseAllowedAccountIds,
  partitionOf,
  pinnedAccountId,
  roleArn,
} from "../lib/accounts";
import { validateConfig, type RawStackConfig } from "../lib/config";
import { roleNameProblems } from "../lib/naming";

const key = (name: string): string => `data-pipeline:${name}`;
const devAccount = "111111111111";
const prodAccount = "333333333333";

function raw(values: Record<string, string | undefined>, stack = "dev"): RawStackConfig {
  return {
    stack,
    project: "data-pipeline",
    organization: "acme",
    values: { "aws:region": "eu-west-1", ...values },
  };
}

const target = (values: Record<string, string | undefined> = {}): RawStackConfig =>
  raw({
    "aws:allowedAccountIds": JSON.stringify([devAccount]),
    [key("sourceAccountId")]: prodAccount,
    ...values,
  });

describe("partitions", () => {
  it.each([
    ["eu-west-1", "aws", "amazonaws.com"],
    ["us-east-1", "aws", "amazonaws.com"],
    ["cn-north-1", "aws-cn", "amazonaws.com.cn"],
    ["cn-northwest-1", "aws-cn", "amazonaws.com.cn"],
    ["us-gov-west-1", "aws-us-gov", "amazonaws.com"],
    ["us-iso-east-1", "aws-iso", "c2s.ic.gov"],
  ])("puts %s in %s (%s)", (region, name, dnsSuffix) => {
    expect(partitionOf(region)).toEqual({ name, dnsSuffix });
  });

  it("forms the principals and the DynamoDB endpoint of a partition", () => {
    expect(accountRootArn("aws", prodAccount)).toBe("arn:aws:iam::333333333333:root");
    expect(roleArn("aws-cn", prodAccount, "r")).toBe("arn:aws-cn:iam::333333333333:role/r");
    expect(dynamodbViaService("us-east-1")).toBe("dynamodb.us-east-1.amazonaws.com");
    expect(dynamodbViaService("cn-north-1")).toBe("dynamodb.cn-north-1.amazonaws.com.cn");
  });
});

describe("aws:allowedAccountIds", () => {
  it("reads a list of ids, quoted or not, and pins the first", () => {
    expect(parseAllowedAccountIds(undefined)).toEqual({ accountIds: [], problem: undefined });
    expect(parseAllowedAccountIds('["111111111111","222222222222"]')).toEqual({
      accountIds: ["111111111111", "222222222222"],
      problem: undefined,
    });
    expect(parseAllowedAccountIds("[111111111111]")).toEqual({
      accountIds: ["111111111111"],
      problem: undefined,
    });
    expect(pinnedAccountId('["111111111111","222222222222"]')).toBe("111111111111");
    expect(pinnedAccountId(undefined)).toBeUndefined();
    expect(pinnedAccountId("not json")).toBeUndefined();
  });

  it.each([["not json"], ["[]"], ['["1234"]'], ['{"a":"111111111111"}'], ["[12345678901]"]])(
    "rejects %s",
    (value) => {
      expect(parseAllowedAccountIds(value)).toEqual({
        accountIds: [],
        problem: "must be a list of 12-digit account ids",
      });
      expect(() => validateConfig(raw({ "aws:allowedAccountIds": value }))).toThrow(
        `aws:allowedAccountIds = ${JSON.stringify(value)} (must be a list of 12-digit account ids)`,
      );
    },
  );

  it("accepts a pinned account and reports it as the stack's account", () => {
    const config = validateConfig(raw({ "aws:allowedAccountIds": `["${devAccount}"]` }));

    expect(config.accountId).toBe(devAccount);
    expect(config.replicationSource).toBeUndefined();
    expect(validateConfig(raw({})).accountId).toBeUndefined();
  });
});

describe("the replicating stack's account in a target stack", () => {
  it("derives the source role from the target's prefix, the source environment and region", () => {
    const config = validateConfig(
      target({ "aws:region": "us-east-1", [key("sourceRegion")]: "eu-west-1" }),
    );

    expect(config.replicationSource).toEqual({
      accountId: prodAccount,
      environment: "prod",
      region: "eu-west-1",
      roleName: "company-replication-prod-eu-west-1",
    });
  });

  it("defaults the source to prod in the stack's own region, and takes other values", () => {
    expect(validateConfig(target()).replicationSource?.roleName).toBe(
      "company-replication-prod-eu-west-1",
    );
    const config = validateConfig(
      target({
        [key("namePrefix")]: "acme",
        [key("sourceEnvironment")]: "live",
        [key("sourceRegion")]: "eu-central-1",
      }),
    );
    expect(config.replicationSource?.roleName).toBe("acme-replication-live-eu-central-1");
  });

  const cases: [string, RawStackConfig, RegExp][] = [
    [
      "an account id that is not 12 digits",
      target({ [key("sourceAccountId")]: "33333333333" }),
      /data-pipeline:sourceAccountId = "33333333333" \(must be a 12-digit AWS account id\)/,
    ],
    [
      "the source account on the replicating stack itself",
      raw(
        { [key("sourceAccountId")]: prodAccount, [key("replicationTargets")]: '["dev"]' },
        "prod",
      ),
      /data-pipeline:sourceAccountId = "333333333333" \(this stack replicates \(data-pipeline:replicationTargets\): set it on its target stacks\)/,
    ],
    [
      "the source region on the replicating stack itself",
      raw({ [key("sourceRegion")]: "eu-west-1", [key("replicationTargets")]: '["dev"]' }, "prod"),
      /data-pipeline:sourceRegion = "eu-west-1" \(this stack replicates/,
    ],
    [
      "the source account equal to the account the stack pins",
      target({ [key("sourceAccountId")]: devAccount }),
      /data-pipeline:sourceAccountId = "111111111111" \(this stack's own account \(aws:allowedAccountIds = \["111111111111"\]\): a replicating stack in the same account needs no grants, remove the key\)/,
    ],
    [
      "the source account among the accounts the stack pins",
      target({ "aws:allowedAccountIds": `["${devAccount}","${prodAccount}"]` }),
      /sourceAccountId = "333333333333" \(this stack's own account/,
    ],
    [
      "a source environment without a source account",
      raw({ [key("sourceEnvironment")]: "prod" }),
      /data-pipeline:sourceEnvironment = "prod" \(only with data-pipeline:sourceAccountId\)/,
    ],
    [
      "a source region without a source account",
      raw({ [key("sourceRegion")]: "eu-west-1" }),
      /data-pipeline:sourceRegion = "eu-west-1" \(only with data-pipeline:sourceAccountId\)/,
    ],
    [
      "a source environment that cannot be part of a name",
      target({ [key("sourceEnvironment")]: "Prod" }),
      /data-pipeline:sourceEnvironment = "Prod" \(must be lowercase letters/,
    ],
    [
      "a source region that is not a region name",
      target({ [key("sourceRegion")]: "Ireland" }),
      /data-pipeline:sourceRegion = "Ireland" \(not an AWS region name/,
    ],
    [
      "a source in another partition (China)",
      target({ [key("sourceRegion")]: "cn-north-1" }),
      /data-pipeline:sourceRegion = "cn-north-1" \(in partition aws-cn, but this stack \(aws:region = "eu-west-1"\) is in aws: accounts and credentials never cross a partition\)/,
    ],
    [
      "a source in another partition (GovCloud) of a stack in China",
      target({ "aws:region": "cn-north-1", [key("sourceRegion")]: "us-gov-west-1" }),
      /sourceRegion = "us-gov-west-1" \(in partition aws-us-gov, but this stack \(aws:region = "cn-north-1"\) is in aws-cn/,
    ],
    [
      "a source role name over 64 characters",
      target({ [key("sourceEnvironment")]: "production-environment-with-a-long-name" }),
      /IAM role name "company-replication-production-environment-with-a-long-name-eu-west-1" of the source's replication role from data-pipeline:namePrefix\/data-pipeline:sourceEnvironment\/data-pipeline:sourceRegion: must be 1-64 characters \(is 69\)/,
    ],
    [
      "a replication role name over 64 characters",
      raw(
        {
          [key("environment")]: "production-environment-with-a-long-name",
          [key("replicationTargets")]: '["dev"]',
        },
        "prod",
      ),
      /IAM role name "company-replication-production-environment-with-a-long-name-eu-west-1" of the replication role from data-pipeline:namePrefix\/data-pipeline:environment\/aws:region: must be 1-64 characters \(is 69\)/,
    ],
  ];

  it.each(cases)("rejects %s", (_name, config, message) => {
    expect(() => validateConfig(config)).toThrow(message);
  });

  const fine: [string, RawStackConfig][] = [
    ["a 12-digit source account on a target", target()],
    [
      "a source account on a stack that pins no account",
      raw({ [key("sourceAccountId")]: prodAccount }),
    ],
    [
      "a source account other than every pinned one",
      target({ "aws:allowedAccountIds": `["${devAccount}","222222222222"]` }),
    ],
    [
      "a source environment and region with a source account",
      target({ [key("sourceEnvironment")]: "live", [key("sourceRegion")]: "us-east-1" }),
    ],
    [
      "a source in the same partition, China",
      target({ "aws:region": "cn-northwest-1", [key("sourceRegion")]: "cn-north-1" }),
    ],
    [
      "a replicating stack with targets and no source keys",
      raw({ [key("replicationTargets")]: '["dev"]' }, "prod"),
    ],
    [
      "a replication role of exactly 64 characters (with a name suffix)",
      raw(
        {
          [key("environment")]: "e".repeat(32),
          [key("nameSuffix")]: "x",
          [key("replicationTargets")]: '["dev"]',
        },
        "prod",
      ),
    ],
  ];

  it.each(fine)("accepts %s", (_name, config) => {
    expect(() => validateConfig(config)).not.toThrow();
  });

  it("reports every account problem at once, without deriving a role from bad parts", () => {
    expect(() =>
      validateConfig(
        target({
          "aws:allowedAccountIds": "[1]",
          [key("sourceAccountId")]: "x",
          [key("sourceRegion")]: "cn-north-1",
        }),
      ),
    ).toThrow(
      'Invalid stack config "dev": aws:allowedAccountIds = "[1]" (must be a list of 12-digit account ids); ' +
        'data-pipeline:sourceAccountId = "x" (must be a 12-digit AWS account id); ' +
        'data-pipeline:sourceRegion = "cn-north-1" (in partition aws-cn, but this stack (aws:region = "eu-west-1") is in aws: accounts and credentials never cross a partition)',
    );
  });
});

describe("the worst-case Lambda environment with targets in other accounts", () => {
  it("counts a table ARN and a region per target, within 4 KB", () => {
    const pad = (bytes: number): string => JSON.stringify({ PAD: "x".repeat(bytes) });
    const targets = JSON.stringify(["dev", "staging"]);
    const replicating = (extra: string): RawStackConfig =>
      raw({ [key("replicationTargets")]: targets, [key("lambdaEnvironment")]: extra }, "prod");

    // 2900 bytes of padding fit with bare 255-char table names and no region (about 3970 bytes
    // in all, NODE_OPTIONS included); with each target's table ARN and region they do not.
    expect(() => validateConfig(replicating(pad(2800)))).not.toThrow();
    expect(() => validateConfig(replicating(pad(2900)))).toThrow(
      /lambdaEnvironment makes the Lambda environment up to \d+ bytes \(max 4096 in total\)/,
    );
  });

  it("is left to the region's own problem when the region is invalid", () => {
    expect(() =>
      validateConfig(
        raw({ "aws:region": "Europe", [key("replicationTargets")]: '["dev"]' }, "prod"),
      ),
    ).toThrow(
      'Invalid stack config "prod": aws:region = "Europe" (not an AWS region name such as eu-west-1)',
    );
  });
});

describe("roleNameProblems", () => {
  it("allows the characters IAM allows, up to 64", () => {
    expect(roleNameProblems("a+=,.@_-b")).toEqual([]);
    expect(roleNameProblems("r".repeat(64))).toEqual([]);
    expect(roleNameProblems("r".repeat(65))).toEqual(["must be 1-64 characters (is 65)"]);
    expect(roleNameProblems("")).toEqual(["must be 1-64 characters (is 0)"]);
    expect(roleNameProblems("a/b")).toEqual(["may contain only letters, digits and '+=,.@_-'"]);
  });
});
