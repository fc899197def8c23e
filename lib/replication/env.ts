/**
 * The replication Lambda's environment contract, read once at load through `loadConfig`.
 * Every problem is collected and reported in one error that names each variable and quotes
 * the bad value. Endpoints are not part of it: the AWS SDK reads `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_SQS` itself.
 */

/** One environment that receives every change. */
export interface ReplicationTarget {
  readonly environment: string;
  readonly bucket: string;
  readonly table: string;
}

export interface ReplicationConfig {
  /** `REGION`, falling back to `AWS_REGION` (which Lambda sets). */
  readonly region: string;
  readonly sourceEnvironment: string;
  readonly sourceBucket: string;
  readonly sourceTable: string;
  readonly targets: readonly ReplicationTarget[];
  readonly dlqUrl: string;
  /** `MAX_ATTEMPTS`: SDK standard retry strategy max attempts. @default 5 */
  readonly maxAttempts: number;
  /** `S3_FORCE_PATH_STYLE=true`: path-style S3 requests (emulators). @default false */
  readonly forcePathStyle: boolean;
  /**
   * `RETRY_BASE_DELAY_MS`: base of the jittered exponential backoff. Unset in production, where
   * the SDK's own standard backoff applies; tests set it low to stay fast.
   */
  readonly retryBaseDelayMs: number | undefined;
}

/** Thrown when the environment does not satisfy the contract. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export const DEFAULT_MAX_ATTEMPTS = 5;

type Env = Readonly<Record<string, string | undefined>>;

function parseTargets(raw: string, problems: string[]): ReplicationTarget[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`TARGETS is not valid JSON: "${raw}"`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push(
      `TARGETS must be a non-empty JSON array of {environment, bucket, table}: "${raw}"`,
    );
    return [];
  }
  const targets: ReplicationTarget[] = [];
  parsed.forEach((entry: unknown, index) => {
    const record: Record<string, unknown> =
      typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>) : {};
    const fields = ["environment", "bucket", "table"] as const;
    const bad = fields.filter((field) => {
      const value = record[field];
      return typeof value !== "string" || value === "";
    });
    if (bad.length > 0) {
      problems.push(
        `TARGETS[${index}] needs non-empty string ${bad.join(", ")}: ${JSON.stringify(entry)}`,
      );
      return;
    }
    targets.push({
      environment: record.environment as string,
      bucket: record.bucket as string,
      table: record.table as string,
    });
  });
  return targets;
}

/** Reads and validates the environment contract; throws one `ConfigError` listing every problem. */
export function loadConfig(env: Env): ReplicationConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === "") {
      problems.push(`${name} environment variable is not set`);
      return "";
    }
    return value;
  };

  const region = env.REGION ?? env.AWS_REGION ?? "";
  if (region === "") {
    problems.push("REGION environment variable is not set (nor AWS_REGION)");
  }
  const sourceEnvironment = required("SOURCE_ENVIRONMENT");
  const sourceBucket = required("SOURCE_BUCKET");
  const sourceTable = required("SOURCE_TABLE");
  const rawTargets = required("TARGETS");
  const dlqUrl = required("DLQ_URL");
  const targets = rawTargets === "" ? [] : parseTargets(rawTargets, problems);

  const positiveInteger = (name: string, fallback: number | undefined): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < (name === "MAX_ATTEMPTS" ? 1 : 0)) {
      problems.push(
        `${name} must be a ${name === "MAX_ATTEMPTS" ? "positive" : "non-negative"} integer: "${raw}"`,
      );
      return fallback;
    }
    return value;
  };
  const maxAttempts = positiveInteger("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS) ?? DEFAULT_MAX_ATTEMPTS;
  const retryBaseDelayMs = positiveInteger("RETRY_BASE_DELAY_MS", undefined);

  const pathStyle = env.S3_FORCE_PATH_STYLE;
  if (
    pathStyle !== undefined &&
    pathStyle !== "" &&
    pathStyle !== "true" &&
    pathStyle !== "false"
  ) {
    problems.push(`S3_FORCE_PATH_STYLE must be "true" or "false": "${pathStyle}"`);
  }
  for (const target of targets) {
    if (target.bucket === sourceBucket || target.table === sourceTable) {
      problems.push(
        `TARGETS entry "${target.environment}" must not name the source bucket or table: ${JSON.stringify(target)}`,
      );
    }
  }

  if (problems.length > 0) {
    throw new ConfigError(`Invalid replication environment: ${problems.join("; ")}`);
  }
  return {
    region,
    sourceEnvironment,
    sourceBucket,
    sourceTable,
    targets,
    dlqUrl,
    maxAttempts,
    forcePathStyle: pathStyle === "true",
    retryBaseDelayMs,
  };
}
