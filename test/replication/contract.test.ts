/** Unit tests of the environment contract (lib/replication/env.ts). */
import { ConfigError, DEFAULT_MAX_ATTEMPTS, loadConfig } from "../../lib/replication/env";

const valid = {
  REGION: "eu-west-1",
  SOURCE_ENVIRONMENT: "prod",
  SOURCE_BUCKET: "prod-bucket",
  SOURCE_TABLE: "prod-table",
  TARGETS: JSON.stringify([
    { environment: "dev", bucket: "dev-bucket", table: "dev-table" },
    { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
  ]),
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
};

describe("loadConfig", () => {
  it("reads the full contract with defaults", () => {
    const config = loadConfig(valid);
    expect(config).toEqual({
      region: "eu-west-1",
      sourceEnvironment: "prod",
      sourceBucket: "prod-bucket",
      sourceTable: "prod-table",
      targets: [
        { environment: "dev", bucket: "dev-bucket", table: "dev-table" },
        { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
      ],
      dlqUrl: valid.DLQ_URL,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      forcePathStyle: false,
      retryBaseDelayMs: undefined,
    });
  });

  it("falls back to AWS_REGION and reads the optional variables", () => {
    const config = loadConfig({
      ...valid,
      REGION: undefined,
      AWS_REGION: "us-east-2",
      MAX_ATTEMPTS: "7",
      RETRY_BASE_DELAY_MS: "0",
      S3_FORCE_PATH_STYLE: "true",
    });
    expect(config.region).toBe("us-east-2");
    expect(config.maxAttempts).toBe(7);
    expect(config.retryBaseDelayMs).toBe(0);
    expect(config.forcePathStyle).toBe(true);
  });

  it("prefers REGION over AWS_REGION", () => {
    expect(loadConfig({ ...valid, AWS_REGION: "us-east-2" }).region).toBe("eu-west-1");
  });

  it("names every missing variable in one error", () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({})).toThrow(
      "Invalid replication environment: REGION environment variable is not set (nor AWS_REGION); " +
        "SOURCE_ENVIRONMENT environment variable is not set; SOURCE_BUCKET environment variable is not set; " +
        "SOURCE_TABLE environment variable is not set; TARGETS environment variable is not set; " +
        "DLQ_URL environment variable is not set",
    );
  });

  it("treats blank values as missing", () => {
    expect(() => loadConfig({ ...valid, SOURCE_BUCKET: "  " })).toThrow(
      /SOURCE_BUCKET environment variable is not set/,
    );
  });

  it.each([
    ["not JSON", "{oops", /TARGETS is not valid JSON: "\{oops"/],
    ["not an array", '{"environment":"dev"}', /TARGETS must be a non-empty JSON array/],
    ["empty", "[]", /TARGETS must be a non-empty JSON array .*: "\[\]"/],
    [
      "missing fields",
      '[{"environment":"dev","bucket":""},"x"]',
      /TARGETS\[0\] needs non-empty string bucket, table: .*TARGETS\[1\] needs non-empty string environment, bucket, table: "x"/,
    ],
  ])("rejects TARGETS that is %s", (_name, targets, message) => {
    expect(() => loadConfig({ ...valid, TARGETS: targets })).toThrow(message);
  });

  it("rejects a target that is the source itself", () => {
    expect(() =>
      loadConfig({
        ...valid,
        TARGETS: '[{"environment":"dev","bucket":"prod-bucket","table":"dev-table"}]',
      }),
    ).toThrow(/TARGETS entry "dev" must not name the source bucket or table/);
  });

  it.each([
    ["MAX_ATTEMPTS", "0", /MAX_ATTEMPTS must be a positive integer: "0"/],
    ["MAX_ATTEMPTS", "2.5", /MAX_ATTEMPTS must be a positive integer: "2.5"/],
    ["RETRY_BASE_DELAY_MS", "-1", /RETRY_BASE_DELAY_MS must be a non-negative integer: "-1"/],
    ["S3_FORCE_PATH_STYLE", "yes", /S3_FORCE_PATH_STYLE must be "true" or "false": "yes"/],
  ])("rejects %s=%s", (name, value, message) => {
    expect(() => loadConfig({ ...valid, [name]: value })).toThrow(message);
  });

  it("accepts S3_FORCE_PATH_STYLE=false and empty optional values", () => {
    expect(() =>
      loadConfig({ ...valid, S3_FORCE_PATH_STYLE: "false", MAX_ATTEMPTS: "" }),
    ).not.toThrow();
  });
});
