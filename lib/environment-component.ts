/**
 * One environment of the data pipeline: the data plane in every stack, plus the replication plane
 * in the stack whose config lists replication targets (prod).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import { createReplicationGrants } from "./cross-account";
import { createDataPlane } from "./data-plane";
import { physicalNames } from "./naming";
import {
  createReplicationPlane,
  createReplicationRole,
  referenceTargets,
} from "./replication-plane";
import { standardTags } from "./tags";

/** The component's type token. */
export const environmentComponentType = "data-pipeline:index:EnvironmentComponent";

export interface EnvironmentComponentArgs {
  /** The validated stack config (see `validateConfig`). */
  readonly config: StackConfig;
}

export class EnvironmentComponent extends pulumi.ComponentResource {
  public readonly environment: pulumi.Output<string>;
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly tableName: pulumi.Output<string>;
  public readonly tableArn: pulumi.Output<string>;
  public readonly successTopicArn: pulumi.Output<string>;
  public readonly failureTopicArn: pulumi.Output<string>;
  public readonly dlqUrl: pulumi.Output<string>;
  public readonly dlqArn: pulumi.Output<string>;
  /** The stack's region (`aws:region`) and account (its credentials'). */
  public readonly region: pulumi.Output<string>;
  public readonly accountId: pulumi.Output<string>;
  /** Present in a target stack that grants a replicating stack in another account only. */
  public readonly replicationSourceRoleArn: pulumi.Output<string> | undefined;
  /** Present in a target stack that grants a replicating stack in another account only. */
  public readonly tableKeyArn: pulumi.Output<string> | undefined;
  /** Present in the replicating stack only. */
  public readonly replicationFunctionArn: pulumi.Output<string> | undefined;
  /** Present in the replicating stack only (what `npm run redrive -- --function` takes). */
  public readonly replicationFunctionName: pulumi.Output<string> | undefined;
  /** Present in the replicating stack only. */
  public readonly replicationRuleArn: pulumi.Output<string> | undefined;
  /** Present in the replicating stack only: the CloudWatch console address of its dashboard. */
  public readonly replicationDashboardUrl: pulumi.Output<string> | undefined;
  /** The masking key's secret (a replicating stack that masks). */
  public readonly maskingSecretArn: pulumi.Output<string> | undefined;

  constructor(
    name: string,
    args: EnvironmentComponentArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super(environmentComponentType, name, {}, opts);
    const { config } = args;
    const tags = standardTags(config.environment, config.project, config.tags);
    const replicating = config.replicationTargets.length > 0;

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const names = physicalNames({
      namePrefix: config.namePrefix,
      environment: config.environment,
      region: config.region,
      uniqueness: config.nameSuffix ?? "",
      nameSuffix: config.nameSuffix,
    });
    const bucketName =
      config.nameSuffix === undefined
        ? identity.accountId.apply(
            (accountId) =>
              physicalNames({
                namePrefix: config.namePrefix,
                environment: config.environment,
                region: config.region,
                uniqueness: accountId,
              }).bucket,
          )
        : pulumi.output(names.bucket);

    const role = replicating
      ? createReplicationRole(name, tags, this, names.replicationRole)
      : undefined;
    const grants =
      config.replicationSource === undefined
        ? undefined
        : createReplicationGrants(
            name,
            { config, source: config.replicationSource, accountId: identity.accountId, tags },
            this,
          );
    const data = createDataPlane(
      name,
      {
        config,
        bucketName,
        tableName: names.table,
        accountId: identity.accountId,
        partition: partition.partition,
        tags,
        streamEnabled: replicating,
        bucketGrantee: grants?.grantee,
        tableKmsKeyArn: grants?.tableKey.arn,
      },
      this,
    );
    grants?.grantTable(data.table);
    const replication =
      role === undefined
        ? undefined
        : createReplicationPlane(
            name,
            {
              config,
              names,
              data,
              role,
              targets: referenceTargets(name, config, this),
              tags,
              accountId: identity.accountId,
            },
            this,
          );

    this.environment = pulumi.output(config.environment);
    this.bucketName = data.bucket.bucket;
    this.bucketArn = data.bucket.arn;
    this.tableName = data.table.name;
    this.tableArn = data.table.arn;
    this.successTopicArn = data.successTopic.arn;
    this.failureTopicArn = data.failureTopic.arn;
    this.dlqUrl = data.deadLetterQueue.url;
    this.dlqArn = data.deadLetterQueue.arn;
    this.region = pulumi.output(config.region);
    this.accountId = identity.accountId;
    this.replicationSourceRoleArn =
      grants === undefined ? undefined : pulumi.output(grants.grantee.roleArn);
    this.tableKeyArn = grants?.tableKey.arn;
    this.replicationFunctionArn = replication?.function.arn;
    this.replicationFunctionName = replication?.function.name;
    this.replicationRuleArn = replication?.rule.arn;
    this.replicationDashboardUrl = replication?.dashboard.url;
    this.maskingSecretArn = replication?.masking?.secretArn;

    this.registerOutputs(this.outputs());
  }

  /**
   * The stack outputs: every output that this stack has (the replication ones in prod only, the
   * grant ones in a target granting another account only).
   */
  outputs(): Record<string, pulumi.Output<string>> {
    const outputs: Record<string, pulumi.Output<string>> = {
      environment: this.environment,
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      tableName: this.tableName,
      tableArn: this.tableArn,
      successTopicArn: this.successTopicArn,
      failureTopicArn: this.failureTopicArn,
      dlqUrl: this.dlqUrl,
      dlqArn: this.dlqArn,
      region: this.region,
      accountId: this.accountId,
    };
    if (this.replicationSourceRoleArn !== undefined) {
      outputs.replicationSourceRoleArn = this.replicationSourceRoleArn;
    }
    if (this.tableKeyArn !== undefined) {
      outputs.tableKeyArn = this.tableKeyArn;
    }
    if (this.replicationFunctionArn !== undefined) {
      outputs.replicationFunctionArn = this.replicationFunctionArn;
    }
    if (this.replicationFunctionName !== undefined) {
      outputs.replicationFunctionName = this.replicationFunctionName;
    }
    if (this.replicationRuleArn !== undefined) {
      outputs.replicationRuleArn = this.replicationRuleArn;
    }
    if (this.replicationDashboardUrl !== undefined) {
      outputs.replicationDashboardUrl = this.replicationDashboardUrl;
    }
    if (this.maskingSecretArn !== undefined) {
      outputs.maskingSecretArn = this.maskingSecretArn;
    }
    return outputs;
  }
}
