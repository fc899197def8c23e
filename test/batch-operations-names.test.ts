/**
 * The S3 Batch Operations names (lib/batch-operations-names.ts) and their check in the config
 * validation of a replicating stack: each rule fails and passes.
 */
import { batchOperationsNameProblems, batchOperationsNames } from "../lib/batch-operations-names";
import { ConfigValidationError, validateConfig } from "../lib/config";

const parts = {
  namePrefix: "company",
  environment: "prod",
  region: "eu-west-1",
  uniqueness: "123456789012",
};

function problemsOf(values: Record<string, string>): string[] {
  try {
    validateConfig({
      stack: "prod",
      project: "data-pipeline",
      organization: "acme",
      values: { "aws:region": "eu-west-1", ...values },
    });
  } catch (error: unknown) {
    if (error instanceof ConfigValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe("batchOperationsNames", () => {
  it("names the role per region (IAM is global) and the bucket like the data bucket", () => {
    expect(batchOperationsNames(parts)).toEqual({
      role: "company-batch-prod-eu-west-1",
      reportBucket: "company-batch-prod-eu-west-1-123456789012",
    });
    expect(batchOperationsNames({ ...parts, uniqueness: "pr-42", nameSuffix: "pr-42" })).toEqual({
      role: "company-batch-prod-eu-west-1-pr-42",
      reportBucket: "company-batch-prod-eu-west-1-pr-42",
    });
  });
});

describe("batchOperationsNameProblems", () => {
  it("finds nothing wrong with the stack's usual names", () => {
    expect(batchOperationsNameProblems(parts)).toEqual([]);
  });

  it("names the bucket or role that breaks a rule", () => {
    expect(batchOperationsNameProblems({ ...parts, namePrefix: "p".repeat(30) })).toEqual([
      `S3 bucket name "${"p".repeat(30)}-batch-prod-eu-west-1-123456789012": must be 3-63 characters (is 64)`,
    ]);
    const long = "p".repeat(42);
    expect(
      batchOperationsNameProblems({ ...parts, namePrefix: long, uniqueness: "s", nameSuffix: "s" }),
    ).toEqual([
      `IAM role name "${long}-batch-prod-eu-west-1-s": must be 1-64 characters (is 65)`,
      `S3 bucket name "${long}-batch-prod-eu-west-1-s": must be 3-63 characters (is 65)`,
    ]);
  });
});

describe("the config of a replicating stack", () => {
  // A 30-character prefix still fits the data bucket (63 characters) but not the report bucket.
  const prefix = "p".repeat(30);

  it("refuses a name prefix that makes the report bucket's name too long", () => {
    expect(
      problemsOf({
        "data-pipeline:namePrefix": prefix,
        "data-pipeline:replicationTargets": '["dev"]',
      }),
    ).toEqual([
      `S3 bucket name "${prefix}-batch-prod-eu-west-1-123456789012": must be 3-63 characters (is 64), ` +
        "from data-pipeline:namePrefix/data-pipeline:nameSuffix (checked with a 12-digit account id)",
    ]);
  });

  it("accepts it in a stack that does not replicate (no Batch Operations resources there)", () => {
    expect(problemsOf({ "data-pipeline:namePrefix": prefix })).toEqual([]);
  });

  it("checks suffixed names as they are (no account id involved)", () => {
    const suffixed = "p".repeat(35);
    expect(
      problemsOf({
        "data-pipeline:namePrefix": suffixed,
        "data-pipeline:nameSuffix": "pr-4242",
        "data-pipeline:replicationTargets": '["dev"]',
      }),
    ).toContain(
      `S3 bucket name "${suffixed}-batch-prod-eu-west-1-pr-4242": must be 3-63 characters (is 64), ` +
        "from data-pipeline:namePrefix/data-pipeline:nameSuffix",
    );
  });
});
