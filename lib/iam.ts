/**
 * Policy documents (IAM role policies, resource policies, the topic key's key policy) as pure
 * functions of resolved ARNs, so they can be asserted exactly.
 */
import { accountRootArn } from "./accounts";

type OneOrMany = string | string[];

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Principal?: "*" | Readonly<Record<string, OneOrMany>>;
  readonly Action: OneOrMany;
  /** Absent only in trust policies, which must not have one. */
  readonly Resource?: OneOrMany;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, OneOrMany>>>>;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly PolicyStatement[];
}

function document(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: "2012-10-17", Statement: statements };
}

/** The most a policy may hold, and how the service counts it. */
export interface PolicyLimit {
  readonly what: string;
  readonly max: number;
  /** IAM does not count white space; the resource policies count bytes, white space included. */
  readonly unit: "characters without white space" | "bytes";
}

/** The size limit of every policy the program writes. */
export const policyLimits = {
  // "Role policy size cannot exceed 10,240 characters" (the sum of a role's inline policies; each
  // role here has one), "Role trust policy length 2,048 characters" (the default), and "IAM does
  // not count white space when calculating the size of a policy against these limits"
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
  roleInline: {
    what: "IAM role inline policy",
    max: 10_240,
    unit: "characters without white space",
  },
  roleTrust: { what: "IAM role trust policy", max: 2048, unit: "characters without white space" },
  // "Bucket policies are limited to 20 KB in size"
  // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html).
  bucket: { what: "S3 bucket policy", max: 20_480, unit: "bytes" },
  // "The maximum size supported for a resource-based policy document is 20 KB. DynamoDB counts
  // whitespaces" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-considerations.html).
  table: { what: "DynamoDB resource policy", max: 20_480, unit: "bytes" },
  // Key policy document size, 32 KB, not adjustable
  // (https://docs.aws.amazon.com/kms/latest/developerguide/resource-limits.html).
  key: { what: "KMS key policy", max: 32_768, unit: "bytes" },
  // SQS policy quotas: "Bytes 8,192"
  // (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-policies.html).
  queue: { what: "SQS queue policy", max: 8192, unit: "bytes" },
} as const satisfies Record<string, PolicyLimit>;

/** A policy longer than its service takes; the message names the resource, size and limit. */
export class PolicySizeError extends Error {
  override readonly name = "PolicySizeError";
}

/** How large a policy document's JSON is, as the limit counts it. */
export function policySize(json: string, limit: PolicyLimit): number {
  return limit.unit === "bytes" ? Buffer.byteLength(json, "utf8") : json.replace(/\s/g, "").length;
}

/**
 * The policy as the resource receives it (JSON), checked against its service's limit where the
 * ARNs it names are known (some come from the targets' stacks): throws a `PolicySizeError` naming
 * the resource, the size and the limit, so the update stops before the API refuses the policy.
 */
export function policyJson(resource: string, policy: PolicyDocument, limit: PolicyLimit): string {
  const json = JSON.stringify(policy);
  const size = policySize(json, limit);
  if (size > limit.max) {
    throw new PolicySizeError(
      `The ${limit.what} of ${resource} is ${size} ${limit.unit} (max ${limit.max}); ` +
        `it names ${policy.Statement.length} statement(s)`,
    );
  }
  return json;
}

/** Trust policy: only the Lambda service may assume the replication role. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
  return document({
    Effect: "Allow",
    Principal: { Service: "lambda.amazonaws.com" },
    Action: "sts:AssumeRole",
  });
}

/** Denies every request to the bucket that does not use TLS. */
export function denyInsecureTransportPolicy(bucketArn: string): PolicyDocument {
  return document({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

/** Lets EventBridge dead-letter undeliverable events of one rule into the queue. */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string): PolicyDocument {
  return document({
    Sid: "EventBridgeDeadLetter",
    Effect: "Allow",
    Principal: { Service: "events.amazonaws.com" },
    Action: "sqs:SendMessage",
    Resource: queueArn,
    Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
  });
}

/** Inputs of the topic key's policy. */
export interface TopicKeyPolicyArgs {
  readonly accountId: string;
  readonly partition: string;
}

/**
 * Key policy of the customer-managed key that encrypts the topics. The account root keeps full
 * control (AWS's default key policy; without it the key becomes unmanageable). In a key policy
 * `Resource: "*"` means "this key". CloudWatch (alarm actions) may encrypt messages for the
 * topics; nothing else publishes to them.
 */
export function topicKeyPolicy(args: TopicKeyPolicyArgs): PolicyDocument {
  const statements: PolicyStatement[] = [
    {
      Sid: "AccountAdministers",
      Effect: "Allow",
      Principal: { AWS: `arn:${args.partition}:iam::${args.accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
    },
  ];
  return document(...statements);
}

/**
 * What the replication role does on a target, one list each for its own policy and for the
 * resource policies a target in another account grants it (cross-account access needs both:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
 * Objects: GetObject is the HeadObject of the replica (what it holds); Get/PutObjectTagging:
 * tag-only changes compare and set the replica's tags (CopyObject copies them with the body).
 */
export const targetObjectActions = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:GetObjectTagging",
  "s3:PutObjectTagging",
  "s3:AbortMultipartUpload",
  "s3:DeleteObject",
] as const;

/** The target bucket itself: listing (a missing replica reads as 404, not 403). */
export const targetBucketAction = "s3:ListBucket";

/** Conditional writes only: the replica's recorded sequence is checked, never read. */
export const targetTableActions = ["dynamodb:PutItem", "dynamodb:DeleteItem"] as const;

/**
 * A cross-account target table's customer managed key, used through DynamoDB: the actions AWS's
 * own key for DynamoDB (aws/dynamodb) gives every table user of its account "through Amazon
 * DynamoDB" (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html), less
 * kms:CreateGrant, which only the table's creator (in the target account) needs.
 */
export const targetTableKeyActions = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
] as const;

/** A target table's customer managed key, as the replication role's policy names it. */
export interface TargetTableKey {
  readonly arn: string;
  /** `kms:ViaService` of DynamoDB in the table's region. */
  readonly viaService: string;
}

/** Resolved ARNs the replication role's policy names. */
export interface ReplicationPolicyArgs {
  readonly sourceBucketArn: string;
  readonly sourceTableArn: string;
  readonly sourceStreamArn: string;
  readonly targetBucketArns: readonly string[];
  readonly targetTableArns: readonly string[];
  /** Keys of target tables in other accounts (none in a one-account layout). */
  readonly targetTableKeys?: readonly TargetTableKey[];
  readonly deadLetterQueueArn: string;
  readonly logGroupArn: string;
  /** The masking key's secret and, when the stack created it, the key encrypting it. */
  readonly masking?: MaskingGrant;
}

/** What reading the masking key takes. */
export interface MaskingGrant {
  readonly secretArn: string;
  readonly kmsKeyArn?: string | undefined;
  /** `kms:ViaService` of Secrets Manager in the stack's region. */
  readonly viaService: string;
}

/**
 * Least-privilege policy of the replication Lambda: exactly the APIs it calls, on exactly the
 * resources it touches. The one `"*"` resource is `dynamodb:ListStreams`, which AWS does not
 * scope to a table or stream.
 */
export function replicationRolePolicy(args: ReplicationPolicyArgs): PolicyDocument {
  const objects = (arn: string): string => `${arn}/*`;
  return document(
    {
      Sid: "SourceObjectsRead",
      Effect: "Allow",
      // CopyObject copies the object's tags too (TaggingDirective COPY), which needs tag read.
      Action: ["s3:GetObject", "s3:GetObjectTagging"],
      Resource: objects(args.sourceBucketArn),
    },
    {
      Sid: "SourceBucketList",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: args.sourceBucketArn,
    },
    {
      Sid: "TargetObjectsWrite",
      Effect: "Allow",
      Action: [...targetObjectActions],
      Resource: args.targetBucketArns.map(objects),
    },
    {
      Sid: "TargetBucketsList",
      Effect: "Allow",
      Action: targetBucketAction,
      Resource: [...args.targetBucketArns],
    },
    {
      Sid: "SourceTableRead",
      Effect: "Allow",
      Action: "dynamodb:GetItem",
      Resource: args.sourceTableArn,
    },
    {
      Sid: "SourceStreamRead",
      Effect: "Allow",
      Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
      Resource: args.sourceStreamArn,
    },
    {
      Sid: "StreamsList",
      Effect: "Allow",
      Action: "dynamodb:ListStreams",
      Resource: "*",
    },
    {
      Sid: "TargetTablesWrite",
      Effect: "Allow",
      Action: [...targetTableActions],
      Resource: [...args.targetTableArns],
    },
    ...targetTableKeysStatement(args.targetTableKeys ?? []),
    {
      Sid: "DeadLetterSend",
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: args.deadLetterQueueArn,
    },
    {
      Sid: "LogsWrite",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${args.logGroupArn}:*`,
    },
    ...maskingKeyStatements(args.masking),
  );
}

/**
 * Reading the masking key: the one secret (GetSecretValue) and, when the stack created the key
 * that encrypts it, decryption with that key through Secrets Manager only ("Secrets Manager calls
 * kms:Decrypt ... with kms:ViaService secretsmanager.<Region>.amazonaws.com",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
 */
export function maskingKeyStatements(grant: MaskingGrant | undefined): PolicyStatement[] {
  if (grant === undefined) return [];
  return [
    {
      Sid: "MaskingKeyRead",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: grant.secretArn,
    },
    ...(grant.kmsKeyArn === undefined
      ? []
      : [
          {
            Sid: "MaskingKeyDecrypt",
            Effect: "Allow" as const,
            Action: "kms:Decrypt",
            Resource: grant.kmsKeyArn,
            Condition: { StringEquals: { "kms:ViaService": grant.viaService } },
          },
        ]),
  ];
}

/**
 * Key policy of the key that encrypts the masking key's secret: the account administers it (AWS's
 * default key policy, without which the key is unmanageable) and IAM policies grant its use (the
 * replication role's; an operator's). No other account is named: a target account can never
 * read the masking key.
 */
export function maskingKeyPolicy(args: TopicKeyPolicyArgs): PolicyDocument {
  return document({
    Sid: "AccountAdministers",
    Effect: "Allow",
    Principal: { AWS: `arn:${args.partition}:iam::${args.accountId}:root` },
    Action: "kms:*",
    Resource: "*",
  });
}

function targetTableKeysStatement(keys: readonly TargetTableKey[]): PolicyStatement[] {
  if (keys.length === 0) return [];
  return [
    {
      Sid: "TargetTableKeysUse",
      Effect: "Allow",
      Action: [...targetTableKeyActions],
      Resource: keys.map((key) => key.arn),
      Condition: {
        StringEquals: { "kms:ViaService": [...new Set(keys.map((key) => key.viaService))] },
      },
    },
  ];
}

/** The replicating stack's role in another account, as a target's resource policies name it. */
export interface ReplicationGrantee {
  readonly partition: string;
  /** The replicating stack's account. */
  readonly accountId: string;
  /** Its replication role, derived by the naming rules (it may not exist yet). */
  readonly roleArn: string;
}

/**
 * Principal and condition of a grant to the replication role: the source ACCOUNT as principal,
 * narrowed to that one role by `aws:PrincipalArn`, which for a role session is the role's ARN
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 * A role ARN as principal would not do: S3 refuses a policy naming a role that does not exist
 * ("Invalid principal in policy", https://repost.aws/knowledge-center/s3-invalid-principal-in-policy-error),
 * and a saved role principal becomes the role's unique id, which a re-created role no longer
 * matches (https://repost.aws/knowledge-center/iam-resource-policy-format). The account and the
 * condition are valid before the role exists and after it is re-created.
 */
function grantedTo(grantee: ReplicationGrantee): Pick<PolicyStatement, "Principal" | "Condition"> {
  return {
    Principal: { AWS: accountRootArn(grantee.partition, grantee.accountId) },
    Condition: { ArnEquals: { "aws:PrincipalArn": grantee.roleArn } },
  };
}

/**
 * A data bucket's policy: TLS only and, in a target whose replicating stack lives in another account,
 * exactly what the replication role's own policy grants on target buckets and their objects.
 */
export function dataBucketPolicy(bucketArn: string, grantee?: ReplicationGrantee): PolicyDocument {
  const tlsOnly = denyInsecureTransportPolicy(bucketArn);
  if (grantee === undefined) return tlsOnly;
  return document(
    ...tlsOnly.Statement,
    {
      Sid: "ReplicationRoleWritesObjects",
      Effect: "Allow",
      ...grantedTo(grantee),
      Action: [...targetObjectActions],
      Resource: `${bucketArn}/*`,
    },
    {
      Sid: "ReplicationRoleListsBucket",
      Effect: "Allow",
      ...grantedTo(grantee),
      Action: targetBucketAction,
      Resource: bucketArn,
    },
  );
}

/**
 * The resource policy of a target table whose replicating stack lives in another account: the
 * writes the replication role's own policy grants on target tables. "For cross-account access,
 * you must explicitly allow access in both the identity and resource policies"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-auth-iam-id-based-policies-DDB.html).
 */
export function targetTablePolicy(tableArn: string, grantee: ReplicationGrantee): PolicyDocument {
  return document({
    Sid: "ReplicationRoleWritesItems",
    Effect: "Allow",
    ...grantedTo(grantee),
    Action: [...targetTableActions],
    Resource: tableArn,
  });
}

/** Inputs of a cross-account target table's key policy. */
export interface TargetTableKeyPolicyArgs {
  /** The target stack's account and partition. */
  readonly accountId: string;
  readonly partition: string;
  /** `kms:ViaService` of DynamoDB in the target's region. */
  readonly viaService: string;
  readonly grantee: ReplicationGrantee;
}

/**
 * Key policy of the customer managed key of a target table shared with another account. A table
 * under AWS's own key for DynamoDB cannot be shared: "Cross-account access using resource-based
 * policies doesn't support encrypted tables with AWS managed keys because you can't grant
 * cross-account access to the AWS managed KMS policy"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-considerations.html).
 * The account root administers the key; the account's own principals use it through DynamoDB as
 * they did AWS's key (the same statement as that key's policy, kms:CallerAccount and
 * kms:ViaService, https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html);
 * the replication role uses it through DynamoDB only.
 */
export function targetTableKeyPolicy(args: TargetTableKeyPolicyArgs): PolicyDocument {
  return document(
    {
      Sid: "AccountAdministers",
      Effect: "Allow",
      Principal: { AWS: accountRootArn(args.partition, args.accountId) },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "AccountUsesKeyThroughDynamoDB",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: [...targetTableKeyActions, "kms:CreateGrant"],
      Resource: "*",
      Condition: {
        StringEquals: { "kms:CallerAccount": args.accountId, "kms:ViaService": args.viaService },
      },
    },
    {
      Sid: "ReplicationRoleUsesKeyThroughDynamoDB",
      Effect: "Allow",
      Principal: { AWS: accountRootArn(args.grantee.partition, args.grantee.accountId) },
      Action: [...targetTableKeyActions],
      Resource: "*",
      Condition: {
        ArnEquals: { "aws:PrincipalArn": args.grantee.roleArn },
        StringEquals: { "kms:ViaService": args.viaService },
      },
    },
  );
}

/**
 * Trust policy of the S3 Batch Operations job role, as AWS gives it: only the Batch Operations
 * service principal may assume it (https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-iam-role-policies.html).
 */
export function batchOperationsAssumeRolePolicy(): PolicyDocument {
  return document({
    Effect: "Allow",
    Principal: { Service: "batchoperations.s3.amazonaws.com" },
    Action: "sts:AssumeRole",
  });
}

/** Resolved ARNs the Batch Operations job role's policy names. */
export interface BatchOperationsPolicyArgs {
  readonly functionArn: string;
  readonly sourceBucketArn: string;
  readonly reportBucketArn: string;
  /** Key prefixes of the generated manifests and of the completion reports in the report bucket. */
  readonly manifestPrefix: string;
  readonly reportPrefix: string;
}

/**
 * Least-privilege policy of the resync job (npm run resync -- --engine batch-operations): invoke
 * the replication function (which does the copying with its own role), generate the manifest of
 * the source bucket ("To generate an object list, you must have the s3:PutInventoryConfiguration
 * permission", https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html;
 * the same grant in "Policy if using and storing a S3 generated manifest",
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-batch-replication-policies.html),
 * read back and write that manifest, and write the completion report. It reads no object of the
 * source bucket and writes nothing outside the two prefixes of the report bucket.
 */
export function batchOperationsRolePolicy(args: BatchOperationsPolicyArgs): PolicyDocument {
  const under = (prefix: string): string => `${args.reportBucketArn}/${prefix}/*`;
  return document(
    {
      Sid: "InvokeReplicationFunction",
      Effect: "Allow",
      Action: "lambda:InvokeFunction",
      Resource: args.functionArn,
    },
    {
      Sid: "GenerateSourceManifest",
      Effect: "Allow",
      Action: "s3:PutInventoryConfiguration",
      Resource: args.sourceBucketArn,
    },
    {
      Sid: "ReadManifest",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion"],
      Resource: under(args.manifestPrefix),
    },
    {
      Sid: "WriteManifestAndReport",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: [under(args.manifestPrefix), under(args.reportPrefix)],
    },
  );
}
