/**
 * The replication function's environment contract: the one definition of every variable that
 * the program writes (lib/replication-plane.ts, through `writeContract`) and the function and
 * the operator tools read (`readContract`). Adding a variable is one entry in `variables`; both
 * sides take its type from there.
 *
 * Schemas are zod/mini codecs (string in the environment, typed value in the code), so the same
 * schema checks what the program writes and what the function reads. zod/mini rather than
 * classic zod: it tree-shakes, and the function's cold start pays only for what it uses.
 */
import * as z from "zod/mini";
import { maskingStrategies, objectFormats, type MaskingRules } from "./masking";

/** Log levels Powertools Logger accepts (`POWERTOOLS_LOG_LEVEL`). */
export const logLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"] as const;
export type LogLevel = (typeof logLevels)[number];

/** An AWS region name such as `eu-west-1` or `us-gov-west-1`. */
/** The Powertools service name of the function's logs and metrics when none is set. */
export const DEFAULT_SERVICE_NAME = "replication";

export const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;

const nonEmpty = z.string().check(z.minLength(1, "must not be empty"));
const region = z.string().check(z.regex(regionPattern, "not an AWS region name"));

const integer = (min: number, max: number) =>
  z.codec(z.string(), z.number().check(z.int(), z.gte(min), z.lte(max)), {
    decode: (raw) => (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN),
    encode: (value) => String(value),
  });

const flag = z.codec(z.enum(["true", "false"]), z.boolean(), {
  decode: (raw) => raw === "true",
  encode: (value) => (value ? "true" : "false"),
});

/** One environment that receives every change. */
const TargetSchema = z.object({
  environment: nonEmpty,
  bucket: nonEmpty,
  /**
   * The table's name, or its ARN when it lives in another account than the function (DynamoDB
   * takes a bare name as a table of the caller's own account): pass it as `TableName` as it is.
   */
  table: nonEmpty,
  /** The target's region (the program always writes it); absent: the function's (`REGION`). */
  region: z.optional(region),
});
export type ReplicationTarget = z.output<typeof TargetSchema>;

const targets = z.codec(
  z.string(),
  z.readonly(z.array(TargetSchema).check(z.minLength(1, "must name at least one target"))),
  {
    decode: (raw, payload) => {
      try {
        const parsed: unknown = JSON.parse(raw);
        return parsed as readonly ReplicationTarget[]; // checked by the output schema
      } catch {
        payload.issues.push({ code: "custom", message: "not valid JSON", input: raw });
        return z.NEVER;
      }
    },
    encode: (value) => JSON.stringify(value),
  },
);

/** Emulators only: endpoints of the services in regions other than the function's own. */
const regionEndpoints = z.codec(
  z.string(),
  z.record(
    region,
    z.object({
      s3: z.optional(nonEmpty),
      dynamodb: z.optional(nonEmpty),
      sqs: z.optional(nonEmpty),
    }),
  ),
  {
    decode: (raw, payload) => {
      try {
        const parsed: unknown = JSON.parse(raw);
        return parsed as Record<string, { s3?: string; dynamodb?: string; sqs?: string }>;
      } catch {
        payload.issues.push({ code: "custom", message: "not valid JSON", input: raw });
        return z.NEVER;
      }
    },
    encode: (value) => JSON.stringify(value),
  },
);

/** The masking rules as JSON (lib/replication/masking.ts), checked against their shape. */
const strategy = z.enum(maskingStrategies);
const strategyMap = z.record(z.string(), strategy);
const MaskingSchema = z.object({
  items: strategyMap,
  objects: z.readonly(
    z.array(
      z.object({
        prefix: z.string(),
        exclude: z.optional(z.boolean()),
        format: z.optional(z.enum(objectFormats)),
        fields: z.optional(strategyMap),
        metadata: z.optional(strategyMap),
        tags: z.optional(strategyMap),
      }),
    ),
  ),
  /** Target environments (TARGETS' `environment`) written unmasked. */
  unmaskedTargets: z.readonly(z.array(z.string())),
});

const masking = z.codec(z.string(), z.readonly(MaskingSchema), {
  decode: (raw, payload) => {
    try {
      return JSON.parse(raw) as z.output<typeof MaskingSchema>; // checked by the output schema
    } catch {
      payload.issues.push({ code: "custom", message: "not valid JSON", input: raw });
      return z.NEVER;
    }
  },
  encode: (value) => JSON.stringify(value),
});

interface Variable<T> {
  /** The environment variable. */
  readonly name: string;
  /** Read instead when `name` is unset (`REGION` falls back to Lambda's own `AWS_REGION`). */
  readonly alias?: string;
  readonly schema: z.ZodMiniType<T, string>;
  /** Value when unset; without one (and not `optional`) the variable is required. */
  readonly fallback?: T;
  /** Unset is allowed and reads as `undefined` (local and test knobs). */
  readonly optional?: true;
}

type Options<T> = Omit<Variable<T>, "name" | "schema">;

// `O` keeps the literal options in the type, so that `ReplicationSettings` knows which are optional.
const variable = <T, const O extends Options<T> = Options<T>>(
  name: string,
  schema: z.ZodMiniType<T, string>,
  options?: O,
): Variable<T> & O => ({ name, schema, ...options }) as Variable<T> & O;

/** Every variable of the contract, by the name the code uses. */
const variables = {
  /** AWS region of the function's clients (and of targets that name none). */
  region: variable("REGION", region, { alias: "AWS_REGION" }),
  /** Name of the source environment (`prod`). */
  sourceEnvironment: variable("SOURCE_ENVIRONMENT", nonEmpty),
  /** The only bucket whose events are accepted. */
  sourceBucket: variable("SOURCE_BUCKET", nonEmpty),
  /** The only table whose stream records are accepted. */
  sourceTable: variable("SOURCE_TABLE", nonEmpty),
  /** JSON array of `{ environment, bucket, table (name or ARN), region? }`. */
  targets: variable("TARGETS", targets),
  /** The dead-letter queue's URL. */
  dlqUrl: variable("DLQ_URL", nonEmpty),
  /** SDK standard retry strategy: max attempts per call. */
  maxAttempts: variable("MAX_ATTEMPTS", integer(1, 20), { fallback: 5 }),
  /** Powertools service name of logs (lib/replication/logger.ts) and metrics. */
  serviceName: variable("POWERTOOLS_SERVICE_NAME", nonEmpty, { fallback: DEFAULT_SERVICE_NAME }),
  /** Powertools Logger level. */
  logLevel: variable("POWERTOOLS_LOG_LEVEL", z.enum(logLevels), { fallback: "INFO" }),
  /** Tests and local runs: base of the jittered backoff instead of the SDK's standard one. */
  retryBaseDelayMs: variable("RETRY_BASE_DELAY_MS", integer(0, 60_000), { optional: true }),
  /** Emulators: path-style S3 requests. */
  forcePathStyle: variable("S3_FORCE_PATH_STYLE", flag, { fallback: false }),
  /**
   * Emulators: `{ "<region>": { "s3": url, "dynamodb": url, "sqs": url } }` for regions other
   * than the function's (whose endpoints are the SDK's own `AWS_ENDPOINT_URL_<SERVICE>`).
   */
  regionEndpoints: variable("REGION_ENDPOINTS", regionEndpoints, { optional: true }),
  /** The masking rules (lib/replication/masking.ts); unset: nothing is masked. */
  masking: variable("MASKING", masking, { optional: true }),
  /** The AWS Secrets Manager secret holding the masking key (set with MASKING). */
  maskingSecretArn: variable("MASKING_SECRET_ARN", nonEmpty, { optional: true }),
} as const;

type Variables = typeof variables;
type ValueOf<V> = V extends Variable<infer T> ? T : never;

/** The function's settings, as read from its environment. */
export type ReplicationSettings = {
  readonly [K in keyof Variables]: Variables[K] extends { optional: true }
    ? ValueOf<Variables[K]> | undefined
    : ValueOf<Variables[K]>;
};

/** What the program writes: every setting, the ones with a fallback or optional may be left out. */
export type ContractInput = {
  readonly [
    K in keyof Variables as Variables[K] extends { fallback: unknown } | { optional: true }
      ? never
      : K
  ]: ValueOf<Variables[K]>;
} & {
  readonly [
    K in keyof Variables as Variables[K] extends { fallback: unknown } | { optional: true }
      ? K
      : never
  ]?: ValueOf<Variables[K]>;
};

/** Every variable name the contract sets or reads (extra variables may not use them). */
export const contractVariableNames: readonly string[] = Object.values(variables).map(
  (spec: Variable<unknown>) => spec.name,
);

/** The environment does not satisfy the contract; the message names every variable and value. */
export class ContractError extends Error {
  override readonly name = "ContractError";

  constructor(readonly problems: readonly string[]) {
    super(`Invalid replication environment: ${problems.join("; ")}`);
  }
}

function describe(name: string, raw: string, error: z.core.$ZodError): string {
  const details = error.issues
    .map((issue) => {
      const at = issue.path.map((part) => `[${String(part)}]`).join("");
      return at === "" ? issue.message : `${name}${at}: ${issue.message}`;
    })
    .join(", ");
  return `${name} = ${JSON.stringify(raw)} (${details})`;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and checks the environment against the contract; throws one `ContractError` listing
 * every missing or malformed variable, each with its value.
 */
export function readContract(env: Env): ReplicationSettings {
  const problems: string[] = [];
  const settings: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(variables) as [string, Variable<unknown>][]) {
    const raw = env[spec.name] ?? (spec.alias === undefined ? undefined : env[spec.alias]);
    if (raw === undefined || raw.trim() === "") {
      if (spec.fallback === undefined && spec.optional !== true) {
        const alias = spec.alias === undefined ? "" : ` (nor ${spec.alias})`;
        problems.push(`${spec.name} environment variable is not set${alias}`);
      }
      settings[key] = spec.fallback;
      continue;
    }
    const decoded = z.safeDecode(spec.schema, raw);
    if (decoded.success) settings[key] = decoded.data;
    else problems.push(describe(spec.name, raw, decoded.error));
  }
  // Unset when TARGETS itself was reported above.
  const targetsRead = settings.targets as readonly ReplicationTarget[] | undefined;
  for (const target of targetsRead ?? []) {
    if (target.bucket === settings.sourceBucket || target.table === settings.sourceTable) {
      problems.push(
        `TARGETS entry "${target.environment}" names the source bucket or table: ${JSON.stringify(target)}`,
      );
    }
    // A table of another account is given by ARN, whose region must be the entry's.
    const arnRegion = /^arn:[^:]+:dynamodb:([^:]+):/.exec(target.table)?.[1];
    const region = target.region ?? (settings.region as string | undefined);
    if (arnRegion !== undefined && region !== undefined && arnRegion !== region) {
      problems.push(
        `TARGETS entry "${target.environment}" names a table in ${arnRegion} but the region ${region}: ${JSON.stringify(target)}`,
      );
    }
  }
  const rules = settings.masking as MaskingRules | undefined;
  if (rules !== undefined && settings.maskingSecretArn === undefined) {
    problems.push("MASKING is set, but MASKING_SECRET_ARN (the masking key's secret) is not");
  }
  const environments = (targetsRead ?? []).map((target) => target.environment);
  for (const name of rules?.unmaskedTargets ?? []) {
    if (targetsRead !== undefined && !environments.includes(name)) {
      problems.push(
        `MASKING unmaskedTargets names "${name}", which is not a target (${environments.join(", ")})`,
      );
    }
  }
  if (problems.length > 0) throw new ContractError(problems);
  return settings as ReplicationSettings;
}

/**
 * The environment the program gives the function: `extra` variables first, then every contract
 * variable given a value in `input` (the contract's own win; left out, the reader's fallback
 * applies). Throws `ContractError` on a value the
 * function would reject, so a bad value fails the deployment, not the first invocation.
 */
export function writeContract(
  input: ContractInput,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...extra };
  const problems: string[] = [];
  const values = input as Readonly<Record<string, unknown>>;
  for (const [key, spec] of Object.entries(variables) as [string, Variable<unknown>][]) {
    const value = values[key];
    if (value === undefined) continue;
    const encoded = z.safeEncode(spec.schema, value);
    if (encoded.success) env[spec.name] = encoded.data;
    else problems.push(describe(spec.name, JSON.stringify(value), encoded.error));
  }
  if (problems.length > 0) throw new ContractError(problems);
  return env;
}
