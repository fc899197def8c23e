/**
 * The gate timing (tools/bench/gate.ts) on a tiny repository: a fresh clone of HEAD, `npm ci`
 * once, then the test script timed in the clone, which is removed afterwards.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { timeGateFromFreshClone } from "../../tools/bench/gate";

let dir: string;
let repository: string;
let marker: string;

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd: repository,
    encoding: "utf8",
  }).trim();
}

/** Commits a package with one local dependency (so that `npm ci` has something to install). */
function commitPackage(testScript: string): string {
  mkdirSync(path.join(repository, "dep"));
  writeFileSync(
    path.join(repository, "dep", "package.json"),
    JSON.stringify({ name: "dep", version: "1.0.0" }),
  );
  writeFileSync(
    path.join(repository, "package.json"),
    JSON.stringify({
      name: "gate-fixture",
      version: "1.0.0",
      dependencies: { dep: "file:dep" },
      scripts: { test: testScript },
    }),
  );
  execFileSync("npm", ["install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], {
    cwd: repository,
    stdio: "ignore",
  });
  git("add", ".");
  git("commit", "--quiet", "-m", "fixture");
  return git("rev-parse", "HEAD");
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "gate-test-"));
  repository = path.join(dir, "repository");
  marker = path.join(dir, "ran");
  execFileSync("git", ["init", "--quiet", repository]);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it("runs the test script in a fresh clone of HEAD, once per run, and removes the clone", () => {
  // Records where it ran and whether npm ci had installed the dependency there.
  const commit = commitPackage(
    `node -e "require('fs').appendFileSync('${marker}', process.cwd() + ' ' + require('fs').existsSync('node_modules/dep/package.json') + '\\n')"`,
  );
  const lines: string[] = [];

  const gate = timeGateFromFreshClone(2, (line) => lines.push(line), repository);

  expect(gate.commit).toBe(commit);
  expect(gate.uncommittedChanges).toBe(false);
  expect(gate.npmCi.status).toBe(0);
  expect(gate.tests.map((timed) => timed.status)).toEqual([0, 0]);
  for (const timed of gate.tests) expect(timed.ms).toBeGreaterThan(0);
  const runs = readFileSync(marker, "utf8").trim().split("\n");
  expect(runs).toHaveLength(2);
  const [clone] = (runs[0] ?? "").split(" ");
  expect(clone).not.toBe(repository);
  expect(runs).toEqual([`${clone} true`, `${clone} true`]);
  expect(existsSync(clone ?? "")).toBe(false);
  expect(lines.some((line) => line.includes(`cloned ${commit.slice(0, 12)}`))).toBe(true);
});

it("says when the checkout has uncommitted changes, and reports a failing test script", () => {
  commitPackage('node -e "process.exit(3)"');
  writeFileSync(path.join(repository, "untracked.txt"), "not in the clone");

  const gate = timeGateFromFreshClone(1, () => undefined, repository);

  expect(gate.uncommittedChanges).toBe(true);
  expect(gate.tests).toHaveLength(1);
  expect(gate.tests[0]?.status).toBe(3);
});
