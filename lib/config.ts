/**
 * The stack's typed config: reads Pulumi config once and validates it with one pure function that
 * gathers every problem and throws once. The replication Lambda's environment is written through
 * the contract (lib/replication/contract.ts), which the validation uses for its size check too.
 */
import * as pulumi from "@pulumi/pulumi";
import * as z from "zod/mini";
import {
  ContractError,
  contractVariableNames,
  logLevels,
  regionPattern,
  writeContract,
  type LogLevel,
} from "./replication/contract";
import { batchOperationsNameProblems } from "./batch-operations-names";
import { functionRuntimeEnvironment } from "./bundle";
import {
  accountIdPattern,
  allowedAccountIdsKey,
  parseAllowedAccountIds,
  partitionOf,
} from "./accounts";
import {
  accountIdPlaceholder,
  bucketNameProblems,
  dashboardNameProblems,
  functionNameProblems,
  logGroupNameProblems,
  physicalNames,
  roleNameProblems,
  tableNameProblems,
  type PhysicalNames,
} from "./naming";
import {
  environmentBytes,
  lambdaEnvironmentMaxBytes,
  lambdaEnvironmentProblems,
} from "./lambda-environment";
import { eventPatternMaxCharacters, replicationEventPatternJson } from "./delivery";
import { resourceTextChecks, textProblems } from "./resource-texts";
import { tagProblems } from "./tags";
import { readMaskingConfig, type MaskingConfig } from "./masking-config";
import { tableKeyAttributes } from "./table-keys";

/** The Pulumi project name, which is also the config namespace. */
export const projectName = "data-pipeline";

/** Retention values CloudWatch Logs accepts (days). */
export const logRetentionValues = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/**
 * Planning cost of one stream record, taken as if the records of a batch were handled one after
 * another (they run in parallel): a consistent read of the source and a conditional write per
 * target, with room for the SDK's retries of throttled calls. `npm run bench` measures the real
 * per-record cost (a few tens of ms on the emulators).
 */
export const streamRecordBudgetMs = 250;

/** The largest stream batch that fits half of the function's timeout at the planning cost. */
export function maxBatchSize(timeoutSeconds: number): number {
  return Math.max(1, Math.floor((timeoutSeconds * 1000) / 2 / streamRecordBudgetMs));
}

/** Powertools service name of the replication function's logs. */
export const replicationServiceName = "replication";

/** The maximum Lambda timeout this program allows (seconds). */
export const lambdaTimeoutMaxSeconds = 300;

/** Config keys of this project (namespace `data-pipeline`) with their defaults. */
export const configDefaults = {
  environment: "<stack name>",
  deletionProtection: false,
  organization: "<pulumi organization>",
  namePrefix: "company",
  nameSuffix: "<account id>",
  lambdaMemoryMb: 256,
  lambdaTimeoutSeconds: 60,
  lambdaEnvironment: {},
  logLevel: "INFO",
  maxAttempts: 5,
  batchSize: 10,
  logRetentionDays: 30,
  lifecycleDays: 30,
  replicationTargets: [],
  replicationKeyPrefixes: [],
  tags: {},
  alertEmails: [],
  alarmPeriodSeconds: 300,
  alarmEvaluationPeriods: 1,
  alarmErrorsThreshold: 0,
  alarmThrottlesThreshold: 0,
  alarmFailedInvocationsThreshold: 0,
  alarmFailedChangesThreshold: 0,
  alarmIteratorAgeSeconds: 900,
  alarmReplicationLatencySeconds: 900,
  sourceAccountId: "<none>",
  sourceEnvironment: "prod",
  sourceRegion: "<aws:region>",
  masking: "<none>",
} as const;

export type ConfigKey = keyof typeof configDefaults;

/**
 * Keys only a replicating stack uses (its function, rule, stack references and alarms). A stack
 * that replicates nothing refuses them: a setting that would silently do nothing is a mistake.
 */
export const replicatingOnlyKeys = [
  "organization",
  "replicationKeyPrefixes",
  "lambdaMemoryMb",
  "lambdaTimeoutSeconds",
  "lambdaEnvironment",
  "logLevel",
  "maxAttempts",
  "batchSize",
  "logRetentionDays",
  "alarmPeriodSeconds",
  "alarmEvaluationPeriods",
  "alarmErrorsThreshold",
  "alarmThrottlesThreshold",
  "alarmFailedInvocationsThreshold",
  "alarmFailedChangesThreshold",
  "alarmIteratorAgeSeconds",
  "alarmReplicationLatencySeconds",
  "masking",
] as const satisfies readonly ConfigKey[];
const configKeys = Object.keys(configDefaults) as readonly ConfigKey[];

/** Config as Pulumi hands it over: every value a string, structured values as JSON. */
export interface RawStackConfig {
  /** The stack name. */
  readonly stack: string;
  /** The project name (config namespace and stack reference middle part). */
  readonly project: string;
  /** The Pulumi organization, the default for `data-pipeline:organization`. */
  readonly organization: string;
  /** All config values keyed `namespace:key`, e.g. `aws:region`, `data-pipeline:environment`. */
  readonly values: Readonly<Record<string, string | undefined>>;
  /** Keys whose values are secrets (`pulumi config set --secret`). @default [] */
  readonly secretKeys?: readonly string[];
}

/** The replication Lambda's settings. */
export interface LambdaConfig {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly logLevel: LogLevel;
  /** SDK retry attempts (`MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Stream records per invocation. */
  readonly batchSize: number;
  /** Extra environment variables, merged after the contract's own. */
  readonly extraEnvironment: Readonly<Record<string, string>>;
}

/**
 * Changes older than this (seconds) are dead-lettered instead of replicated: the EventBridge
 * target's and the stream mapping's maximum age (`replicationRetry` in lib/replication-plane.ts;
 * a test keeps the two equal). An age or latency alarm at or above it could never fire.
 */
export const alarmAgeLimitSeconds = 3600;

/** Upper bound of the count thresholds (changes or invocations in one alarm period). */
export const alarmCountThresholdMax = 1_000_000;

/**
 * Thresholds and timing of the replicating stack's alarms (lib/alarms.ts). Each alarm fires when
 * its statistic over one period is above the threshold in `evaluationPeriods` consecutive periods.
 */
export interface AlarmConfig {
  /** Seconds per evaluated period: a multiple of 60 (the metrics are standard resolution). */
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** Function errors (Lambda `Errors`, Sum) per period above which the alarm fires. */
  readonly errorsThreshold: number;
  /** Throttled invocations (Lambda `Throttles`, Sum) per period. */
  readonly throttlesThreshold: number;
  /** Permanently failed rule invocations (EventBridge `FailedInvocations`, Sum) per period. */
  readonly failedInvocationsThreshold: number;
  /** Changes that failed for one target and kind (the function's `ChangesFailed`, Sum). */
  readonly failedChangesThreshold: number;
  /** Age of the newest stream record handed to the function (`IteratorAge`, Maximum), seconds. */
  readonly iteratorAgeSeconds: number;
  /** Source-to-target time of a replicated change (`ReplicationLatency`, Maximum), seconds. */
  readonly replicationLatencySeconds: number;
}

/**
 * The replicating stack in another account that a target stack grants write access to its bucket
 * and table (config `sourceAccountId`, with `sourceEnvironment` and `sourceRegion`).
 */
export interface ReplicationSource {
  /** The replicating stack's account. */
  readonly accountId: string;
  /** The replicating stack's environment (`prod`). */
  readonly environment: string;
  /** The replicating stack's region. */
  readonly region: string;
  /** Its replication role's name, derived by the naming rules (lib/naming.ts). */
  readonly roleName: string;
}

/** The validated, typed config of one stack. */
export interface StackConfig {
  readonly stack: string;
  readonly project: string;
  readonly organization: string;
  /** The environment's name (`dev`, `staging`, `prod`, `qa`, ...): part of every physical name. */
  readonly environment: string;
  /** Deletion protection on the table (the protected environment sets it: prod). */
  readonly deletionProtection: boolean;
  readonly region: string;
  readonly namePrefix: string;
  /** Replaces the account id as the bucket's uniqueness part; appended to the other names. */
  readonly nameSuffix: string | undefined;
  readonly lambda: LambdaConfig;
  readonly logRetentionDays: number;
  /** Days before noncurrent object versions expire. */
  readonly lifecycleDays: number;
  /** Stacks this one replicates into (empty: no replication plane). */
  readonly replicationTargets: readonly string[];
  /** Object key prefixes that replicate (empty: every key). */
  readonly replicationKeyPrefixes: readonly string[];
  /** Extra tags on every taggable resource. */
  readonly tags: Readonly<Record<string, string>>;
  /** Addresses subscribed by e-mail to the failure topic. */
  readonly alertEmails: readonly string[];
  /** The replicating stack's alarms. */
  readonly alarms: AlarmConfig;
  /** The account the stack file pins (first entry of `aws:allowedAccountIds`), if it pins one. */
  readonly accountId: string | undefined;
  /** Set in a target stack whose replicating stack lives in another account: it grants that one role. */
  readonly replicationSource: ReplicationSource | undefined;
  /** The replicating stack's masking of what reaches its targets (lib/masking-config.ts). */
  readonly masking: MaskingConfig | undefined;
}

/** Thrown once with every problem of a stack's config. */
export class ConfigValidationError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid stack config "${stackName}": ${problems.join("; ")}`);
    this.name = "ConfigValidationError";
  }
}

const stackNamePattern = /^[A-Za-z0-9_.-]{1,100}$/;
const namePartPattern = /^[a-z0-9][a-z0-9-]*[a-z0-9]$|^[a-z0-9]$/;

/** Collects problems while parsing values, so every bad key is reported at once. */
class Reader {
  readonly problems: string[] = [];

  constructor(private readonly raw: RawStackConfig) {}

  key(name: string): string {
    return `${this.raw.project}:${name}`;
  }

  string(name: ConfigKey): string | undefined {
    return this.raw.values[this.key(name)];
  }

  bad(name: string, value: string, reason: string): void {
    this.problems.push(`${name} = ${JSON.stringify(value)} (${reason})`);
  }

  boolean(name: ConfigKey, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (value !== "true" && value !== "false") {
      this.bad(this.key(name), value, "must be true or false");
      return fallback;
    }
    return value === "true";
  }

  integer(name: ConfigKey, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const parsed = Number(value.trim());
    if (value.trim() === "" || !Number.isInteger(parsed)) {
      this.bad(this.key(name), value, "must be an integer");
      return fallback;
    }
    if (parsed < min) this.bad(this.key(name), value, `min ${min}`);
    if (parsed > max) this.bad(this.key(name), value, `max ${max}`);
    return parsed;
  }

  oneOf<T extends string | number>(name: ConfigKey, value: T, allowed: readonly T[]): T {
    if (!allowed.includes(value)) {
      this.bad(this.key(name), String(value), `must be one of ${allowed.join(", ")}`);
    }
    return value;
  }

  json(name: ConfigKey): unknown {
    const value = this.string(name);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      this.bad(this.key(name), value, "must be JSON (a YAML list or map in the stack file)");
      return undefined;
    }
  }

  stringList(name: ConfigKey): string[] {
    const value = this.json(name);
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
      this.bad(this.key(name), JSON.stringify(value), "must be a list of strings");
      return [];
    }
    return value;
  }

  stringMap(name: ConfigKey): Record<string, string> {
    const value = this.json(name);
    if (value === undefined) return {};
    if (
      typeof value !== "object" ||
      value === null ||
      Array.isArray(value) ||
      !Object.values(value).every((v) => typeof v === "string")
    ) {
      this.bad(this.key(name), JSON.stringify(value), "must be a map of strings to strings");
      return {};
    }
    return value as Record<string, string>;
  }
}

/** Checks one part of the physical names; false (and a problem) when it is not valid. */
function checkNamePart(reader: Reader, name: ConfigKey, value: string): boolean {
  const valid = namePartPattern.test(value);
  if (!valid) {
    reader.bad(
      reader.key(name),
      value,
      "must be lowercase letters, digits and hyphens, starting and ending with a letter or digit",
    );
  }
  return valid;
}

function checkPhysicalNames(reader: Reader, names: PhysicalNames, suffixed: boolean): void {
  const note = suffixed ? "" : ` (checked with a 12-digit account id)`;
  const checks: [string, string, string[]][] = [
    ["S3 bucket name", names.bucket, bucketNameProblems(names.bucket)],
    ["DynamoDB table name", names.table, tableNameProblems(names.table)],
    [
      "Lambda function name",
      names.replicationFunction,
      functionNameProblems(names.replicationFunction),
    ],
  ];
  for (const [what, value, problems] of checks) {
    for (const problem of problems) {
      reader.problems.push(
        `${what} ${JSON.stringify(value)} from ${reader.key("namePrefix")}/${reader.key("nameSuffix")}: ${problem}${note}`,
      );
    }
  }
}

/**
 * Validates raw config and returns the typed config. Pure: gathers every problem, then throws one
 * `ConfigValidationError` naming each key and quoting its value.
 */
export function validateConfig(raw: RawStackConfig): StackConfig {
  const reader = new Reader(raw);

  const namespace = `${raw.project}:`;
  for (const [key, value] of Object.entries(raw.values)) {
    const name = key.slice(namespace.length);
    if (key.startsWith(namespace) && !configKeys.includes(name as ConfigKey)) {
      reader.bad(key, String(value), `unknown key; known: ${configKeys.join(", ")}`);
    }
  }
  // Every value of this namespace ends up in clear text somewhere (the Lambda environment,
  // physical names, tags): a secret would be silently exposed, so it is refused instead.
  for (const key of raw.secretKeys ?? []) {
    if (key.startsWith(namespace)) {
      reader.problems.push(
        `${key} is a secret, but its value would reach the Lambda environment, names or tags ` +
          "in clear text: keep the secret in AWS Secrets Manager or SSM Parameter Store and " +
          "configure its name instead",
      );
    }
  }

  const environment = reader.string("environment") ?? raw.stack;
  const partsValid = [checkNamePart(reader, "environment", environment)];
  const deletionProtection = reader.boolean(
    "deletionProtection",
    configDefaults.deletionProtection,
  );

  const region = raw.values["aws:region"] ?? "";
  if (region === "") {
    reader.problems.push(`aws:region is not set`);
  } else if (!regionPattern.test(region)) {
    reader.bad("aws:region", region, "not an AWS region name such as eu-west-1");
  }
  partsValid.push(regionPattern.test(region));

  const organization = reader.string("organization") ?? raw.organization;
  const namePrefix = reader.string("namePrefix") ?? configDefaults.namePrefix;
  partsValid.push(checkNamePart(reader, "namePrefix", namePrefix));
  const nameSuffix = reader.string("nameSuffix");
  if (nameSuffix !== undefined) partsValid.push(checkNamePart(reader, "nameSuffix", nameSuffix));

  const names = physicalNames({
    namePrefix,
    environment,
    region,
    uniqueness: nameSuffix ?? accountIdPlaceholder,
    nameSuffix,
  });
  // Whole names are checked (lengths, reserved forms) once every part is valid on its own.
  if (partsValid.every(Boolean)) checkPhysicalNames(reader, names, nameSuffix !== undefined);

  const memoryMb = reader.integer("lambdaMemoryMb", configDefaults.lambdaMemoryMb, 128, 10240);
  const timeoutSeconds = reader.integer(
    "lambdaTimeoutSeconds",
    configDefaults.lambdaTimeoutSeconds,
    1,
    lambdaTimeoutMaxSeconds,
  );
  const maxAttempts = reader.integer("maxAttempts", configDefaults.maxAttempts, 1, 20);
  const batchSize = reader.integer("batchSize", configDefaults.batchSize, 1, 10000);
  const batchLimit = maxBatchSize(timeoutSeconds);
  if (batchSize <= 10000 && batchSize > batchLimit) {
    reader.bad(
      reader.key("batchSize"),
      String(batchSize),
      `max ${batchLimit} with lambdaTimeoutSeconds ${timeoutSeconds}: a batch must fit half the ` +
        `timeout at ${streamRecordBudgetMs} ms per record`,
    );
  }
  const logRetentionDays = reader.oneOf(
    "logRetentionDays",
    reader.integer("logRetentionDays", configDefaults.logRetentionDays, 1, 3653),
    logRetentionValues,
  );
  const lifecycleDays = reader.integer("lifecycleDays", configDefaults.lifecycleDays, 1, 36500);
  const logLevel = reader.oneOf(
    "logLevel",
    (reader.string("logLevel") ?? configDefaults.logLevel) as LogLevel,
    logLevels,
  );

  const replicationTargets = reader.stringList("replicationTargets");
  const seen = new Set<string>();
  for (const target of replicationTargets) {
    const key = reader.key("replicationTargets");
    if (target === raw.stack) {
      reader.bad(key, target, "a stack cannot replicate into itself");
    } else if (!stackNamePattern.test(target)) {
      reader.bad(key, target, "not a stack name");
    } else if (seen.has(target)) {
      reader.bad(key, target, "listed twice");
    }
    seen.add(target);
  }

  // The replicating stack also names its function's log group and its dashboard, and the S3
  // Batch Operations job role and report bucket.
  if (replicationTargets.length > 0 && partsValid.every(Boolean)) {
    const from = `from ${reader.key("namePrefix")}/${reader.key("environment")}/aws:region/${reader.key("nameSuffix")}`;
    for (const [what, value, problems] of [
      ["CloudWatch Logs log group name", names.replicationLogGroup, logGroupNameProblems],
      ["CloudWatch dashboard name", names.replicationDashboard, dashboardNameProblems],
    ] as const) {
      for (const problem of problems(value)) {
        reader.problems.push(`${what} ${JSON.stringify(value)} ${from}: ${problem}`);
      }
    }
    const note = nameSuffix === undefined ? " (checked with a 12-digit account id)" : "";
    for (const problem of batchOperationsNameProblems({
      namePrefix,
      environment,
      region,
      uniqueness: nameSuffix ?? accountIdPlaceholder,
      nameSuffix,
    })) {
      reader.problems.push(
        `${problem}, from ${reader.key("namePrefix")}/${reader.key("nameSuffix")}${note}`,
      );
    }
  }

  const replicationKeyPrefixes = reader.stringList("replicationKeyPrefixes");
  for (const prefix of replicationKeyPrefixes) {
    if (prefix === "") {
      reader.bad(reader.key("replicationKeyPrefixes"), prefix, "empty prefix; omit the key");
    }
  }
  // Every prefix is one more entry in the rule's pattern; the bucket's name is as long as it will
  // be (an account id has 12 digits), so the size is the deployed pattern's.
  if (replicationTargets.length > 0 && partsValid.every(Boolean)) {
    const pattern = replicationEventPatternJson(names.bucket, replicationKeyPrefixes);
    if (pattern.characters > eventPatternMaxCharacters) {
      reader.bad(
        reader.key("replicationKeyPrefixes"),
        JSON.stringify(replicationKeyPrefixes),
        `makes the EventBridge rule's event pattern ${pattern.characters} characters ` +
          `(max ${eventPatternMaxCharacters}, EventBridge's default quota)`,
      );
    }
  }

  const extraEnvironment = reader.stringMap("lambdaEnvironment");
  const envKey = reader.key("lambdaEnvironment");
  for (const name of Object.keys(extraEnvironment)) {
    if (contractVariableNames.includes(name)) {
      reader.problems.push(`${envKey} sets "${name}" (set by the program)`);
    }
  }
  reader.problems.push(...lambdaEnvironmentProblems(extraEnvironment, envKey));
  // Worst case: the longest names AWS allows for what the stack references return at deploy
  // time (a target's environment is assumed as long as its stack name). Skipped when a value the
  // contract needs is itself invalid: that value's own problem is reported above.
  const worstCase = (): Record<string, string> | undefined => {
    try {
      return writeContract(
        {
          region,
          sourceEnvironment: environment,
          sourceBucket: names.bucket,
          sourceTable: names.table,
          // A target in another account is addressed by its table's ARN; the longest partition
          // and region names.
          targets: replicationTargets.map((stack) => ({
            environment: stack,
            bucket: "b".repeat(63),
            table: `arn:aws-us-gov:dynamodb:ap-southeast-7:${accountIdPlaceholder}:table/${"t".repeat(255)}`,
            region: "ap-southeast-7",
          })),
          dlqUrl: `https://sqs.${region}.amazonaws.com/${accountIdPlaceholder}/${"q".repeat(80)}`,
          maxAttempts,
          serviceName: replicationServiceName,
          logLevel,
        },
        { ...functionRuntimeEnvironment, ...extraEnvironment },
      );
    } catch (error: unknown) {
      if (error instanceof ContractError) return undefined;
      throw error;
    }
  };
  const fullEnvironment = replicationTargets.length > 0 ? worstCase() : undefined;
  const bytes = fullEnvironment === undefined ? 0 : environmentBytes(fullEnvironment);
  if (bytes > lambdaEnvironmentMaxBytes) {
    reader.problems.push(
      `${envKey} makes the Lambda environment up to ${bytes} bytes (max ${lambdaEnvironmentMaxBytes} in total)`,
    );
  }

  const accounts = readAccounts(reader, raw, {
    region,
    environment,
    namePrefix,
    replicating: replicationTargets.length > 0,
    ownRoleName: partsValid.every(Boolean) ? names.replicationRole : undefined,
  });

  // One tag set on every resource: the strictest rules of every service it goes to (lib/tags.ts).
  const tags = reader.stringMap("tags");
  for (const problem of tagProblems(tags)) {
    reader.bad(reader.key("tags"), problem.value, problem.reason);
  }

  const alertEmails = readAlertEmails(reader);
  const alarms = readAlarmConfig(reader);
  const masking = readMasking(reader, replicationTargets);

  // The texts the resources carry (descriptions, alarm names) against what AWS takes: the
  // function's description lists every target, alarm names and descriptions name them too.
  if (partsValid.every(Boolean)) {
    const checks = resourceTextChecks({
      environment,
      functionName: names.replicationFunction,
      alarms,
      targetStacks: replicationTargets,
      sourceAccountId: accounts.replicationSource?.accountId,
    });
    for (const problem of textProblems(checks)) {
      const keys = problem.keys.map((name) => reader.key(name)).join("/");
      reader.bad(keys, problem.value, problem.reason);
    }
  }

  if (replicationTargets.length === 0) {
    for (const name of replicatingOnlyKeys) {
      const value = reader.string(name);
      if (value === undefined) continue;
      reader.bad(
        reader.key(name),
        value,
        `only a replicating stack uses it, and this stack sets no ` +
          `${reader.key("replicationTargets")}: remove it`,
      );
    }
  }

  if (reader.problems.length > 0) {
    throw new ConfigValidationError(raw.stack, reader.problems);
  }
  return {
    stack: raw.stack,
    project: raw.project,
    organization,
    environment,
    deletionProtection,
    region,
    namePrefix,
    nameSuffix,
    lambda: { memoryMb, timeoutSeconds, logLevel, maxAttempts, batchSize, extraEnvironment },
    logRetentionDays,
    lifecycleDays,
    replicationTargets,
    replicationKeyPrefixes,
    tags,
    alertEmails,
    alarms,
    ...accounts,
    masking,
  };
}

/** `masking`: the rules and the key's secret of a replicating stack (lib/masking-config.ts). */
function readMasking(reader: Reader, targets: readonly string[]): MaskingConfig | undefined {
  // A stack that replicates nothing is told to remove the key (replicatingOnlyKeys), no more.
  const value = targets.length === 0 ? undefined : reader.json("masking");
  if (value === undefined) return undefined;
  const read = readMaskingConfig(reader.key("masking"), value, {
    targets,
    keyAttributes: tableKeyAttributes,
  });
  reader.problems.push(...read.problems);
  return read.config;
}

const emailAddress = z.email();

/** `alertEmails`: e-mail addresses (zod's practical check), each once (case-insensitively). */
function readAlertEmails(reader: Reader): string[] {
  const key = reader.key("alertEmails");
  const emails = reader.stringList("alertEmails");
  const seen = new Set<string>();
  for (const address of emails) {
    if (!z.safeParse(emailAddress, address).success) {
      reader.bad(key, address, "not an e-mail address");
    } else if (seen.has(address.toLowerCase())) {
      reader.bad(key, address, "listed twice");
    }
    seen.add(address.toLowerCase());
  }
  return emails;
}

/**
 * The alarm keys. Periods: "Valid values are 10, 20, 30, and any multiple of 60" (10 to 30 only
 * for high-resolution metrics, which these are not); "Period multiplied by EvaluationPeriods can't
 * be more than 604,800 seconds. For alarms with a period of less than one hour (3,600 seconds),
 * the total evaluation period can't be longer than one day (86,400 seconds)."
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 */
function readAlarmConfig(reader: Reader): AlarmConfig {
  const periodKey = reader.key("alarmPeriodSeconds");
  const periodValue = reader.string("alarmPeriodSeconds");
  const before = reader.problems.length;
  const periodSeconds = reader.integer(
    "alarmPeriodSeconds",
    configDefaults.alarmPeriodSeconds,
    60,
    86_400,
  );
  if (reader.problems.length === before && periodSeconds % 60 !== 0) {
    reader.bad(periodKey, String(periodValue), "must be a multiple of 60");
  }
  const periodValid = reader.problems.length === before;
  const evaluationStart = reader.problems.length;
  const evaluationPeriods = reader.integer(
    "alarmEvaluationPeriods",
    configDefaults.alarmEvaluationPeriods,
    1,
    10_080,
  );
  if (periodValid && reader.problems.length === evaluationStart) {
    const total = periodSeconds * evaluationPeriods;
    const limit = periodSeconds < 3600 ? 86_400 : 604_800;
    if (total > limit) {
      reader.problems.push(
        `${reader.key("alarmEvaluationPeriods")} = ${JSON.stringify(String(evaluationPeriods))} ` +
          `with ${periodKey} = ${JSON.stringify(String(periodSeconds))} spans ${total} s ` +
          "(CloudWatch's limit: 86400 s for periods under an hour, 604800 s otherwise)",
      );
    }
  }
  const count = (name: ConfigKey, fallback: number): number =>
    reader.integer(name, fallback, 0, alarmCountThresholdMax);
  const age = (name: ConfigKey, fallback: number): number => {
    const value = reader.integer(name, fallback, 1, Number.MAX_SAFE_INTEGER);
    if (value >= alarmAgeLimitSeconds) {
      reader.bad(
        reader.key(name),
        String(reader.string(name)),
        `must be below ${alarmAgeLimitSeconds}: older changes are dead-lettered, so the alarm could never fire`,
      );
    }
    return value;
  };
  return {
    periodSeconds,
    evaluationPeriods,
    errorsThreshold: count("alarmErrorsThreshold", configDefaults.alarmErrorsThreshold),
    throttlesThreshold: count("alarmThrottlesThreshold", configDefaults.alarmThrottlesThreshold),
    failedInvocationsThreshold: count(
      "alarmFailedInvocationsThreshold",
      configDefaults.alarmFailedInvocationsThreshold,
    ),
    failedChangesThreshold: count(
      "alarmFailedChangesThreshold",
      configDefaults.alarmFailedChangesThreshold,
    ),
    iteratorAgeSeconds: age("alarmIteratorAgeSeconds", configDefaults.alarmIteratorAgeSeconds),
    replicationLatencySeconds: age(
      "alarmReplicationLatencySeconds",
      configDefaults.alarmReplicationLatencySeconds,
    ),
  };
}

interface AccountContext {
  readonly region: string;
  readonly environment: string;
  readonly namePrefix: string;
  /** The stack lists replication targets. */
  readonly replicating: boolean;
  /** The stack's own role name, when every part of it is valid. */
  readonly ownRoleName: string | undefined;
}

function roleProblems(reader: Reader, what: string, name: string, from: string): void {
  for (const problem of roleNameProblems(name)) {
    reader.problems.push(`IAM role name ${JSON.stringify(name)} ${what} from ${from}: ${problem}`);
  }
}

/**
 * The stack's accounts: the one it pins (`aws:allowedAccountIds`) and, in a target stack whose
 * replicating stack lives in another account, that source (`sourceAccountId`, `sourceEnvironment`,
 * `sourceRegion`). A source never crosses a partition (accounts are scoped to one) and is never
 * the stack's own account (same-account replication needs no resource grants).
 */
function readAccounts(
  reader: Reader,
  raw: RawStackConfig,
  context: AccountContext,
): Pick<StackConfig, "accountId" | "replicationSource"> {
  const { region, replicating } = context;
  const allowedRaw = raw.values[allowedAccountIdsKey];
  const allowed = parseAllowedAccountIds(allowedRaw);
  if (allowed.problem !== undefined && allowedRaw !== undefined) {
    reader.bad(allowedAccountIdsKey, allowedRaw, allowed.problem);
  }
  const pinned = allowed.accountIds;
  const accountId = pinned[0];
  if (replicating && context.ownRoleName !== undefined) {
    const parts = `${reader.key("namePrefix")}/${reader.key("environment")}/aws:region`;
    roleProblems(reader, "of the replication role", context.ownRoleName, parts);
  }

  const sourceKeys = ["sourceAccountId", "sourceEnvironment", "sourceRegion"] as const;
  const sourceAccountId = reader.string("sourceAccountId");
  if (sourceAccountId === undefined || replicating) {
    for (const name of sourceKeys) {
      const value = reader.string(name);
      if (value === undefined) continue;
      reader.bad(
        reader.key(name),
        value,
        replicating
          ? `this stack replicates (${reader.key("replicationTargets")}): set it on its target stacks`
          : `only with ${reader.key("sourceAccountId")}`,
      );
    }
    return { accountId, replicationSource: undefined };
  }

  let valid = true;
  if (!accountIdPattern.test(sourceAccountId)) {
    reader.bad(reader.key("sourceAccountId"), sourceAccountId, "must be a 12-digit AWS account id");
    valid = false;
  } else if (pinned.includes(sourceAccountId)) {
    reader.bad(
      reader.key("sourceAccountId"),
      sourceAccountId,
      `this stack's own account (${allowedAccountIdsKey} = ${JSON.stringify(pinned)}): ` +
        "a replicating stack in the same account needs no grants, remove the key",
    );
    valid = false;
  }
  const environment = reader.string("sourceEnvironment") ?? configDefaults.sourceEnvironment;
  valid = checkNamePart(reader, "sourceEnvironment", environment) && valid;
  const sourceRegion = reader.string("sourceRegion");
  if (sourceRegion !== undefined && !regionPattern.test(sourceRegion)) {
    reader.bad(
      reader.key("sourceRegion"),
      sourceRegion,
      "not an AWS region name such as eu-west-1",
    );
    valid = false;
  } else if (sourceRegion !== undefined && regionPattern.test(region)) {
    const theirs = partitionOf(sourceRegion).name;
    const ours = partitionOf(region).name;
    if (theirs !== ours) {
      reader.bad(
        reader.key("sourceRegion"),
        sourceRegion,
        `in partition ${theirs}, but this stack (aws:region = ${JSON.stringify(region)}) is in ` +
          `${ours}: accounts and credentials never cross a partition`,
      );
      valid = false;
    }
  }
  const resolvedRegion = sourceRegion ?? region;
  // An invalid region or name prefix is reported on its own key above.
  if (!valid || !regionPattern.test(resolvedRegion) || !namePartPattern.test(context.namePrefix)) {
    return { accountId, replicationSource: undefined };
  }
  const roleName = physicalNames({
    namePrefix: context.namePrefix,
    environment,
    region: resolvedRegion,
    uniqueness: "",
  }).replicationRole;
  const parts = `${reader.key("namePrefix")}/${reader.key("sourceEnvironment")}/${reader.key("sourceRegion")}`;
  roleProblems(reader, "of the source's replication role", roleName, parts);
  return {
    accountId,
    replicationSource: {
      accountId: sourceAccountId,
      environment,
      region: resolvedRegion,
      roleName,
    },
  };
}

/** Reads the running stack's config from Pulumi and validates it (throws before any resource). */
export function readStackConfig(): StackConfig {
  return validateConfig({
    stack: pulumi.getStack(),
    project: pulumi.getProject(),
    organization: pulumi.getOrganization(),
    values: pulumi.runtime.allConfig(),
    secretKeys: secretConfigKeys(process.env),
  });
}

/**
 * The config keys whose values are secrets. The Pulumi CLI hands them to the program in
 * `PULUMI_CONFIG_SECRET_KEYS` (a JSON array; the SDK reads the same variable in
 * @pulumi/pulumi runtime/config.js, `configSecretKeysEnvKey`, but exports no reader for it).
 */
export function secretConfigKeys(env: Readonly<Record<string, string | undefined>>): string[] {
  const raw = env.PULUMI_CONFIG_SECRET_KEYS;
  if (raw === undefined || raw === "") return [];
  const parsed: unknown = JSON.parse(raw);
  return Array.isArray(parsed)
    ? parsed.filter((key): key is string => typeof key === "string")
    : [];
}
