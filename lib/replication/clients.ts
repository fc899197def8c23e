/**
 * AWS SDK clients for the replication Lambda, all on the SDK's standard retry strategy
 * (jittered exponential backoff, retry quota) with `maxAttempts` from the environment.
 * Endpoints come from the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables when set.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import type { ReplicationSettings } from "./contract";

export interface ReplicationClients {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
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
  config: Pick<ReplicationSettings, "maxAttempts" | "retryBaseDelayMs">,
): { maxAttempts: number; retryMode: "standard" } | { retryStrategy: ConfiguredRetryStrategy } {
  const base = config.retryBaseDelayMs;
  if (base === undefined) {
    return { maxAttempts: config.maxAttempts, retryMode: "standard" };
  }
  return {
    retryStrategy: new ConfiguredRetryStrategy(config.maxAttempts, jitteredBackoff(base)),
  };
}

export function createClients(config: ReplicationSettings): ReplicationClients {
  const common = { region: config.region, ...retrySettings(config) };
  return {
    s3: new S3Client({ ...common, forcePathStyle: config.forcePathStyle }),
    dynamodb: new DynamoDBClient(common),
    sqs: new SQSClient(common),
  };
}
