/**
 * What the replicating stack makes of a target stack's outputs: the target's region and account
 * (a target deployed before it exported them is taken to be in this stack's account and region,
 * as every target was before), the `TARGETS` entry of the function, and the ARNs its role's policy
 * names. Refuses, with a message naming the stack and the output, a target in another partition
 * and a target in another account that does not grant this stack's role. Pure: no Pulumi.
 */
import { accountIdPattern, dynamodbViaService, partitionOf } from "./accounts";
import type { TargetTableKey } from "./iam";
import { regionPattern, type ReplicationTarget } from "./replication/contract";

/** A target stack's outputs as read through its stack reference. */
export interface TargetOutputs {
  /** The referenced stack's full name (`org/project/stack`). */
  readonly stack: string;
  readonly environment: string;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly tableName: string;
  readonly tableArn: string;
  readonly region?: string | undefined;
  readonly accountId?: string | undefined;
  /** The replication role the target grants (a target in another account). */
  readonly replicationSourceRoleArn?: string | undefined;
  /** The target table's customer managed key (a target in another account). */
  readonly tableKeyArn?: string | undefined;
}

/** The replicating stack itself. */
export interface Replicator {
  readonly accountId: string;
  readonly region: string;
  readonly environment: string;
  /** Its replication role. */
  readonly roleArn: string;
}

/** One target, resolved. */
export interface ResolvedTarget {
  /** The function's `TARGETS` entry. */
  readonly entry: ReplicationTarget;
  readonly accountId: string;
  readonly bucketArn: string;
  readonly tableArn: string;
  /** Present for a target in another account. */
  readonly tableKey: TargetTableKey | undefined;
}

/** A target stack this stack cannot replicate into; the message says what to change. */
export class TargetStackError extends Error {
  override readonly name = "TargetStackError";
}

/**
 * Resolves one target. In another account, `table` is the table's ARN: "If you only provide the
 * table name parameter instead of a complete ARN, the API operation will be performed on the
 * table in the account to which the requestor belongs"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/rbac-cross-account-access.html);
 * in the same account, its name, as before. `region` is always the target's region.
 */
export function resolveTarget(target: TargetOutputs, self: Replicator): ResolvedTarget {
  const at = (key: string, value: string): string =>
    `Stack "${target.stack}" output "${key}" = ${JSON.stringify(value)}`;
  const region = target.region ?? self.region;
  if (!regionPattern.test(region)) {
    throw new TargetStackError(`${at("region", region)} is not an AWS region name`);
  }
  const accountId = target.accountId ?? self.accountId;
  if (!accountIdPattern.test(accountId)) {
    throw new TargetStackError(`${at("accountId", accountId)} is not a 12-digit account id`);
  }
  const theirs = partitionOf(region).name;
  const ours = partitionOf(self.region).name;
  if (theirs !== ours) {
    throw new TargetStackError(
      `${at("region", region)} is in partition ${theirs}, but this stack (${self.region}) is in ` +
        `${ours}: replication cannot cross partitions (accounts and credentials are scoped to one)`,
    );
  }
  const crossAccount = accountId !== self.accountId;
  let tableKey: TargetTableKey | undefined;
  if (crossAccount) {
    const granted = target.replicationSourceRoleArn;
    if (granted !== self.roleArn) {
      const file = `Pulumi.${target.stack.slice(target.stack.lastIndexOf("/") + 1)}.yaml`;
      throw new TargetStackError(
        `Stack "${target.stack}" is in account ${accountId} and grants ` +
          `${granted ?? "no replication role"}, not this stack's ` +
          `${self.roleArn}: set data-pipeline:sourceAccountId "${self.accountId}", ` +
          `sourceEnvironment "${self.environment}" and sourceRegion "${self.region}" in ${file} ` +
          "(with this stack's namePrefix; a replicating stack with a nameSuffix cannot be granted " +
          "across accounts) and deploy it before this stack",
      );
    }
    if (target.tableKeyArn === undefined) {
      throw new TargetStackError(
        `Stack "${target.stack}" is in account ${accountId} and grants this stack's role, but ` +
          'has no output "tableKeyArn" (its table\'s key): deploy it again before this stack',
      );
    }
    tableKey = { arn: target.tableKeyArn, viaService: dynamodbViaService(region) };
  }
  return {
    entry: {
      environment: target.environment,
      bucket: target.bucketName,
      table: crossAccount ? target.tableArn : target.tableName,
      region,
    },
    accountId,
    bucketArn: target.bucketArn,
    tableArn: target.tableArn,
    tableKey,
  };
}
