/**
 * Environments are data: a fourth environment (`qa`, a replication target) is one stack file plus
 * one line in the replicating stack's `replicationTargets`, and nothing in the code names it.
 * Planned offline from a copy of the project with exactly those two edits.
 */
import type { StackPlan } from "../../tools/offline";
import { jsonInput, onlyPipeline as only, output } from "../support/pulumi-query";
import { sharedFourthEnvironmentPlans } from "../support/shared-plans";

// Planned once per run by the jest global setup, from a copy of the project with the two edits
// (test/support/fourth-environment-layout.ts), as `npm run plan` plans prod: targets first.
const plans = sharedFourthEnvironmentPlans();

const plan = (stack: string): StackPlan => {
  const found = plans[stack];
  if (found === undefined) throw new Error(`${stack} was not planned`);
  return found;
};

it("plans qa as a target stack before prod, with its own names and no replication plane", () => {
  expect(Object.keys(plans)).toEqual(["dev", "staging", "qa", "prod"]);
  const qa = plan("qa");

  expect(output(qa, "environment")).toBe("qa");
  expect(output(qa, "bucketName")).toBe("company-data-qa-eu-west-1-123456789012");
  expect(output(qa, "tableName")).toBe("company-metadata-qa");
  expect(only(qa, "aws:dynamodb/table:Table").inputs.deletionProtectionEnabled).toBe(false);
  expect(qa.resources.some((r) => r.type === "aws:lambda/function:Function")).toBe(false);
});

it("replicates prod into qa: the function's TARGETS and the role's policy name it", () => {
  const prod = plan("prod");
  const fn = only(prod, "aws:lambda/function:Function");
  const variables = (fn.inputs.environment as { variables: Record<string, string> }).variables;
  const targets = JSON.parse(variables.TARGETS ?? "[]") as { environment: string }[];

  expect(targets.map((target) => target.environment)).toEqual(["dev", "staging", "qa"]);
  const policy = JSON.stringify(jsonInput(only(prod, "aws:iam/rolePolicy:RolePolicy"), "policy"));
  expect(policy).toContain("arn:aws:s3:::company-data-qa-eu-west-1-123456789012/*");
  expect(policy).toContain(":table/company-metadata-qa");
  expect(fn.inputs.description).toBe("Replicates prod changes into dev, staging, qa");
});
