/**
 * What an S3 Batch Operations resync job needs in the replicating stack
 * (`npm run resync -- --engine batch-operations`): the role the job runs as (trusted by Batch
 * Operations only; may invoke this replication function, generate the source's manifest, and
 * write the manifest and the completion report) and the report bucket (public access blocked,
 * bucket-owner-enforced, encrypted, TLS only, versioned as every bucket here, and a lifecycle
 * that expires manifests and reports). Names come from lib/batch-operations-names.ts, which the
 * resync command derives from the function's name too.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  BATCH_MANIFEST_PREFIX,
  BATCH_REPORT_PREFIX,
  batchOperationsNames,
} from "./batch-operations-names";
import type { StackConfig } from "./config";
import {
  batchOperationsAssumeRolePolicy,
  batchOperationsRolePolicy,
  denyInsecureTransportPolicy,
  policyJson,
  policyLimits,
} from "./iam";
import { createPrivateBucket } from "./private-bucket";
import { batchRoleDescription } from "./resource-texts";

/** Days a generated manifest or completion report is kept. */
export const batchReportRetentionDays = 30;

export interface BatchOperationsArgs {
  readonly config: StackConfig;
  /** The source (data) bucket the job lists. */
  readonly sourceBucketArn: pulumi.Input<string>;
  /** The replication function the job invokes. */
  readonly functionArn: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface BatchOperations {
  readonly role: aws.iam.Role;
  readonly reportBucket: aws.s3.Bucket;
}

/** Declares the job role and the report bucket as children of `parent`. */
export function createBatchOperations(
  name: string,
  args: BatchOperationsArgs,
  parent: pulumi.Resource,
): BatchOperations {
  const { config, tags } = args;
  const opts = { parent };
  const identity = aws.getCallerIdentityOutput({}, opts);
  const names = identity.accountId.apply((accountId) =>
    batchOperationsNames({
      namePrefix: config.namePrefix,
      environment: config.environment,
      region: config.region,
      uniqueness: config.nameSuffix ?? accountId,
      nameSuffix: config.nameSuffix,
    }),
  );

  // Completion reports are SSE-S3 whatever the bucket says ("Completion reports are always
  // encrypted with server-side encryption with Amazon S3 managed keys (SSE-S3)",
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/batch-ops-create-job.html), as the
  // bucket's default encryption is. Manifests and reports expire after
  // `batchReportRetentionDays`; the versions that leaves behind a day later, and with them the
  // delete markers ("If the lifecycle configuration is set to delete current versions ... Amazon
  // S3 removes the expired object's delete marker",
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManagingDelMarkers.html).
  const reportBucket = createPrivateBucket(
    `${name}-batch-reports`,
    {
      bucket: names.reportBucket,
      tags,
      lifecycleRules: [
        {
          id: "expire-reports",
          status: "Enabled",
          filter: {},
          expiration: { days: batchReportRetentionDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ],
      policy: denyInsecureTransportPolicy,
    },
    parent,
  );

  const role = new aws.iam.Role(
    `${name}-batch-role`,
    {
      name: names.role,
      description: batchRoleDescription,
      assumeRolePolicy: policyJson(
        `${name}-batch-role`,
        batchOperationsAssumeRolePolicy(),
        policyLimits.roleTrust,
      ),
      tags,
    },
    // Created before the old one is deleted, as the replication role (createReplicationRole in
    // lib/replication-plane.ts): a replacement always has a new name.
    { parent, deleteBeforeReplace: false },
  );
  new aws.iam.RolePolicy(
    `${name}-batch-policy`,
    {
      role: role.id,
      policy: pulumi
        .all([args.functionArn, args.sourceBucketArn, reportBucket.arn])
        .apply(([functionArn, sourceBucketArn, reportBucketArn]) =>
          policyJson(
            `${name}-batch-policy`,
            batchOperationsRolePolicy({
              functionArn,
              sourceBucketArn,
              reportBucketArn,
              manifestPrefix: BATCH_MANIFEST_PREFIX,
              reportPrefix: BATCH_REPORT_PREFIX,
            }),
            policyLimits.roleInline,
          ),
        ),
    },
    opts,
  );

  return { role, reportBucket };
}
