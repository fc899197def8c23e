/**
 * The program under config that differs from the stack files: invalid config fails at preview
 * before any resource, missing or malformed target stacks fail with a clear message, and the
 * optional settings (name suffix, key prefixes, extra tags and environment) reach the resources.
 */
import { StackPlanError, type StackPlan } from "../../tools/offline";
import { planInChild, planInJest } from "../support/pulumi-plan";
import type { ChildPlanResult } from "../support/pulumi-plan-child";
import { jsonInput, ofType, onlyPipeline as only } from "../support/pulumi-query";

const targetOutputs = (environment: string): Record<string, string> => ({
  environment,
  bucketName: `company-data-${environment}-eu-west-1-123456789012`,
  bucketArn: `arn:aws:s3:::company-data-${environment}-eu-west-1-123456789012`,
  tableName: `company-metadata-${environment}`,
  tableArn: `arn:aws:dynamodb:eu-west-1:123456789012:table/company-metadata-${environment}`,
});

async function planError(promise: Promise<StackPlan>): Promise<StackPlanError> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof StackPlanError) return error;
    throw error;
  }
  throw new Error("the plan succeeded");
}

describe("invalid config", () => {
  it("fails the preview with every problem, before any resource", async () => {
    const error = await planError(
      planInJest("prod", {
        preview: true,
        config: {
          "data-pipeline:lambdaTimeoutSeconds": "900",
          "data-pipeline:replicationTargets": '["dev","prod"]',
        },
      }),
    );

    expect(error.message).toBe(
      'Invalid stack config "prod": data-pipeline:lambdaTimeoutSeconds = "900" (max 300); ' +
        'data-pipeline:replicationTargets = "prod" (a stack cannot replicate into itself)',
    );
    expect(error.stackName).toBe("prod");
    expect(error.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  });

  it("fails when the Pulumi CLI marks a value of this namespace as secret", async () => {
    const previous = process.env.PULUMI_CONFIG_SECRET_KEYS;
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify(["data-pipeline:logRetentionDays"]);
    try {
      const error = await planError(planInJest("dev"));

      expect(error.message).toMatch(
        /^Invalid stack config "dev": data-pipeline:logRetentionDays is a secret, but its value would reach/,
      );
    } finally {
      if (previous === undefined) delete process.env.PULUMI_CONFIG_SECRET_KEYS;
      else process.env.PULUMI_CONFIG_SECRET_KEYS = previous;
    }
  });

  it("fails when the region is removed", async () => {
    const error = await planError(planInJest("dev", { config: { "aws:region": undefined } }));

    expect(error.message).toBe('Invalid stack config "dev": aws:region is not set');
  });
});

describe("target stacks", () => {
  // These fail inside an apply, which surfaces as unhandled rejections: plan in a child process.
  let results: ChildPlanResult[];
  const partialStaging = Object.fromEntries(
    Object.entries(targetOutputs("staging")).filter(([name]) => name !== "bucketArn"),
  );

  beforeAll(async () => {
    results = await planInChild([
      { stack: "prod", options: { stackOutputs: { dev: targetOutputs("dev") } } },
      {
        stack: "prod",
        options: { stackOutputs: { dev: targetOutputs("dev"), staging: partialStaging } },
      },
      {
        stack: "prod",
        options: {
          stackOutputs: {
            dev: targetOutputs("dev"),
            staging: { ...targetOutputs("staging"), tableName: "" },
          },
        },
      },
      {
        stack: "prod",
        options: { stackOutputs: { dev: targetOutputs("dev"), staging: targetOutputs("staging") } },
      },
      { stack: "dev", options: {} },
    ]);
  });

  it("fails prod with a clear message when a target stack has no outputs", () => {
    expect(results[0]).toEqual({
      ok: false,
      message: expect.stringMatching(
        /Stack "organization\/data-pipeline\/staging" has no outputs: deploy it before this stack/,
      ) as unknown,
    });
  });

  it("fails prod when a target output is missing", () => {
    expect(results[1]).toEqual({
      ok: false,
      message: expect.stringMatching(
        /Required output 'bucketArn' does not exist on stack 'organization\/data-pipeline\/staging'/,
      ) as unknown,
    });
  });

  it("fails prod when a target output is not a non-empty string", () => {
    expect(results[2]).toEqual({
      ok: false,
      message: expect.stringMatching(
        /Stack "organization\/data-pipeline\/staging" output "tableName" is not a non-empty string/,
      ) as unknown,
    });
  });

  it("plans prod, then dev, afresh in the same plain process (tsx, requireFresh)", () => {
    const [prod, dev] = results.slice(3);

    expect(prod).toMatchObject({
      ok: true,
      outputs: {
        environment: "prod",
        replicationFunctionArn:
          "arn:aws:lambda:eu-west-1:123456789012:function:company-replication-prod",
      },
    });
    expect(dev).toMatchObject({ ok: true, outputs: { environment: "dev" } });
    const count = (r: ChildPlanResult | undefined) => (r?.ok === true ? r.resources.length : 0);
    // Prod: 43 of the pipeline and 9 of S3 Batch Operations (role, policy, report bucket and its
    // six companions).
    expect([count(prod), count(dev)]).toEqual([52, 15]);
    expect(prod?.ok === true && prod.resources).toContain(
      "aws:lambda/function:Function::pipeline-replication",
    );
  });
});

describe("optional settings", () => {
  let prod: StackPlan;

  beforeAll(async () => {
    prod = await planInJest("prod", {
      config: {
        "data-pipeline:organization": "acme",
        "data-pipeline:replicationKeyPrefixes": '["incoming/","exports/"]',
        "data-pipeline:tags": '{"CostCenter":"42"}',
        "data-pipeline:lambdaEnvironment": '{"FEATURE_FLAG":"on"}',
        "data-pipeline:logLevel": "DEBUG",
        "data-pipeline:maxAttempts": "3",
        "data-pipeline:batchSize": "50",
      },
      stackOutputs: {
        "acme/data-pipeline/dev": targetOutputs("dev"),
        "acme/data-pipeline/staging": targetOutputs("staging"),
      },
    });
  });

  it("references the targets in the configured organization", () => {
    expect(ofType(prod, "pulumi:pulumi:StackReference").map((r) => r.id)).toEqual([
      "acme/data-pipeline/dev",
      "acme/data-pipeline/staging",
    ]);
  });

  it("filters the rule on the configured key prefixes", () => {
    expect(jsonInput(only(prod, "aws:cloudwatch/eventRule:EventRule"), "eventPattern")).toEqual({
      source: ["aws.s3"],
      "detail-type": [
        "Object Created",
        "Object Deleted",
        "Object Tags Added",
        "Object Tags Deleted",
        "Object Restore Completed",
      ],
      detail: {
        bucket: { name: ["company-data-prod-eu-west-1-123456789012"] },
        object: { key: [{ prefix: "incoming/" }, { prefix: "exports/" }] },
        $or: [
          { reason: [{ "anything-but": ["Lifecycle Expiration"] }] },
          { reason: [{ exists: false }] },
        ],
      },
    });
  });

  it("adds extra tags next to the standard ones", () => {
    expect(only(prod, "aws:s3/bucket:Bucket").inputs.tags).toEqual({
      CostCenter: "42",
      Environment: "prod",
      Project: "data-pipeline",
      ManagedBy: "pulumi",
    });
  });

  it("passes log level, attempts, batch size and extra variables to the Lambda", () => {
    const fn = only(prod, "aws:lambda/function:Function");
    const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;

    expect(variables).toMatchObject({
      FEATURE_FLAG: "on",
      POWERTOOLS_LOG_LEVEL: "DEBUG",
      MAX_ATTEMPTS: "3",
      REGION: "eu-west-1",
    });
    expect(only(prod, "aws:lambda/eventSourceMapping:EventSourceMapping").inputs.batchSize).toBe(
      50,
    );
  });
});

describe("an ephemeral stack with a name suffix", () => {
  it("uses the suffix instead of the account id, and in the account-scoped names", async () => {
    const dev = await planInJest("dev", { config: { "data-pipeline:nameSuffix": "pr-42" } });

    expect(dev.outputs).toMatchObject({
      environment: "dev",
      bucketName: "company-data-dev-eu-west-1-pr-42",
      tableName: "company-metadata-dev-pr-42",
    });
  });
});
