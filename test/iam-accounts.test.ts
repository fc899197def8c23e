/**
 * IAM proof of the three-account layout (test/support/accounts-layout.ts): the policies the
 * program synthesises for prod (333333333333, eu-west-1), dev (111111111111, us-east-1) and
 * staging (222222222222, eu-west-1) go through @cloud-copilot/iam-simulate as cross-account
 * requests, each evaluated with the caller's identity policies AND the resource's policy (bucket
 * policy, table resource policy, key policy). The prod role may write dev and staging; another
 * principal of the prod account may not; the prod role may not write prod; nothing allows `*`.
 */
import {
  anonymousPrincipal,
  runSimulation,
  type Simulation,
  type SimulationRequestPrincipal,
} from "@cloud-copilot/iam-simulate";
import type { PolicyStatement } from "../lib/iam";
import type { StackPlan } from "../tools/offline";
import { layout, type LayoutStack } from "./support/accounts-layout";
import { sharedLayoutPlans } from "./support/shared-plans";
import { jsonInput, named, ofType, onlyPipeline as only, output } from "./support/pulumi-query";

type Who = "prod-role" | "prod-admin" | "dev-reader" | "stranger" | "anonymous";
type Expected = "allow" | "deny";
interface IdentityPolicy {
  readonly name: string;
  readonly policy: unknown;
}

const allowEverything = (name: string): IdentityPolicy[] => [
  {
    name,
    policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
  },
];

/**
 * Rows: who, action, resource (placeholders <dev-bucket>, <staging-table>, <dev-key>, ...), the
 * service a KMS request comes through (kms:ViaService), expected. `<x-bucket>/k` is an object.
 */
const matrix: readonly [Who, string, string, string | undefined, Expected][] = [
  // The prod role writes dev and staging, exactly what the handler calls.
  ["prod-role", "s3:PutObject", "<dev-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:GetObject", "<dev-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:GetObjectTagging", "<dev-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:PutObjectTagging", "<dev-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:AbortMultipartUpload", "<dev-bucket>/data/big.bin", undefined, "allow"],
  ["prod-role", "s3:DeleteObject", "<dev-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:ListBucket", "<dev-bucket>", undefined, "allow"],
  ["prod-role", "s3:PutObject", "<staging-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:DeleteObject", "<staging-bucket>/data/report.csv", undefined, "allow"],
  ["prod-role", "s3:ListBucket", "<staging-bucket>", undefined, "allow"],
  ["prod-role", "dynamodb:PutItem", "<dev-table>", undefined, "allow"],
  ["prod-role", "dynamodb:DeleteItem", "<dev-table>", undefined, "allow"],
  ["prod-role", "dynamodb:PutItem", "<staging-table>", undefined, "allow"],
  ["prod-role", "dynamodb:DeleteItem", "<staging-table>", undefined, "allow"],
  ["prod-role", "kms:Decrypt", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "allow"],
  ["prod-role", "kms:GenerateDataKey", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "allow"],
  ["prod-role", "kms:Decrypt", "<staging-key>", "dynamodb.eu-west-1.amazonaws.com", "allow"],
  // ... and nothing more there.
  ["prod-role", "dynamodb:GetItem", "<dev-table>", undefined, "deny"],
  ["prod-role", "dynamodb:UpdateItem", "<dev-table>", undefined, "deny"],
  ["prod-role", "dynamodb:Scan", "<staging-table>", undefined, "deny"],
  ["prod-role", "dynamodb:DeleteTable", "<dev-table>", undefined, "deny"],
  ["prod-role", "s3:DeleteObjectVersion", "<dev-bucket>/data/report.csv", undefined, "deny"],
  ["prod-role", "s3:PutObjectAcl", "<staging-bucket>/data/report.csv", undefined, "deny"],
  ["prod-role", "s3:PutBucketPolicy", "<dev-bucket>", undefined, "deny"],
  ["prod-role", "s3:DeleteBucket", "<staging-bucket>", undefined, "deny"],
  // The keys only through DynamoDB in their own region, never to manage them.
  ["prod-role", "kms:Decrypt", "<dev-key>", undefined, "deny"],
  ["prod-role", "kms:Decrypt", "<dev-key>", "s3.us-east-1.amazonaws.com", "deny"],
  ["prod-role", "kms:Decrypt", "<dev-key>", "dynamodb.eu-west-1.amazonaws.com", "deny"],
  ["prod-role", "kms:CreateGrant", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "deny"],
  ["prod-role", "kms:ScheduleKeyDeletion", "<staging-key>", undefined, "deny"],
  ["prod-role", "kms:PutKeyPolicy", "<dev-key>", undefined, "deny"],
  // The prod role may not write prod.
  ["prod-role", "s3:PutObject", "<prod-bucket>/data/report.csv", undefined, "deny"],
  ["prod-role", "s3:DeleteObject", "<prod-bucket>/data/report.csv", undefined, "deny"],
  ["prod-role", "dynamodb:PutItem", "<prod-table>", undefined, "deny"],
  ["prod-role", "dynamodb:DeleteItem", "<prod-table>", undefined, "deny"],
  // Another principal of the prod account, even one allowed everything by its own policies,
  // may not write dev or staging: the grants name the replication role only.
  ["prod-admin", "s3:PutObject", "<dev-bucket>/data/report.csv", undefined, "deny"],
  ["prod-admin", "s3:DeleteObject", "<staging-bucket>/data/report.csv", undefined, "deny"],
  ["prod-admin", "s3:ListBucket", "<dev-bucket>", undefined, "deny"],
  ["prod-admin", "dynamodb:PutItem", "<dev-table>", undefined, "deny"],
  ["prod-admin", "dynamodb:DeleteItem", "<staging-table>", undefined, "deny"],
  ["prod-admin", "kms:Decrypt", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "deny"],
  // A principal of another account, or an anonymous request, gets nothing.
  ["stranger", "s3:PutObject", "<dev-bucket>/data/report.csv", undefined, "deny"],
  ["stranger", "dynamodb:PutItem", "<staging-table>", undefined, "deny"],
  ["stranger", "kms:Decrypt", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "deny"],
  ["anonymous", "s3:GetObject", "<dev-bucket>/data/report.csv", undefined, "deny"],
  ["anonymous", "s3:PutObject", "<staging-bucket>/data/report.csv", undefined, "deny"],
  ["anonymous", "s3:ListBucket", "<dev-bucket>", undefined, "deny"],
  // The target account's own principals use their table as before AWS's key was replaced: a
  // reader allowed the table by IAM uses the key through DynamoDB without a KMS permission.
  ["dev-reader", "dynamodb:GetItem", "<dev-table>", undefined, "allow"],
  ["dev-reader", "kms:Decrypt", "<dev-key>", "dynamodb.us-east-1.amazonaws.com", "allow"],
  ["dev-reader", "kms:Decrypt", "<dev-key>", undefined, "deny"],
];

let plans: Record<LayoutStack, StackPlan>;
let placeholders: Record<string, string>;
let roleArn: string;
let rolePolicies: IdentityPolicy[];
/** Resource policies by the ARN they govern, with the account that owns the resource. */
let resources: { arn: string; account: string; policy: unknown }[];

const principals = (): Record<
  Who,
  { arn: SimulationRequestPrincipal; policies: IdentityPolicy[] }
> => ({
  "prod-role": { arn: roleArn, policies: rolePolicies },
  "prod-admin": {
    arn: `arn:aws:iam::${layout.prod.account}:role/administrator`,
    policies: allowEverything("administrator"),
  },
  "dev-reader": {
    arn: `arn:aws:iam::${layout.dev.account}:role/reader`,
    policies: [
      {
        name: "reader",
        policy: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "dynamodb:GetItem", Resource: placeholders["<dev-table>"] },
          ],
        },
      },
    ],
  },
  stranger: {
    arn: "arn:aws:iam::999999999999:role/stranger",
    policies: allowEverything("stranger"),
  },
  anonymous: { arn: anonymousPrincipal, policies: [] },
});

function resolve(template: string): string {
  return template.replace(/<[a-z-]+>/g, (placeholder) => {
    const value = placeholders[placeholder];
    if (value === undefined) throw new Error(`unknown placeholder ${placeholder}`);
    return value;
  });
}

function governing(arn: string): { account: string; policy: unknown } {
  const found = resources.find((r) => arn === r.arn || arn.startsWith(`${r.arn}/`));
  if (found === undefined) throw new Error(`no resource known for ${arn}`);
  return found;
}

function accountOf(principal: SimulationRequestPrincipal): string | undefined {
  return typeof principal === "string" ? principal.split(":")[4] : undefined;
}

async function simulate(
  who: Who,
  action: string,
  resource: string,
  viaService: string | undefined,
  options: { withResourcePolicy?: boolean; withIdentityPolicies?: boolean } = {},
): Promise<string> {
  const principal = principals()[who];
  const target = governing(resource);
  const caller = accountOf(principal.arn);
  // What AWS puts in every signed request's context: the principal's ARN and account; KMS adds
  // the caller's account, and the service a request came through.
  const context: Record<string, string> = { "aws:SecureTransport": "true" };
  if (caller !== undefined && typeof principal.arn === "string") {
    context["aws:PrincipalArn"] = principal.arn;
    context["aws:PrincipalAccount"] = caller;
    if (action.startsWith("kms:")) context["kms:CallerAccount"] = caller;
  }
  if (viaService !== undefined) context["kms:ViaService"] = viaService;
  const simulation: Simulation = {
    request: {
      principal: principal.arn,
      action,
      resource: { resource, accountId: target.account },
      contextVariables: context,
    },
    identityPolicies: options.withIdentityPolicies === false ? [] : principal.policies,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: options.withResourcePolicy === false ? undefined : target.policy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === "error") {
    throw new Error(`simulation of ${action} on ${resource} failed: ${JSON.stringify(result)}`);
  }
  return result.overallResult;
}

const allPolicies = (): { where: string; statements: PolicyStatement[] }[] =>
  (Object.keys(plans) as LayoutStack[]).flatMap((stack) =>
    plans[stack].resources.flatMap((r) =>
      ["policy", "assumeRolePolicy"]
        .filter((key) => typeof r.inputs[key] === "string")
        .map((key) => ({
          where: `${stack} ${r.name}.${key}`,
          statements: jsonInput(r, key).Statement as PolicyStatement[],
        })),
    ),
  );

beforeAll(() => {
  plans = sharedLayoutPlans();
  const role = only(plans.prod, "aws:iam/role:Role");
  roleArn = role.state.arn as string;
  rolePolicies = ofType(plans.prod, "aws:iam/rolePolicy:RolePolicy").map((p) => ({
    name: p.name,
    policy: jsonInput(p, "policy"),
  }));
  placeholders = {};
  resources = [];
  for (const stack of Object.keys(plans) as LayoutStack[]) {
    const plan = plans[stack];
    const account = layout[stack].account;
    placeholders[`<${stack}-bucket>`] = output(plan, "bucketArn");
    placeholders[`<${stack}-table>`] = output(plan, "tableArn");
    resources.push({
      arn: output(plan, "bucketArn"),
      account,
      policy: jsonInput(only(plan, "aws:s3/bucketPolicy:BucketPolicy"), "policy"),
    });
    const tablePolicy = ofType(plan, "aws:dynamodb/resourcePolicy:ResourcePolicy")[0];
    resources.push({
      arn: output(plan, "tableArn"),
      account,
      policy: tablePolicy === undefined ? undefined : jsonInput(tablePolicy, "policy"),
    });
    if (stack !== "prod") {
      const key = named(plan, "aws:kms/key:Key", "pipeline-table-key");
      placeholders[`<${stack}-key>`] = key.state.arn as string;
      resources.push({ arn: key.state.arn as string, account, policy: jsonInput(key, "policy") });
    }
  }
}, 60_000);

describe("cross-account matrix (iam-simulate, identity and resource policies)", () => {
  it.each(matrix)("%s: %s on %s via %s: %s", async (who, action, template, via, expected) => {
    const decision = await simulate(who, action, resolve(template), via);

    if (expected === "allow") {
      expect(decision).toBe("Allowed");
    } else {
      expect(decision).not.toBe("Allowed");
    }
  });

  const granted = matrix.filter(
    ([who, , , , expected]) => who === "prod-role" && expected === "allow",
  );

  it("needs the target's resource policy: without it, every write of the prod role is denied", async () => {
    const decisions = await Promise.all(
      granted.map(([who, action, template, via]) =>
        simulate(who, action, resolve(template), via, { withResourcePolicy: false }),
      ),
    );

    expect(granted.length).toBeGreaterThan(10);
    expect(decisions.filter((d) => d === "Allowed")).toEqual([]);
  });

  it("needs the role's own policy: without it, every write of the prod role is denied", async () => {
    const decisions = await Promise.all(
      granted.map(([who, action, template, via]) =>
        simulate(who, action, resolve(template), via, { withIdentityPolicies: false }),
      ),
    );

    expect(decisions.filter((d) => d === "Allowed")).toEqual([]);
  });

  it("denies the prod role's writes without TLS, in every target bucket", async () => {
    const context = async (template: string): Promise<string> => {
      const resource = resolve(template);
      const target = governing(resource);
      const result = await runSimulation(
        {
          request: {
            principal: roleArn,
            action: "s3:PutObject",
            resource: { resource, accountId: target.account },
            contextVariables: { "aws:SecureTransport": "false", "aws:PrincipalArn": roleArn },
          },
          identityPolicies: rolePolicies,
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: target.policy,
        },
        {},
      );
      return result.resultType === "error" ? "error" : result.overallResult;
    };

    expect(await context("<dev-bucket>/k")).toBe("ExplicitlyDenied");
    expect(await context("<staging-bucket>/k")).toBe("ExplicitlyDenied");
  });
});

describe("nothing allows *", () => {
  it("allows no principal '*' except, in a table key, its own account's callers through DynamoDB", () => {
    const everyone = allPolicies().flatMap(({ where, statements }) =>
      statements
        .filter((st) => st.Effect === "Allow")
        .filter((st) => {
          const principal = st.Principal;
          if (principal === undefined || typeof principal === "string") return principal === "*";
          return [principal.AWS].flat().includes("*");
        })
        .map((st) => ({ where, sid: st.Sid, condition: st.Condition })),
    );

    expect(everyone).toEqual(
      (["dev", "staging"] as const).map((stack) => ({
        where: `${stack} pipeline-table-key.policy`,
        sid: "AccountUsesKeyThroughDynamoDB",
        condition: {
          StringEquals: {
            "kms:CallerAccount": layout[stack].account,
            "kms:ViaService": `dynamodb.${layout[stack].region}.amazonaws.com`,
          },
        },
      })),
    );
  });

  it("allows no action '*', and resource '*' only in key policies (this key) and for ListStreams", () => {
    const allows = allPolicies().flatMap(({ where, statements }) =>
      statements.filter((st) => st.Effect === "Allow").map((st) => ({ where, st })),
    );
    const actions = allows.flatMap(({ st }) => [st.Action].flat());
    const starResources = allows.filter(({ st }) => [st.Resource ?? []].flat().includes("*"));

    expect(actions).not.toContain("*");
    expect(allows.length).toBeGreaterThan(20);
    expect(
      starResources.filter(
        ({ where, st }) => !where.includes("key.policy") && st.Action !== "dynamodb:ListStreams",
      ),
    ).toEqual([]);
  });

  it("grants a whole other account nothing: every grant to an account is narrowed to one role", () => {
    const toAccounts = allPolicies().flatMap(({ where, statements }) =>
      statements
        .filter((st) => st.Effect === "Allow")
        .filter((st) => {
          const principal = st.Principal;
          if (principal === undefined || typeof principal === "string") return false;
          return [principal.AWS ?? []]
            .flat()
            .some((p) => p.endsWith(`:${layout.prod.account}:root`));
        })
        .map((st) => ({
          where,
          sid: st.Sid,
          principalArn: st.Condition?.ArnEquals?.["aws:PrincipalArn"],
        })),
    );

    expect(toAccounts.map((g) => `${g.where} ${g.sid ?? ""}`).sort()).toEqual(
      [
        "dev pipeline-bucket-policy.policy ReplicationRoleListsBucket",
        "dev pipeline-bucket-policy.policy ReplicationRoleWritesObjects",
        "dev pipeline-table-key.policy ReplicationRoleUsesKeyThroughDynamoDB",
        "dev pipeline-table-policy.policy ReplicationRoleWritesItems",
        "prod pipeline-topic-key.policy AccountAdministers",
        "staging pipeline-bucket-policy.policy ReplicationRoleListsBucket",
        "staging pipeline-bucket-policy.policy ReplicationRoleWritesObjects",
        "staging pipeline-table-key.policy ReplicationRoleUsesKeyThroughDynamoDB",
        "staging pipeline-table-policy.policy ReplicationRoleWritesItems",
      ].sort(),
    );
    expect(
      toAccounts.filter((g) => !g.where.startsWith("prod")).map((g) => g.principalArn),
    ).toEqual(Array.from({ length: 8 }, () => roleArn));
  });
});
