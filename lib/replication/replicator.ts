/**
 * The convergence core shared by the function, redrive and resync: for one change, reads the
 * source once, then serves every target in parallel (each in its own region) and returns one
 * result per target. It never dead-letters: what to do with a failure is the caller's business.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ReplicationClients } from "./clients";
import { targetRegion } from "./clients";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import { PermanentChangeError, attemptsOf, isRetryable, summarizeError } from "./errors";
import type { ItemChange, ObjectChange } from "./events";
import { applyItemChange, readSourceItem, withdrawItemPut, type Item } from "./items";
import { changeLogger } from "./logger";
import {
  convergeObject,
  MAX_CONFLICT_ROUNDS,
  readSourceObject,
  type SourceObject,
  type SourceRead,
} from "./objects";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";
import { UNLIMITED, type TimeBudget } from "./time-budget";

export const isFailure = (result: TargetResult): result is TargetFailure => !result.ok;

/** A target that failed with `error`: its summary, attempts, whether a retry may help, and why a permanent failure is one. */
export function targetFailure(target: ReplicationTarget, error: unknown): TargetFailure {
  return {
    ok: false,
    target,
    error: summarizeError(error),
    attempts: attemptsOf(error),
    retryable: isRetryable(error),
    ...(error instanceof PermanentChangeError ? { reason: error.reason } : {}),
  };
}

async function serveTargets(
  targets: readonly ReplicationTarget[],
  keys: { eventId: string; key: string },
  apply: (target: ReplicationTarget, log: Logger) => Promise<AppliedAction>,
): Promise<TargetResult[]> {
  return Promise.all(
    targets.map(async (target): Promise<TargetResult> => {
      const log = changeLogger({ ...keys, target: target.environment });
      try {
        const action = await apply(target, log);
        log.info("target replicated", { action });
        return { ok: true, target, action };
      } catch (error: unknown) {
        const result = targetFailure(target, error);
        log.error("target failed", {
          error: result.error,
          attempts: result.attempts,
          retryable: result.retryable,
        });
        return result;
      }
    }),
  );
}

export interface ReplicateOptions {
  /** Only these targets (redrive of one target's dead letter). @default every target */
  readonly targets?: readonly ReplicationTarget[];
  /** The invocation's time budget for copies. @default no limit */
  readonly budget?: TimeBudget;
  /**
   * The change is replayed outside its stream's order (redrive of a dead letter). On the live
   * path every source change made after the function read the source has its own record in a
   * later batch, and Lambda keeps each item's records in order: it does not hand that record to
   * the function before this batch ends (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html,
   * "Concurrent reads of a shard": in-order processing at the item level), so the sequence guard
   * orders every write. A replay has no such order: the key's live delete may be applied
   * between the replay's source read and its put, and a delete leaves no recorded sequence to
   * refuse the put with. So after a put the source is read again, and a put whose key is gone is
   * taken back.
   * @default false
   */
  readonly replay?: boolean;
}

export interface Replicator {
  readonly settings: ReplicationSettings;
  /** Converges every target's copy of the changed key. */
  replicateObject(change: ObjectChange, options?: ReplicateOptions): Promise<TargetResult[]>;
  /** Converges every target's copy of the changed item. */
  replicateItem(change: ItemChange, options?: ReplicateOptions): Promise<TargetResult[]>;
}

const wroteContents = (result: TargetResult): boolean =>
  result.ok && (result.action === "copied" || result.action === "deleted");

/**
 * After the targets wrote a state of the source, one read of the source for all of them:
 * conditional writes cannot tell two states of one body apart (a metadata-only rewrite keeps the
 * ETag on both sides), so a write of an older state could land after one of the newer. When the
 * source still holds what was written, any later change is written after this one, by its own
 * event; when it moved on, the targets that wrote converge again to what the check read
 * (bounded: a source that keeps changing has an event per change). A target's reported action is
 * its last write.
 */
async function checkAfterWrites(
  change: ObjectChange,
  first: TargetResult[],
  written: SourceObject | undefined,
  readSource: () => Promise<SourceObject | undefined>,
  converge: (targets: readonly ReplicationTarget[], state: SourceRead) => Promise<TargetResult[]>,
): Promise<TargetResult[]> {
  let results = first;
  let state = written;
  let writers = first.filter(wroteContents).map((result) => result.target);
  for (let round = 1; writers.length > 0 && round <= MAX_CONFLICT_ROUNDS; round++) {
    let now: SourceObject | undefined;
    try {
      now = await readSource();
    } catch (error: unknown) {
      changeLogger(change).error("source read after the writes failed", {
        error: summarizeError(error),
      });
      return results.map((result) =>
        writers.includes(result.target) ? targetFailure(result.target, error) : result,
      );
    }
    if (now?.fingerprint === state?.fingerprint) return results;
    changeLogger(change).info("the source changed during the writes; converging again", {
      round,
    });
    state = now;
    const again = await converge(writers, now);
    results = results.map((result) => {
      const next = again.find((step) => step.target === result.target);
      // A target with nothing to write the second time keeps its write as its action.
      return next === undefined || (next.ok && !wroteContents(next)) ? result : next;
    });
    writers = again.filter(wroteContents).map((result) => result.target);
  }
  return results;
}

export function createReplicator(
  settings: ReplicationSettings,
  clients: ReplicationClients,
): Replicator {
  const replicateObject = async (
    change: ObjectChange,
    options: ReplicateOptions = {},
  ): Promise<TargetResult[]> => {
    const targets = options.targets ?? settings.targets;
    const source = clients.s3();
    const readSource = () => readSourceObject(source, change.bucket, change.key);
    // Read once per change; the targets start their own reads meanwhile and then wait for it.
    const sourceRead = readSource();
    const sourceFailed = sourceRead.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const converge = (targetsNow: readonly ReplicationTarget[], state: SourceRead) =>
      serveTargets(targetsNow, change, (target, log) =>
        convergeObject({
          route: {
            source,
            target: clients.s3(targetRegion(target, settings)),
            sourceBucket: change.bucket,
            targetBucket: target.bucket,
            key: change.key,
          },
          change,
          source: state,
          budget: options.budget ?? UNLIMITED,
          log,
          // Checked once for every target below, not once per target.
          verify: false,
        }),
      );
    const results = await converge(targets, sourceRead);
    const failed = await sourceFailed;
    if (failed !== undefined) {
      changeLogger(change).error("source read failed", { error: summarizeError(failed.error) });
      return targets.map((target) => targetFailure(target, failed.error));
    }
    return checkAfterWrites(change, results, await sourceRead, readSource, converge);
  };
  const replicateItem = async (
    change: ItemChange,
    options: ReplicateOptions = {},
  ): Promise<TargetResult[]> => {
    const targets = options.targets ?? settings.targets;
    const keys = { eventId: change.eventId, key: JSON.stringify(change.keys) };
    let source: Item | undefined;
    try {
      source = await readSourceItem(clients.dynamodb(), change.table, change.keys);
    } catch (error: unknown) {
      changeLogger(keys).error("source read failed", { error: summarizeError(error) });
      return targets.map((target) => targetFailure(target, error));
    }
    const results = await serveTargets(targets, keys, (target) =>
      applyItemChange(
        clients.dynamodb(targetRegion(target, settings)),
        change,
        target.table,
        source,
      ),
    );
    const put = results.filter((result) => result.ok && result.action === "put");
    if (options.replay !== true || put.length === 0) return results;
    return withdrawPutsOfGoneKey(change, keys, results);
  };

  /** After a replayed put: the source read again, and each put taken back if the key is gone. */
  const withdrawPutsOfGoneKey = async (
    change: ItemChange,
    keys: { eventId: string; key: string },
    results: TargetResult[],
  ): Promise<TargetResult[]> => {
    let now: Item | undefined;
    try {
      now = await readSourceItem(clients.dynamodb(), change.table, change.keys);
    } catch (error: unknown) {
      changeLogger(keys).error("source read after a replayed put failed", {
        error: summarizeError(error),
      });
      return results.map((result) =>
        result.ok && result.action === "put" ? targetFailure(result.target, error) : result,
      );
    }
    if (now !== undefined) return results;
    const withdrawn = await serveTargets(
      results.filter((result) => result.ok && result.action === "put").map((r) => r.target),
      keys,
      (target) =>
        withdrawItemPut(clients.dynamodb(targetRegion(target, settings)), change, target.table),
    );
    return results.map((result) => withdrawn.find((w) => w.target === result.target) ?? result);
  };

  return { settings, replicateObject, replicateItem };
}
