/**
 * The replicating stack's resources (prod, by config): stack references to the target stacks,
 * EventBridge notifications and the rule for the source bucket, the replication Lambda (bundled
 * here with esbuild), its log group, role policy, async destinations, invoke permission and the
 * table stream's event source mapping; then its alarms (lib/alarms.ts) and dashboard
 * (lib/dashboard.ts); and what S3 Batch Operations resync jobs need (lib/batch-operations.ts).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { partitionOf, roleArn } from "./accounts";
import { createReplicationAlarms, type ReplicationAlarms } from "./alarms";
import { createBatchOperations, type BatchOperations } from "./batch-operations";
import {
  bundleFileName,
  bundleReplication,
  functionRuntimeEnvironment,
  lambdaHandler,
  lambdaRuntime,
} from "./bundle";
import { replicationServiceName, type StackConfig } from "./config";
import { createReplicationDashboard, type ReplicationDashboard } from "./dashboard";
import type { DataPlane } from "./data-plane";
import {
  deadLetterQueuePolicy,
  lambdaAssumeRolePolicy,
  policyJson,
  policyLimits,
  replicationRolePolicy,
} from "./iam";
import { createMaskingSecret, type MaskingSecret } from "./masking-secret";
import type { PhysicalNames } from "./naming";
import { writeContract } from "./replication/contract";
import {
  objectChangeRuleDescription,
  replicationFunctionDescription,
  replicationRoleDescription,
} from "./resource-texts";
import { replicationEventPatternJson, replicationRetry } from "./delivery";
import { resolveTarget, type ResolvedTarget } from "./targets";

export { replicatedDetailTypes, replicationEventPattern, replicationRetry } from "./delivery";

/** A target's outputs, read from its stack with `requireOutput`. */
export interface TargetStack {
  readonly stack: string;
  readonly environment: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly tableName: pulumi.Output<string>;
  readonly tableArn: pulumi.Output<string>;
  /** Outputs a target deployed before accounts and regions existed lacks (see lib/targets.ts). */
  readonly region: pulumi.Output<string | undefined>;
  readonly accountId: pulumi.Output<string | undefined>;
  readonly replicationSourceRoleArn: pulumi.Output<string | undefined>;
  readonly tableKeyArn: pulumi.Output<string | undefined>;
}

/** Checks one output read from a target stack: it must be a non-empty string. */
export function targetOutputValue(value: unknown, stackName: string, key: string): string {
  if (typeof value !== "string" || value === "") {
    throw new Error(`Stack "${stackName}" output "${key}" is not a non-empty string`);
  }
  return value;
}

function requireString(reference: pulumi.StackReference, stackName: string, key: string) {
  return reference
    .requireOutput(key)
    .apply((value: unknown) => targetOutputValue(value, stackName, key));
}

function optionalString(reference: pulumi.StackReference, stackName: string, key: string) {
  return reference
    .getOutput(key)
    .apply((value: unknown) =>
      value === undefined || value === null ? undefined : targetOutputValue(value, stackName, key),
    );
}

/** References every target stack (`org/project/stack`); deploy targets before this stack. */
export function referenceTargets(
  name: string,
  config: StackConfig,
  parent: pulumi.Resource,
): TargetStack[] {
  return config.replicationTargets.map((stack) => {
    const stackName = `${config.organization}/${config.project}/${stack}`;
    const reference = new pulumi.StackReference(
      `${name}-${stack}-stack`,
      { name: stackName },
      { parent },
    );
    return {
      stack,
      environment: requireString(reference, stackName, "environment"),
      bucketName: requireString(reference, stackName, "bucketName"),
      bucketArn: requireString(reference, stackName, "bucketArn"),
      tableName: requireString(reference, stackName, "tableName"),
      tableArn: requireString(reference, stackName, "tableArn"),
      region: optionalString(reference, stackName, "region"),
      accountId: optionalString(reference, stackName, "accountId"),
      replicationSourceRoleArn: optionalString(reference, stackName, "replicationSourceRoleArn"),
      tableKeyArn: optionalString(reference, stackName, "tableKeyArn"),
    };
  });
}

/**
 * The replication Lambda's role; created before the data plane so the topic key can name it. Its
 * physical name is fixed by the naming rules (`roleName`), so targets in other accounts can name
 * it before it exists.
 *
 * A replacement is created before the old role is deleted. The provider alone would delete first:
 * the bridge marks every replacement of a resource whose name is set by the program
 * delete-before-replace ("Set delete-before-replace for manually-named resources",
 * https://github.com/pulumi/pulumi-terraform/pull/465), so the function and its stream mapping
 * would run on a deleted role until the update repointed them. `deleteBeforeReplace: false`
 * overrides that choice ("a user may explicitly set deleteBeforeReplace to false in order to
 * disable DBR behavior for a particular resource", https://github.com/pulumi/pulumi/pull/3118).
 * Creating first is safe because a replacement always has another name: the role's only property
 * that forces a replacement is its name (`path` is never set), and a fixed name never equals the
 * auto-name the role had before it was named (`autoNamePattern` in lib/naming.ts; it carries the
 * region's hyphens). The old role is deleted at the end of the update, after the function points
 * at the new one.
 */
export function createReplicationRole(
  name: string,
  tags: Readonly<Record<string, string>>,
  parent: pulumi.Resource,
  roleName: string,
): aws.iam.Role {
  return new aws.iam.Role(
    `${name}-replication-role`,
    {
      name: roleName,
      description: replicationRoleDescription,
      assumeRolePolicy: policyJson(
        `${name}-replication-role`,
        lambdaAssumeRolePolicy(),
        policyLimits.roleTrust,
      ),
      tags,
    },
    { parent, deleteBeforeReplace: false },
  );
}

export interface ReplicationPlaneArgs {
  readonly config: StackConfig;
  readonly names: PhysicalNames;
  readonly data: DataPlane;
  readonly role: aws.iam.Role;
  readonly targets: readonly TargetStack[];
  readonly tags: Readonly<Record<string, string>>;
  /** The account this stack is deployed in. */
  readonly accountId: pulumi.Input<string>;
}

export interface ReplicationPlane {
  readonly notification: aws.s3.BucketNotification;
  readonly rule: aws.cloudwatch.EventRule;
  readonly function: aws.lambda.Function;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly streamMapping: aws.lambda.EventSourceMapping;
  readonly alarms: ReplicationAlarms;
  readonly dashboard: ReplicationDashboard;
  /** The S3 Batch Operations resync job's role and report bucket. */
  readonly batchOperations: BatchOperations;
  /** The masking key's secret, when the stack masks. */
  readonly masking: MaskingSecret | undefined;
}

/** Declares the replication plane as children of `parent`, logical names derived from `name`. */
export function createReplicationPlane(
  name: string,
  args: ReplicationPlaneArgs,
  parent: pulumi.Resource,
): ReplicationPlane {
  const { config, names, data, role, targets, tags } = args;
  const opts = { parent };

  // Without this, S3 never sends an event to EventBridge.
  const notification = new aws.s3.BucketNotification(
    `${name}-bucket-notification`,
    { bucket: data.bucket.id, eventbridge: true },
    opts,
  );

  const rule = new aws.cloudwatch.EventRule(
    `${name}-object-changes`,
    {
      description: objectChangeRuleDescription(config.environment),
      eventPattern: data.bucket.bucket.apply(
        (bucket) => replicationEventPatternJson(bucket, config.replicationKeyPrefixes).json,
      ),
      tags,
    },
    opts,
  );

  const queuePolicy = new aws.sqs.QueuePolicy(
    `${name}-dlq-policy`,
    {
      queueUrl: data.deadLetterQueue.url,
      policy: pulumi
        .all([data.deadLetterQueue.arn, rule.arn])
        .apply(([queueArn, ruleArn]) =>
          policyJson(
            `${name}-dlq-policy`,
            deadLetterQueuePolicy(queueArn, ruleArn),
            policyLimits.queue,
          ),
        ),
    },
    opts,
  );

  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-replication-logs`,
    { name: names.replicationLogGroup, retentionInDays: config.logRetentionDays, tags },
    opts,
  );

  // Each target's region, account and grants, checked against this stack (lib/targets.ts). The
  // role's ARN is formed from its fixed name, as the targets form it, so that it is known in a
  // preview before the role exists.
  const resolved: pulumi.Output<ResolvedTarget[]> = pulumi
    .all([args.accountId, pulumi.all(targets.map((t) => pulumi.output({ ...t })))])
    .apply(([accountId, outputs]) =>
      outputs.map((t) =>
        resolveTarget(
          { ...t, stack: `${config.organization}/${config.project}/${t.stack}` },
          {
            accountId,
            region: config.region,
            environment: config.environment,
            roleArn: roleArn(partitionOf(config.region).name, accountId, names.replicationRole),
          },
        ),
      ),
    );
  const targetList = resolved.apply((list) => list.map((t) => t.entry));
  const masking =
    config.masking === undefined
      ? undefined
      : createMaskingSecret(
          name,
          {
            masking: config.masking,
            environment: config.environment,
            secretName: names.maskingSecret,
            accountId: args.accountId,
            partition: partitionOf(config.region).name,
            tags,
          },
          parent,
        );
  // The rules as the function reads them: unmasked targets by the environment their stacks report.
  const maskingRules = resolved.apply((list) =>
    config.masking === undefined
      ? undefined
      : {
          ...config.masking.rules,
          unmaskedTargets: list
            .filter(
              (_t, index) =>
                config.masking?.rules.unmaskedTargets.includes(targets[index]?.stack ?? "") ===
                true,
            )
            .map((t) => t.entry.environment),
        },
  );

  const rolePolicy = new aws.iam.RolePolicy(
    `${name}-replication-policy`,
    {
      role: role.id,
      policy: pulumi
        .output({
          sourceBucketArn: data.bucket.arn,
          sourceTableArn: data.table.arn,
          sourceStreamArn: data.table.streamArn,
          targetBucketArns: resolved.apply((list) => list.map((t) => t.bucketArn)),
          targetTableArns: resolved.apply((list) => list.map((t) => t.tableArn)),
          targetTableKeys: resolved.apply((list) =>
            list.flatMap((t) => (t.tableKey === undefined ? [] : [t.tableKey])),
          ),
          deadLetterQueueArn: data.deadLetterQueue.arn,
          logGroupArn: logGroup.arn,
          masking:
            masking === undefined
              ? undefined
              : pulumi.output({
                  secretArn: masking.secretArn,
                  kmsKeyArn: masking.kmsKeyArn,
                  viaService: `secretsmanager.${config.region}.amazonaws.com`,
                }),
        })
        .apply((arns) =>
          policyJson(
            `${name}-replication-policy`,
            replicationRolePolicy(arns),
            policyLimits.roleInline,
          ),
        ),
    },
    opts,
  );

  const fn = new aws.lambda.Function(
    `${name}-replication`,
    {
      name: names.replicationFunction,
      description: replicationFunctionDescription(config.environment, config.replicationTargets),
      role: role.arn,
      runtime: lambdaRuntime,
      handler: lambdaHandler,
      architectures: ["arm64"],
      memorySize: config.lambda.memoryMb,
      timeout: config.lambda.timeoutSeconds,
      code: new pulumi.asset.AssetArchive({
        [bundleFileName]: new pulumi.asset.StringAsset(bundleReplication()),
      }),
      environment: {
        variables: pulumi
          .all([
            data.bucket.bucket,
            data.table.name,
            data.deadLetterQueue.url,
            targetList,
            maskingRules,
            masking?.secretArn,
          ])
          .apply(([sourceBucket, sourceTable, dlqUrl, targetValues, rules, secretArn]) =>
            writeContract(
              {
                region: config.region,
                sourceEnvironment: config.environment,
                sourceBucket,
                sourceTable,
                targets: targetValues,
                dlqUrl,
                maxAttempts: config.lambda.maxAttempts,
                serviceName: replicationServiceName,
                logLevel: config.lambda.logLevel,
                ...(rules === undefined ? {} : { masking: rules, maskingSecretArn: secretArn }),
              },
              // The configured variables may override the bundle's (NODE_OPTIONS).
              { ...functionRuntimeEnvironment, ...config.lambda.extraEnvironment },
            ),
          ),
      },
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      tags,
    },
    { parent, dependsOn: [logGroup, rolePolicy] },
  );

  new aws.lambda.FunctionEventInvokeConfig(
    `${name}-replication-destinations`,
    {
      functionName: fn.name,
      maximumEventAgeInSeconds: replicationRetry.asyncMaximumAgeSeconds,
      maximumRetryAttempts: replicationRetry.asyncMaximumRetryAttempts,
      // A failed invocation (timeout, crash, retries exhausted) leaves its invocation record,
      // which carries the original event (`requestPayload`), in the DLQ: redrive replays it, and
      // the DLQ alarm tells people. https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
      // No onSuccess record: one SNS message per replicated object is noise and cost at volume;
      // the function's ChangesReplicated metric counts them, and the success topic carries the
      // alarms' recoveries instead (README "Operating it").
      destinationConfig: {
        onFailure: { destination: data.deadLetterQueue.arn },
      },
    },
    opts,
  );

  const invokePermission = new aws.lambda.Permission(
    `${name}-replication-invoke`,
    {
      action: "lambda:InvokeFunction",
      function: fn.name,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    },
    opts,
  );

  new aws.cloudwatch.EventTarget(
    `${name}-object-changes-target`,
    {
      rule: rule.name,
      arn: fn.arn,
      retryPolicy: {
        maximumEventAgeInSeconds: replicationRetry.eventMaximumAgeSeconds,
        maximumRetryAttempts: replicationRetry.eventMaximumRetryAttempts,
      },
      deadLetterConfig: { arn: data.deadLetterQueue.arn },
    },
    // EventBridge sends an event that fails on permissions straight to the DLQ, without retry
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): the target
    // exists only once it may invoke the function and write to the queue.
    { parent, dependsOn: [invokePermission, queuePolicy] },
  );

  const streamMapping = new aws.lambda.EventSourceMapping(
    `${name}-table-stream`,
    {
      eventSourceArn: data.table.streamArn,
      functionName: fn.arn,
      startingPosition: "LATEST",
      batchSize: config.lambda.batchSize,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: replicationRetry.streamMaximumRetryAttempts,
      maximumRecordAgeInSeconds: replicationRetry.streamMaximumRecordAgeSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      destinationConfig: { onFailure: { destinationArn: data.deadLetterQueue.arn } },
      tags,
    },
    { parent, dependsOn: [rolePolicy] },
  );

  const alarms = createReplicationAlarms(
    name,
    {
      alarms: config.alarms,
      environment: config.environment,
      functionName: names.replicationFunction,
      function: fn,
      rule,
      targets,
      failureTopic: data.failureTopic,
      successTopic: data.successTopic,
      tags,
    },
    parent,
  );
  const dashboard = createReplicationDashboard(
    name,
    {
      region: config.region,
      environment: config.environment,
      dashboardName: names.replicationDashboard,
      function: fn,
      rule,
      queue: data.deadLetterQueue,
      targets,
      alarms: [...alarms.all, data.deadLetterAlarm],
      latencyThresholdMs: config.alarms.replicationLatencySeconds * 1000,
      iteratorAgeThresholdMs: config.alarms.iteratorAgeSeconds * 1000,
      timeoutMs: config.lambda.timeoutSeconds * 1000,
    },
    parent,
  );

  const batchOperations = createBatchOperations(
    name,
    { config, sourceBucketArn: data.bucket.arn, functionArn: fn.arn, tags },
    parent,
  );

  return {
    notification,
    rule,
    function: fn,
    logGroup,
    streamMapping,
    alarms,
    dashboard,
    batchOperations,
    masking,
  };
}
