/**
 * The resync command's core (local engine): brings every target's bucket and table to the
 * source's current state, whatever it starts from, through the replication function's own
 * convergence code, safe beside live replication (lib/replication/resync.ts). Everything that
 * could be wrong with the settings is checked first (targets, a source that is also a target,
 * buckets and tables that do not exist, key schemas that differ), all listed at once, before
 * anything is changed. `runResync` is what `npm run resync` and the sandbox call.
 */
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { DescribeTableCommand, type KeySchemaElement } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "node:crypto";
import type { ReplicationClients } from "../../lib/replication/clients";
import { targetRegion } from "../../lib/replication/clients";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import { statusOf, summarizeError } from "../../lib/replication/errors";
import type { Masking } from "../../lib/replication/masking-key";
import { DEFAULT_CONCURRENCY } from "./resync-args";
import { batchedItemReads } from "./resync-item-reads";
import { resyncItems } from "./resync-items";
import { resyncObjects } from "./resync-objects";
import { ResyncTally, type ResyncSummary } from "./resync-progress";

/** The settings or the accounts' state do not allow a resync; every problem is listed. */
export class ResyncSettingsError extends Error {
  override readonly name = "ResyncSettingsError";

  constructor(readonly problems: readonly string[]) {
    super(`cannot resync: ${problems.join("; ")}`);
  }
}

export interface ResyncOptions {
  /** Target environments; default: every target of the settings. */
  readonly targets?: readonly string[] | undefined;
  /** Only object keys with this prefix. */
  readonly prefix?: string | undefined;
  /** @default true */
  readonly objects?: boolean;
  /** @default true */
  readonly items?: boolean;
  readonly dryRun?: boolean;
  readonly deleteExtra?: boolean;
  /** @default DEFAULT_CONCURRENCY */
  readonly concurrency?: number;
  /** What reaches the targets masked (the function's rules and key). @default nothing is */
  readonly masking?: Masking | undefined;
}

/** The targets `names` selects (all when undefined), or a problem per unknown name. */
export function selectTargets(
  settings: Pick<ReplicationSettings, "targets">,
  names: readonly string[] | undefined,
): { targets: ReplicationTarget[]; problems: string[] } {
  if (names === undefined) return { targets: [...settings.targets], problems: [] };
  const known = settings.targets.map((target) => target.environment);
  const problems = names
    .filter((name) => !known.includes(name))
    .map((name) => `unknown target "${name}" (known: ${known.join(", ")})`);
  return {
    targets: settings.targets.filter((target) => names.includes(target.environment)),
    problems,
  };
}

/** A target that is the source itself: same bucket (names are global), or same table and region. */
export function sourceAsTargetProblems(
  settings: Pick<ReplicationSettings, "region" | "sourceBucket" | "sourceTable">,
  targets: readonly ReplicationTarget[],
  parts: { objects: boolean; items: boolean },
): string[] {
  const problems: string[] = [];
  for (const target of targets) {
    if (parts.objects && target.bucket === settings.sourceBucket) {
      problems.push(
        `target "${target.environment}" is the source: bucket "${target.bucket}" is the source bucket`,
      );
    }
    if (
      parts.items &&
      target.table === settings.sourceTable &&
      targetRegion(target, settings) === settings.region
    ) {
      problems.push(
        `target "${target.environment}" is the source: table "${target.table}" is the source table`,
      );
    }
  }
  return problems;
}

/** An error as `Name: message`, whatever was thrown. */
export function describeError(error: unknown): string {
  const { name, message } = summarizeError(error);
  return `${name}: ${message}`;
}

/** Why a bucket cannot be resynced (HeadBucket), or nothing. */
export async function bucketProblem(
  clients: Pick<ReplicationClients, "s3">,
  region: string,
  bucket: string,
  role: string,
): Promise<string | undefined> {
  try {
    await clients.s3(region).send(new HeadBucketCommand({ Bucket: bucket }));
    return undefined;
  } catch (error: unknown) {
    const status = statusOf(error);
    if (status === 404) return `bucket "${bucket}" (${role}) does not exist`;
    const http = status === undefined ? "" : `HTTP ${status}, `;
    return `bucket "${bucket}" (${role}) cannot be read (${http}${describeError(error)})`;
  }
}

const keySchemaText = (schema: readonly KeySchemaElement[]): string =>
  schema.map((key) => `${String(key.AttributeName)} (${String(key.KeyType)})`).join(", ");

/** A table's key schema and approximate item count, or why it cannot be resynced. */
async function describeTable(
  clients: Pick<ReplicationClients, "dynamodb">,
  region: string,
  table: string,
  role: string,
): Promise<{ schema: KeySchemaElement[]; itemCount: number | undefined } | string> {
  try {
    const out = await clients.dynamodb(region).send(new DescribeTableCommand({ TableName: table }));
    return { schema: out.Table?.KeySchema ?? [], itemCount: out.Table?.ItemCount };
  } catch (error: unknown) {
    if (error instanceof Error && error.name === "ResourceNotFoundException") {
      return `table "${table}" (${role}) does not exist`;
    }
    return `table "${table}" (${role}) cannot be described (${describeError(error)})`;
  }
}

export interface ResyncPlan {
  readonly targets: readonly ReplicationTarget[];
  /** The source table's key attributes, hash key first. */
  readonly keyNames: readonly string[];
  /** DynamoDB's approximate item count of the source (updated about every six hours). */
  readonly itemCount: number | undefined;
}

/**
 * Checks everything before anything is changed: the targets named, a target that is the source,
 * buckets and tables that do not exist or cannot be read, target tables whose key schema is not
 * the source's. Throws one `ResyncSettingsError` listing every problem.
 */
export async function checkResync(
  settings: ReplicationSettings,
  clients: Pick<ReplicationClients, "s3" | "dynamodb">,
  options: ResyncOptions,
): Promise<ResyncPlan> {
  const parts = { objects: options.objects ?? true, items: options.items ?? true };
  const { targets, problems } = selectTargets(settings, options.targets);
  problems.push(...sourceAsTargetProblems(settings, targets, parts));
  const checks: Promise<string | undefined>[] = [];
  if (parts.objects) {
    checks.push(bucketProblem(clients, settings.region, settings.sourceBucket, "source"));
    for (const target of targets) {
      checks.push(
        bucketProblem(clients, targetRegion(target, settings), target.bucket, target.environment),
      );
    }
  }
  let keyNames: string[] = [];
  let itemCount: number | undefined;
  if (parts.items) {
    const [source, ...replicas] = await Promise.all([
      describeTable(clients, settings.region, settings.sourceTable, "source"),
      ...targets.map((target) =>
        describeTable(clients, targetRegion(target, settings), target.table, target.environment),
      ),
    ]);
    if (typeof source === "string") problems.push(source);
    else {
      // Hash key first, then the range key (if any).
      keyNames = ["HASH", "RANGE"].flatMap((type) =>
        source.schema.filter((key) => key.KeyType === type).map((key) => String(key.AttributeName)),
      );
      itemCount = source.itemCount;
    }
    replicas.forEach((replica, index) => {
      const target = targets[index];
      if (typeof replica === "string") problems.push(replica);
      else if (typeof source !== "string" && target !== undefined) {
        if (keySchemaText(replica.schema) !== keySchemaText(source.schema)) {
          problems.push(
            `table "${target.table}" (${target.environment}) has the key schema ` +
              `${keySchemaText(replica.schema)}, not the source's ${keySchemaText(source.schema)}`,
          );
        }
      }
    });
  }
  for (const problem of await Promise.all(checks))
    if (problem !== undefined) problems.push(problem);
  if (problems.length > 0) throw new ResyncSettingsError(problems);
  return { targets, keyNames, itemCount };
}

export interface ResyncHooks {
  /** Called with the tally before work starts (the CLI's progress line reads it). */
  readonly onStart?: (tally: ResyncTally) => void;
  readonly now?: () => number;
}

/**
 * Runs a resync with the given settings and clients and returns its summary (what
 * `npm run resync -- --json` prints). Throws `ResyncSettingsError` before changing anything
 * when the settings or the accounts do not allow it.
 */
export async function runResync(
  settings: ReplicationSettings,
  clients: ReplicationClients,
  options: ResyncOptions = {},
  hooks: ResyncHooks = {},
): Promise<ResyncSummary> {
  const now = hooks.now ?? Date.now;
  const started = now();
  const plan = await checkResync(settings, clients, options);
  const parts = { objects: options.objects ?? true, items: options.items ?? true };
  const dryRun = options.dryRun ?? false;
  const tally = new ResyncTally(
    plan.targets.map((target) => target.environment),
    parts,
    dryRun,
  );
  tally.total.items = plan.itemCount;
  hooks.onStart?.(tally);
  const common = {
    settings,
    clients,
    targets: plan.targets,
    dryRun,
    deleteExtra: options.deleteExtra ?? false,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    tally,
    ...(options.masking === undefined ? {} : { masking: options.masking }),
  };
  await Promise.all([
    parts.objects
      ? resyncObjects({
          ...common,
          prefix: options.prefix,
          runId: `resync-${randomUUID()}`,
        })
      : undefined,
    parts.items
      ? resyncItems({
          ...common,
          keyNames: plan.keyNames,
          read: batchedItemReads(plan.keyNames),
        })
      : undefined,
  ]);
  tally.summary.durationMs = now() - started;
  return tally.summary;
}

/** Counts for a person: every count, but `archived` only when there are some. */
const counts = (record: Readonly<Record<string, number>>): string =>
  Object.entries(record)
    .filter(([name, count]) => name !== "archived" || count > 0)
    .map(([name, count]) => `${name} ${count.toLocaleString("en-US")}`)
    .join(", ");

/** The summary as lines for a person: one per target, then one per failure. */
export function describeSummary(
  summary: ResyncSummary,
  source: { bucket: string; table: string },
): string[] {
  const lines = [
    `resync${summary.dryRun ? " (dry run: nothing changed)" : ""} of ${source.bucket} / ${source.table} in ${(summary.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const target of summary.targets) {
    const parts = [
      target.objects === undefined ? undefined : `objects: ${counts({ ...target.objects })}`,
      target.items === undefined ? undefined : `items: ${counts({ ...target.items })}`,
    ].filter((part) => part !== undefined);
    lines.push(`  ${target.environment}: ${parts.join("; ")}`);
  }
  for (const failure of summary.failures) {
    lines.push(`  failed: ${failure.environment} ${failure.kind} ${failure.key}: ${failure.error}`);
  }
  return lines;
}
