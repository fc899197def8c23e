/**
 * AWS SDK clients of the replication function: one S3 and one DynamoDB client per region and one
 * SQS client, each created on first use, then reused for the life of the execution environment
 * (the SQS client only sends dead letters: a cold start that replicates without a failure never
 * builds it), all on the SDK's standard retry strategy (jittered exponential backoff, retry
 * quota) with `maxAttempts` from the environment. Endpoints: the SDK's own `AWS_ENDPOINT_URL_<SERVICE>`
 * variables for the function's region; `REGION_ENDPOINTS` (emulators only) for other regions.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import type { ReplicationSettings, ReplicationTarget } from "./contract";

/** The clients the replication code uses, by region. */
export interface ReplicationClients {
  /** The function's own region: the source bucket, table and the DLQ live there. */
  readonly region: string;
  s3(region?: string): S3Client;
  dynamodb(region?: string): DynamoDBClient;
  /** The function region's SQS client, created on first read. */
  readonly sqs: SQSClient;
  /** Destroys every client created so far. */
  destroy(): void;
}

/** The region a target lives in: its own, or the function's. */
export function targetRegion(target: ReplicationTarget, settings: { region: string }): string {
  return target.region ?? settings.region;
}

/** Upper bound of one backoff delay, as in the SDK's standard strategy. */
const MAX_BACKOFF_MS = 20_000;

/** Full-jitter exponential backoff: attempt n waits a random time below base * 2^n (capped). */
export function jitteredBackoff(baseMs: number): (attempt: number) => number {
  return (attempt) => Math.floor(Math.random() * Math.min(MAX_BACKOFF_MS, baseMs * 2 ** attempt));
}

/**
 * Retry settings shared by every client. Without `retryBaseDelayMs` this is exactly the SDK's
 * standard mode; with it, the SDK's `ConfiguredRetryStrategy` (the standard strategy with a
 * custom backoff) uses full-jitter exponential backoff from that base.
 */
export function retrySettings(
  settings: Pick<ReplicationSettings, "maxAttempts" | "retryBaseDelayMs">,
): { maxAttempts: number; retryMode: "standard" } | { retryStrategy: ConfiguredRetryStrategy } {
  const base = settings.retryBaseDelayMs;
  if (base === undefined) {
    return { maxAttempts: settings.maxAttempts, retryMode: "standard" };
  }
  return {
    retryStrategy: new ConfiguredRetryStrategy(settings.maxAttempts, jitteredBackoff(base)),
  };
}

type Settings = Pick<
  ReplicationSettings,
  "region" | "maxAttempts" | "retryBaseDelayMs" | "forcePathStyle" | "regionEndpoints"
>;

export function createClients(settings: Settings): ReplicationClients {
  const common = (region: string) => ({ region, ...retrySettings(settings) });
  // The function's own region takes the SDK's endpoint variables; another region's endpoints
  // are only ever set for emulators (REGION_ENDPOINTS).
  const endpoint = (region: string, service: "s3" | "dynamodb"): { endpoint?: string } => {
    const url =
      region === settings.region ? undefined : settings.regionEndpoints?.[region]?.[service];
    return url === undefined ? {} : { endpoint: url };
  };
  const s3 = new Map<string, S3Client>();
  const dynamodb = new Map<string, DynamoDBClient>();
  const sqs = new Map<string, SQSClient>();
  const cached = <C>(cache: Map<string, C>, region: string, create: () => C): C => {
    const found = cache.get(region);
    if (found !== undefined) return found;
    const client = create();
    cache.set(region, client);
    return client;
  };
  return {
    region: settings.region,
    s3: (region = settings.region) =>
      cached(s3, region, () => {
        return new S3Client({
          ...common(region),
          ...endpoint(region, "s3"),
          forcePathStyle: settings.forcePathStyle,
        });
      }),
    dynamodb: (region = settings.region) =>
      cached(
        dynamodb,
        region,
        () => new DynamoDBClient({ ...common(region), ...endpoint(region, "dynamodb") }),
      ),
    get sqs() {
      return cached(sqs, settings.region, () => new SQSClient(common(settings.region)));
    },
    destroy() {
      for (const client of [...s3.values(), ...dynamodb.values(), ...sqs.values()]) {
        client.destroy();
      }
      s3.clear();
      dynamodb.clear();
      sqs.clear();
    },
  };
}
