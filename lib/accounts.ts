/**
 * Accounts and partitions: 12-digit account ids, the account a stack file pins
 * (`aws:allowedAccountIds`), the partition a region belongs to, and the ARNs that cross-account
 * grants name (an account's root, the replicating stack's role). Pure: no Pulumi, no I/O.
 */
import { partition } from "@aws-sdk/core/client";

/** An AWS account id: exactly 12 digits. */
export const accountIdPattern = /^\d{12}$/;

/** The config key of the AWS provider that pins a stack to accounts (a list of account ids). */
export const allowedAccountIdsKey = "aws:allowedAccountIds";

/** A partition as the AWS SDK describes it: `aws`, `aws-cn`, `aws-us-gov`, ... */
export interface Partition {
  /** The partition's name, the second field of every ARN in it. */
  readonly name: string;
  /** The DNS suffix of its service endpoints (`amazonaws.com`, `amazonaws.com.cn`). */
  readonly dnsSuffix: string;
}

/**
 * The partition a region belongs to, from the AWS SDK's own partition table (@aws-sdk/core, the
 * `partitions.json` every SDK client resolves endpoints with): a known region by name, else by the
 * partition's region pattern (`cn-*` is `aws-cn`, `us-gov-*` is `aws-us-gov`, `us-iso-*` is
 * `aws-iso`, ...), else `aws`. Accounts and credentials never cross a partition: "A partition is
 * a group of AWS Regions. Each AWS account is scoped to one partition."
 * (https://docs.aws.amazon.com/general/latest/gr/aws-arns-and-namespaces.html); "You cannot use
 * IAM credentials from one partition to interact with resources in a different partition."
 * (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
 */
export function partitionOf(region: string): Partition {
  const found = partition(region);
  return { name: found.name, dnsSuffix: found.dnsSuffix };
}

/** The ARN that stands for a whole account as a principal (`arn:aws:iam::111122223333:root`). */
export function accountRootArn(partitionName: string, accountId: string): string {
  return `arn:${partitionName}:iam::${accountId}:root`;
}

/** The ARN of an IAM role (IAM is global: no region). */
export function roleArn(partitionName: string, accountId: string, roleName: string): string {
  return `arn:${partitionName}:iam::${accountId}:role/${roleName}`;
}

/**
 * The `kms:ViaService` value of DynamoDB in a region: the service endpoint's name
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
 */
export function dynamodbViaService(region: string): string {
  return `dynamodb.${region}.${partitionOf(region).dnsSuffix}`;
}

/** `aws:allowedAccountIds` read: the accounts, and why the value is not a list of ids if it is not. */
export interface AllowedAccountIds {
  /** Empty when unset or malformed. */
  readonly accountIds: readonly string[];
  /** Set when the value is not a list of 12-digit account ids. */
  readonly problem: string | undefined;
}

const notAList: AllowedAccountIds = {
  accountIds: [],
  problem: "must be a list of 12-digit account ids",
};

/**
 * Reads `aws:allowedAccountIds` as Pulumi hands it to the program (a JSON list, from the YAML list
 * in the stack file). Unset reads as no accounts.
 */
export function parseAllowedAccountIds(raw: string | undefined): AllowedAccountIds {
  if (raw === undefined) return { accountIds: [], problem: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw) as unknown;
  } catch {
    return notAList;
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  // A YAML list of unquoted ids arrives as numbers; 12-digit ids are exact in a double.
  const ids = list.map((id) => (typeof id === "number" ? String(id) : id));
  if (ids.length === 0 || !ids.every((id) => typeof id === "string" && accountIdPattern.test(id))) {
    return notAList;
  }
  return { accountIds: ids as string[], problem: undefined };
}

/**
 * The account a stack is pinned to: the first entry of `aws:allowedAccountIds` (the AWS provider
 * refuses credentials of any account not listed), or undefined when the stack pins none (its
 * account is whatever its credentials belong to) or the value is malformed.
 */
export function pinnedAccountId(raw: string | undefined): string | undefined {
  return parseAllowedAccountIds(raw).accountIds[0];
}
