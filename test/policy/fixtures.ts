// Resources shaped like the program's (same types, same security-relevant inputs), for the
// policy tests: a compliant stack per environment, and helpers to swap in a bad resource.
import { TYPES } from "../../policy/baseline";
import type { PlannedResource, Props } from "../../policy/types";

export type Environment = "dev" | "staging" | "prod";

const account = "123456789012";
const region = "eu-west-1";

export function urnOf(environment: Environment, type: string, name: string): string {
  return `urn:pulumi:${environment}::data-pipeline::data-pipeline:index:EnvironmentComponent$${type}::${name}`;
}

function resource(
  environment: Environment,
  type: string,
  name: string,
  props: Props,
): PlannedResource {
  return { urn: urnOf(environment, type, name), type, name, props };
}

export function tagsFor(environment: Environment): Record<string, string> {
  return { Environment: environment, Project: "data-pipeline", ManagedBy: "pulumi" };
}

export function bucketNameFor(environment: Environment): string {
  return `data-pipeline-${environment}-${region}-data`;
}

/** A TLS-only bucket policy document, as lib/iam.ts builds it. */
export function tlsOnlyPolicy(bucket: string): Record<string, unknown> {
  const arn = `arn:aws:s3:::${bucket}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, `${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** The resources of one environment that pass every rule. */
export function compliantStack(environment: Environment): PlannedResource[] {
  const tags = tagsFor(environment);
  const bucket = bucketNameFor(environment);
  const r = (type: string, name: string, props: Props): PlannedResource =>
    resource(environment, type, `pipeline-${name}`, props);
  const topicKeyArn = `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const failureTopicArn = `arn:aws:sns:${region}:${account}:pipeline-replication-failed`;
  const successTopicArn = `arn:aws:sns:${region}:${account}:pipeline-replication-succeeded`;
  const resources = [
    r(TYPES.bucket, "bucket", { bucket, forceDestroy: false, tags }),
    r(TYPES.bucketPublicAccessBlock, "bucket-public-access", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    r("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "bucket-ownership", {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    }),
    r(TYPES.bucketServerSideEncryptionConfiguration, "bucket-encryption", {
      bucket,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    }),
    r(TYPES.bucketVersioning, "bucket-versioning", {
      bucket,
      versioningConfiguration: { status: "Enabled" },
    }),
    r(TYPES.bucketLifecycleConfiguration, "bucket-lifecycle", {
      bucket,
      rules: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: 30 },
        },
      ],
    }),
    r(TYPES.bucketPolicy, "bucket-policy", {
      bucket,
      policy: JSON.stringify(tlsOnlyPolicy(bucket)),
    }),
    r(TYPES.table, "table", {
      name: `data-pipeline-${environment}-items`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: environment === "prod",
      tags,
    }),
    r("aws:kms/key:Key", "topic-key", { enableKeyRotation: true, tags }),
    r(TYPES.topic, "replication-succeeded", { kmsMasterKeyId: topicKeyArn, tags }),
    r(TYPES.topic, "replication-failed", { kmsMasterKeyId: topicKeyArn, tags }),
    r(TYPES.queue, "dlq", { sqsManagedSseEnabled: true, tags }),
    r("aws:cloudwatch/metricAlarm:MetricAlarm", "dlq-depth", {
      threshold: 0,
      alarmActions: [failureTopicArn],
      okActions: [failureTopicArn, successTopicArn],
      tags,
    }),
  ];
  if (environment !== "prod") return resources;
  const ruleArn = `arn:aws:events:${region}:${account}:rule/pipeline-object-changes`;
  return [
    ...resources,
    r("aws:iam/role:Role", "replication-role", {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
      tags,
    }),
    r("aws:iam/rolePolicy:RolePolicy", "replication-policy", { policy: "{}" }),
    r("aws:s3/bucketNotification:BucketNotification", "bucket-notification", {
      bucket,
      eventbridge: true,
    }),
    r("aws:cloudwatch/eventRule:EventRule", "object-changes", { eventPattern: "{}", tags }),
    r("aws:cloudwatch/logGroup:LogGroup", "replication-logs", { retentionInDays: 90, tags }),
    r(TYPES.lambdaFunction, "replication", {
      runtime: "nodejs22.x",
      timeout: 120,
      memorySize: 512,
      environment: { variables: { SOURCE_BUCKET: bucket, LOG_LEVEL: "INFO" } },
      tags,
    }),
    r(TYPES.lambdaPermission, "replication-invoke", {
      action: "lambda:InvokeFunction",
      function: "data-pipeline-prod-replication",
      principal: "events.amazonaws.com",
      sourceArn: ruleArn,
    }),
    r("aws:lambda/eventSourceMapping:EventSourceMapping", "table-stream", { batchSize: 10, tags }),
    r("aws:kms/key:Key", "masking-key", { enableKeyRotation: true, tags }),
    r(TYPES.secret, "masking-secret", {
      name: "company-masking-prod",
      kmsKeyId: `arn:aws:kms:${region}:${account}:key/9999abcd-12ab-34cd-56ef-1234567890ab`,
      tags,
    }),
  ];
}

/** `resources` with the one resource of `type` named `pipeline-<name>` given new props. */
export function withProps(
  resources: readonly PlannedResource[],
  name: string,
  change: (props: Props) => Props,
): PlannedResource[] {
  if (!resources.some((r) => r.name === `pipeline-${name}`)) {
    throw new Error(`fixture has no resource pipeline-${name}`);
  }
  return resources.map((r) =>
    r.name === `pipeline-${name}` ? { ...r, props: change(r.props) } : r,
  );
}

/** `resources` without the resource named `pipeline-<name>`. */
export function without(resources: readonly PlannedResource[], name: string): PlannedResource[] {
  const kept = resources.filter((r) => r.name !== `pipeline-${name}`);
  if (kept.length === resources.length) throw new Error(`fixture has no resource pipeline-${name}`);
  return kept;
}
