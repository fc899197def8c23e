/**
 * The texts the program writes into its resources (descriptions, alarm names), as pure functions
 * of config, and the length AWS allows each. The resources take their texts from here, and config
 * validation (lib/config.ts) checks every one of them before any resource is declared.
 */
import type { AlarmConfig, ConfigKey } from "./config";
import { changeKinds, type ChangeKind } from "./replication/metric-names";

/** A text field of an AWS API and the most characters it takes. */
export interface TextLimit {
  readonly what: string;
  readonly max: number;
}

/** The limits, each from the API reference of the call that sets the field. */
export const textLimits = {
  // CreateFunction, Description: "Length Constraints: Minimum length of 0. Maximum length of 256."
  // (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html).
  functionDescription: { what: "Lambda function description", max: 256 },
  // PutRule, Description: "Maximum length of 512."
  // (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html).
  ruleDescription: { what: "EventBridge rule description", max: 512 },
  // CreateKey, Description: "Minimum length of 0. Maximum length of 8192."
  // (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html).
  keyDescription: { what: "KMS key description", max: 8192 },
  // CreateRole, Description: "Maximum length of 1000."
  // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html).
  roleDescription: { what: "IAM role description", max: 1000 },
  // PutMetricAlarm: AlarmName "Minimum length of 1. Maximum length of 255.", AlarmDescription
  // "Minimum length of 0. Maximum length of 1024."
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
  alarmName: { what: "CloudWatch alarm name", max: 255 },
  alarmDescription: { what: "CloudWatch alarm description", max: 1024 },
} as const satisfies Record<string, TextLimit>;

/** The replication function's description: it names every target. */
export function replicationFunctionDescription(
  environment: string,
  targets: readonly string[],
): string {
  return `Replicates ${environment} changes into ${targets.join(", ")}`;
}

/** The object-change rule's description. */
export function objectChangeRuleDescription(environment: string): string {
  return `Object created/deleted in the ${environment} data bucket`;
}

/** The description of the key that encrypts the topics (every stack). */
export function topicKeyDescription(environment: string): string {
  return `Encrypts the ${environment} replication topics`;
}

/** The description of the key that encrypts the masking key's secret (a masking stack). */
export function maskingKeyDescription(environment: string): string {
  return `Encrypts the ${environment} masking key's secret`;
}

/** The masking key's secret's description. */
export function maskingSecretDescription(environment: string): string {
  return `The key of the ${environment} replication's masking (HMAC-SHA-256 pseudonyms)`;
}

/** The description of a cross-account target table's key. */
export function tableKeyDescription(environment: string, sourceAccountId: string): string {
  return `Encrypts the ${environment} metadata table, shared with the replication role of account ${sourceAccountId}`;
}

/** The dead-letter queue alarm's description (every stack; the alarm is auto-named). */
export function deadLetterAlarmDescription(environment: string): string {
  return `Messages in the ${environment} replication dead-letter queue`;
}

/** The replication role's description. */
export const replicationRoleDescription =
  "Replication Lambda: reads the source, writes the targets";

/** The S3 Batch Operations job role's description. */
export const batchRoleDescription =
  "S3 Batch Operations resync jobs: invoke the replication function";

/** Name suffixes (and logical name suffixes) of the alarms that watch the whole pipeline. */
export const pipelineAlarmIds = {
  errors: "errors",
  throttles: "throttles",
  iteratorAge: "iterator-age",
  destinationFailures: "destination-failures",
  ruleFailedInvocations: "rule-failed-invocations",
  ruleDeadLetterFailures: "rule-dead-letter-failures",
} as const;

/** Name suffixes of the alarms per target and kind. */
export const targetAlarmIds = {
  latency: (stack: string, kind: ChangeKind): string => `latency-${stack}-${kind}`,
  failed: (stack: string, kind: ChangeKind): string => `failed-${stack}-${kind}`,
} as const;

/** An alarm's name: the function's name, then the alarm's id. */
export function alarmName(functionName: string, id: string): string {
  return `${functionName}-${id}`;
}

/** The descriptions of the replication alarms (lib/alarms.ts), each ending with the runbook. */
export function replicationAlarmDescriptions(environment: string, config: AlarmConfig) {
  const seconds = (value: number): string => `${value} s`;
  const plural = (kind: ChangeKind): string => `${kind}s`;
  const runbook = (text: string): string => `${text} Runbook: README "Operating it".`;
  return {
    errors: runbook(
      `The ${environment} replication function failed more than ${config.errorsThreshold} time(s) in a period (timeouts, crashes, whole batches failing).`,
    ),
    throttles: runbook(
      `The ${environment} replication function was throttled more than ${config.throttlesThreshold} time(s) in a period (concurrency exhausted); changes wait and age.`,
    ),
    iteratorAge: runbook(
      `The ${environment} table stream is more than ${seconds(config.iteratorAgeSeconds)} behind: item changes reach the targets late.`,
    ),
    destinationFailures: runbook(
      `Lambda could not write a failed ${environment} change to the dead-letter queue: the change is lost and needs a resync.`,
    ),
    ruleFailedInvocations: runbook(
      `The ${environment} object-change rule failed permanently to invoke the function more than ${config.failedInvocationsThreshold} time(s) in a period; the events went to the dead-letter queue.`,
    ),
    ruleDeadLetterFailures: runbook(
      `EventBridge could not write an undeliverable ${environment} object event to the dead-letter queue: the change is lost and needs a resync.`,
    ),
    latency: (stack: string, kind: ChangeKind): string =>
      runbook(
        `A ${environment} ${kind} change took more than ${seconds(config.replicationLatencySeconds)} to reach ${stack} (${plural(kind)} are late there).`,
      ),
    failed: (stack: string, kind: ChangeKind): string =>
      runbook(
        `More than ${config.failedChangesThreshold} ${environment} ${kind} change(s) failed to replicate into ${stack} in a period and were dead-lettered (npm run redrive replays them).`,
      ),
  };
}

/** One replication alarm's texts; `target` is the stack of a per-target alarm. */
export interface AlarmTexts {
  readonly name: string;
  readonly description: string;
  readonly target: string | undefined;
}

export interface AlarmTextsArgs {
  readonly functionName: string;
  readonly environment: string;
  readonly alarms: AlarmConfig;
  readonly targetStacks: readonly string[];
}

/**
 * Every replication alarm's name and description, in the order lib/alarms.ts declares them: the
 * pipeline's alarms, then latency and failed changes per target and kind.
 */
export function replicationAlarmTexts(args: AlarmTextsArgs): AlarmTexts[] {
  const descriptions = replicationAlarmDescriptions(args.environment, args.alarms);
  const ids = Object.keys(pipelineAlarmIds) as (keyof typeof pipelineAlarmIds)[];
  const pipeline = ids.map((id) => ({
    name: alarmName(args.functionName, pipelineAlarmIds[id]),
    description: descriptions[id],
    target: undefined,
  }));
  const perTarget = (["latency", "failed"] as const).flatMap((metric) =>
    args.targetStacks.flatMap((stack) =>
      changeKinds.map((kind) => ({
        name: alarmName(args.functionName, targetAlarmIds[metric](stack, kind)),
        description: descriptions[metric](stack, kind),
        target: stack,
      })),
    ),
  );
  return [...pipeline, ...perTarget];
}

/** One text to check: what it is, and the config keys and the value it comes from. */
export interface TextCheck {
  readonly limit: TextLimit;
  readonly text: string;
  readonly keys: readonly ConfigKey[];
  readonly value: string;
}

export interface ResourceTextsArgs {
  readonly environment: string;
  readonly functionName: string;
  readonly alarms: AlarmConfig;
  readonly targetStacks: readonly string[];
  /** Set in a target stack that grants a replicating stack in another account. */
  readonly sourceAccountId: string | undefined;
}

/**
 * Every text from config that the stack's resources carry, each with the keys it comes from: in
 * every stack the topic key's and the DLQ alarm's descriptions (and a cross-account target's
 * table key's); in the replicating stack also the function's and the rule's descriptions and
 * every alarm's name and description. (The roles' descriptions are constants, tested as such.)
 */
export function resourceTextChecks(args: ResourceTextsArgs): TextCheck[] {
  const { environment } = args;
  const byEnvironment = (limit: TextLimit, text: string): TextCheck => ({
    limit,
    text,
    keys: ["environment"],
    value: environment,
  });
  const checks: TextCheck[] = [
    byEnvironment(textLimits.keyDescription, topicKeyDescription(environment)),
    byEnvironment(textLimits.alarmDescription, deadLetterAlarmDescription(environment)),
  ];
  if (args.sourceAccountId !== undefined) {
    checks.push(
      byEnvironment(
        textLimits.keyDescription,
        tableKeyDescription(environment, args.sourceAccountId),
      ),
    );
  }
  if (args.targetStacks.length === 0) return checks;
  checks.push(
    {
      limit: textLimits.functionDescription,
      text: replicationFunctionDescription(environment, args.targetStacks),
      keys: ["replicationTargets"],
      value: JSON.stringify(args.targetStacks),
    },
    byEnvironment(textLimits.ruleDescription, objectChangeRuleDescription(environment)),
  );
  for (const alarm of replicationAlarmTexts(args)) {
    const target = alarm.target;
    checks.push(
      target === undefined
        ? {
            limit: textLimits.alarmName,
            text: alarm.name,
            keys: ["namePrefix", "environment", "nameSuffix"],
            value: args.functionName,
          }
        : {
            limit: textLimits.alarmName,
            text: alarm.name,
            keys: ["replicationTargets"],
            value: target,
          },
      target === undefined
        ? byEnvironment(textLimits.alarmDescription, alarm.description)
        : {
            limit: textLimits.alarmDescription,
            text: alarm.description,
            keys: ["replicationTargets"],
            value: target,
          },
    );
  }
  return checks;
}

/** The checks whose text is too long, each as "makes the ... N characters (max M): text". */
export function textProblems(checks: readonly TextCheck[]): (TextCheck & { reason: string })[] {
  return checks
    .filter((check) => check.text.length > check.limit.max)
    .map((check) => ({
      ...check,
      reason:
        `makes the ${check.limit.what} ${check.text.length} characters (max ${check.limit.max}): ` +
        JSON.stringify(check.text),
    }));
}
