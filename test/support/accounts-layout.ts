/**
 * The layout of README "Accounts and regions": one account per environment, dev in another
 * region. A temporary copy of the project whose stack files are the committed ones plus the
 * lines that layout adds (aws:allowedAccountIds everywhere; sourceAccountId, and sourceRegion
 * where the region differs, in the targets; dev's aws:region changed), planned offline as
 * `npm run plan` would: dev, staging, then prod with their outputs as stack references.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { StackPlan } from "../../tools/offline";
import { planStacks, type Planner } from "../../tools/offline/plan-report";

export const layout = {
  dev: { account: "111111111111", region: "us-east-1" },
  staging: { account: "222222222222", region: "eu-west-1" },
  prod: { account: "333333333333", region: "eu-west-1" },
} as const;

export type LayoutStack = keyof typeof layout;

const root = path.resolve(__dirname, "..", "..");

/** The stack-file lines each stack of the layout adds (README "Accounts and regions"). */
export const layoutLines: Readonly<Record<LayoutStack, string>> = {
  dev:
    `  aws:allowedAccountIds: ["${layout.dev.account}"]\n` +
    `  data-pipeline:sourceAccountId: "${layout.prod.account}"\n` +
    `  data-pipeline:sourceRegion: ${layout.prod.region}\n`,
  staging:
    `  aws:allowedAccountIds: ["${layout.staging.account}"]\n` +
    `  data-pipeline:sourceAccountId: "${layout.prod.account}"\n`,
  prod: `  aws:allowedAccountIds: ["${layout.prod.account}"]\n`,
};

/** Copies the project's stack files into a temporary project and applies the layout. */
export function writeLayoutProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "accounts-regions-"));
  const project = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    project.replace(/^main: .*$/m, `main: ${path.join(root, "index.ts")}`),
  );
  for (const stack of Object.keys(layout) as LayoutStack[]) {
    const committed = fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8");
    const text = committed.replace(
      /^ {2}aws:region: .*$/m,
      `  aws:region: ${layout[stack].region}`,
    );
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `${text}${layoutLines[stack]}`);
  }
  return dir;
}

/**
 * Plans the layout (prod and the stacks it references) with `planner` (planStack's own by
 * default). The jest global setup plans it once per run: suites read it with
 * `sharedLayoutPlans()` (test/support/shared-plans.ts).
 */
export async function planLayout(
  dir: string,
  planner?: Planner,
): Promise<Record<LayoutStack, StackPlan>> {
  const plans = await planStacks(["prod"], {
    projectDir: dir,
    ...(planner === undefined ? {} : { planner }),
  });
  const { dev, staging, prod } = plans;
  if (dev === undefined || staging === undefined || prod === undefined) {
    throw new Error(`the layout planned ${Object.keys(plans).join(", ")}`);
  }
  return { dev, staging, prod };
}
