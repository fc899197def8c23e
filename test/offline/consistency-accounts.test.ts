/**
 * The consistency report over the cross-account layout (README "Accounts and regions"): each
 * stack's own account and region are normalised like its environment name, the grants that only
 * targets in another account have are on the allow-list with their reason, and every allow-list
 * entry is in use in one layout or the other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackPlan } from "../../tools/offline";
import {
  consistencyReport,
  loadAllowList,
  normaliseAccountAndRegion,
  normalisePlan,
  type AllowListEntry,
} from "../../tools/offline/consistency";
import { layout, writeLayoutProject, type LayoutStack } from "../support/accounts-layout";

import { runScript } from "../support/run-script";
import { sharedLayoutPlans, sharedPlans } from "../support/shared-plans";

const root = path.resolve(__dirname, "..", "..");
const allowListFile = path.join(root, "consistency-allow-list.json");
let dir: string;
let plans: Record<LayoutStack, StackPlan>;
let allowList: AllowListEntry[];

beforeAll(() => {
  dir = writeLayoutProject();
  plans = sharedLayoutPlans();
  allowList = loadAllowList(allowListFile);
}, 60_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const ordered = (overrides: Partial<Record<LayoutStack, StackPlan>> = {}): StackPlan[] =>
  (["dev", "staging", "prod"] as const).map((s) => overrides[s] ?? plans[s]);

describe("normaliseAccountAndRegion", () => {
  it("replaces the stack's own account and region where they stand alone", () => {
    expect(
      normaliseAccountAndRegion(
        "arn:aws:dynamodb:us-east-1:111111111111:table/t us-east-11 1111111111112",
        "111111111111",
        "us-east-1",
      ),
    ).toBe("arn:aws:dynamodb:{region}:{account}:table/t us-east-11 1111111111112");
    expect(normaliseAccountAndRegion("company-data-dev-eu-west-1-1", undefined, "eu-west-1")).toBe(
      "company-data-dev-{region}-1",
    );
  });

  it("leaves another account's id and a region inside an IAM ARN as they are", () => {
    const role = "arn:aws:iam::333333333333:role/company-replication-prod-eu-west-1";

    expect(normaliseAccountAndRegion(role, "222222222222", "eu-west-1")).toBe(role);
    expect(normaliseAccountAndRegion("arn:aws:iam::222222222222:root", "222222222222", "x")).toBe(
      "arn:aws:iam::{account}:root",
    );
  });
});

describe("the cross-account layout", () => {
  it("normalises each stack's account and region in its names", () => {
    const dev = normalisePlan(plans.dev);

    expect(dev.resources.get("aws:s3/bucket:Bucket::pipeline-bucket")?.inputs.get("bucket")).toBe(
      "company-data-{env}-{region}-{account}",
    );
    expect(layout.dev.region).not.toBe(layout.prod.region);
  });

  it("is consistent: every difference is on the allow-list, the grants with their reason", () => {
    const report = consistencyReport(ordered(), allowList);
    const reasons = new Set(report.findings.map((f) => f.reason));

    expect(report.findings.filter((f) => !f.allowed)).toEqual([]);
    expect(report.ok).toBe(true);
    const crossAccount = allowList.filter((e) => e.reason.startsWith("cross-account"));
    expect(crossAccount.length).toBeGreaterThanOrEqual(5);
    expect(crossAccount.filter((e) => !reasons.has(e.reason))).toEqual([]);
  });

  it("uses every allow-list entry in this layout or the committed one", () => {
    const committed = sharedPlans();
    const unusedThere = consistencyReport(Object.values(committed), allowList).unusedEntries;
    const unusedHere = consistencyReport(ordered(), allowList).unusedEntries;

    expect(unusedThere.filter((e) => unusedHere.includes(e))).toEqual([]);
  });

  it("still reports drift between two targets' grants, naming resource and input", () => {
    const staging: StackPlan = {
      ...plans.staging,
      resources: plans.staging.resources.map((r) =>
        r.type === "aws:dynamodb/resourcePolicy:ResourcePolicy"
          ? {
              ...r,
              inputs: {
                ...r.inputs,
                policy: String(r.inputs.policy).replace(
                  "dynamodb:DeleteItem",
                  "dynamodb:UpdateItem",
                ),
              },
            }
          : r,
      ),
    };

    const report = consistencyReport(ordered({ staging }), allowList);

    expect(report.findings.filter((f) => !f.allowed).map((f) => [f.resource, f.input])).toEqual([
      [
        "aws:dynamodb/resourcePolicy:ResourcePolicy::pipeline-table-policy",
        "policy.Statement[0].Action[1]",
      ],
    ]);
  });
});

describe("npm run consistency -- --project-dir (the real script, one process)", () => {
  it("plans each stack of a project whose program lives elsewhere afresh, and finds it consistent", async () => {
    // The layout's Pulumi.yaml points `main` at this repository's index.ts: the runner must
    // reload the program for every stack, not only the project directory's modules.
    const { code, stdout } = await runScript("consistency", [
      "--project-dir",
      dir,
      "--allow-list",
      allowListFile,
    ]);

    expect(stdout).toMatch(
      /dev, staging, prod: \d+ difference\(s\), \d+ allowed, 0 not allowed — consistent/,
    );
    expect(code).toBe(0);
  }, 60_000);
});
