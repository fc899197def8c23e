// The security baseline's fixed facts: resource type tokens (@pulumi/aws v7), required tags,
// supported Lambda runtimes, reserved Lambda environment keys, and which types are taggable.
// Lists the program already defines are imported from it, so the two cannot drift.
import { reservedLambdaEnvironmentKeys } from "../lib/lambda-environment";
import { standardTagKeys } from "../lib/tags";

/** Pulumi type tokens of the resources the baseline inspects (@pulumi/aws v7 names). */
export const TYPES = {
  bucket: "aws:s3/bucket:Bucket",
  bucketPublicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
  bucketLifecycleConfiguration: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketServerSideEncryptionConfiguration:
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  table: "aws:dynamodb/table:Table",
  tableResourcePolicy: "aws:dynamodb/resourcePolicy:ResourcePolicy",
  kmsKey: "aws:kms/key:Key",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  lambdaFunction: "aws:lambda/function:Function",
  lambdaPermission: "aws:lambda/permission:Permission",
  role: "aws:iam/role:Role",
  metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  secret: "aws:secretsmanager/secret:Secret",
  secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
  compositeAlarm: "aws:cloudwatch/compositeAlarm:CompositeAlarm",
} as const;

/** Tags every taggable resource must carry, each with a non-empty value (the program's own keys). */
export const REQUIRED_TAGS: readonly string[] = standardTagKeys;

/** The environment (value of the `Environment` tag) whose tables must be deletion-protected. */
export const PROTECTED_ENVIRONMENT = "prod";

/** Lambda runtimes the baseline accepts: Node.js 22 and newer, still supported by AWS. */
export const SUPPORTED_LAMBDA_RUNTIMES: readonly string[] = ["nodejs22.x", "nodejs24.x"];

/** Upper bound for a Lambda function's `timeout`, in seconds (the baseline's own number). */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 300;

/** Environment variable names the Lambda runtime reserves (the program's own list). */
export const RESERVED_LAMBDA_ENV_KEYS: readonly string[] = reservedLambdaEnvironmentKeys;

/**
 * Types known to accept `tags` (checked against the @pulumi/aws type declarations by
 * test/policy/baseline.test.ts). A resource counts as taggable when its type is listed here OR its
 * properties carry `tags`/`tagsAll` (the engine passes `tagsAll` for every taggable AWS resource),
 * so a listed type with no tags at all is still caught.
 */
export const TAGGABLE_TYPES: readonly string[] = [
  TYPES.bucket,
  TYPES.table,
  TYPES.queue,
  TYPES.topic,
  TYPES.lambdaFunction,
  "aws:lambda/eventSourceMapping:EventSourceMapping",
  TYPES.role,
  "aws:iam/policy:Policy",
  "aws:kms/key:Key",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:cloudwatch/eventBus:EventBus",
  "aws:cloudwatch/logGroup:LogGroup",
  TYPES.metricAlarm,
];
