/**
 * The tags every taggable resource carries, and the rules extra tags from config must meet. The
 * same tag set goes on every resource (S3 buckets, a DynamoDB table, SNS topics, an SQS queue, KMS
 * keys, CloudWatch alarms and a log group, an EventBridge rule, a Lambda function and its event
 * source mapping, IAM roles), so it must meet the strictest rule of each service:
 *
 * - 50 tags per resource, the program's three included: "The maximum number of tags per resource
 *   is 50" (DynamoDB, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TaggingRestrictions.html);
 *   "You can associate as many as 50 tags with a CloudWatch resource"
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_TagResource.html);
 *   CloudWatch Logs "Maximum number of 50 items"
 *   (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagLogGroup.html);
 *   EventBridge "Each resource can have a maximum of 50 tags"
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-tagging.html); SNS "Can't add
 *   more than 50 tags to a topic" (TagLimitExceeded, https://docs.aws.amazon.com/sns/latest/api/API_TagResource.html);
 *   SQS "We don't recommend adding more than 50 tags to a queue"
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html);
 *   IAM roles 50 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 * - Keys of 1-128 characters, values of at most 256 (every service's Tag type, e.g.
 *   https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html); SQS: "Tag Value ... can't
 *   be empty or null" (quotas-queues.html above), so values of at least 1.
 * - Characters: IAM, S3, CloudWatch Logs and Lambda take `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (IAM's Tag,
 *   above; S3 https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_Tag.html; Logs, above;
 *   Lambda https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html); DynamoDB takes
 *   less: "The allowed characters are letters, white space, and numbers, plus the following
 *   special characters: + - = . _ : /" (TaggingRestrictions.html above), no `@`. So letters,
 *   separators, numbers and `_ . : / = + -`, keys and values alike. (KMS's CloudFormation
 *   reference lists neither `:` nor `@` for values, but KMS's Tag type defers to the Billing
 *   guide's rules, which allow both: not enforced.)
 * - No key starting with `aws:` in any case: "Don't use aws:, AWS:, or any upper or lowercase
 *   combination of such as a prefix for either keys or values, as it is reserved for AWS use"
 *   (AWS's general tag restrictions, as AWS Batch states them:
 *   https://docs.aws.amazon.com/batch/latest/userguide/tag-restrictions.html). Keys only: IAM's,
 *   S3's and CloudWatch Logs' value patterns take `aws:`.
 * - No two keys that differ only in case: "IAM has additional validations for IAM resources to
 *   prevent the application of tag keys that only differ in casing"
 *   (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html); the roles carry the
 *   program's `Environment`, `Project` and `ManagedBy` too.
 */

/** Keys the program always sets; config `tags` may not override them. */
export const standardTagKeys = ["Environment", "Project", "ManagedBy"] as const;

/** Standard tags (`Environment`, `Project`, `ManagedBy` = pulumi) plus extra tags from config. */
export function standardTags(
  environment: string,
  project: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return { ...extra, Environment: environment, Project: project, ManagedBy: "pulumi" };
}

/** Tags per resource in the strictest service, the program's own included. */
export const maxTagsPerResource = 50;
export const maxTagKeyLength = 128;
export const maxTagValueLength = 256;

/** What every tagged service accepts in keys and values (DynamoDB's set, the smallest). */
const tagCharacters = /^[\p{L}\p{Z}\p{N}_.:/=+-]*$/u;
const allowedCharacters = "letters, digits, spaces and _ . : / = + - (DynamoDB allows no other)";

/** Characters as AWS counts them ("Unicode characters"): code points. */
function characters(text: string): number {
  return Array.from(text).length;
}

/** One problem with the extra tags: the key or value it is about, and why. */
export interface TagProblem {
  readonly value: string;
  readonly reason: string;
}

/** Every problem with config's extra tags (empty when valid), in the order of the map. */
export function tagProblems(extra: Readonly<Record<string, string>>): TagProblem[] {
  const problems: TagProblem[] = [];
  const standard: readonly string[] = standardTagKeys;
  const seen = new Map<string, string>(standardTagKeys.map((key) => [key.toLowerCase(), key]));
  for (const [key, value] of Object.entries(extra)) {
    if (standard.includes(key)) {
      problems.push({ value: key, reason: "set by the program" });
      continue;
    }
    const keyProblems: string[] = [];
    const keyLength = characters(key);
    if (keyLength < 1 || keyLength > maxTagKeyLength) {
      keyProblems.push(`tag keys are 1-${maxTagKeyLength} characters (is ${keyLength})`);
    }
    if (key.toLowerCase().startsWith("aws:")) {
      keyProblems.push("tag keys may not start with aws: in any case (reserved for AWS)");
    }
    if (!tagCharacters.test(key)) {
      keyProblems.push(`tag keys may contain only ${allowedCharacters}`);
    }
    const same = seen.get(key.toLowerCase());
    if (same !== undefined) {
      keyProblems.push(`differs from the tag ${same} only in case (IAM refuses that on a role)`);
    }
    seen.set(key.toLowerCase(), key);
    problems.push(...keyProblems.map((reason) => ({ value: key, reason })));

    const valueLength = characters(value);
    if (valueLength < 1 || valueLength > maxTagValueLength) {
      problems.push({
        value,
        reason: `value of tag ${key}: 1-${maxTagValueLength} characters (is ${valueLength}; SQS refuses an empty value)`,
      });
    }
    if (!tagCharacters.test(value)) {
      problems.push({ value, reason: `value of tag ${key}: only ${allowedCharacters}` });
    }
  }
  const count = Object.keys(extra).filter((key) => !standard.includes(key)).length;
  if (count + standardTagKeys.length > maxTagsPerResource) {
    problems.push({
      value: JSON.stringify(Object.keys(extra)),
      reason:
        `${count} tags and the program's ${standardTagKeys.length} make ` +
        `${count + standardTagKeys.length} on every resource (max ${maxTagsPerResource} per resource)`,
    });
  }
  return problems;
}
