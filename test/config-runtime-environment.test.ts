/**
 * The variables the function runs with because of its bundle (lib/bundle.ts
 * `functionRuntimeEnvironment`: NODE_OPTIONS for source-mapped stack traces) count toward
 * Lambda's 4 KB environment limit when lib/config.ts checks the worst case.
 */
import { functionRuntimeEnvironment } from "../lib/bundle";
import { ConfigValidationError, validateConfig } from "../lib/config";
import { lambdaEnvironmentMaxBytes } from "../lib/lambda-environment";

function validate(extra: Record<string, string>): void {
  validateConfig({
    stack: "prod",
    project: "data-pipeline",
    organization: "acme",
    values: {
      "aws:region": "eu-west-1",
      "data-pipeline:replicationTargets": '["dev"]',
      "data-pipeline:lambdaEnvironment": JSON.stringify(extra),
    },
  });
}

/** The worst-case environment size validateConfig reports for these extra variables. */
function reportedBytes(extra: Record<string, string>): number {
  try {
    validate(extra);
  } catch (error: unknown) {
    if (!(error instanceof ConfigValidationError)) throw error;
    const found = /makes the Lambda environment up to (\d+) bytes/.exec(error.problems.join("\n"));
    if (found?.[1] !== undefined) return Number(found[1]);
  }
  throw new Error("no size problem reported");
}

describe("the Lambda environment limit", () => {
  const big = { BIG: "x".repeat(4000) };

  it("the bundle sets NODE_OPTIONS for source-mapped stack traces", () => {
    expect(functionRuntimeEnvironment).toEqual({ NODE_OPTIONS: "--enable-source-maps" });
  });

  it("counts the bundle's NODE_OPTIONS, unless the configured variables replace it", () => {
    const withBundle = reportedBytes(big);
    const replaced = reportedBytes({ ...big, NODE_OPTIONS: "" });

    // Same key either way: only the bundle's value is left out when the configuration sets one.
    expect(withBundle - replaced).toBe("--enable-source-maps".length);
  });

  it("refuses a variable that fits only when NODE_OPTIONS is left out", () => {
    const largestFit = lambdaEnvironmentMaxBytes - (reportedBytes(big) - 4000);
    expect(() => {
      validate({ BIG: "x".repeat(largestFit) });
    }).not.toThrow();
    expect(() => {
      validate({ BIG: "x".repeat(largestFit + 1) });
    }).toThrow(/makes the Lambda environment up to 4097 bytes \(max 4096 in total\)/);
  });
});
