/**
 * The resync's counts, per target and part, and the progress line it shows on a terminal
 * (counts, rate, ETA once the total is known; nothing when stderr is not a TTY).
 */
import type { AppliedAction, TargetResult } from "../../lib/replication/outcome";

export interface ObjectCounts {
  copied: number;
  deleted: number;
  unchanged: number;
  /** Source objects that are archived (GLACIER, DEEP_ARCHIVE, ...): copied once restored. */
  archived: number;
  /** Keys found only in the target (deleted too with --delete-extra, and counted there). */
  extra: number;
  failed: number;
}

export interface ItemCounts {
  put: number;
  deleted: number;
  unchanged: number;
  extra: number;
  failed: number;
}

export interface TargetSummary {
  readonly environment: string;
  /** Absent when the run left objects out (--items-only). */
  objects?: ObjectCounts;
  /** Absent when the run left items out (--objects-only, or the batch engine). */
  items?: ItemCounts;
}

export interface ResyncFailure {
  readonly environment: string;
  readonly kind: "object" | "item";
  /** The object key, or the item's key attributes as JSON. */
  readonly key: string;
  readonly error: string;
}

/** What `npm run resync -- --json` prints. */
export interface ResyncSummary {
  readonly dryRun: boolean;
  readonly targets: TargetSummary[];
  readonly failures: ResyncFailure[];
  durationMs: number;
}

export type Part = "objects" | "items";

/** Counts what happened, per target, as results come in; the progress line reads it. */
export class ResyncTally {
  readonly summary: ResyncSummary;
  /** Keys (objects) and items done, and known totals, for the progress line. */
  readonly done = { objects: 0, items: 0 };
  readonly total: { objects: number | undefined; items: number | undefined } = {
    objects: undefined,
    items: undefined,
  };

  constructor(
    environments: readonly string[],
    parts: { objects: boolean; items: boolean },
    dryRun: boolean,
  ) {
    this.summary = {
      dryRun,
      targets: environments.map((environment) => ({
        environment,
        ...(parts.objects
          ? { objects: { copied: 0, deleted: 0, unchanged: 0, archived: 0, extra: 0, failed: 0 } }
          : {}),
        ...(parts.items
          ? { items: { put: 0, deleted: 0, unchanged: 0, extra: 0, failed: 0 } }
          : {}),
      })),
      failures: [],
      durationMs: 0,
    };
  }

  private counts(environment: string, part: Part): Record<string, number> {
    const target = this.summary.targets.find((t) => t.environment === environment);
    const counts = target?.[part];
    if (counts === undefined) throw new Error(`no ${part} counts for target "${environment}"`);
    return counts as unknown as Record<string, number>;
  }

  /** Adds one to a count of one target. */
  add(environment: string, part: Part, count: keyof ObjectCounts | keyof ItemCounts): void {
    const counts = this.counts(environment, part);
    counts[count] = (counts[count] ?? 0) + 1;
  }

  /** Counts one convergence result of one key: what it did, or its failure. */
  record(part: Part, key: string, result: TargetResult): void {
    const { environment } = result.target;
    if (!result.ok) {
      this.add(environment, part, "failed");
      this.summary.failures.push({
        environment,
        kind: part === "objects" ? "object" : "item",
        key,
        error: `${result.error.name}: ${result.error.message}`,
      });
      return;
    }
    const count = countOf(part, result.action);
    if (count !== undefined) this.add(environment, part, count);
  }
}

/** Where an action is counted; `undefined` for a key neither side has any more. */
export function countOf(
  part: Part,
  action: AppliedAction,
): keyof ObjectCounts | keyof ItemCounts | undefined {
  switch (action) {
    case "copied":
    case "put":
    case "tagged":
      return part === "objects" ? "copied" : "put";
    case "deleted":
      return "deleted";
    case "skipped":
      return "unchanged";
    case "archived":
      return part === "objects" ? "archived" : undefined;
    case "excluded":
      return "unchanged";
    case "absent":
      return undefined;
  }
}

const plural = (n: number): string => n.toLocaleString("en-US");

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** One progress line: per part, done (of total), rate, ETA when the total is known. */
export function progressLine(tally: ResyncTally, elapsedMs: number): string {
  const parts: string[] = [];
  for (const part of ["objects", "items"] as const) {
    if (!tally.summary.targets.some((t) => t[part] !== undefined)) continue;
    const done = tally.done[part];
    const total = tally.total[part];
    const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    let line = `${part} ${plural(done)}${total === undefined ? "" : `/${plural(Math.max(total, done))}`}`;
    line += ` (${rate.toFixed(rate < 10 ? 1 : 0)}/s`;
    if (total !== undefined && rate > 0) {
      line += `, ETA ${duration((Math.max(0, total - done) / rate) * 1000)}`;
    }
    parts.push(`${line})`);
  }
  const failed = tally.summary.failures.length;
  return `resync${tally.summary.dryRun ? " (dry run)" : ""}: ${parts.join(", ")}${
    failed > 0 ? `, ${plural(failed)} failed` : ""
  }`;
}

/** Where the progress line goes: stderr when it is a terminal. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): boolean;
}

/**
 * Redraws the progress line every `intervalMs` on a TTY; on anything else it shows nothing.
 * Returns a stop function that clears the line.
 */
export function showProgress(
  tally: ResyncTally,
  stream: ProgressStream,
  now: () => number = Date.now,
  intervalMs = 250,
): () => void {
  if (stream.isTTY !== true) return () => undefined;
  const started = now();
  const draw = (): void => {
    stream.write(`\r\u001b[2K${progressLine(tally, now() - started)}`);
  };
  draw();
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write("\r\u001b[2K");
  };
}
