/**
 * The real index.ts, run under the offline mocks for dev, staging and prod with each stack's real
 * Pulumi.<stack>.yaml (prod's stack references return the dev and staging outputs). Asserts the
 * exact inputs of every child resource, the policies, the tags and the outputs.
 */
import * as path from "node:path";
import { bundleReplication, lambdaHandler } from "../../lib/bundle";
import { reservedLambdaEnvironmentKeys } from "../../lib/lambda-environment";
import { environmentComponentType } from "../../lib/environment-component";
import type { PolicyDocument, PolicyStatement } from "../../lib/iam";
import { autoNamePattern } from "../../lib/naming";
import { loadProject, type PlannedResource, type StackPlan } from "../../tools/offline";
import { planAllStacks, type AllStacks } from "../support/pulumi-plan";
import { jsonInput, named, ofType, onlyPipeline as only, output } from "../support/pulumi-query";

const account = "123456789012";
const region = "eu-west-1";
const stackNames = ["dev", "staging", "prod"] as const;
const tags = (environment: string): Record<string, string> => ({
  Environment: environment,
  Project: "data-pipeline",
  ManagedBy: "pulumi",
});

const T = {
  component: environmentComponentType,
  bucket: "aws:s3/bucket:Bucket",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  encryption:
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  publicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  notification: "aws:s3/bucketNotification:BucketNotification",
  table: "aws:dynamodb/table:Table",
  key: "aws:kms/key:Key",
  topic: "aws:sns/topic:Topic",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  fn: "aws:lambda/function:Function",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  permission: "aws:lambda/permission:Permission",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  stackReference: "pulumi:pulumi:StackReference",
  stack: "pulumi:pulumi:Stack",
} as const;

let stacks: AllStacks;
const plan = (stack: (typeof stackNames)[number]): StackPlan => stacks[stack];
const arnOf = (r: PlannedResource): string => r.state.arn as string;
const bucketName = (env: string): string => `company-data-${env}-${region}-${account}`;

beforeAll(async () => {
  stacks = await planAllStacks();
});

function statements(document: unknown): PolicyStatement[] {
  return [...(document as PolicyDocument).Statement];
}

function actions(statement: PolicyStatement): string[] {
  return typeof statement.Action === "string" ? [statement.Action] : [...statement.Action];
}

describe("layout", () => {
  it("runs Pulumi.yaml's main, which is index.ts on the nodejs runtime", () => {
    const project = loadProject();

    expect(project).toEqual({
      name: "data-pipeline",
      main: path.resolve(__dirname, "..", "..", "index.ts"),
      runtime: "nodejs",
    });
  });

  it.each(stackNames)("%s declares exactly one EnvironmentComponent, parent of everything", (s) => {
    const component = only(plan(s), T.component);
    const stack = only(plan(s), T.stack);
    const others = plan(s).resources.filter((r) => r !== component && r !== stack);

    expect(component.parent).toBe(stack.urn);
    expect(component.urn).toBe(
      `urn:pulumi:${s}::data-pipeline::data-pipeline:index:EnvironmentComponent::pipeline`,
    );
    expect(others.length).toBeGreaterThan(10);
    for (const child of others) {
      expect([child.urn, child.parent]).toEqual([child.urn, component.urn]);
      expect(child.name.startsWith("pipeline-")).toBe(true);
    }
  });
});

describe.each(stackNames)("%s data plane", (s) => {
  const env = s;
  const bucket = (): PlannedResource => only(plan(s), T.bucket);

  it("names the bucket company-data-{env}-{region}-{account id}, no inline configuration", () => {
    expect(bucket().inputs).toEqual({
      bucket: bucketName(env),
      forceDestroy: false,
      tags: tags(env),
    });
  });

  it("enables versioning as a separate BucketVersioning", () => {
    expect(only(plan(s), T.versioning).inputs).toEqual({
      bucket: bucketName(env),
      versioningConfiguration: { status: "Enabled" },
    });
  });

  it("expires noncurrent versions after 30 days, removes expired delete markers, aborts uploads", () => {
    expect(only(plan(s), T.lifecycle).inputs).toEqual({
      bucket: bucketName(env),
      rules: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: 30 },
          expiration: { expiredObjectDeleteMarker: true },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    });
  });

  it("blocks public access, enforces bucket ownership and encrypts by default", () => {
    expect(only(plan(s), T.publicAccess).inputs).toEqual({
      bucket: bucketName(env),
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(only(plan(s), T.ownership).inputs).toEqual({
      bucket: bucketName(env),
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    expect(only(plan(s), T.encryption).inputs).toEqual({
      bucket: bucketName(env),
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
  });

  it("denies every request without TLS", () => {
    const arn = `arn:aws:s3:::${bucketName(env)}`;
    const policyResource = only(plan(s), T.bucketPolicy);

    expect(policyResource.inputs.bucket).toBe(bucketName(env));
    expect(jsonInput(policyResource, "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [arn, `${arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });

  it("creates the metadata table: same schema, on demand, PITR, encrypted", () => {
    const table = only(plan(s), T.table);
    const { streamEnabled, streamViewType, deletionProtectionEnabled, ...schema } = table.inputs;

    expect(schema).toEqual({
      name: `company-metadata-${env}`,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
      ],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      tags: tags(env),
    });
    expect(deletionProtectionEnabled).toBe(env === "prod");
    // Keys only: the function re-reads the source item, so images would only add weight.
    expect([streamEnabled, streamViewType]).toEqual(
      env === "prod" ? [true, "KEYS_ONLY"] : [undefined, undefined],
    );
  });

  it("encrypts both topics with a rotating customer-managed key", () => {
    const key = only(plan(s), T.key);
    const topics = ofType(plan(s), T.topic);

    expect(key.inputs).toMatchObject({ enableKeyRotation: true, tags: tags(env) });
    expect(topics.map((t) => [t.name, t.inputs])).toEqual([
      [
        "pipeline-replication-succeeded",
        { displayName: "Replication succeeded", kmsMasterKeyId: arnOf(key), tags: tags(env) },
      ],
      [
        "pipeline-replication-failed",
        { displayName: "Replication failed", kmsMasterKeyId: arnOf(key), tags: tags(env) },
      ],
    ]);
  });

  it("lets only the account and CloudWatch use the topic key", () => {
    const policy = statements(jsonInput(only(plan(s), T.key), "policy"));
    const expected: PolicyStatement[] = [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ];

    expect(policy).toEqual(expected);
  });

  it("keeps dead letters 14 days, SSE-SQS encrypted, and alarms on any of them", () => {
    const queue = only(plan(s), T.queue);
    const failure = named(plan(s), T.topic, "pipeline-replication-failed");
    const success = named(plan(s), T.topic, "pipeline-replication-succeeded");

    expect(queue.inputs).toEqual({
      messageRetentionSeconds: 1209600,
      sqsManagedSseEnabled: true,
      tags: tags(env),
    });
    expect(named(plan(s), T.alarm, "pipeline-dlq-depth").inputs).toEqual({
      alarmDescription: `Messages in the ${env} replication dead-letter queue`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue.state.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [arnOf(failure)],
      okActions: [arnOf(failure), arnOf(success)],
      tags: tags(env),
    });
  });

  it("exports exactly the outputs of its plane, formed as AWS forms them", () => {
    const queue = only(plan(s), T.queue);
    const expected: Record<string, unknown> = {
      environment: env,
      bucketName: bucketName(env),
      bucketArn: `arn:aws:s3:::${bucketName(env)}`,
      tableName: `company-metadata-${env}`,
      tableArn: `arn:aws:dynamodb:${region}:${account}:table/company-metadata-${env}`,
      successTopicArn: arnOf(named(plan(s), T.topic, "pipeline-replication-succeeded")),
      failureTopicArn: arnOf(named(plan(s), T.topic, "pipeline-replication-failed")),
      dlqUrl: `https://sqs.${region}.amazonaws.com/${account}/${queue.state.name as string}`,
      dlqArn: `arn:aws:sqs:${region}:${account}:${queue.state.name as string}`,
      region,
      accountId: account,
    };
    if (env === "prod") {
      expected.replicationFunctionArn = `arn:aws:lambda:${region}:${account}:function:company-replication-prod`;
      expected.replicationFunctionName = "company-replication-prod";
      expected.replicationRuleArn = arnOf(only(plan(s), T.rule));
      expected.replicationDashboardUrl =
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/company-replication-prod-eu-west-1";
    }

    expect(plan(s).outputs).toEqual(expected);
    expect(output(plan(s), "successTopicArn")).toMatch(
      new RegExp(`^arn:aws:sns:${region}:${account}:pipeline-replication-succeeded-[0-9a-f]{7}$`),
    );
  });
});

describe("physical names", () => {
  it("gives each stack its own bucket and table", () => {
    const buckets = stackNames.map((s) => output(plan(s), "bucketName"));
    const tables = stackNames.map((s) => output(plan(s), "tableName"));

    expect(new Set(buckets).size).toBe(3);
    expect(new Set(tables).size).toBe(3);
  });

  // Resources the program does not name get Pulumi's auto-name, `<logical name>-<7 hex>`; their
  // logical names are constants (the component is "pipeline"), so what fits here fits every stack.
  const autoNamed: [string, number, RegExp][] = [
    // CreateTopic: "between 1 and 256 characters long", "uppercase and lowercase ASCII letters,
    // numbers, underscores, and hyphens" (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html).
    [T.topic, 256, /^[A-Za-z0-9_-]+$/],
    // "A queue name can have up to 80 characters ... alphanumeric characters, hyphens (-), and
    // underscores (_)" (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html).
    [T.queue, 80, /^[A-Za-z0-9_-]+$/],
    // PutRule, Name: "Maximum length of 64. Pattern: [\.\-_A-Za-z0-9]+"
    // (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html).
    [T.rule, 64, /^[.\-_A-Za-z0-9]+$/],
    // PutRolePolicy, PolicyName: "Maximum length of 128. Pattern: [\w+=,.@-]+"
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html).
    [T.rolePolicy, 128, /^[\w+=,.@-]+$/],
    // AddPermission, StatementId: "Maximum length of 100. Pattern: ([a-zA-Z0-9-_.]+)"
    // (https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html).
    [T.permission, 100, /^[a-zA-Z0-9-_.]+$/],
    // PutMetricAlarm, AlarmName: "Maximum length of 255" (the dead-letter queue's alarm;
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    [T.alarm, 255, /^[\x20-\x7e]+$/],
  ];

  it.each(autoNamed)("gives every auto-named %s a name its service takes", (type, max, pattern) => {
    const unnamed = ofType(plan("prod"), type).filter((r) => r.inputs.name === undefined);
    const names = unnamed.map((r) => `${r.name}-1a2b3c4`);

    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect([name, name.length <= max]).toEqual([name, true]);
      expect(name).toMatch(pattern);
    }
  });

  it("gives every alarm at most 5 actions per state and 30 dimensions", () => {
    // PutMetricAlarm: AlarmActions, OKActions "Maximum number of 5 items"; Dimensions "Maximum
    // number of 30 items" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
    for (const s of stackNames) {
      for (const alarm of ofType(plan(s), T.alarm)) {
        const { alarmActions, okActions, dimensions } = alarm.inputs as {
          alarmActions: unknown[];
          okActions: unknown[];
          dimensions: Record<string, unknown>;
        };
        expect([alarm.name, alarmActions.length <= 5, okActions.length <= 5]).toEqual([
          alarm.name,
          true,
          true,
        ]);
        expect(Object.keys(dimensions).length).toBeLessThanOrEqual(30);
      }
    }
  });
});

describe.each(["dev", "staging"] as const)("%s (a replication target)", (s) => {
  it("has no replication plane", () => {
    for (const type of [
      T.notification,
      T.rule,
      T.target,
      T.fn,
      T.logGroup,
      T.invokeConfig,
      T.permission,
      T.mapping,
      T.role,
      T.rolePolicy,
      T.queuePolicy,
      T.stackReference,
    ]) {
      expect([type, ofType(plan(s), type).length]).toEqual([type, 0]);
    }
  });
});

describe("prod replication plane", () => {
  const prod = (): StackPlan => plan("prod");
  const fn = (): PlannedResource => only(prod(), T.fn);
  const queueArn = (): string => arnOf(only(prod(), T.queue));
  const ruleArn = (): string => arnOf(only(prod(), T.rule));

  it("references dev and staging as org/project/stack", () => {
    expect(ofType(prod(), T.stackReference).map((r) => r.inputs)).toEqual([
      { name: "organization/data-pipeline/dev" },
      { name: "organization/data-pipeline/staging" },
    ]);
  });

  it("sends the prod bucket's events to EventBridge", () => {
    expect(only(prod(), T.notification).inputs).toEqual({
      bucket: bucketName("prod"),
      eventbridge: true,
    });
  });

  it("matches object and tag changes of the prod bucket, except lifecycle expirations", () => {
    const rule = only(prod(), T.rule);
    const pattern = jsonInput(rule, "eventPattern");

    expect(pattern).toEqual({
      source: ["aws.s3"],
      "detail-type": [
        "Object Created",
        "Object Deleted",
        "Object Tags Added",
        "Object Tags Deleted",
        "Object Restore Completed",
      ],
      detail: {
        bucket: { name: [bucketName("prod")] },
        $or: [
          { reason: [{ "anything-but": ["Lifecycle Expiration"] }] },
          { reason: [{ exists: false }] },
        ],
      },
    });
    expect(rule.inputs.eventPattern).not.toContain(bucketName("dev"));
    expect(rule.inputs.eventPattern).not.toContain(bucketName("staging"));
    expect(rule.inputs.eventBusName).toBeUndefined();
  });

  it("targets the Lambda with bounded retries and the DLQ as dead-letter queue", () => {
    expect(only(prod(), T.target).inputs).toEqual({
      rule: only(prod(), T.rule).state.name,
      arn: arnOf(fn()),
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 8 },
      deadLetterConfig: { arn: queueArn() },
    });
  });

  it("creates the target only once EventBridge may invoke the function and write the DLQ", () => {
    // EventBridge dead-letters an event that fails on permissions at once, without retry.
    expect(only(prod(), T.target).dependsOn).toEqual([
      only(prod(), T.permission).urn,
      only(prod(), T.queuePolicy).urn,
    ]);
  });

  it("lets EventBridge dead-letter into the queue for this rule only", () => {
    const policy = only(prod(), T.queuePolicy);

    expect(policy.inputs.queueUrl).toBe(output(prod(), "dlqUrl"));
    expect(jsonInput(policy, "policy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeDeadLetter",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn(),
          Condition: { ArnEquals: { "aws:SourceArn": ruleArn() } },
        },
      ],
    });
  });

  it("deploys the bundled handler on a supported Node.js runtime, arm64, within limits", () => {
    const { code, environment, ...settings } = fn().inputs;

    expect(settings).toEqual({
      name: "company-replication-prod",
      description: "Replicates prod changes into dev, staging",
      role: arnOf(only(prod(), T.role)),
      runtime: "nodejs24.x",
      handler: lambdaHandler,
      architectures: ["arm64"],
      memorySize: 512,
      timeout: 120,
      loggingConfig: { logFormat: "Text", logGroup: "/aws/lambda/company-replication-prod" },
      tags: tags("prod"),
    });
    expect(Number(/^nodejs(\d+)\.x$/.exec(settings.runtime as string)?.[1])).toBeGreaterThanOrEqual(
      22,
    );
    expect(settings.timeout as number).toBeLessThanOrEqual(300);
    expect(code).toEqual({
      __pulumiArchive: true,
      // An ES module: Lambda's Node.js runtime runs `index.mjs` as one.
      assets: { "index.mjs": { __pulumiAsset: true, text: bundleReplication() } },
    });
    expect(environment).toBeDefined();
  });

  it("gives the Lambda REGION, the contract and no reserved key", () => {
    const variables = (fn().inputs.environment as { variables: Record<string, string> }).variables;

    expect(variables).toEqual({
      REGION: region,
      SOURCE_ENVIRONMENT: "prod",
      SOURCE_BUCKET: bucketName("prod"),
      SOURCE_TABLE: "company-metadata-prod",
      TARGETS: expect.any(String) as unknown,
      DLQ_URL: output(prod(), "dlqUrl"),
      MAX_ATTEMPTS: "5",
      POWERTOOLS_SERVICE_NAME: "replication",
      POWERTOOLS_LOG_LEVEL: "INFO",
      // Stack traces through the bundle's source map (lib/bundle.ts).
      NODE_OPTIONS: "--enable-source-maps",
    });
    // One account: tables by name, as before; each target's region.
    expect(JSON.parse(String(variables.TARGETS))).toEqual([
      { environment: "dev", bucket: bucketName("dev"), table: "company-metadata-dev", region },
      {
        environment: "staging",
        bucket: bucketName("staging"),
        table: "company-metadata-staging",
        region,
      },
    ]);
    for (const reserved of reservedLambdaEnvironmentKeys) {
      expect(Object.keys(variables)).not.toContain(reserved);
    }
  });

  it("writes to its own log group with the configured retention", () => {
    expect(only(prod(), T.logGroup).inputs).toEqual({
      name: "/aws/lambda/company-replication-prod",
      retentionInDays: 90,
      tags: tags("prod"),
    });
  });

  it("sends failed invocations to the DLQ, and no message per replicated change", () => {
    expect(only(prod(), T.invokeConfig).inputs).toEqual({
      functionName: "company-replication-prod",
      maximumEventAgeInSeconds: 3600,
      maximumRetryAttempts: 2,
      destinationConfig: { onFailure: { destination: queueArn() } },
    });
  });

  it("lets only this rule invoke the function", () => {
    expect(only(prod(), T.permission).inputs).toEqual({
      action: "lambda:InvokeFunction",
      function: "company-replication-prod",
      principal: "events.amazonaws.com",
      sourceArn: ruleArn(),
    });
  });

  it("consumes the table stream with bisect, bounded retries, partial batches and the DLQ", () => {
    expect(only(prod(), T.mapping).inputs).toEqual({
      eventSourceArn: only(prod(), T.table).state.streamArn,
      functionName: arnOf(fn()),
      startingPosition: "LATEST",
      batchSize: 10,
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 3600,
      functionResponseTypes: ["ReportBatchItemFailures"],
      destinationConfig: { onFailure: { destinationArn: queueArn() } },
      tags: tags("prod"),
    });
    expect(only(prod(), T.table).state.streamArn).toMatch(
      new RegExp(`^arn:aws:dynamodb:${region}:${account}:table/company-metadata-prod/stream/`),
    );
  });

  it("lets only Lambda assume the role", () => {
    const role = only(prod(), T.role);

    expect(jsonInput(role, "assumeRolePolicy")).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
    expect(role.inputs.tags).toEqual(tags("prod"));
  });

  it("replaces a role by creating the new one first, under a name no earlier role had", () => {
    const role = only(prod(), T.role);

    // Without the option the bridge deletes a named role before creating its replacement.
    expect(role.deleteBeforeReplace).toBe(false);
    expect(role.inputs.name).toBe(`company-replication-prod-${region}`);
    // Until it had a fixed name, the role had Pulumi's auto-name of its logical name.
    expect(role.inputs.name).not.toMatch(autoNamePattern(role.name));
    const optionSet = plan("prod").resources.filter((r) => r.deleteBeforeReplace !== undefined);
    expect(optionSet.map((r) => r.name).sort()).toEqual([
      "pipeline-batch-role",
      "pipeline-dashboard",
      "pipeline-replication-role",
    ]);
    expect(optionSet.map((r) => r.deleteBeforeReplace)).toEqual([false, false, false]);
  });

  it("grants the role exactly what the handler calls, on exact ARNs", () => {
    const rolePolicy = only(prod(), T.rolePolicy);
    const dev = plan("dev").outputs;
    const staging = plan("staging").outputs;
    const prodBucketArn = output(prod(), "bucketArn");

    expect(rolePolicy.inputs.role).toBe(only(prod(), T.role).id);
    expect(statements(jsonInput(rolePolicy, "policy"))).toEqual([
      {
        Sid: "SourceObjectsRead",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectTagging"],
        Resource: `${prodBucketArn}/*`,
      },
      {
        Sid: "SourceBucketList",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: prodBucketArn,
      },
      {
        Sid: "TargetObjectsWrite",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:GetObjectTagging",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
          "s3:DeleteObject",
        ],
        Resource: [`${dev.bucketArn as string}/*`, `${staging.bucketArn as string}/*`],
      },
      {
        Sid: "TargetBucketsList",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: [dev.bucketArn, staging.bucketArn],
      },
      {
        Sid: "SourceTableRead",
        Effect: "Allow",
        Action: "dynamodb:GetItem",
        Resource: output(prod(), "tableArn"),
      },
      {
        Sid: "SourceStreamRead",
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: only(prod(), T.table).state.streamArn,
      },
      { Sid: "StreamsList", Effect: "Allow", Action: "dynamodb:ListStreams", Resource: "*" },
      {
        Sid: "TargetTablesWrite",
        Effect: "Allow",
        Action: ["dynamodb:PutItem", "dynamodb:DeleteItem"],
        Resource: [dev.tableArn, staging.tableArn],
      },
      { Sid: "DeadLetterSend", Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn() },
      {
        Sid: "LogsWrite",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${arnOf(only(prod(), T.logGroup))}:*`,
      },
    ]);
  });

  it("uses no wildcard action and '*' only for dynamodb:ListStreams", () => {
    const policy = statements(jsonInput(only(prod(), T.rolePolicy), "policy"));
    const allActions = policy.flatMap(actions);
    const starResources = policy.filter(
      (st) => st.Resource === "*" || (Array.isArray(st.Resource) && st.Resource.includes("*")),
    );

    expect(allActions.filter((a) => a.includes("*"))).toEqual([]);
    expect(starResources.flatMap(actions)).toEqual(["dynamodb:ListStreams"]);
    expect(allActions).not.toContain("s3:PutObject*");
  });
});

describe("tags", () => {
  it.each(stackNames)("every taggable resource in %s carries the standard tags", (s) => {
    const taggable = plan(s).resources.filter((r) => r.taggable);
    const untagged = taggable.filter((r) => {
      const t = r.inputs.tags as Record<string, string> | undefined;
      return t?.Environment !== s || t.Project !== "data-pipeline" || t.ManagedBy !== "pulumi";
    });

    expect(untagged.map((r) => r.urn)).toEqual([]);
    // The derivation found the AWS taggable classes (and not the sub-resources of the bucket).
    expect(taggable.map((r) => r.type)).toEqual(
      expect.arrayContaining([T.bucket, T.table, T.key, T.topic, T.queue, T.alarm]),
    );
    expect(taggable.map((r) => r.type)).not.toContain(T.versioning);
    // prod: 12 + 14 alarms (6 for the pipeline, 2 per target and kind) + the S3 Batch Operations
    // job role and report bucket.
    expect(taggable.length).toBe(s === "prod" ? 28 : 7);
  });
});
