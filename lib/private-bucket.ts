/**
 * A private bucket as every bucket of this project is declared: the bucket, then its settings as
 * separate resources (the @pulumi/aws v7 way; the inline `versioning` / `lifecycleRules` are
 * deprecated): public access blocked, bucket-owner-enforced ownership, SSE-S3 encryption,
 * versioning, a lifecycle (after versioning, which its noncurrent rules need) and a bucket policy
 * (after the public access block). Logical names: `<base>`, `<base>-public-access`,
 * `<base>-ownership`, `<base>-encryption`, `<base>-versioning`, `<base>-lifecycle`,
 * `<base>-policy`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyJson, policyLimits, type PolicyDocument } from "./iam";

export interface PrivateBucketArgs {
  readonly bucket: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
  readonly lifecycleRules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  /** The bucket policy, given the bucket's ARN. */
  readonly policy: (bucketArn: string) => PolicyDocument;
}

/** Declares the bucket and its settings as children of `parent`; returns the bucket. */
export function createPrivateBucket(
  base: string,
  args: PrivateBucketArgs,
  parent: pulumi.Resource,
): aws.s3.Bucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(
    base,
    { bucket: args.bucket, forceDestroy: false, tags: args.tags },
    opts,
  );
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${base}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketOwnershipControls(
    `${base}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${base}-encryption`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    },
    opts,
  );
  const versioning = new aws.s3.BucketVersioning(
    `${base}-versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${base}-lifecycle`,
    { bucket: bucket.id, rules: args.lifecycleRules },
    { parent, dependsOn: [versioning] },
  );
  new aws.s3.BucketPolicy(
    `${base}-policy`,
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        policyJson(`${base}-policy`, args.policy(arn), policyLimits.bucket),
      ),
    },
    { parent, dependsOn: [publicAccessBlock] },
  );
  return bucket;
}
