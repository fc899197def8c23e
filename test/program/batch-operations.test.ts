/**
 * What the replicating stack declares for S3 Batch Operations resync jobs (lib/batch-operations.ts),
 * run through the real index.ts under the offline mocks: the job role (trusted by Batch
 * Operations only, exact policy), the report bucket and its companions (exact inputs), nothing
 * of it in dev and staging, and names the resync command derives from the deployed function.
 */
import { batchReportRetentionDays } from "../../lib/batch-operations";
import { readContract } from "../../lib/replication/contract";
import type { PlannedResource, StackPlan } from "../../tools/offline";
import { createJobInput, namePartsOf, parseFunctionArn } from "../../tools/ops/resync-batch";
import { batchOperationsNames } from "../../lib/batch-operations-names";
import { planAllStacks, type AllStacks } from "../support/pulumi-plan";
import { batchOperationsPrefix, jsonInput, named, output } from "../support/pulumi-query";

const account = "123456789012";
const region = "eu-west-1";
const reportBucket = `company-batch-prod-${region}-${account}`;
const reportArn = `arn:aws:s3:::${reportBucket}`;
const roleName = `company-batch-prod-${region}`;
const tags = { Environment: "prod", Project: "data-pipeline", ManagedBy: "pulumi" };

let stacks: AllStacks;
beforeAll(async () => {
  stacks = await planAllStacks();
}, 60_000);

const prod = (): StackPlan => stacks.prod;
const resource = (type: string, name: string): PlannedResource =>
  named(prod(), type, `pipeline-batch-${name}`);
const T = {
  bucket: "aws:s3/bucket:Bucket",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  fn: "aws:lambda/function:Function",
} as const;

describe("the S3 Batch Operations resources", () => {
  it("exist in the replicating stack only", () => {
    const batch = (plan: StackPlan) =>
      plan.resources.filter((r) => r.name.startsWith(batchOperationsPrefix)).map((r) => r.name);

    expect(batch(stacks.dev)).toEqual([]);
    expect(batch(stacks.staging)).toEqual([]);
    expect(batch(prod()).sort()).toEqual(
      [
        "pipeline-batch-policy",
        "pipeline-batch-reports",
        "pipeline-batch-reports-encryption",
        "pipeline-batch-reports-lifecycle",
        "pipeline-batch-reports-ownership",
        "pipeline-batch-reports-policy",
        "pipeline-batch-reports-public-access",
        "pipeline-batch-reports-versioning",
        "pipeline-batch-role",
      ].sort(),
    );
  });

  it("declare a role that only S3 Batch Operations may assume, named after the stack", () => {
    const role = resource(T.role, "role");

    expect({ ...role.inputs, assumeRolePolicy: jsonInput(role, "assumeRolePolicy") }).toEqual({
      name: roleName,
      description: "S3 Batch Operations resync jobs: invoke the replication function",
      assumeRolePolicy: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "batchoperations.s3.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      },
      tags,
    });
  });

  it("let the role invoke this function, generate the source's manifest, and write manifests and reports", () => {
    const policy = resource(T.rolePolicy, "policy");
    const fnArn = named(prod(), T.fn, "pipeline-replication").state.arn;

    expect(policy.inputs.role).toBe(resource(T.role, "role").id);
    expect(jsonInput(policy, "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "InvokeReplicationFunction",
          Effect: "Allow",
          Action: "lambda:InvokeFunction",
          Resource: fnArn,
        },
        {
          Sid: "GenerateSourceManifest",
          Effect: "Allow",
          Action: "s3:PutInventoryConfiguration",
          Resource: output(prod(), "bucketArn"),
        },
        {
          Sid: "ReadManifest",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: `${reportArn}/manifests/*`,
        },
        {
          Sid: "WriteManifestAndReport",
          Effect: "Allow",
          Action: "s3:PutObject",
          Resource: [`${reportArn}/manifests/*`, `${reportArn}/reports/*`],
        },
      ],
    });
  });

  it("declare a private, encrypted, versioned report bucket whose manifests and reports expire", () => {
    const bucket = resource(T.bucket, "reports");
    const companion = (type: string, suffix: string) => resource(type, `reports-${suffix}`).inputs;

    expect(bucket.inputs).toEqual({ bucket: reportBucket, forceDestroy: false, tags });
    expect(
      companion("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access"),
    ).toEqual({
      bucket: reportBucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      companion("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership"),
    ).toEqual({
      bucket: reportBucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    expect(
      companion(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "encryption",
      ),
    ).toEqual({
      bucket: reportBucket,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    expect(companion("aws:s3/bucketVersioning:BucketVersioning", "versioning")).toEqual({
      bucket: reportBucket,
      versioningConfiguration: { status: "Enabled" },
    });
    expect(batchReportRetentionDays).toBe(30);
    expect(
      companion("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "lifecycle"),
    ).toEqual({
      bucket: reportBucket,
      rules: [
        {
          id: "expire-reports",
          status: "Enabled",
          filter: {},
          expiration: { days: 30 },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
    });
    expect(
      resource(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "reports-lifecycle",
      ).dependsOn,
    ).toEqual([resource("aws:s3/bucketVersioning:BucketVersioning", "reports-versioning").urn]);
  });

  it("deny every request to the report bucket without TLS, once public access is blocked", () => {
    const policy = resource("aws:s3/bucketPolicy:BucketPolicy", "reports-policy");

    expect(policy.inputs.bucket).toBe(reportBucket);
    expect(jsonInput(policy, "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [reportArn, `${reportArn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
    expect(policy.dependsOn).toEqual([
      resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "reports-public-access")
        .urn,
    ]);
  });
});

describe("what the resync command derives from the deployed function", () => {
  it("names the role and the report bucket the stack declares, and the job runs as that role", () => {
    const fn = named(prod(), T.fn, "pipeline-replication");
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    const settings = readContract(variables);
    const identity = parseFunctionArn(String(fn.state.arn));
    const parts = identity === undefined ? undefined : namePartsOf(identity, settings);

    expect(parts).toBeDefined();
    if (identity === undefined || parts === undefined) return;
    const names = batchOperationsNames(parts);
    expect(names).toEqual({
      role: resource(T.role, "role").inputs.name,
      reportBucket: resource(T.bucket, "reports").inputs.bucket,
    });
    const job = createJobInput({
      identity,
      names,
      sourceBucket: settings.sourceBucket,
      prefix: undefined,
      targets: undefined,
      token: "t",
    });
    expect(job.RoleArn).toBe(resource(T.role, "role").state.arn);
    expect(job.Report?.Bucket).toBe(resource(T.bucket, "reports").state.arn);
    expect(job.ManifestGenerator?.S3JobManifestGenerator?.SourceBucket).toBe(
      output(prod(), "bucketArn"),
    );
  });
});
