/**
 * The convergence core shared by the function, redrive and resync: for one change, reads the
 * source once, then serves every target in parallel (each in its own region) and returns one
 * result per target. It never dead-letters: what to do with a failure is the caller's business.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { ReplicationClients } from "./clients";
import { targetRegion } from "./clients";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import {
  ChangeRaceError,
  PermanentChangeError,
  attemptsOf,
  isRetryable,
  summarizeError,
} from "./errors";
import { candidateKeys, type ItemChange, type ObjectChange } from "./events";
import {
  AS_IS,
  applyItemChange,
  readSourceItem,
  rewriteIfOurs,
  sameItem,
  type Item,
  type ItemView,
} from "./items";
import { itemViewFor, loggedKeys, objectMaskingFor, type Masking } from "./masking-key";
import { changeLogger } from "./logger";
import {
  convergeObject,
  MAX_CONFLICT_ROUNDS,
  readSourceObject,
  sameSourceState,
  type SourceObject,
  type SourceRead,
} from "./objects";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";
import { UNLIMITED, type TimeBudget } from "./time-budget";

export const isFailure = (result: TargetResult): result is TargetFailure => !result.ok;

/** Of two results of one target: a failure first, then a write, then the first. */
function strongest(a: TargetResult, b: TargetResult): TargetResult {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return wrote(a) || !wrote(b) ? a : b;
}

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

/** The actions that wrote to a replica: the check after the writes covers them. */
const WRITES: readonly AppliedAction[] = ["copied", "deleted", "tagged"];
const wrote = (result: TargetResult): boolean => result.ok && WRITES.includes(result.action);
const wroteItem = (result: TargetResult): boolean =>
  result.ok && (result.action === "put" || result.action === "deleted");

/** The source kept changing through every round of a change's convergence. */
export class SourceKeptChangingError extends ChangeRaceError {
  override readonly name = "SourceKeptChangingError";
}

/**
 * After the targets wrote a state of the source, one read of the source for all of them:
 * conditional writes cannot tell two states of one body apart (a metadata-only rewrite keeps the
 * ETag on both sides, a tag change keeps it too), so a write of an older state could land after
 * one of the newer, even after that newer change's own check. Whoever wrote checks: when the
 * source still holds what was written (contents and tags), any later change is written after
 * this one and checked by its own convergence; when it moved on, the targets that wrote converge
 * again to what the check read, whatever the change's sequencer says (the replica now records it).
 * A source still moving after `MAX_CONFLICT_ROUNDS` rounds fails the targets that wrote
 * (retryable), so that the change is retried or dead-lettered, never reported as replicated
 * while a late write may be standing. A target's reported action is its last write.
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
  let writers = first.filter(wrote).map((result) => result.target);
  for (let round = 1; writers.length > 0; round++) {
    let now: SourceObject | undefined;
    try {
      now = await readSource();
    } catch (error: unknown) {
      changeLogger(change).error("source read after the writes failed", {
        error: summarizeError(error),
      });
      return replaceWriters(results, writers, (target) => targetFailure(target, error));
    }
    if (sameSourceState(now, state)) return results;
    if (round > MAX_CONFLICT_ROUNDS) {
      const error = new SourceKeptChangingError(
        `the source of ${change.key} kept changing: still moving after ${MAX_CONFLICT_ROUNDS} rounds`,
      );
      changeLogger(change).warn("the source kept changing during the writes", { rounds: round });
      return replaceWriters(results, writers, (target) => targetFailure(target, error));
    }
    changeLogger(change).info("the source changed during the writes; converging again", {
      round,
    });
    state = now;
    const again = await converge(writers, now);
    results = results.map((result) => {
      const next = again.find((step) => step.target === result.target);
      // A target with nothing to write the second time keeps its write as its action.
      return next === undefined || (next.ok && !wrote(next)) ? result : next;
    });
    writers = again.filter(wrote).map((result) => result.target);
  }
  return results;
}

const replaceWriters = (
  results: readonly TargetResult[],
  writers: readonly ReplicationTarget[],
  failure: (target: ReplicationTarget) => TargetResult,
): TargetResult[] =>
  results.map((result) => (writers.includes(result.target) ? failure(result.target) : result));

export function createReplicator(
  settings: ReplicationSettings,
  clients: ReplicationClients,
  /** What reaches the targets masked (lib/replication/masking-key.ts); none: nothing is. */
  masking?: Masking,
): Replicator {
  /** Every key the change's key may stand for (`candidateKeys`), one result per target. */
  const replicateObject = async (
    change: ObjectChange,
    options: ReplicateOptions = {},
  ): Promise<TargetResult[]> => {
    const [first, ...others] = candidateKeys(change);
    const results = await replicateKey({ ...change, key: first ?? change.key }, options);
    for (const key of others) {
      const more = await replicateKey({ ...change, key }, options);
      for (const [index, result] of more.entries()) {
        const before = results[index];
        if (before !== undefined) results[index] = strongest(before, result);
      }
    }
    return results;
  };

  const replicateKey = async (
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
      serveTargets(targetsNow, change, async (target, log) =>
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
          ...(await objectMaskingFor(masking, target, change.key)),
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
    // A log line shows the keys masked when the rules mask a key attribute.
    const keys = { eventId: change.eventId, key: await loggedKeys(masking, change.keys) };
    const readSource = () => readSourceItem(clients.dynamodb(), change.table, change.keys);
    let source: Item | undefined;
    try {
      source = await readSource();
    } catch (error: unknown) {
      changeLogger(keys).error("source read failed", { error: summarizeError(error) });
      return targets.map((target) => targetFailure(target, error));
    }
    const written = new Map<ReplicationTarget, Item | undefined>();
    const views = new Map<ReplicationTarget, ItemView>();
    const results = await serveTargets(targets, keys, async (target) => {
      const view = await itemViewFor(masking, target);
      views.set(target, view);
      const write = await applyItemChange(
        clients.dynamodb(targetRegion(target, settings)),
        { ...change, keys: view.keys(change.keys) },
        target.table,
        view.item(source),
        async () => view.item(await readSource()),
      );
      written.set(target, write.state);
      return write.action;
    });
    if (options.replay !== true) return results;
    return checkReplayedItem(change, keys, results, written, views, readSource);
  };

  /**
   * After a replay's writes (outside the stream's order): a live change applied between the
   * replay's source read and its write leaves the replica older than the source, and a live
   * delete leaves no marker to refuse the write with. So the source is read again, and each
   * target that wrote a state the source no longer holds is written what it holds now, on the
   * condition that the replica still records the replay's own write (a live write since is kept:
   * it is newer). Bounded: a source still moving fails the targets (retryable; the message stays).
   */
  const checkReplayedItem = async (
    change: ItemChange,
    keys: { eventId: string; key: string },
    first: TargetResult[],
    written: Map<ReplicationTarget, Item | undefined>,
    views: ReadonlyMap<ReplicationTarget, ItemView>,
    readSource: () => Promise<Item | undefined>,
  ): Promise<TargetResult[]> => {
    const viewOf = (target: ReplicationTarget): ItemView => views.get(target) ?? AS_IS;
    let results = first;
    let writers = first.filter(wroteItem).map((result) => result.target);
    for (let round = 1; writers.length > 0; round++) {
      let now: Item | undefined;
      try {
        now = await readSource();
      } catch (error: unknown) {
        changeLogger(keys).error("source read after a replayed write failed", {
          error: summarizeError(error),
        });
        return replaceWriters(results, writers, (target) => targetFailure(target, error));
      }
      const moved = writers.filter(
        (target) => !sameItem(written.get(target), viewOf(target).item(now)),
      );
      if (moved.length === 0) return results;
      if (round > MAX_CONFLICT_ROUNDS) {
        const error = new SourceKeptChangingError(
          `the source item ${keys.key} kept changing: still moving after ${MAX_CONFLICT_ROUNDS} rounds`,
        );
        return replaceWriters(results, moved, (target) => targetFailure(target, error));
      }
      const again = await serveTargets(moved, keys, async (target) => {
        const view = viewOf(target);
        const replica = view.item(now);
        const action = await rewriteIfOurs(
          clients.dynamodb(targetRegion(target, settings)),
          { ...change, keys: view.keys(change.keys) },
          target.table,
          written.get(target),
          replica,
        );
        if (action !== "skipped") written.set(target, replica);
        return action;
      });
      results = results.map(
        (result) => again.find((step) => step.target === result.target) ?? result,
      );
      writers = again.filter(wroteItem).map((result) => result.target);
    }
    return results;
  };

  return { settings, replicateObject, replicateItem };
}
