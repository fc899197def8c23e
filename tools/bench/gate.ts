/**
 * The gate's wall time as a new contributor meets it: a fresh clone of the repository's HEAD in a
 * temporary directory, `npm ci` once, then `npm test` timed several times. Nothing of this
 * checkout (node_modules, caches, build output) is reused.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { root, timeCommand, type TimedCommand } from "./commands";

export interface GateTiming {
  /** The commit that was cloned. */
  readonly commit: string;
  /** Whether this checkout had changes the clone does not (they are not timed). */
  readonly uncommittedChanges: boolean;
  readonly npmCi: TimedCommand;
  readonly tests: readonly TimedCommand[];
}

function git(args: readonly string[], cwd: string): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

/**
 * Clones HEAD, runs `npm ci` and then `npm test` `runs` times in the clone (logging each), and
 * removes the clone. If `npm ci` fails, no test run is made.
 */
export function timeGateFromFreshClone(
  runs: number,
  log: (line: string) => void,
  repository: string = root,
): GateTiming {
  const commit = git(["rev-parse", "HEAD"], repository);
  const uncommittedChanges = git(["status", "--porcelain"], repository) !== "";
  const dir = mkdtempSync(path.join(tmpdir(), "gate-clone-"));
  const clone = path.join(dir, "repository");
  try {
    git(["clone", "--quiet", repository, clone], dir);
    git(["checkout", "--quiet", "--detach", commit], clone);
    log(`  cloned ${commit.slice(0, 12)} into ${clone}; npm ci`);
    const env = { ...process.env };
    // Nothing of this process's npm run leaks into the clone's commands.
    for (const name of Object.keys(env)) {
      if (name.startsWith("npm_")) Reflect.deleteProperty(env, name);
    }
    const npmCi = timeCommand("npm", ["ci", "--no-audit", "--no-fund"], { cwd: clone, env });
    log(`  npm ci: ${(npmCi.ms / 1000).toFixed(1)} s, exit ${String(npmCi.status)}`);
    const tests: TimedCommand[] = [];
    if (npmCi.status === 0) {
      for (let run = 0; run < runs; run++) {
        const timed = timeCommand("npm", ["test"], { cwd: clone, env });
        log(
          `  npm test run ${run + 1}: ${(timed.ms / 1000).toFixed(1)} s, exit ${String(timed.status)}`,
        );
        tests.push(timed);
      }
    }
    return { commit, uncommittedChanges, npmCi, tests };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
