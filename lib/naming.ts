/**
 * Physical names (bucket, table, replication function, its log group, role and dashboard) from one
 * function, and the AWS naming rules they must satisfy. Pure: no Pulumi, no I/O.
 */

/** The parts every physical name is built from. */
export interface NameParts {
  /** Company prefix, e.g. `company`. */
  readonly namePrefix: string;
  /** Environment, e.g. `prod`. */
  readonly environment: string;
  /** AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /** Uniqueness part: the account id, or a configured suffix. */
  readonly uniqueness: string;
  /** A configured suffix (ephemeral stacks); appended to the account-scoped names too. */
  readonly nameSuffix?: string | undefined;
}

/** The physical names of one environment. */
export interface PhysicalNames {
  readonly bucket: string;
  readonly table: string;
  readonly replicationFunction: string;
  readonly replicationLogGroup: string;
  /**
   * The replication Lambda's IAM role. Deterministic, so that a target stack in another account
   * can name it in its grants before the replicating stack exists.
   */
  readonly replicationRole: string;
  /**
   * The replicating stack's CloudWatch dashboard, named as the role is: "All dashboards in your
   * account are global, not region-specific" and PutDashboard replaces a dashboard of the same
   * name (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html),
   * so two replicating stacks of one environment in two regions of one account need two names.
   */
  readonly replicationDashboard: string;
  /** The masking key's secret in AWS Secrets Manager (a replicating stack that masks). */
  readonly maskingSecret: string;
}

/** Stands in for the account id when checking name lengths before the id is known. */
export const accountIdPlaceholder = "123456789012";

function withSuffix(base: string, suffix: string | undefined): string {
  return suffix === undefined ? base : `${base}-${suffix}`;
}

/**
 * Builds every physical name. Bucket: `{prefix}-data-{env}-{region}-{account id or suffix}`
 * (globally unique). Table and function names are account-scoped, so they carry the suffix only
 * when one is configured (an ephemeral stack must not collide with `dev`). The role is
 * `{prefix}-replication-{env}-{region}`: IAM names are global within an account, so the region
 * keeps two replicating stacks of one environment in two regions of one account apart; the
 * dashboard, account-global too, has the same name.
 */
export function physicalNames(parts: NameParts): PhysicalNames {
  const { namePrefix, environment, region, uniqueness, nameSuffix } = parts;
  const replicationFunction = withSuffix(`${namePrefix}-replication-${environment}`, nameSuffix);
  const accountGlobal = withSuffix(
    `${namePrefix}-replication-${environment}-${region}`,
    nameSuffix,
  );
  return {
    bucket: `${namePrefix}-data-${environment}-${region}-${uniqueness}`,
    table: withSuffix(`${namePrefix}-metadata-${environment}`, nameSuffix),
    replicationFunction,
    replicationLogGroup: `/aws/lambda/${replicationFunction}`,
    replicationRole: accountGlobal,
    replicationDashboard: accountGlobal,
    maskingSecret: withSuffix(`${namePrefix}-masking-${environment}`, nameSuffix),
  };
}

const reservedBucketPrefixes = ["xn--", "sthree-", "amzn-s3-demo-"];
const reservedBucketSuffixes = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** Problems with an S3 general purpose bucket name (empty when valid). */
export function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) {
    problems.push(`must be 3-63 characters (is ${name.length})`);
  }
  if (!/^[a-z0-9.-]*$/.test(name)) {
    problems.push("may contain only lowercase letters, digits, dots and hyphens");
  }
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) {
    problems.push("must begin and end with a letter or digit");
  }
  if (name.includes("..")) {
    problems.push("must not contain two adjacent dots");
  }
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) {
    problems.push("must not be formatted as an IP address");
  }
  for (const prefix of reservedBucketPrefixes) {
    if (name.startsWith(prefix)) problems.push(`must not start with "${prefix}"`);
  }
  for (const suffix of reservedBucketSuffixes) {
    if (name.endsWith(suffix)) problems.push(`must not end with "${suffix}"`);
  }
  return problems;
}

/** Problems with a DynamoDB table name (empty when valid). */
export function tableNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 255) {
    problems.push(`must be 3-255 characters (is ${name.length})`);
  }
  if (!/^[a-zA-Z0-9_.-]*$/.test(name)) {
    problems.push("may contain only letters, digits, '_', '-' and '.'");
  }
  return problems;
}

/** Problems with a Lambda function name (empty when valid). */
export function functionNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 1 || name.length > 64) {
    problems.push(`must be 1-64 characters (is ${name.length})`);
  }
  if (!/^[a-zA-Z0-9_-]*$/.test(name)) {
    problems.push("may contain only letters, digits, '_' and '-'");
  }
  return problems;
}

/**
 * Problems with a CloudWatch dashboard name (empty when valid): "The maximum length is 255, and
 * valid characters are A-Z, a-z, 0-9, "-", and "_""
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html).
 */
export function dashboardNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 1 || name.length > 255) {
    problems.push(`must be 1-255 characters (is ${name.length})`);
  }
  if (!/^[A-Za-z0-9_-]*$/.test(name)) {
    problems.push("may contain only letters, digits, '-' and '_'");
  }
  return problems;
}

/**
 * Problems with a CloudWatch Logs log group name (empty when valid): "Minimum length of 1.
 * Maximum length of 512. Pattern: [\.\-_/#A-Za-z0-9]+"
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html).
 */
export function logGroupNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 1 || name.length > 512) {
    problems.push(`must be 1-512 characters (is ${name.length})`);
  }
  if (!/^[.\-_/#A-Za-z0-9]*$/.test(name)) {
    problems.push("may contain only letters, digits and '.-_/#'");
  }
  return problems;
}

/**
 * Problems with an IAM role name (empty when valid): "Minimum length of 1. Maximum length of 64.
 * Pattern: [\w+=,.@-]+" (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
 */
export function roleNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 1 || name.length > 64) {
    problems.push(`must be 1-64 characters (is ${name.length})`);
  }
  if (!/^[\w+=,.@-]*$/.test(name)) {
    problems.push("may contain only letters, digits and '+=,.@_-'");
  }
  return problems;
}

/**
 * The physical name Pulumi gives a resource that names none: its logical name, a hyphen and 7
 * random hex digits (`pipeline-replication-role-1a2b3c4`). The replication role had such a name
 * until it was named by these rules; a fixed name never has this form (see
 * `createReplicationRole`, whose replacement is created before the old role is deleted).
 */
export function autoNamePattern(logicalName: string): RegExp {
  return new RegExp(`^${logicalName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[0-9a-f]{7}$`);
}
