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
import { convergeObject, readSourceObject } from "./objects";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";
import { UNLIMITED, type TimeBudget } from "./time-budget";

export const isFailure = (result: TargetResult): result is TargetFailure => !result.ok;

function failure(target: ReplicationTarget, error: unknown): TargetFailure {
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
        const result = failure(target, error);
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
    // Read once per change; the targets start their own reads meanwhile and then wait for it.
    const sourceRead = readSourceObject(source, change.bucket, change.key);
    const sourceFailed = sourceRead.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    const results = await serveTargets(targets, change, (target, log) =>
      convergeObject({
        route: {
          source,
          target: clients.s3(targetRegion(target, settings)),
          sourceBucket: change.bucket,
          targetBucket: target.bucket,
          key: change.key,
        },
        change,
        source: sourceRead,
        budget: options.budget ?? UNLIMITED,
        log,
      }),
    );
    const failed = await sourceFailed;
    if (failed === undefined) return results;
    changeLogger(change).error("source read failed", { error: summarizeError(failed.error) });
    return targets.map((target) => failure(target, failed.error));
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
      return targets.map((target) => failure(target, error));
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
        result.ok && result.action === "put" ? failure(result.target, error) : result,
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
