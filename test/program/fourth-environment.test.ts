/**
 * Environments are data: a fourth environment (`qa`, a replication target) is one stack file plus
 * one line in the replicating stack's `replicationTargets`, and nothing in the code names it.
 * Planned offline from a copy of the project with exactly those two edits.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { StackPlan } from "../../tools/offline";
import { planStacks } from "../../tools/offline/plan-report";
import { planInJest } from "../support/pulumi-plan";
import { jsonInput, onlyPipeline as only, output } from "../support/pulumi-query";

const root = path.resolve(__dirname, "..", "..");
let dir: string;
let plans: Readonly<Record<string, StackPlan>>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "fourth-environment-"));
  for (const file of fs.readdirSync(root).filter((name) => /^Pulumi\..+\.yaml$/.test(name))) {
    fs.copyFileSync(path.join(root, file), path.join(dir, file));
  }
  // The project file as it is, but its `main` pointing at this repository's program.
  const project = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    project.replace(/^main: .*$/m, `main: ${path.join(root, "index.ts")}`),
  );
  // The two edits: a stack file, and one line in prod's replicationTargets.
  fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), "config:\n  aws:region: eu-west-1\n");
  const prodFile = path.join(dir, "Pulumi.prod.yaml");
  const prod = fs.readFileSync(prodFile, "utf8");
  fs.writeFileSync(prodFile, prod.replace("    - staging\n", "    - staging\n    - qa\n"));
  plans = await planStacks(["prod"], { projectDir: dir, planner: planInJest });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

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
