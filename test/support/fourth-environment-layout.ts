/**
 * Environments are data: a copy of the project with exactly the two edits that add a fourth
 * environment, `qa`, as a replication target: its stack file, and one line in prod's
 * `replicationTargets`. The jest global setup plans it once per run
 * (test/support/plan-all-child.ts); test/program/fourth-environment.test.ts reads the plans.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");

/** The stack file of the fourth environment: nothing but its region. */
const qaStackFile = "config:\n  aws:region: eu-west-1\n";

/** Writes the project copy into a new temporary directory; returns the directory. */
export function writeFourthEnvironmentProject(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fourth-environment-"));
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
  fs.writeFileSync(path.join(dir, "Pulumi.qa.yaml"), qaStackFile);
  const prodFile = path.join(dir, "Pulumi.prod.yaml");
  const prod = fs.readFileSync(prodFile, "utf8");
  if (!prod.includes("    - staging\n")) {
    throw new Error("Pulumi.prod.yaml lists no `- staging` replication target to add qa after");
  }
  fs.writeFileSync(prodFile, prod.replace("    - staging\n", "    - staging\n    - qa\n"));
  return dir;
}
