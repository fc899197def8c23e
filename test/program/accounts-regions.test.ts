/**
 * One account per environment and dev in another region (README "Accounts and regions"), planned
 * offline from a copy of the project with the stack-file lines that layout adds: each stack runs
 * in the account its stack file pins, the targets grant prod's replication role (by its derived
 * ARN) in their bucket policy, a table resource policy and their table key, prod's role policy
 * names the targets' real ARNs, and `TARGETS` carries each target's region and, across accounts,
 * its table's ARN. The same-account layout is unchanged (test/program/stacks.test.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkPlan } from "../../policy/rule-set";
import type { PolicyStatement } from "../../lib/iam";
import { stackAccountId, type PlannedResource, type StackPlan } from "../../tools/offline";
import {
  layout,
  layoutLines,
  planLayout,
  writeLayoutProject,
  type LayoutStack,
} from "../support/accounts-layout";
import { planInChild, planInJest } from "../support/pulumi-plan";
import { sharedLayoutPlans } from "../support/shared-plans";
import type { ChildPlanResult } from "../support/pulumi-plan-child";
import { jsonInput, named, ofType, onlyPipeline as only, output } from "../support/pulumi-query";

const T = {
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  table: "aws:dynamodb/table:Table",
  tablePolicy: "aws:dynamodb/resourcePolicy:ResourcePolicy",
  key: "aws:kms/key:Key",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  fn: "aws:lambda/function:Function",
} as const;

const prodRoleArn = `arn:aws:iam::${layout.prod.account}:role/company-replication-prod-eu-west-1`;
const bucketName = (s: LayoutStack): string =>
  `company-data-${s}-${layout[s].region}-${layout[s].account}`;
const tableArn = (s: LayoutStack): string =>
  `arn:aws:dynamodb:${layout[s].region}:${layout[s].account}:table/company-metadata-${s}`;
const grant = {
  Principal: { AWS: `arn:aws:iam::${layout.prod.account}:root` },
  Condition: { ArnEquals: { "aws:PrincipalArn": prodRoleArn } },
};

let dir: string;
let plans: Record<LayoutStack, StackPlan>;
const plan = (s: LayoutStack): StackPlan => plans[s];
const tableKey = (s: LayoutStack): PlannedResource => named(plan(s), T.key, "pipeline-table-key");
const statements = (r: PlannedResource, key = "policy"): PolicyStatement[] =>
  jsonInput(r, key).Statement as PolicyStatement[];

// Planned here in-process (the program's cross-account code runs under this suite's coverage);
// the other suites of the layout read the global setup's plans, which must be the same.
beforeAll(async () => {
  dir = writeLayoutProject();
  plans = await planLayout(dir, planInJest);
}, 60_000);

it("plans the layout as the global setup's shared plans have it", () => {
  expect(JSON.parse(JSON.stringify(plans))).toEqual(sharedLayoutPlans());
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("each stack's account and region", () => {
  it.each(["dev", "staging", "prod"] as const)(
    "plans %s in the account its stack file pins, in its own region",
    (s) => {
      expect(output(plan(s), "accountId")).toBe(layout[s].account);
      expect(output(plan(s), "region")).toBe(layout[s].region);
      expect(output(plan(s), "bucketName")).toBe(bucketName(s));
      expect(output(plan(s), "tableArn")).toBe(tableArn(s));
      expect(output(plan(s), "dlqArn")).toMatch(
        new RegExp(`^arn:aws:sqs:${layout[s].region}:${layout[s].account}:pipeline-dlq-`),
      );
    },
  );

  it("is the layout the README shows: its stack-file lines are the ones planned here", () => {
    const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");

    for (const stack of ["dev", "staging", "prod"] as const) {
      for (const line of layoutLines[stack].trimEnd().split("\n")) {
        expect([stack, readme.includes(`\n${line}\n`)]).toEqual([stack, true]);
      }
    }
    expect(readme).toContain(`\n  aws:region: ${layout.dev.region}\n`);
  });

  it("takes the offline account from aws:allowedAccountIds, else the default one", () => {
    expect(stackAccountId({ "aws:allowedAccountIds": '["444444444444","555555555555"]' })).toBe(
      "444444444444",
    );
    expect(stackAccountId({})).toBe("123456789012");
    expect(stackAccountId({ "aws:allowedAccountIds": '["444444444444"]' }, "666666666666")).toBe(
      "666666666666",
    );
  });

  it("gives prod's replication role the name the targets derive", () => {
    const role = only(plan("prod"), T.role);

    expect(role.inputs.name).toBe("company-replication-prod-eu-west-1");
    expect(role.state.arn).toBe(prodRoleArn);
    expect(output(plan("dev"), "replicationSourceRoleArn")).toBe(prodRoleArn);
    expect(output(plan("staging"), "replicationSourceRoleArn")).toBe(prodRoleArn);
    expect(plan("prod").outputs.replicationSourceRoleArn).toBeUndefined();
    expect(plan("prod").outputs.tableKeyArn).toBeUndefined();
  });
});

describe.each(["dev", "staging"] as const)("%s, a target in another account", (s) => {
  it("keeps the TLS-only deny and grants prod's role what its policy grants on targets", () => {
    const bucketArn = `arn:aws:s3:::${bucketName(s)}`;

    expect(statements(only(plan(s), T.bucketPolicy))).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      {
        Sid: "ReplicationRoleWritesObjects",
        Effect: "Allow",
        ...grant,
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:GetObjectTagging",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
          "s3:DeleteObject",
        ],
        Resource: `${bucketArn}/*`,
      },
      {
        Sid: "ReplicationRoleListsBucket",
        Effect: "Allow",
        ...grant,
        Action: "s3:ListBucket",
        Resource: bucketArn,
      },
    ]);
  });

  it("attaches a resource policy to its table granting prod's role the conditional writes", () => {
    const policy = only(plan(s), T.tablePolicy);

    expect(policy.inputs.resourceArn).toBe(tableArn(s));
    expect(statements(policy)).toEqual([
      {
        Sid: "ReplicationRoleWritesItems",
        Effect: "Allow",
        ...grant,
        Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
        Resource: tableArn(s),
      },
    ]);
  });

  it("encrypts its table with its own key, which prod's role may use through DynamoDB only", () => {
    const key = tableKey(s);
    const viaService = `dynamodb.${layout[s].region}.amazonaws.com`;

    expect(only(plan(s), T.table).inputs.serverSideEncryption).toEqual({
      enabled: true,
      kmsKeyArn: key.state.arn,
    });
    expect(output(plan(s), "tableKeyArn")).toBe(key.state.arn);
    expect(key.state.arn).toMatch(
      new RegExp(`^arn:aws:kms:${layout[s].region}:${layout[s].account}:key/`),
    );
    expect(key.inputs.enableKeyRotation).toBe(true);
    expect(statements(key)).toEqual([
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${layout[s].account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "AccountUsesKeyThroughDynamoDB",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
          "kms:CreateGrant",
        ],
        Resource: "*",
        Condition: {
          StringEquals: { "kms:CallerAccount": layout[s].account, "kms:ViaService": viaService },
        },
      },
      {
        Sid: "ReplicationRoleUsesKeyThroughDynamoDB",
        Effect: "Allow",
        Principal: grant.Principal,
        Action: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:DescribeKey",
        ],
        Resource: "*",
        Condition: {
          ArnEquals: grant.Condition.ArnEquals,
          StringEquals: { "kms:ViaService": viaService },
        },
      },
    ]);
  });

  it("passes the security baseline, which reports the table without its own key", () => {
    const keyless = plan(s).resources.map((r) =>
      r.type === T.table
        ? { ...r, inputs: { ...r.inputs, serverSideEncryption: { enabled: true } } }
        : r,
    );

    expect(checkPlan(plan(s))).toEqual([]);
    expect(checkPlan({ resources: keyless })).toEqual([
      expect.objectContaining({
        policy: "dynamodb-shared-table-own-key",
        message: expect.stringContaining(`table "company-metadata-${s}" is shared`) as unknown,
      }),
    ]);
  });
});

describe("prod, replicating into two other accounts", () => {
  it("names the targets' real ARNs, account and region, in its role policy", () => {
    const policy = statements(only(plan("prod"), T.rolePolicy));
    const sid = (name: string): PolicyStatement | undefined =>
      policy.find((statement) => statement.Sid === name);

    expect(sid("TargetObjectsWrite")?.Resource).toEqual([
      `arn:aws:s3:::${bucketName("dev")}/*`,
      `arn:aws:s3:::${bucketName("staging")}/*`,
    ]);
    expect(sid("TargetBucketsList")?.Resource).toEqual([
      `arn:aws:s3:::${bucketName("dev")}`,
      `arn:aws:s3:::${bucketName("staging")}`,
    ]);
    expect(sid("TargetTablesWrite")?.Resource).toEqual([tableArn("dev"), tableArn("staging")]);
    expect(sid("TargetTableKeysUse")).toEqual({
      Sid: "TargetTableKeysUse",
      Effect: "Allow",
      Action: [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
      ],
      Resource: [tableKey("dev").state.arn, tableKey("staging").state.arn],
      Condition: {
        StringEquals: {
          "kms:ViaService": [
            "dynamodb.us-east-1.amazonaws.com",
            "dynamodb.eu-west-1.amazonaws.com",
          ],
        },
      },
    });
  });

  it("gives the function each target's region, and the table ARN of each other account", () => {
    const fn = only(plan("prod"), T.fn);
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;

    expect(variables.REGION).toBe("eu-west-1");
    expect(JSON.parse(variables.TARGETS ?? "[]")).toEqual([
      {
        environment: "dev",
        bucket: bucketName("dev"),
        table: tableArn("dev"),
        region: "us-east-1",
      },
      {
        environment: "staging",
        bucket: bucketName("staging"),
        table: tableArn("staging"),
        region: "eu-west-1",
      },
    ]);
  });

  it("has no grants of its own and passes the security baseline", () => {
    expect(ofType(plan("prod"), T.tablePolicy)).toEqual([]);
    expect(ofType(plan("prod"), T.key).map((k) => k.name)).toEqual(["pipeline-topic-key"]);
    expect(statements(only(plan("prod"), T.bucketPolicy)).map((st) => st.Sid)).toEqual([
      "DenyInsecureTransport",
    ]);
    expect(only(plan("prod"), T.table).inputs.serverSideEncryption).toEqual({ enabled: true });
    expect(checkPlan(plan("prod"))).toEqual([]);
  });
});

describe("what the program refuses at deploy time", () => {
  // These fail inside an apply (unhandled rejections): planned in a child process, one after
  // another (planStack loads the program afresh for each), all four in one process.
  const devOutputs = (): Record<string, unknown> => plan("dev").outputs;
  const ungranted = (): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(devOutputs()).filter(
        ([name]) => name !== "replicationSourceRoleArn" && name !== "tableKeyArn",
      ),
    );
  const other = `arn:aws:iam::${layout.prod.account}:role/company-replication-live-eu-west-1`;
  let results: Record<"ungranted" | "other" | "partition" | "sameAccount", ChildPlanResult>;

  beforeAll(async () => {
    // A target that names prod's account, deployed with credentials of that very account.
    fs.writeFileSync(
      path.join(dir, "Pulumi.qa.yaml"),
      `config:\n  aws:region: eu-west-1\n  data-pipeline:sourceAccountId: "${layout.prod.account}"\n`,
    );
    const prodWith = (dev: Record<string, unknown>) => ({
      stack: "prod",
      options: { projectDir: dir, stackOutputs: { dev, staging: plan("staging").outputs } },
    });
    const [a, b, c, d] = await planInChild([
      prodWith(ungranted()),
      prodWith({ ...devOutputs(), replicationSourceRoleArn: other }),
      prodWith({ ...devOutputs(), region: "cn-north-1" }),
      { stack: "qa", options: { projectDir: dir, accountId: layout.prod.account } },
    ]);
    if (a === undefined || b === undefined || c === undefined || d === undefined) {
      throw new Error("the child process planned fewer stacks than asked");
    }
    results = { ungranted: a, other: b, partition: c, sameAccount: d };
  }, 60_000);

  it("fails prod on a target in another account that does not grant its role", () => {
    expect(results.ungranted).toEqual({
      ok: false,
      message: expect.stringContaining(
        `Stack "organization/data-pipeline/dev" is in account ${layout.dev.account} and grants ` +
          `no replication role, not this stack's ${prodRoleArn}: set ` +
          `data-pipeline:sourceAccountId "${layout.prod.account}", sourceEnvironment "prod" and ` +
          'sourceRegion "eu-west-1" in Pulumi.dev.yaml (with this stack\'s namePrefix; a ' +
          "replicating stack with a nameSuffix cannot be granted across accounts) and deploy it " +
          "before this stack",
      ) as unknown,
    });
  });

  it("fails prod on a target in another account that grants another role", () => {
    expect(results.other).toEqual({
      ok: false,
      message: expect.stringContaining(
        `grants ${other}, not this stack's ${prodRoleArn}`,
      ) as unknown,
    });
  });

  it("fails prod on a target in another partition, from the target's region output", () => {
    expect(results.partition).toEqual({
      ok: false,
      message: expect.stringContaining(
        'Stack "organization/data-pipeline/dev" output "region" = "cn-north-1" is in partition ' +
          "aws-cn, but this stack (eu-west-1) is in aws: replication cannot cross partitions " +
          "(accounts and credentials are scoped to one)",
      ) as unknown,
    });
  });

  it("fails a target whose source account turns out to be its own (its stack file pins none)", () => {
    expect(results.sameAccount).toEqual({
      ok: false,
      message: expect.stringContaining(
        `data-pipeline:sourceAccountId = "${layout.prod.account}" is the account this stack is ` +
          "deployed in: a replicating stack in the same account needs no grants, remove the key",
      ) as unknown,
    });
  });
});
