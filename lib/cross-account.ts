/**
 * A target stack's grants to a replicating stack in another account (config `sourceAccountId`):
 * the replication role it names (derived from the naming rules, so the target deploys first), a
 * customer managed key for its table (AWS's own DynamoDB key cannot be shared across accounts),
 * the statements its bucket policy adds and the table's resource policy. A stack without
 * `sourceAccountId` gets none of these.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { dynamodbViaService, partitionOf, roleArn } from "./accounts";
import type { ReplicationSource, StackConfig } from "./config";
import {
  policyJson,
  policyLimits,
  targetTableKeyPolicy,
  targetTablePolicy,
  type ReplicationGrantee,
  type TargetTableKeyPolicyArgs,
} from "./iam";
import { tableKeyDescription } from "./resource-texts";

/** The grantee a target names: the source account's replication role, by its derived ARN. */
export function replicationGrantee(source: ReplicationSource): ReplicationGrantee {
  const partition = partitionOf(source.region).name;
  return {
    partition,
    accountId: source.accountId,
    roleArn: roleArn(partition, source.accountId, source.roleName),
  };
}

/** Thrown (at deploy time) when the source is the account the stack is deployed in. */
export class SameAccountSourceError extends Error {
  override readonly name = "SameAccountSourceError";

  constructor(
    readonly key: string,
    readonly accountId: string,
  ) {
    super(
      `${key} = ${JSON.stringify(accountId)} is the account this stack is deployed in: ` +
        "a replicating stack in the same account needs no grants, remove the key",
    );
  }
}

/**
 * The table key's policy once the stack's own account is known; refuses a source that is that
 * same account (config validation catches it only when the stack file pins its account).
 */
export function tableKeyPolicyDocument(
  config: Pick<StackConfig, "project" | "region">,
  source: ReplicationSource,
  accountId: string,
): ReturnType<typeof targetTableKeyPolicy> {
  if (accountId === source.accountId) {
    throw new SameAccountSourceError(`${config.project}:sourceAccountId`, source.accountId);
  }
  const args: TargetTableKeyPolicyArgs = {
    accountId,
    partition: partitionOf(config.region).name,
    viaService: dynamodbViaService(config.region),
    grantee: replicationGrantee(source),
  };
  return targetTableKeyPolicy(args);
}

export interface ReplicationGrantsArgs {
  readonly config: StackConfig;
  readonly source: ReplicationSource;
  /** The account the stack is deployed in (its credentials'). */
  readonly accountId: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/** What a target stack in another account than its replicating stack declares. */
export interface ReplicationGrants {
  readonly grantee: ReplicationGrantee;
  /** The table's customer managed key; the table is created with it. */
  readonly tableKey: aws.kms.Key;
  /** Attaches the table's resource policy (after the table exists). */
  grantTable(table: aws.dynamodb.Table): aws.dynamodb.ResourcePolicy;
}

/** Declares the table key as a child of `parent`; `grantTable` adds the table's policy. */
export function createReplicationGrants(
  name: string,
  args: ReplicationGrantsArgs,
  parent: pulumi.Resource,
): ReplicationGrants {
  const { config, source, tags } = args;
  const grantee = replicationGrantee(source);
  const tableKey = new aws.kms.Key(
    `${name}-table-key`,
    {
      description: tableKeyDescription(config.environment, source.accountId),
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi
        .output(args.accountId)
        .apply((accountId) =>
          policyJson(
            `${name}-table-key`,
            tableKeyPolicyDocument(config, source, accountId),
            policyLimits.key,
          ),
        ),
      tags,
    },
    { parent },
  );
  return {
    grantee,
    tableKey,
    grantTable: (table) =>
      new aws.dynamodb.ResourcePolicy(
        `${name}-table-policy`,
        {
          resourceArn: table.arn,
          policy: table.arn.apply((arn) =>
            policyJson(`${name}-table-policy`, targetTablePolicy(arn, grantee), policyLimits.table),
          ),
        },
        { parent },
      ),
  };
}
