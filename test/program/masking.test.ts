/**
 * The replicating stack that masks (config `masking`, issue 17): the masking key it creates (a
 * secret with a generated value, encrypted by a key of its own that names no other account),
 * what the replication role may do with it, and what the function's environment carries.
 */
import { checkPlan } from "../../policy/rule-set";
import type { StackPlan } from "../../tools/offline";
import { planAllStacks, planInJest } from "../support/pulumi-plan";
import { jsonInput, ofType, onlyPipeline as only, output } from "../support/pulumi-query";

const masking = {
  items: { email: "email", pk: "hash" },
  objects: [{ prefix: "private/", exclude: true }],
  unmaskedTargets: ["staging"],
};

let created: StackPlan;
let named: StackPlan;
beforeAll(async () => {
  const stacks = await planAllStacks();
  const stackOutputs = { dev: stacks.dev.outputs, staging: stacks.staging.outputs };
  created = await planInJest("prod", {
    stackOutputs,
    config: { "data-pipeline:masking": JSON.stringify(masking) },
  });
  named = await planInJest("prod", {
    stackOutputs,
    config: {
      "data-pipeline:masking": JSON.stringify({
        ...masking,
        keySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:own-key-AbCdEf",
      }),
    },
  });
}, 120_000);

const statements = (plan: StackPlan) =>
  jsonInput(
    ofType(plan, "aws:iam/rolePolicy:RolePolicy").find((r) =>
      r.name.endsWith("-replication-policy"),
    ) ?? only(plan, "aws:iam/rolePolicy:RolePolicy"),
    "policy",
  ).Statement as { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown }[];

const environment = (plan: StackPlan) =>
  (
    only(plan, "aws:lambda/function:Function").inputs.environment as {
      variables: Record<string, string>;
    }
  ).variables;

describe("the masking key the stack creates", () => {
  it("is a secret with a generated 64-character value, encrypted by its own key", () => {
    const secret = only(created, "aws:secretsmanager/secret:Secret");
    const keys = ofType(created, "aws:kms/key:Key").filter((k) => k.name.endsWith("-masking-key"));
    expect(keys).toHaveLength(1);
    expect(secret.inputs).toMatchObject({
      name: "company-masking-prod",
      kmsKeyId: keys[0]?.state.arn,
      recoveryWindowInDays: 7,
    });
    expect(only(created, "random:index/randomPassword:RandomPassword").inputs).toMatchObject({
      length: 64,
      special: false,
    });
    expect(only(created, "aws:secretsmanager/secretVersion:SecretVersion").inputs.secretId).toBe(
      secret.state.arn,
    );
    expect(output(created, "maskingSecretArn")).toBe(secret.state.arn);
  });

  it("names no other account in its key's policy, and the secret has no resource policy", () => {
    const key = ofType(created, "aws:kms/key:Key").find((k) => k.name.endsWith("-masking-key"));
    if (key === undefined) throw new Error("no masking key");
    const policy = jsonInput(key, "policy") as { Statement: { Principal: { AWS: string } }[] };
    expect(policy.Statement.map((s) => s.Principal.AWS)).toEqual([
      "arn:aws:iam::123456789012:root",
    ]);
    expect(ofType(created, "aws:secretsmanager/secretPolicy:SecretPolicy")).toEqual([]);
  });

  it("is read by the replication role: the one secret, decrypted through Secrets Manager only", () => {
    const secretArn = output(created, "maskingSecretArn");
    const key = ofType(created, "aws:kms/key:Key").find((k) => k.name.endsWith("-masking-key"));
    expect(statements(created).filter((s) => s.Sid?.startsWith("MaskingKey") === true)).toEqual([
      {
        Sid: "MaskingKeyRead",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: secretArn,
      },
      {
        Sid: "MaskingKeyDecrypt",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: key?.state.arn,
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
    ]);
  });

  it("is granted to nobody else in the program: no other policy names the secret, its key or Secrets Manager", () => {
    const secretArn = output(created, "maskingSecretArn");
    const key = ofType(created, "aws:kms/key:Key").find((k) => k.name.endsWith("-masking-key"));
    const granting = ["aws:iam/rolePolicy:RolePolicy", "aws:iam/policy:Policy"]
      .flatMap((type) => ofType(created, type))
      .flatMap((resource) =>
        (
          jsonInput(resource, "policy").Statement as {
            Sid?: string;
            Action: unknown;
            Resource: unknown;
          }[]
        ).map((statement) => ({ policy: resource.name, statement })),
      )
      .filter(({ statement }) => {
        const text = JSON.stringify([statement.Action, statement.Resource]);
        return (
          text.includes("secretsmanager") ||
          text.includes(secretArn) ||
          text.includes(String(key?.state.arn))
        );
      })
      .map(({ policy, statement }) => `${policy}: ${statement.Sid ?? "(no Sid)"}`);
    expect(granting).toEqual([
      expect.stringMatching(/-replication-policy: MaskingKeyRead$/),
      expect.stringMatching(/-replication-policy: MaskingKeyDecrypt$/),
    ]);
  });

  it("reaches the function with the rules, unmasked targets named by their environment", () => {
    const variables = environment(created);
    expect(JSON.parse(variables.MASKING ?? "{}")).toEqual(masking);
    expect(variables.MASKING_SECRET_ARN).toBe(output(created, "maskingSecretArn"));
  });
});

describe("the policy pack", () => {
  it("passes the masking stack: its secret is encrypted with its own key and has no resource policy", () => {
    expect(checkPlan(created)).toEqual([]);
  });
});

describe("a masking key the config names", () => {
  it("is used as it is: no secret created, the role reads that one", () => {
    expect(ofType(named, "aws:secretsmanager/secret:Secret")).toEqual([]);
    expect(ofType(named, "random:index/randomPassword:RandomPassword")).toEqual([]);
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:own-key-AbCdEf";
    expect(environment(named).MASKING_SECRET_ARN).toBe(arn);
    expect(statements(named).filter((s) => s.Sid?.startsWith("MaskingKey") === true)).toEqual([
      {
        Sid: "MaskingKeyRead",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: arn,
      },
    ]);
  });
});
