/**
 * The resync command's options (`npm run resync -- ...`): parsed with the project's option
 * parser, every problem reported at once (exit code 2), nothing run.
 */
import { tokenProblems } from "../common/cli-args";

/** Keys and items in flight at once, each, unless `--concurrency` says otherwise. */
export const DEFAULT_CONCURRENCY = 16;
export const MAX_CONCURRENCY = 256;

export const RESYNC_USAGE =
  "usage: npm run resync -- [--function NAME] [--targets dev,staging] [--prefix P]\n" +
  "                         [--objects-only | --items-only] [--dry-run] [--delete-extra]\n" +
  "                         [--concurrency N] [--json] [--engine local | batch-operations]\n" +
  "  --function NAME     the replication function: source, targets and regions are read from its\n" +
  "                      configuration (GetFunctionConfiguration); without it, from the\n" +
  "                      environment contract (REGION, SOURCE_*, TARGETS, DLQ_URL, AWS_ENDPOINT_URL_*)\n" +
  "  --targets LIST      only these target environments (comma-separated; default: all)\n" +
  "  --prefix P          only object keys starting with P (items are not filtered)\n" +
  "  --objects-only      only the bucket;  --items-only: only the table\n" +
  "  --dry-run           change nothing; report what would be copied, put and deleted\n" +
  "  --delete-extra      delete what exists only in a target (default: report it as extra, keep it)\n" +
  `  --concurrency N     keys and items in flight at once, each (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})\n` +
  "  --json              print one JSON document instead of the summary lines\n" +
  "  --engine E          local (default): this process; batch-operations: an S3 Batch Operations job\n" +
  "                      invoking the function on every object (needs --function; objects only)";

export const ENGINES = ["local", "batch-operations"] as const;
export type Engine = (typeof ENGINES)[number];

/** Bad command-line arguments; the message lists every problem. */
export class ResyncUsageError extends Error {
  override readonly name = "ResyncUsageError";
}

export interface ResyncArgs {
  readonly functionName: string | undefined;
  /** Target environments to resync; `undefined`: all. */
  readonly targets: readonly string[] | undefined;
  readonly prefix: string | undefined;
  readonly objects: boolean;
  readonly items: boolean;
  readonly dryRun: boolean;
  readonly deleteExtra: boolean;
  readonly concurrency: number;
  readonly json: boolean;
  readonly engine: Engine;
  readonly help: boolean;
}

const OPTIONS = {
  function: { type: "string" },
  targets: { type: "string" },
  prefix: { type: "string" },
  "objects-only": { type: "boolean" },
  "items-only": { type: "boolean" },
  "dry-run": { type: "boolean" },
  "delete-extra": { type: "boolean" },
  concurrency: { type: "string" },
  json: { type: "boolean" },
  engine: { type: "string" },
  help: { type: "boolean" },
} as const;

const text = (value: string | boolean | undefined): string | undefined =>
  typeof value === "string" ? value : undefined;

/** Parses the arguments; throws one `ResyncUsageError` naming every problem, with the usage. */
export function parseResyncArgs(argv: readonly string[]): ResyncArgs {
  const { values, problems } = tokenProblems(argv, OPTIONS);
  const flag = (name: keyof typeof OPTIONS): boolean => values[name] === true;

  const rawTargets = text(values.targets);
  let targets: string[] | undefined;
  if (rawTargets !== undefined) {
    targets = rawTargets.split(",").map((name) => name.trim());
    if (targets.some((name) => name === "")) {
      problems.push(`--targets must be comma-separated environment names: "${rawTargets}"`);
    }
    const twice = targets.filter((name, index) => name !== "" && targets?.indexOf(name) !== index);
    if (twice.length > 0) problems.push(`--targets names "${twice.join('", "')}" twice`);
  }

  const prefix = text(values.prefix);
  if (prefix === "") problems.push("--prefix must not be empty (leave it out for every key)");

  if (flag("objects-only") && flag("items-only")) {
    problems.push("--objects-only and --items-only exclude each other");
  }

  let concurrency = DEFAULT_CONCURRENCY;
  const rawConcurrency = text(values.concurrency);
  if (rawConcurrency !== undefined) {
    concurrency = Number(rawConcurrency);
    if (!/^\d+$/.test(rawConcurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      problems.push(
        `--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}: "${rawConcurrency}"`,
      );
    }
  }

  const rawEngine = text(values.engine) ?? "local";
  const engine = (ENGINES as readonly string[]).includes(rawEngine)
    ? (rawEngine as Engine)
    : "local";
  if (engine !== rawEngine) {
    problems.push(`--engine must be one of ${ENGINES.join(", ")}: "${rawEngine}"`);
  }
  const functionName = text(values.function);
  if (rawEngine === "batch-operations") {
    // The job invokes the deployed function and runs as the role the stack declares for it.
    if (functionName === undefined) problems.push("--engine batch-operations needs --function");
    if (flag("items-only")) {
      problems.push(
        "--engine batch-operations resyncs objects only: run --items-only with the local engine",
      );
    }
    if (flag("delete-extra")) {
      problems.push(
        "--engine batch-operations lists the source only, so it cannot find extra keys: run --delete-extra with the local engine",
      );
    }
    if (rawConcurrency !== undefined) {
      problems.push("--concurrency applies to the local engine (Batch Operations sets its own)");
    }
  }

  if (problems.length > 0) throw new ResyncUsageError(`${problems.join("; ")}\n${RESYNC_USAGE}`);
  return {
    functionName,
    targets,
    prefix,
    objects: !flag("items-only"),
    items: !flag("objects-only") && engine === "local",
    dryRun: flag("dry-run"),
    deleteExtra: flag("delete-extra"),
    concurrency,
    json: flag("json"),
    engine,
    help: flag("help"),
  };
}
