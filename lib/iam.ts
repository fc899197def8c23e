/**
 * Policy documents (IAM role policies, resource policies, the topic key's key policy) as pure
 * functions of resolved ARNs, so they can be asserted exactly.
 */

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

/** Resolved ARNs the replication role's policy names. */
export interface ReplicationPolicyArgs {
  readonly sourceBucketArn: string;
  readonly sourceTableArn: string;
  readonly sourceStreamArn: string;
  readonly targetBucketArns: readonly string[];
  readonly targetTableArns: readonly string[];
  readonly deadLetterQueueArn: string;
  readonly logGroupArn: string;
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
      // GetObject: HeadObject of the replica (the ordering guard); Get/PutObjectTagging: tag-only
      // changes compare and set the replica's tags (CopyObject copies them with the body).
      Action: [
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetObjectTagging",
        "s3:PutObjectTagging",
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
      ],
      Resource: args.targetBucketArns.map(objects),
    },
    {
      Sid: "TargetBucketsList",
      Effect: "Allow",
      Action: "s3:ListBucket",
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
      // Conditional writes only: the replica's recorded sequence is checked by the condition
      // expression, never read.
      Sid: "TargetTablesWrite",
      Effect: "Allow",
      Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
      Resource: [...args.targetTableArns],
    },
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
  );
}
