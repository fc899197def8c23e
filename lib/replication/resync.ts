/**
 * Resync of one key: converge every target's copy of an object or an item to the source's
 * current state when there is no change event to order it by (`npm run resync`, and S3 Batch
 * Operations tasks in the function). Objects go through the replicator (the live path's
 * convergence code, with no sequencer); items through a guard of their own (items.ts).
 *
 * Safe beside live replication: a resync converges in rounds, and a round that wrote is followed
 * by another, until a round writes nothing. That last round read the source after the resync's
 * last write and found the replica equal to it, so every later source change is applied by the
 * live path after that write (its own guards let it: the resync keeps the replica's recorded
 * sequencer or sequence, which is older than any later change's). A key still changing after
 * `MAX_RESYNC_ROUNDS` rounds is reported as a retryable failure. docs/resync.md has the argument.
 */
import type { ReplicationClients } from "./clients";
import { targetRegion } from "./clients";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import { attemptsOf, isRetryable, summarizeError } from "./errors";
import type { ItemKey, ObjectChange } from "./events";
import { readSourceItem, sameItem, writeItemIfUnchanged, type Item } from "./items";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";
import type { Replicator } from "./replicator";
import type { TimeBudget } from "./time-budget";

/** Rounds before a key that keeps changing is reported as failed (retryable). */
export const MAX_RESYNC_ROUNDS = 4;

/** The source kept changing while a resync converged a key: the live path has the last word. */
export class ResyncNotSettledError extends Error {
  override readonly name = "ResyncNotSettledError";
}

const WRITES: readonly AppliedAction[] = ["copied", "put", "deleted", "tagged"];
const wrote = (action: AppliedAction): boolean => WRITES.includes(action);

function failure(target: ReplicationTarget, error: unknown): TargetFailure {
  return {
    ok: false,
    target,
    error: summarizeError(error),
    attempts: attemptsOf(error),
    retryable: isRetryable(error),
  };
}

/** One round's outcome for one target: a result, or a lost race (read again). */
type Step = TargetResult | { readonly ok: "conflict"; readonly target: ReplicationTarget };

/**
 * Runs rounds over the targets until each one's round writes nothing (verified), fails, or the
 * rounds run out. A target's reported action is its last write, or the verified no-op.
 */
async function inRounds(
  targets: readonly ReplicationTarget[],
  round: (targets: readonly ReplicationTarget[], first: boolean) => Promise<Step[]>,
): Promise<TargetResult[]> {
  const notSettled = new ResyncNotSettledError(
    `the source kept changing: not settled after ${MAX_RESYNC_ROUNDS} rounds`,
  );
  const unsettled = (target: ReplicationTarget): TargetFailure => ({
    ...failure(target, notSettled),
    attempts: MAX_RESYNC_ROUNDS,
    retryable: true,
  });
  // Every target gets a step in the first round, which replaces this.
  const results: TargetResult[] = targets.map(unsettled);
  const written = new Set<ReplicationTarget>();
  let pending = targets;
  for (let count = 1; pending.length > 0 && count <= MAX_RESYNC_ROUNDS; count++) {
    const again: ReplicationTarget[] = [];
    for (const step of await round(pending, count === 1)) {
      const index = targets.indexOf(step.target);
      if (step.ok === "conflict") {
        again.push(step.target);
      } else if (!step.ok) {
        results[index] = step;
      } else if (wrote(step.action)) {
        results[index] = step;
        written.add(step.target);
        again.push(step.target);
      } else if (!written.has(step.target)) {
        results[index] = step;
      }
    }
    pending = again;
  }
  // Still pending: the last round wrote (or lost a race) and nothing verified it.
  for (const target of pending) results[targets.indexOf(target)] = unsettled(target);
  return results;
}

export interface ResyncObjectOptions {
  readonly targets: readonly ReplicationTarget[];
  /** For the logs: the run or the Batch Operations task. */
  readonly eventId: string;
  /** What started it, for the logs. @default "resync" */
  readonly description?: string;
  readonly budget?: TimeBudget;
}

/** The change a resync of `key` asks for: contents, no sequencer. */
export function resyncChange(
  bucket: string,
  key: string,
  eventId: string,
  description = "resync",
): ObjectChange {
  return {
    kind: "object",
    scope: "contents",
    eventId,
    bucket,
    key,
    sequencer: undefined,
    time: undefined,
    description,
  };
}

/** Converges `key` of the source bucket in every given target, through the replicator. */
export async function resyncObject(
  replicator: Replicator,
  key: string,
  options: ResyncObjectOptions,
): Promise<TargetResult[]> {
  const change = resyncChange(
    replicator.settings.sourceBucket,
    key,
    options.eventId,
    options.description,
  );
  return inRounds(options.targets, (targets) =>
    replicator.replicateObject(change, {
      targets,
      ...(options.budget === undefined ? {} : { budget: options.budget }),
    }),
  );
}

/** A read that failed becomes the target's failure instead of throwing. */
type Settled<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

async function settle<T>(read: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await read };
  } catch (error: unknown) {
    return { ok: false, error };
  }
}

/** Marks the scanned copy of an item as not given (an extra found only in a target). */
export const NOT_SCANNED = Symbol("not scanned");

const unchanged = (target: ReplicationTarget, replica: Item | undefined): TargetResult => ({
  ok: true,
  target,
  action: replica === undefined ? "absent" : "skipped",
});

/**
 * Converges the item with `keys` in every given target. `scanned` is the source item as a scan
 * saw it (`undefined`: absent; `NOT_SCANNED`: unknown): a replica already equal to it costs one
 * read. Otherwise every replica is read before the source (see the header and items.ts).
 */
export async function resyncItem(
  settings: Pick<ReplicationSettings, "region" | "sourceTable">,
  clients: Pick<ReplicationClients, "dynamodb">,
  keys: ItemKey,
  scanned: Item | undefined | typeof NOT_SCANNED,
  targets: readonly ReplicationTarget[],
): Promise<TargetResult[]> {
  const client = (target: ReplicationTarget) => clients.dynamodb(targetRegion(target, settings));
  return inRounds(targets, async (pending, first): Promise<Step[]> => {
    const replicas = await Promise.all(
      pending.map(async (target) => ({
        target,
        replica: await settle(readSourceItem(client(target), target.table, keys)),
      })),
    );
    // One consistent read of the source per round, started after every replica read.
    let sourceRead: Promise<Settled<Item | undefined>> | undefined;
    const readSource = () =>
      (sourceRead ??= settle(readSourceItem(clients.dynamodb(), settings.sourceTable, keys)));
    return Promise.all(
      replicas.map(async ({ target, replica }): Promise<Step> => {
        if (!replica.ok) return failure(target, replica.error);
        if (first && scanned !== NOT_SCANNED && sameItem(replica.value, scanned)) {
          return unchanged(target, replica.value);
        }
        const source = await readSource();
        if (!source.ok) return failure(target, source.error);
        if (sameItem(replica.value, source.value)) return unchanged(target, replica.value);
        try {
          const write = await writeItemIfUnchanged(
            client(target),
            target.table,
            keys,
            source.value,
            replica.value,
          );
          return write === "conflict"
            ? { ok: "conflict", target }
            : { ok: true, target, action: write };
        } catch (error: unknown) {
          return failure(target, error);
        }
      }),
    );
  });
}
