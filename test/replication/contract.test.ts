/** The environment contract (lib/replication/contract.ts): what the function reads, what the program writes. */
import {
  ContractError,
  contractVariableNames,
  readContract,
  writeContract,
} from "../../lib/replication/contract";

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

describe("readContract", () => {
  it("reads the full contract with defaults", () => {
    expect(readContract(valid)).toEqual({
      region: "eu-west-1",
      sourceEnvironment: "prod",
      sourceBucket: "prod-bucket",
      sourceTable: "prod-table",
      targets: [
        { environment: "dev", bucket: "dev-bucket", table: "dev-table" },
        { environment: "staging", bucket: "staging-bucket", table: "staging-table" },
      ],
      dlqUrl: valid.DLQ_URL,
      maxAttempts: 5,
      serviceName: "replication",
      logLevel: "INFO",
      forcePathStyle: false,
      retryBaseDelayMs: undefined,
      masking: undefined,
      maskingSecretArn: undefined,
    });
  });

  it("falls back to AWS_REGION and reads the optional variables", () => {
    const settings = readContract({
      ...valid,
      REGION: undefined,
      AWS_REGION: "us-east-2",
      MAX_ATTEMPTS: "7",
      RETRY_BASE_DELAY_MS: "0",
      S3_FORCE_PATH_STYLE: "true",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      TARGETS: '[{"environment":"dev","bucket":"d","table":"t","region":"us-west-2"}]',
    });
    expect(settings).toMatchObject({
      region: "us-east-2",
      maxAttempts: 7,
      retryBaseDelayMs: 0,
      forcePathStyle: true,
      logLevel: "SILENT",
      targets: [{ environment: "dev", bucket: "d", table: "t", region: "us-west-2" }],
    });
  });

  it("prefers REGION over AWS_REGION", () => {
    expect(readContract({ ...valid, AWS_REGION: "us-east-2" }).region).toBe("eu-west-1");
  });

  it("names every missing variable in one error", () => {
    expect(() => readContract({})).toThrow(ContractError);
    expect(() => readContract({})).toThrow(
      "Invalid replication environment: REGION environment variable is not set (nor AWS_REGION); " +
        "SOURCE_ENVIRONMENT environment variable is not set; SOURCE_BUCKET environment variable is not set; " +
        "SOURCE_TABLE environment variable is not set; TARGETS environment variable is not set; " +
        "DLQ_URL environment variable is not set",
    );
  });

  it("treats blank values as missing", () => {
    expect(() => readContract({ ...valid, SOURCE_BUCKET: "  " })).toThrow(
      /SOURCE_BUCKET environment variable is not set/,
    );
  });

  it.each([
    ["not JSON", "{oops", /TARGETS = "\{oops" \(not valid JSON\)/],
    ["not an array", '{"environment":"dev"}', /TARGETS = "\{\\"environment\\":\\"dev\\"\}" \(/],
    ["empty", "[]", /TARGETS = "\[\]" \(must name at least one target\)/],
    [
      "missing fields",
      '[{"environment":"dev","bucket":""},"x"]',
      /TARGETS\[0\]\[bucket\]: must not be empty, TARGETS\[0\]\[table\]: .*TARGETS\[1\]: /,
    ],
    [
      "a bad region",
      '[{"environment":"dev","bucket":"b","table":"t","region":"Europe"}]',
      /TARGETS\[0\]\[region\]: not an AWS region name/,
    ],
  ])("rejects TARGETS that is %s, quoting the value", (_name, targets, message) => {
    expect(() => readContract({ ...valid, TARGETS: targets })).toThrow(message);
  });

  it("rejects a target that is the source itself", () => {
    expect(() =>
      readContract({
        ...valid,
        TARGETS: '[{"environment":"dev","bucket":"prod-bucket","table":"dev-table"}]',
      }),
    ).toThrow(/TARGETS entry "dev" names the source bucket or table/);
  });

  it("rejects a table ARN whose region is not the entry's (or the function's)", () => {
    const arn = "arn:aws:dynamodb:us-west-2:210987654321:table/company-metadata-dev";
    const entry = (region?: string) =>
      JSON.stringify([{ environment: "dev", bucket: "dev-bucket", table: arn, region }]);

    expect(() => readContract({ ...valid, TARGETS: entry("us-west-2") })).not.toThrow();
    expect(() => readContract({ ...valid, TARGETS: entry("eu-west-1") })).toThrow(
      /TARGETS entry "dev" names a table in us-west-2 but the region eu-west-1/,
    );
    expect(() => readContract({ ...valid, TARGETS: entry() })).toThrow(
      /names a table in us-west-2 but the region eu-west-1/,
    );
  });

  it.each([
    ["MAX_ATTEMPTS", "0", /MAX_ATTEMPTS = "0" \(/],
    ["MAX_ATTEMPTS", "2.5", /MAX_ATTEMPTS = "2.5" \(/],
    ["MAX_ATTEMPTS", "21", /MAX_ATTEMPTS = "21" \(/],
    ["RETRY_BASE_DELAY_MS", "-1", /RETRY_BASE_DELAY_MS = "-1" \(/],
    ["S3_FORCE_PATH_STYLE", "yes", /S3_FORCE_PATH_STYLE = "yes" \(/],
    ["POWERTOOLS_LOG_LEVEL", "LOUD", /POWERTOOLS_LOG_LEVEL = "LOUD" \(/],
    ["REGION", "Frankfurt", /REGION = "Frankfurt" \(not an AWS region name\)/],
  ])("rejects %s=%s", (name, value, message) => {
    expect(() => readContract({ ...valid, [name]: value })).toThrow(message);
  });

  it("lists several malformed values at once", () => {
    expect(() => readContract({ ...valid, MAX_ATTEMPTS: "x", DLQ_URL: "" })).toThrow(
      /DLQ_URL environment variable is not set; MAX_ATTEMPTS = "x"/,
    );
  });

  it("accepts S3_FORCE_PATH_STYLE=false and empty optional values", () => {
    expect(() =>
      readContract({ ...valid, S3_FORCE_PATH_STYLE: "false", MAX_ATTEMPTS: "" }),
    ).not.toThrow();
  });
});

describe("writeContract", () => {
  const settings = {
    region: "eu-west-1",
    sourceEnvironment: "prod",
    sourceBucket: "prod-bucket",
    sourceTable: "prod-table",
    targets: [{ environment: "dev", bucket: "dev-bucket", table: "dev-table" }],
    dlqUrl: valid.DLQ_URL,
    maxAttempts: 5,
    serviceName: "replication",
    logLevel: "INFO",
  } as const;

  it("writes exactly what it is given, and the reader reads it back", () => {
    const env = writeContract(settings);
    expect(env).toEqual({
      REGION: "eu-west-1",
      SOURCE_ENVIRONMENT: "prod",
      SOURCE_BUCKET: "prod-bucket",
      SOURCE_TABLE: "prod-table",
      TARGETS: '[{"environment":"dev","bucket":"dev-bucket","table":"dev-table"}]',
      DLQ_URL: valid.DLQ_URL,
      MAX_ATTEMPTS: "5",
      POWERTOOLS_SERVICE_NAME: "replication",
      POWERTOOLS_LOG_LEVEL: "INFO",
    });
    expect(readContract(env)).toMatchObject(settings);
  });

  it("puts extra variables first and never lets them override the contract", () => {
    const env = writeContract(settings, { FEATURE: "on", REGION: "us-east-1" });
    expect(env.FEATURE).toBe("on");
    expect(env.REGION).toBe("eu-west-1");
  });

  it("refuses a value the function would reject, naming every variable", () => {
    expect(() =>
      writeContract({ ...settings, maxAttempts: 0, targets: [], region: "Paris" }),
    ).toThrow(
      /REGION = "\\"Paris\\"" .*TARGETS = "\[\]" \(must name at least one target\).*MAX_ATTEMPTS = "0"/,
    );
    expect(() => writeContract(settings)).not.toThrow();
  });

  it("names every variable it defines, and none of Lambda's reserved ones", () => {
    expect(contractVariableNames).toEqual(
      expect.arrayContaining(["REGION", "TARGETS", "DLQ_URL", "POWERTOOLS_LOG_LEVEL"]),
    );
    expect(contractVariableNames).not.toContain("AWS_REGION");
  });
});

describe("TARGETS across accounts and regions", () => {
  it("carries a target's region and, in another account, its table's ARN, both ways", () => {
    const targets = [
      {
        environment: "dev",
        bucket: "company-data-dev-us-east-1-111111111111",
        table: "arn:aws:dynamodb:us-east-1:111111111111:table/company-metadata-dev",
        region: "us-east-1",
      },
      {
        environment: "staging",
        bucket: "staging-bucket",
        table: "staging-table",
        region: "eu-west-1",
      },
    ];
    const env = writeContract({ ...readContract(valid), targets });

    expect(JSON.parse(env.TARGETS ?? "[]")).toEqual(targets);
    expect(readContract(env).targets).toEqual(targets);
  });

  it("refuses a target region that is not a region name, naming the entry", () => {
    expect(() =>
      writeContract({
        ...readContract(valid),
        targets: [{ environment: "dev", bucket: "b", table: "t", region: "Virginia" }],
      }),
    ).toThrow(/TARGETS\[0\]\[region\]: not an AWS region name/);
  });
});

describe("MASKING and MASKING_SECRET_ARN", () => {
  const rules = {
    items: { email: "email" },
    objects: [{ prefix: "private/", exclude: true }],
    unmaskedTargets: ["staging"],
  };
  const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:masking-AbCdEf";

  it("reads the rules and the key's secret, and writes them back", () => {
    const env = { ...valid, MASKING: JSON.stringify(rules), MASKING_SECRET_ARN: secret };
    const settings = readContract(env);
    expect(settings.masking).toEqual(rules);
    expect(settings.maskingSecretArn).toBe(secret);
    expect(readContract(writeContract(settings))).toEqual(settings);
  });

  it("leaves both unset when nothing is masked", () => {
    expect(readContract(valid)).toMatchObject({ masking: undefined, maskingSecretArn: undefined });
  });

  it("refuses rules without the key, rules of another shape, and an unmasked target that is not a target", () => {
    expect(() => readContract({ ...valid, MASKING: JSON.stringify(rules) })).toThrow(
      "MASKING is set, but MASKING_SECRET_ARN (the masking key's secret) is not",
    );
    expect(() =>
      readContract({
        ...valid,
        MASKING: JSON.stringify({ ...rules, items: { email: "scramble" } }),
        MASKING_SECRET_ARN: secret,
      }),
    ).toThrow(/MASKING = .*\(MASKING\[items\]\[email\]: Invalid input\)/);
    expect(() =>
      readContract({
        ...valid,
        MASKING: JSON.stringify({ ...rules, unmaskedTargets: ["qa"] }),
        MASKING_SECRET_ARN: secret,
      }),
    ).toThrow('MASKING unmaskedTargets names "qa", which is not a target (dev, staging)');
    expect(() => readContract({ ...valid, MASKING: "{", MASKING_SECRET_ARN: secret })).toThrow(
      "not valid JSON",
    );
  });
});
