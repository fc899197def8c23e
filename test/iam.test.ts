/**
 * IAM proof: the policies the program synthesises (offline plans of dev, staging and prod) go
 * through @cloud-copilot/iam-simulate. The replication role's matrix is a table, one row per
 * check; every bucket policy denies requests without TLS, whoever makes them.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PlannedResource, StackPlan } from "../tools/offline";
import { planAllStacks, type AllStacks } from "./support/pulumi-plan";
import { jsonInput, named, ofType, onlyPipeline as only, output } from "./support/pulumi-query";

type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";
type Expected = "allow" | "deny";

/**
 * The replication role's matrix. Resources use placeholders resolved from the plans:
 * <prod-bucket>, <dev-table>, <prod-stream>, <prod-dlq>, <prod-success-topic>, <role>,
 * <account>, <region> ... (never hard-coded account or region). `<prod-dlq>-copy` is another
 * queue whose name starts with the DLQ's (a trailing wildcard would let it through). The offline
 * mocks auto-name per stack, as the engine does, so dev's and staging's DLQs and topics have ARNs
 * of their own and are rows here.
 */
const replicationMatrix: readonly [action: string, resource: string, expected: Expected][] = [
  // May read the prod bucket, table and stream.
  ["s3:GetObject", "<prod-bucket>/data/report.csv", "allow"],
  ["s3:GetObjectTagging", "<prod-bucket>/data/report.csv", "allow"],
  ["s3:ListBucket", "<prod-bucket>", "allow"],
  ["dynamodb:GetItem", "<prod-table>", "allow"],
  ["dynamodb:DescribeStream", "<prod-stream>", "allow"],
  ["dynamodb:GetRecords", "<prod-stream>", "allow"],
  ["dynamodb:GetShardIterator", "<prod-stream>", "allow"],
  // May write dev and staging objects and items.
  ["s3:PutObject", "<dev-bucket>/data/report.csv", "allow"],
  ["s3:PutObjectTagging", "<dev-bucket>/data/report.csv", "allow"],
  ["s3:GetObjectTagging", "<dev-bucket>/data/report.csv", "allow"],
  // Never reads a target item: the writes are conditional on the recorded sequence.
  ["dynamodb:GetItem", "<dev-table>", "deny"],
  ["dynamodb:GetItem", "<staging-table>", "deny"],
  ["s3:DeleteObject", "<dev-bucket>/data/report.csv", "allow"],
  ["s3:AbortMultipartUpload", "<dev-bucket>/data/big.bin", "allow"],
  ["s3:PutObject", "<staging-bucket>/data/report.csv", "allow"],
  ["s3:DeleteObject", "<staging-bucket>/data/report.csv", "allow"],
  ["dynamodb:PutItem", "<dev-table>", "allow"],
  ["dynamodb:DeleteItem", "<dev-table>", "allow"],
  ["dynamodb:PutItem", "<staging-table>", "allow"],
  ["dynamodb:DeleteItem", "<staging-table>", "allow"],
  // May send to its own DLQ (dead letters, failed invocations and stream batches).
  ["sqs:SendMessage", "<prod-dlq>", "allow"],
  // Publishes nothing: alarms notify the topics, not the function.
  ["sns:Publish", "<prod-success-topic>", "deny"],
  ["sns:Publish", "<prod-failure-topic>", "deny"],
  // May not write or delete anything in prod.
  ["s3:PutObject", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:DeleteObject", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:DeleteObjectVersion", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:PutObjectAcl", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:PutObjectTagging", "<prod-bucket>/data/report.csv", "deny"],
  ["dynamodb:PutItem", "<prod-table>", "deny"],
  ["dynamodb:DeleteItem", "<prod-table>", "deny"],
  ["dynamodb:UpdateItem", "<prod-table>", "deny"],
  ["dynamodb:BatchWriteItem", "<prod-table>", "deny"],
  // May not touch any other bucket, table, queue or topic.
  ["s3:GetObject", "arn:aws:s3:::someone-else/x", "deny"],
  ["s3:PutObject", "arn:aws:s3:::someone-else/x", "deny"],
  ["s3:ListBucket", "arn:aws:s3:::someone-else", "deny"],
  ["dynamodb:GetItem", "arn:aws:dynamodb:<region>:<account>:table/someone-else", "deny"],
  ["dynamodb:PutItem", "arn:aws:dynamodb:<region>:<account>:table/someone-else", "deny"],
  [
    "dynamodb:GetRecords",
    "arn:aws:dynamodb:<region>:<account>:table/someone-else/stream/2026-01-01T00:00:00.000",
    "deny",
  ],
  ["sqs:SendMessage", "arn:aws:sqs:<region>:<account>:someone-else", "deny"],
  ["sqs:SendMessage", "<prod-dlq>-copy", "deny"],
  ["sqs:SendMessage", "<dev-dlq>", "deny"],
  ["sqs:SendMessage", "<staging-dlq>", "deny"],
  ["sns:Publish", "<dev-success-topic>", "deny"],
  ["sns:Publish", "<staging-failure-topic>", "deny"],
  ["sqs:ReceiveMessage", "<prod-dlq>", "deny"],
  ["sns:Publish", "arn:aws:sns:<region>:<account>:someone-else", "deny"],
  ["sns:Publish", "<prod-success-topic>-copy", "deny"],
  // May not manage buckets, tables, queues, topics, roles or policies.
  ["s3:CreateBucket", "arn:aws:s3:::someone-else", "deny"],
  ["s3:DeleteBucket", "<prod-bucket>", "deny"],
  ["s3:DeleteBucket", "<dev-bucket>", "deny"],
  ["s3:PutBucketPolicy", "<prod-bucket>", "deny"],
  ["s3:PutBucketPolicy", "<staging-bucket>", "deny"],
  ["s3:PutBucketVersioning", "<prod-bucket>", "deny"],
  ["s3:PutLifecycleConfiguration", "<dev-bucket>", "deny"],
  ["dynamodb:CreateTable", "arn:aws:dynamodb:<region>:<account>:table/someone-else", "deny"],
  ["dynamodb:DeleteTable", "<prod-table>", "deny"],
  ["dynamodb:DeleteTable", "<dev-table>", "deny"],
  ["dynamodb:UpdateTable", "<prod-table>", "deny"],
  ["sqs:DeleteQueue", "<prod-dlq>", "deny"],
  ["sqs:SetQueueAttributes", "<prod-dlq>", "deny"],
  ["sns:DeleteTopic", "<prod-success-topic>", "deny"],
  ["iam:PutRolePolicy", "<role>", "deny"],
  ["iam:AttachRolePolicy", "<role>", "deny"],
  ["iam:DeleteRolePolicy", "<role>", "deny"],
  ["iam:CreateRole", "arn:aws:iam::<account>:role/someone-else", "deny"],
  ["iam:CreatePolicy", "arn:aws:iam::<account>:policy/someone-else", "deny"],
  ["iam:PassRole", "<role>", "deny"],
];

/**
 * The S3 Batch Operations job role's matrix (npm run resync -- --engine batch-operations):
 * <batch-role>, <reports> (its report bucket) and <function> (the replication function).
 */
const batchMatrix: readonly [action: string, resource: string, expected: Expected][] = [
  // Invokes the replication function, and no other.
  ["lambda:InvokeFunction", "<function>", "allow"],
  ["lambda:InvokeFunction", "arn:aws:lambda:<region>:<account>:function:someone-else", "deny"],
  ["lambda:UpdateFunctionCode", "<function>", "deny"],
  // Generates the source's manifest: an inventory configuration of the prod bucket only.
  ["s3:PutInventoryConfiguration", "<prod-bucket>", "allow"],
  ["s3:PutInventoryConfiguration", "<dev-bucket>", "deny"],
  ["s3:PutInventoryConfiguration", "<reports>", "deny"],
  // Reads and writes manifests, writes reports, under their prefixes only.
  ["s3:GetObject", "<reports>/manifests/job-1/manifest.json", "allow"],
  ["s3:GetObjectVersion", "<reports>/manifests/job-1/manifest.json", "allow"],
  ["s3:PutObject", "<reports>/manifests/job-1/manifest.json", "allow"],
  ["s3:PutObject", "<reports>/reports/job-1/report.json", "allow"],
  ["s3:GetObject", "<reports>/reports/job-1/report.json", "deny"],
  ["s3:PutObject", "<reports>/elsewhere.txt", "deny"],
  ["s3:DeleteObject", "<reports>/reports/job-1/report.json", "deny"],
  ["s3:PutBucketPolicy", "<reports>", "deny"],
  ["s3:PutLifecycleConfiguration", "<reports>", "deny"],
  // Reads and writes no data: the function copies, with its own role.
  ["s3:GetObject", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:ListBucket", "<prod-bucket>", "deny"],
  ["s3:PutObject", "<prod-bucket>/data/report.csv", "deny"],
  ["s3:PutObject", "<dev-bucket>/data/report.csv", "deny"],
  ["s3:DeleteObject", "<staging-bucket>/data/report.csv", "deny"],
  ["dynamodb:Scan", "<prod-table>", "deny"],
  ["dynamodb:PutItem", "<dev-table>", "deny"],
  // Cannot create jobs itself, nor pass or change roles.
  ["s3:CreateJob", "*", "deny"],
  ["iam:PassRole", "<batch-role>", "deny"],
  ["iam:PassRole", "<role>", "deny"],
  ["iam:PutRolePolicy", "<batch-role>", "deny"],
  ["sts:AssumeRole", "<role>", "deny"],
];

/** TLS matrix: per stack, requests without TLS to its bucket are denied even where allowed. */
const tlsMatrix: readonly [
  principal: "replication" | "batch" | "admin",
  action: string,
  resource: string,
][] = [
  ["replication", "s3:GetObject", "<prod-bucket>/data/report.csv"],
  ["replication", "s3:ListBucket", "<prod-bucket>"],
  ["replication", "s3:PutObject", "<dev-bucket>/data/report.csv"],
  ["replication", "s3:DeleteObject", "<staging-bucket>/data/report.csv"],
  ["admin", "s3:GetObject", "<dev-bucket>/data/report.csv"],
  ["admin", "s3:PutObject", "<staging-bucket>/data/report.csv"],
  ["admin", "s3:PutObject", "<prod-bucket>/data/report.csv"],
  ["admin", "s3:ListBucket", "<dev-bucket>"],
  ["admin", "s3:DeleteBucket", "<staging-bucket>"],
  ["admin", "s3:PutBucketPolicy", "<prod-bucket>"],
  ["batch", "s3:PutObject", "<reports>/reports/job-1/report.json"],
  ["admin", "s3:GetObject", "<reports>/reports/job-1/report.json"],
];

const stackNames = ["dev", "staging", "prod"] as const;

let stacks: AllStacks;
let placeholders: Record<string, string>;
let account: string;
/** Resource policies by the ARN they govern (buckets and their objects, the DLQ). */
let resourcePolicies: { prefix: string; policy: unknown }[];
let roleArn: string;
let rolePolicies: { name: string; policy: unknown }[];
let batchRoleArn: string;
let batchPolicies: { name: string; policy: unknown }[];

function stateString(resource: PlannedResource, key: string): string {
  const value = resource.state[key];
  if (typeof value !== "string") throw new Error(`${resource.name} has no ${key}`);
  return value;
}

function resolve(template: string): string {
  return template.replace(/<[a-z-]+>/g, (placeholder) => {
    const value = placeholders[placeholder];
    if (value === undefined) throw new Error(`unknown placeholder ${placeholder}`);
    return value;
  });
}

function resourcePolicyFor(arn: string): unknown {
  return resourcePolicies.find(({ prefix }) => arn === prefix || arn.startsWith(`${prefix}/`))
    ?.policy;
}

async function simulate(
  principal: string,
  identityPolicies: { name: string; policy: unknown }[],
  action: string,
  resource: string,
  secureTransport: boolean,
): Promise<Decision> {
  const simulation: Simulation = {
    request: {
      principal,
      action,
      resource: { resource, accountId: account },
      contextVariables: { "aws:SecureTransport": String(secureTransport) },
    },
    identityPolicies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: resourcePolicyFor(resource),
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(`simulation of ${action} on ${resource} failed: ${JSON.stringify(result)}`);
  }
  return result.overallResult;
}

function stackPlaceholders(plan: StackPlan): Record<string, string> {
  const env = plan.stack;
  return {
    [`<${env}-bucket>`]: output(plan, "bucketArn"),
    [`<${env}-table>`]: output(plan, "tableArn"),
    [`<${env}-dlq>`]: output(plan, "dlqArn"),
    [`<${env}-success-topic>`]: output(plan, "successTopicArn"),
    [`<${env}-failure-topic>`]: output(plan, "failureTopicArn"),
  };
}

beforeAll(async () => {
  stacks = await planAllStacks();
  const { prod } = stacks;
  const role = only(prod, "aws:iam/role:Role");
  const table = only(prod, "aws:dynamodb/table:Table");
  roleArn = stateString(role, "arn");
  // The account and region the mocks used, read back from the plan (arn:aws:dynamodb:R:A:...).
  const [, , , region = "", tableAccount = ""] = output(prod, "tableArn").split(":");
  account = tableAccount;
  placeholders = {
    ...stackPlaceholders(stacks.dev),
    ...stackPlaceholders(stacks.staging),
    ...stackPlaceholders(prod),
    "<prod-stream>": stateString(table, "streamArn"),
    "<role>": roleArn,
    "<batch-role>": stateString(named(prod, "aws:iam/role:Role", "pipeline-batch-role"), "arn"),
    "<reports>": stateString(named(prod, "aws:s3/bucket:Bucket", "pipeline-batch-reports"), "arn"),
    "<function>": output(prod, "replicationFunctionArn"),
    "<account>": account,
    "<region>": region,
  };
  // Every identity policy of the role: its inline policies (RolePolicy for this role).
  rolePolicies = ofType(prod, "aws:iam/rolePolicy:RolePolicy")
    .filter((p) => p.inputs.role === role.id)
    .map((p) => ({ name: p.name, policy: jsonInput(p, "policy") }));
  resourcePolicies = [
    ...stackNames.map((stack) => ({
      prefix: output(stacks[stack], "bucketArn"),
      policy: jsonInput(only(stacks[stack], "aws:s3/bucketPolicy:BucketPolicy"), "policy"),
    })),
    {
      prefix: output(prod, "dlqArn"),
      policy: jsonInput(only(prod, "aws:sqs/queuePolicy:QueuePolicy"), "policy"),
    },
    {
      prefix: placeholders["<reports>"] ?? "",
      policy: jsonInput(
        named(prod, "aws:s3/bucketPolicy:BucketPolicy", "pipeline-batch-reports-policy"),
        "policy",
      ),
    },
  ];
  const batchRole = named(prod, "aws:iam/role:Role", "pipeline-batch-role");
  batchRoleArn = stateString(batchRole, "arn");
  batchPolicies = ofType(prod, "aws:iam/rolePolicy:RolePolicy")
    .filter((p) => p.inputs.role === batchRole.id)
    .map((p) => ({ name: p.name, policy: jsonInput(p, "policy") }));
}, 60_000);

describe("the replication role's policies", () => {
  it("are exactly its inline policy: no managed policy, attachment or inline role policy", () => {
    const role = only(stacks.prod, "aws:iam/role:Role");

    expect(rolePolicies.map((p) => p.name)).toEqual(["pipeline-replication-policy"]);
    expect(role.inputs.managedPolicyArns).toBeUndefined();
    expect(role.inputs.inlinePolicies).toBeUndefined();
    for (const type of [
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
      "aws:iam/policyAttachment:PolicyAttachment",
      "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
      "aws:iam/policy:Policy",
    ]) {
      expect(ofType(stacks.prod, type)).toEqual([]);
    }
  });

  it("exists in the replicating stack only", () => {
    expect(ofType(stacks.dev, "aws:iam/role:Role")).toEqual([]);
    expect(ofType(stacks.staging, "aws:iam/role:Role")).toEqual([]);
  });
});

describe("replication role matrix (iam-simulate)", () => {
  it.each(replicationMatrix)("%s on %s: %s", async (action, template, expected) => {
    const resource = resolve(template);

    const decision = await simulate(roleArn, rolePolicies, action, resource, true);

    if (expected === "allow") {
      expect(decision).toBe("Allowed");
    } else {
      expect(decision).not.toBe("Allowed");
    }
  });

  it("holds because of the role's policy: with no identity policy, the allowed rows are denied", async () => {
    const allowed = replicationMatrix.filter(([, , expected]) => expected === "allow");

    const decisions = await Promise.all(
      allowed.map(([action, template]) => simulate(roleArn, [], action, resolve(template), true)),
    );

    expect(decisions.every((d) => d !== "Allowed")).toBe(true);
  });
});

describe("the S3 Batch Operations job role (iam-simulate)", () => {
  it("has exactly its inline policy", () => {
    expect(batchPolicies.map((p) => p.name)).toEqual(["pipeline-batch-policy"]);
  });

  it.each(batchMatrix)("%s on %s: %s", async (action, template, expected) => {
    const decision = await simulate(batchRoleArn, batchPolicies, action, resolve(template), true);

    if (expected === "allow") {
      expect(decision).toBe("Allowed");
    } else {
      expect(decision).not.toBe("Allowed");
    }
  });

  it("holds because of the role's policy: with no identity policy, the allowed rows are denied", async () => {
    const allowed = batchMatrix.filter(([, , expected]) => expected === "allow");

    const decisions = await Promise.all(
      allowed.map(([action, template]) =>
        simulate(batchRoleArn, [], action, resolve(template), true),
      ),
    );

    expect(decisions.every((d) => d !== "Allowed")).toBe(true);
  });

  it("and the replication role may not touch the report bucket", async () => {
    const decision = await simulate(
      roleArn,
      rolePolicies,
      "s3:PutObject",
      resolve("<reports>/reports/job-1/report.json"),
      true,
    );

    expect(decision).not.toBe("Allowed");
  });
});

describe("bucket policies deny every request without TLS (iam-simulate)", () => {
  const admin = (): { name: string; policy: unknown }[] => [
    {
      name: "administrator",
      policy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
      },
    },
  ];

  it.each(tlsMatrix)("%s: %s on %s", async (who, action, template) => {
    const resource = resolve(template);
    const principal =
      who === "admin"
        ? `arn:aws:iam::${account}:role/administrator`
        : who === "batch"
          ? batchRoleArn
          : roleArn;
    const policies = who === "admin" ? admin() : who === "batch" ? batchPolicies : rolePolicies;

    const withTls = await simulate(principal, policies, action, resource, true);
    const withoutTls = await simulate(principal, policies, action, resource, false);

    expect(withTls).toBe("Allowed");
    expect(withoutTls).toBe("ExplicitlyDenied");
  });

  it.each(stackNames)("covers the %s bucket and its objects", (stack) => {
    const bucketArn = output(stacks[stack], "bucketArn");
    const policy = resourcePolicyFor(`${bucketArn}/any/key`);

    expect(policy).toBeDefined();
    expect(resourcePolicyFor(bucketArn)).toBe(policy);
    expect(tlsMatrix.some(([, , template]) => resolve(template).startsWith(bucketArn))).toBe(true);
  });
});
