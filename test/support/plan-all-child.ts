/**
 * Plans every stack of the project (tools/offline, the default loader) in a child process run
 * with tsx, and writes the plans as one JSON document to the file given: the jest global setup
 * runs it once per source state, and suites read the result (test/support/shared-plans.ts).
 */
import { writeFileSync } from "node:fs";
import { discoverStacks, planStacks } from "../../tools/offline/plan-report";

async function main(file: string): Promise<void> {
  const plans = await planStacks(discoverStacks());
  writeFileSync(file, JSON.stringify(plans));
  process.exit(0);
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) throw new Error("usage: plan-all-child.ts <output file>");
  void main(file);
}
