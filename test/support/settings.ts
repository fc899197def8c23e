/** Replication settings shared by the unit tests: a source in us-east-1, dev in eu-west-1. */
import type { ReplicationSettings } from "../../lib/replication/contract";

export const settings: ReplicationSettings = {
  region: "us-east-1",
  sourceEnvironment: "prod",
  sourceBucket: "prod-bucket",
  sourceTable: "prod-table",
  targets: [
    { environment: "dev", bucket: "dev-bucket", table: "dev-table", region: "eu-west-1" },
    { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
  ],
  dlqUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
  maxAttempts: 3,
  forcePathStyle: false,
  retryBaseDelayMs: undefined,
  serviceName: "replication",
  logLevel: "SILENT",
  regionEndpoints: undefined,
  masking: undefined,
  maskingSecretArn: undefined,
};

/**
 * A complete Lambda environment contract for the tests that load the handler module, one target.
 * Its DLQ is a closed port on loopback: sending a dead letter fails after the client is built.
 */
export const environmentContract = {
  REGION: "us-east-1",
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: "prod-bucket",
  SOURCE_TABLE: "prod-table",
  TARGETS: '[{"environment":"dev","bucket":"dev-bucket","table":"dev-table"}]',
  DLQ_URL: "http://127.0.0.1:9/123456789012/dlq",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  MAX_ATTEMPTS: "1",
};
