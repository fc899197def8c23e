/**
 * Plans every stack of the project (tools/offline, the default loader) in a child process run
 * with tsx, and the cross-account layout of README "Accounts and regions"
 * (test/support/accounts-layout.ts) and the fourth-environment project
 * (test/support/fourth-environment-layout.ts) in temporary copies of the project, and writes the plans as
 * one JSON document to the file given: the jest global setup runs it once per source state, and
 * suites read the result (test/support/shared-plans.ts).
 */
import { rmSync, writeFileSync } from "node:fs";
import { discoverStacks, planStacks } from "../../tools/offline/plan-report";
import { planLayout, writeLayoutProject } from "./accounts-layout";
import { writeFourthEnvironmentProject } from "./fourth-environment-layout";
import type { SharedPlansFile } from "./shared-plans";

async function main(file: string): Promise<void> {
  const committed = await planStacks(discoverStacks());
  const dirs = [writeLayoutProject(), writeFourthEnvironmentProject()] as const;
  try {
    const layout = await planLayout(dirs[0]);
    const fourthEnvironment = await planStacks(["prod"], { projectDir: dirs[1] });
    const plans: SharedPlansFile = { committed, layout, fourthEnvironment };
    writeFileSync(file, JSON.stringify(plans));
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: plan-all-child.ts <output file>");
  void main(file);
}
