/** Wall time of a command run to completion in a child process (output discarded). */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

export const root = path.join(__dirname, "..", "..");

/** The tsx CLI, so that timing a script does not include `npx`'s own start-up. */
export const tsxCli = path.join(root, "node_modules", "tsx", "dist", "cli.mjs");

export interface TimedCommand {
  readonly ms: number;
  readonly status: number | null;
  /** The last lines of stdout and stderr when the command failed. */
  readonly failure?: string;
}

export function timeCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): TimedCommand {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? root,
    env: options.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status === 0) return { ms, status: 0 };
  const output = `${result.stdout}\n${result.stderr}\n${result.error?.message ?? ""}`;
  const tail = output.trim().split("\n").slice(-15).join("\n");
  return { ms, status: result.status, failure: tail };
}
