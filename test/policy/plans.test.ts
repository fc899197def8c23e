// The baseline over the real program: the offline plans of dev, staging and prod (the real
// index.ts under the shared mocks, with each stack's config) violate no rule.
import { checkPlan } from "../../policy/rule-set";
import { planAllStacks, type AllStacks } from "../support/pulumi-plan";

let plans: AllStacks;

beforeAll(async () => {
  plans = await planAllStacks();
}, 60_000);

describe("the baseline over the offline plans", () => {
  it.each(["dev", "staging", "prod"] as const)("finds no violation in %s", (stack) => {
    const plan = plans[stack];
    expect(plan.resources.length).toBeGreaterThan(10);
    expect(checkPlan(plan)).toEqual([]);
  });

  it("sees the resources each rule governs (the check is not vacuous)", () => {
    const types = new Set(plans.prod.resources.map((r) => r.type));
    for (const type of [
      "aws:s3/bucket:Bucket",
      "aws:s3/bucketPolicy:BucketPolicy",
      "aws:dynamodb/table:Table",
      "aws:sqs/queue:Queue",
      "aws:sns/topic:Topic",
      "aws:lambda/function:Function",
      "aws:lambda/permission:Permission",
    ]) {
      expect(types).toContain(type);
    }
  });

  it("reports drift from the baseline in a real plan (prod table without deletion protection)", () => {
    const resources = plans.prod.resources.map((r) =>
      r.type === "aws:dynamodb/table:Table"
        ? { ...r, inputs: { ...r.inputs, deletionProtectionEnabled: false } }
        : r,
    );
    expect(checkPlan({ resources })).toEqual([
      expect.objectContaining({
        policy: "dynamodb-prod-deletion-protection",
        message: "deletionProtectionEnabled = false (must be true in prod)",
      }),
    ]);
  });
});
