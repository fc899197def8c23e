// S3 baseline: public access fully blocked, TLS-only bucket policy, versioning, lifecycle and
// default encryption, and (stack rule) every bucket actually has each of those companions.
import { TYPES } from "../baseline";
import { isRecord, listAt, policyDocument, quote, recordAt, stringAt, stringsOf } from "../props";
import type { PlannedResource, ResourceRule, StackFinding, StackRule } from "../types";
import { escapeRegExp } from "../../tools/common/guards";

const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

export const s3PublicAccessBlocked: ResourceRule = {
  name: "s3-public-access-blocked",
  description: "Each bucket public access block sets all four block/ignore/restrict flags to true.",
  validate(type, props) {
    if (type !== TYPES.bucketPublicAccessBlock) return [];
    const off = PUBLIC_ACCESS_FLAGS.filter((flag) => props[flag] !== true);
    return off.map((flag) => `${flag} = ${quote(props[flag])} (must be true)`);
  },
};

function isEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  return isRecord(principal) && stringsOf(principal.AWS).includes("*");
}

/** Whether `statement` denies every S3 action to everyone over the bucket and its objects without TLS. */
function deniesInsecureTransport(statement: unknown, bucket: string | undefined): boolean {
  if (!isRecord(statement) || statement.Effect !== "Deny" || !isEveryone(statement.Principal)) {
    return false;
  }
  const actions = stringsOf(statement.Action);
  if (!actions.includes("s3:*") && !actions.includes("*")) return false;
  const bool = isRecord(statement.Condition) ? statement.Condition.Bool : undefined;
  const secureTransport = isRecord(bool) ? bool["aws:SecureTransport"] : undefined;
  if (secureTransport !== false && !stringsOf(secureTransport).includes("false")) return false;
  const resources = stringsOf(statement.Resource);
  const name = bucket === undefined ? "[^/]+" : escapeRegExp(bucket);
  const bucketArn = new RegExp(`^arn:aws[a-z-]*:s3:::${name}$`);
  const objectsArn = new RegExp(`^arn:aws[a-z-]*:s3:::${name}/\\*$`);
  return resources.some((r) => bucketArn.test(r)) && resources.some((r) => objectsArn.test(r));
}

export const s3TlsOnly: ResourceRule = {
  name: "s3-tls-only",
  description:
    "Each bucket policy denies s3:* to every principal when aws:SecureTransport is false, " +
    "on the bucket and on its objects.",
  validate(type, props) {
    if (type !== TYPES.bucketPolicy) return [];
    const document = policyDocument(props.policy);
    if (document === undefined) return [`policy = ${quote(props.policy)} (not a policy document)`];
    const bucket = stringAt(props, "bucket");
    if (listAt(document, "Statement").some((s) => deniesInsecureTransport(s, bucket))) return [];
    return [
      `policy of bucket ${quote(bucket)} has no statement denying s3:* to "*" when ` +
        `aws:SecureTransport is "false" on both the bucket ARN and its /* objects`,
    ];
  },
};

export const s3VersioningEnabled: ResourceRule = {
  name: "s3-versioning-enabled",
  description: "Each bucket versioning resource has status Enabled.",
  validate(type, props) {
    if (type !== TYPES.bucketVersioning) return [];
    const status = recordAt(props, "versioningConfiguration")?.status;
    return status === "Enabled"
      ? []
      : [`versioningConfiguration.status = ${quote(status)} (must be "Enabled")`];
  },
};

export const s3LifecycleConfigured: ResourceRule = {
  name: "s3-lifecycle-configured",
  description: "Each bucket lifecycle configuration has at least one Enabled rule.",
  validate(type, props) {
    if (type !== TYPES.bucketLifecycleConfiguration) return [];
    const rules = listAt(props, "rules");
    const enabled = rules.filter((rule) => isRecord(rule) && rule.status === "Enabled");
    return enabled.length > 0
      ? []
      : [`rules has ${rules.length} rule(s), none with status "Enabled"`];
  },
};

const SSE_ALGORITHMS: readonly string[] = ["aws:kms", "aws:kms:dsse", "AES256"];

export const s3Encrypted: ResourceRule = {
  name: "s3-encrypted",
  description: "Each bucket encryption configuration sets a default SSE algorithm on every rule.",
  validate(type, props) {
    if (type !== TYPES.bucketServerSideEncryptionConfiguration) return [];
    const rules = listAt(props, "rules");
    if (rules.length === 0) return ["rules is empty (needs a default encryption rule)"];
    return rules.flatMap((rule, index) => {
      const byDefault = isRecord(rule)
        ? recordAt(rule, "applyServerSideEncryptionByDefault")
        : undefined;
      const algorithm = byDefault?.sseAlgorithm;
      return typeof algorithm === "string" && SSE_ALGORITHMS.includes(algorithm)
        ? []
        : [
            `rules[${index}].applyServerSideEncryptionByDefault.sseAlgorithm = ${quote(algorithm)} ` +
              `(one of ${SSE_ALGORITHMS.join(", ")})`,
          ];
    });
  },
};

/** The companion resources every bucket needs, by type token and a readable name. */
const BUCKET_COMPANIONS: readonly (readonly [string, string])[] = [
  [TYPES.bucketPublicAccessBlock, "BucketPublicAccessBlock"],
  [TYPES.bucketPolicy, "BucketPolicy"],
  [TYPES.bucketVersioning, "BucketVersioning"],
  [TYPES.bucketLifecycleConfiguration, "BucketLifecycleConfiguration"],
  [TYPES.bucketServerSideEncryptionConfiguration, "BucketServerSideEncryptionConfiguration"],
];

/**
 * Whether `child`'s `bucket` input refers to `bucket`: by the engine's property dependencies when
 * it gives them, else by value (the bucket's name or id, as AWS uses the name as the id).
 */
export function refersToBucket(child: PlannedResource, bucket: PlannedResource): boolean {
  const dependencies = child.propertyDependencies?.bucket ?? [];
  if (dependencies.length > 0) return dependencies.includes(bucket.urn);
  const reference = child.props.bucket;
  if (typeof reference !== "string") return false;
  return [bucket.props.bucket, bucket.props.id, bucket.id].includes(reference);
}

export const s3BucketBaselineAttached: StackRule = {
  name: "s3-bucket-baseline-attached",
  description:
    "Every bucket has a public access block, a bucket policy, versioning, a lifecycle " +
    "configuration and an encryption configuration referring to it.",
  validate(resources) {
    const findings: StackFinding[] = [];
    for (const bucket of resources.filter((r) => r.type === TYPES.bucket)) {
      const missing = BUCKET_COMPANIONS.filter(
        ([type]) => !resources.some((r) => r.type === type && refersToBucket(r, bucket)),
      ).map(([, label]) => label);
      if (missing.length > 0) {
        findings.push({
          urn: bucket.urn,
          message: `bucket ${quote(bucket.props.bucket ?? bucket.name)} has no ${missing.join(", ")}`,
        });
      }
    }
    return findings;
  },
};
