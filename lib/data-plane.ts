/**
 * The resources every stack has: the data bucket (with its separate versioning, lifecycle,
 * encryption, public access block, ownership and TLS-only policy), the metadata table, the
 * encrypted replication topics and their key (with the alert e-mail subscriptions, lib/alerts.ts),
 * the dead-letter queue and its depth alarm.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createAlertSubscriptions } from "./alerts";
import type { StackConfig } from "./config";
import {
  dataBucketPolicy,
  policyJson,
  policyLimits,
  topicKeyPolicy,
  type ReplicationGrantee,
} from "./iam";
import { createPrivateBucket } from "./private-bucket";
import { deadLetterAlarmDescription, topicKeyDescription } from "./resource-texts";
import { tableKey } from "./table-keys";

/** Days after which incomplete multipart uploads are aborted. */
export const abortIncompleteMultipartUploadDays = 7;

/** SQS maximum retention: 14 days. */
export const deadLetterRetentionSeconds = 1209600;

export interface DataPlaneArgs {
  readonly config: StackConfig;
  readonly bucketName: pulumi.Input<string>;
  readonly tableName: string;
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
  /** Turns on the table's stream (the replicating stack). */
  readonly streamEnabled: boolean;
  /** A replicating stack's role in another account that may write the bucket (lib/cross-account.ts). */
  readonly bucketGrantee?: ReplicationGrantee | undefined;
  /** A customer managed key for the table (a table shared with another account needs one). */
  readonly tableKmsKeyArn?: pulumi.Input<string> | undefined;
}

export interface DataPlane {
  readonly bucket: aws.s3.Bucket;
  readonly table: aws.dynamodb.Table;
  readonly topicKey: aws.kms.Key;
  readonly successTopic: aws.sns.Topic;
  readonly failureTopic: aws.sns.Topic;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly deadLetterAlarm: aws.cloudwatch.MetricAlarm;
}

/** Declares the data plane as children of `parent`, logical names derived from `name`. */
export function createDataPlane(
  name: string,
  args: DataPlaneArgs,
  parent: pulumi.Resource,
): DataPlane {
  const { config, tags } = args;
  const opts = { parent };

  // Current objects never expire: they stay until someone deletes them. A delete (or an
  // overwrite) turns the old version noncurrent; noncurrent versions expire after
  // `lifecycleDays`, after which the delete marker left alone is removed as expired.
  const bucket = createPrivateBucket(
    `${name}-bucket`,
    {
      bucket: args.bucketName,
      tags,
      lifecycleRules: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: config.lifecycleDays },
          expiration: { expiredObjectDeleteMarker: true },
          abortIncompleteMultipartUpload: {
            daysAfterInitiation: abortIncompleteMultipartUploadDays,
          },
        },
      ],
      policy: (arn) => dataBucketPolicy(arn, args.bucketGrantee),
    },
    parent,
  );

  const table = new aws.dynamodb.Table(
    `${name}-table`,
    {
      name: args.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: tableKey.hash.name,
      rangeKey: tableKey.range.name,
      attributes: [tableKey.hash, tableKey.range].map(({ name, type }) => ({ name, type })),
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: {
        enabled: true,
        ...(args.tableKmsKeyArn === undefined ? {} : { kmsKeyArn: args.tableKmsKeyArn }),
      },
      deletionProtectionEnabled: config.deletionProtection,
      // KEYS_ONLY: the function re-reads the source item (consistent GetItem), so images would
      // only make records and their dead letters larger.
      ...(args.streamEnabled ? { streamEnabled: true, streamViewType: "KEYS_ONLY" } : {}),
      tags,
    },
    opts,
  );

  const topicKey = new aws.kms.Key(
    `${name}-topic-key`,
    {
      description: topicKeyDescription(config.environment),
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi
        .all([args.accountId, args.partition])
        .apply(([accountId, partition]) =>
          policyJson(
            `${name}-topic-key`,
            topicKeyPolicy({ accountId, partition }),
            policyLimits.key,
          ),
        ),
      tags,
    },
    opts,
  );
  const topic = (suffix: string, displayName: string): aws.sns.Topic =>
    new aws.sns.Topic(
      `${name}-${suffix}`,
      { displayName, kmsMasterKeyId: topicKey.arn, tags },
      opts,
    );
  const successTopic = topic("replication-succeeded", "Replication succeeded");
  const failureTopic = topic("replication-failed", "Replication failed");
  createAlertSubscriptions(name, { topic: failureTopic, emails: config.alertEmails }, parent);

  const deadLetterQueue = new aws.sqs.Queue(
    `${name}-dlq`,
    {
      messageRetentionSeconds: deadLetterRetentionSeconds,
      sqsManagedSseEnabled: true,
      tags,
    },
    opts,
  );
  const deadLetterAlarm = new aws.cloudwatch.MetricAlarm(
    `${name}-dlq-depth`,
    {
      alarmDescription: deadLetterAlarmDescription(config.environment),
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: deadLetterQueue.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [failureTopic.arn],
      // Tell people when the queue is empty again (after a redrive), not only when it fills:
      // recoveries go to the success topic too (see lib/alarms.ts).
      okActions: [failureTopic.arn, successTopic.arn],
      tags,
    },
    opts,
  );

  return { bucket, table, topicKey, successTopic, failureTopic, deadLetterQueue, deadLetterAlarm };
}
