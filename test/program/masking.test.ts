/**
 * The replicating stack that masks (config `masking`, issue 17): the masking key it creates (a
 * secret with a generated value, encrypted by a key of its own that names no other account),
 * what the replication role may do with it, and what the function's environment carries.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
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

describe("the masking key's IAM matrix (@cloud-copilot/iam-simulate)", () => {
  /**
   * One request of the replication role, judged by its policy and, for KMS, the key's policy (a
   * KMS key's policy must allow the account before IAM policies count,
   * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
   */
  async function decide(
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ): Promise<string> {
    const role = only(created, "aws:iam/role:Role");
    const policy = ofType(created, "aws:iam/rolePolicy:RolePolicy").find((r) =>
      r.name.endsWith("-replication-policy"),
    );
    const key = ofType(created, "aws:kms/key:Key").find((k) => k.name.endsWith("-masking-key"));
    if (policy === undefined || key === undefined) throw new Error("no role policy or key");
    const [, , , , account = ""] = String(key.state.arn).split(":");
    const result = await runSimulation(
      {
        request: {
          principal: String(role.state.arn),
          action,
          resource: { resource, accountId: account },
          contextVariables: context,
        },
        identityPolicies: [{ name: policy.name, policy: jsonInput(policy, "policy") }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: resource === key.state.arn ? jsonInput(key, "policy") : undefined,
      },
      {},
    );
    if (result.resultType === "error") throw new Error(JSON.stringify(result));
    return result.overallResult;
  }
  const keyArn = () =>
    String(
      ofType(created, "aws:kms/key:Key").find((k) => k.name.endsWith("-masking-key"))?.state.arn,
    );
  const viaSecretsManager = (region: string) => ({
    "kms:ViaService": `secretsmanager.${region}.amazonaws.com`,
  });

  it("lets the replication role read the one secret and decrypt it through Secrets Manager in its region only", async () => {
    const secretArn = output(created, "maskingSecretArn");
    const rows = [
      ["secretsmanager:GetSecretValue", secretArn, {}],
      ["secretsmanager:GetSecretValue", `${secretArn.slice(0, -6)}Other1`, {}],
      ["secretsmanager:PutSecretValue", secretArn, {}],
      ["secretsmanager:DescribeSecret", secretArn, {}],
      ["kms:Decrypt", keyArn(), viaSecretsManager("eu-west-1")],
      ["kms:Decrypt", keyArn(), viaSecretsManager("us-east-1")],
      ["kms:Decrypt", keyArn(), {}],
      ["kms:Encrypt", keyArn(), viaSecretsManager("eu-west-1")],
    ] as const;
    const decisions = await Promise.all(
      rows.map(async ([action, resource, context]) => [
        action,
        resource === secretArn ? "the secret" : resource === keyArn() ? "its key" : "another",
        JSON.stringify(context),
        await decide(action, resource, context),
      ]),
    );
    expect(decisions).toEqual([
      ["secretsmanager:GetSecretValue", "the secret", "{}", "Allowed"],
      ["secretsmanager:GetSecretValue", "another", "{}", "ImplicitlyDenied"],
      ["secretsmanager:PutSecretValue", "the secret", "{}", "ImplicitlyDenied"],
      ["secretsmanager:DescribeSecret", "the secret", "{}", "ImplicitlyDenied"],
      ["kms:Decrypt", "its key", JSON.stringify(viaSecretsManager("eu-west-1")), "Allowed"],
      [
        "kms:Decrypt",
        "its key",
        JSON.stringify(viaSecretsManager("us-east-1")),
        "ImplicitlyDenied",
      ],
      ["kms:Decrypt", "its key", "{}", "ImplicitlyDenied"],
      [
        "kms:Encrypt",
        "its key",
        JSON.stringify(viaSecretsManager("eu-west-1")),
        "ImplicitlyDenied",
      ],
    ]);
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
