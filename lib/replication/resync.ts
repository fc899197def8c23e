/**
 * Resync of one key: converge every target's copy of an object or an item to the source's
 * current state when there is no change event to order it by (`npm run resync`, and S3 Batch
 * Operations tasks in the function). Objects go through the live path's convergence code
 * (`convergeObject`, no sequencer); items through a guard of their own (items.ts).
 *
 * Safe beside live replication: a resync converges in rounds, and a round that wrote is checked
 * by reading the source again after its writes. When the source still holds the state the round
 * wrote, the targets hold it too, and every later source change is applied by the live path
 * after the resync's write (its own guards let it: the resync keeps the replica's recorded
 * sequencer or sequence, older than any later change's). When the source changed, another round
 * follows. A key still changing after `MAX_RESYNC_ROUNDS` rounds is reported as a retryable
 * failure. docs/resync.md has the argument and the cases.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ReplicationClients } from "./clients";
import { targetRegion } from "./clients";
import type { ReplicationSettings, ReplicationTarget } from "./contract";
import { ChangeRaceError, summarizeError } from "./errors";
import type { ItemKey, ObjectChange } from "./events";
import {
  AS_IS,
  readSourceItem,
  sameItem,
  writeItemIfUnchanged,
  type Item,
  type ItemView,
} from "./items";
import { changeLogger } from "./logger";
import { ITEM_SEQUENCE_ATTRIBUTE } from "./sequence";
import { convergeObject, readSourceObject, sameSourceState, type SourceObject } from "./objects";
import type { AppliedAction, TargetFailure, TargetResult } from "./outcome";
import { objectMaskingFor, type Masking } from "./masking-key";
import { targetFailure, type Replicator } from "./replicator";
import { UNLIMITED, type TimeBudget } from "./time-budget";

/** Rounds before a key that keeps changing is reported as failed (retryable). */
export const MAX_RESYNC_ROUNDS = 4;

/** The source kept changing while a resync converged a key: the live path has the last word. */
export class ResyncNotSettledError extends ChangeRaceError {
  override readonly name = "ResyncNotSettledError";
}

const WRITES: readonly AppliedAction[] = ["copied", "put", "deleted", "tagged"];
const wrote = (action: AppliedAction): boolean => WRITES.includes(action);

/** A target whose source kept changing through every round: retryable (Batch Operations redrives it). */
function unsettled(target: ReplicationTarget): TargetFailure {
  return {
    ...targetFailure(
      target,
      new ResyncNotSettledError(
        `the source kept changing: not settled after ${MAX_RESYNC_ROUNDS} rounds`,
      ),
    ),
    attempts: MAX_RESYNC_ROUNDS,
  };
}

/** One round's outcome for one target: a result, or a lost race (read again). */
type Step = TargetResult | { readonly ok: "conflict"; readonly target: ReplicationTarget };

/** What one round of a direct resync did, and the source state it converged the targets to. */
interface Round<S> {
  readonly steps: readonly Step[];
  readonly source: S;
}

/** The source as the last check read it; `undefined` before the first check. */
type Checked<S> = { readonly state: S } | undefined;

/**
 * Rounds with the cheap check of the header: each round converges the pending targets to one
 * source state; when it wrote, one more read of the source tells whether that state is still
 * the source's (done) or not (another round for the targets written, given what the check read).
 * Lost races (`conflict`) get another round too. A target's reported action is its last write,
 * or the verified no-op.
 */
async function checkedRounds<S>(
  targets: readonly ReplicationTarget[],
  round: (
    targets: readonly ReplicationTarget[],
    first: boolean,
    checked: Checked<S>,
  ) => Promise<Round<S> | { readonly error: unknown }>,
  readSource: () => Promise<S>,
  same: (a: S, b: S) => boolean,
): Promise<TargetResult[]> {
  const results: TargetResult[] = targets.map(unsettled);
  const written = new Set<ReplicationTarget>();
  let pending = targets;
  let checked: Checked<S>;
  for (let count = 1; pending.length > 0 && count <= MAX_RESYNC_ROUNDS; count++) {
    const outcome = await round(pending, count === 1, checked);
    if ("error" in outcome) {
      // The round could not read the source: every pending target fails with that error.
      for (const target of pending)
        results[targets.indexOf(target)] = targetFailure(target, outcome.error);
      return results;
    }
    const again: ReplicationTarget[] = [];
    const wroteNow: ReplicationTarget[] = [];
    for (const step of outcome.steps) {
      const index = targets.indexOf(step.target);
      if (step.ok === "conflict") {
        again.push(step.target);
      } else if (!step.ok) {
        results[index] = step;
      } else if (wrote(step.action)) {
        results[index] = step;
        written.add(step.target);
        wroteNow.push(step.target);
      } else if (!written.has(step.target)) {
        results[index] = step;
      }
    }
    checked = undefined;
    if (wroteNow.length > 0) {
      try {
        const state = await readSource();
        checked = { state };
        if (!same(state, outcome.source)) again.push(...wroteNow);
      } catch (error: unknown) {
        for (const target of wroteNow)
          results[targets.indexOf(target)] = targetFailure(target, error);
      }
    }
    pending = again;
  }
  // Still pending: the last round wrote (or lost a race) and the source had moved on.
  for (const target of pending) results[targets.indexOf(target)] = unsettled(target);
  return results;
}

export interface ResyncObjectOptions {
  readonly targets: readonly ReplicationTarget[];
  /**
   * Targets whose listing, made before this call, did not have the key (`npm run resync` lists
   * every target): while the source has the key, their first round copies without a HEAD of the
   * replica, conditional on its absence (a replica written since makes the copy lose the race,
   * and it is read).
   */
  readonly unlisted?: readonly ReplicationTarget[];
  /** For the logs: the run or the Batch Operations task. */
  readonly eventId: string;
  /** What started it, for the logs. @default "resync" */
  readonly description?: string;
  readonly budget?: TimeBudget;
  /** What reaches the targets masked. @default nothing is masked */
  readonly masking?: Masking;
}

/** The change a resync of `key` asks for: no sequencer. */
export function resyncChange(
  bucket: string,
  key: string,
  eventId: string,
  description = "resync",
): ObjectChange {
  return {
    kind: "object",
    eventId,
    bucket,
    key,
    sequencer: undefined,
    time: undefined,
    description,
  };
}

/**
 * Converges `key` of the source bucket in every given target through the replicator (what the
 * function does for an S3 Batch Operations task): one change, as the live path applies it. The
 * replicator reads the source again after the writes and converges again while the source moved
 * on (bounded rounds), so one call settles the key, and the function's metrics count it once per
 * target.
 */
export function resyncObject(
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
  return replicator.replicateObject(change, {
    targets: options.targets,
    ...(options.budget === undefined ? {} : { budget: options.budget }),
  });
}

/**
 * Converges `key` of the source bucket in every given target with the clients (`npm run
 * resync`): one HEAD of the source per round shared by the targets, `convergeObject` per target
 * with it (a HEAD of the replica unless its listing showed it absent, and the write), and one
 * HEAD of the source to check a round that wrote, which stands for convergeObject's own read of
 * the source after each write. A copy is made from the state read (CopySourceIfMatch), so when
 * the source still has that state the replica holds it. A new key in two targets: 4 requests.
 */
export async function resyncObjectWith(
  settings: Pick<ReplicationSettings, "region" | "sourceBucket">,
  clients: Pick<ReplicationClients, "s3">,
  key: string,
  options: ResyncObjectOptions,
): Promise<TargetResult[]> {
  const { eventId } = options;
  const change = resyncChange(settings.sourceBucket, key, eventId, options.description);
  const readSource = () => readSourceObject(clients.s3(), settings.sourceBucket, key);
  return checkedRounds(
    options.targets,
    async (pending, first, checked) => {
      // The check's read, when there was one: no ordering between the two HEADs is needed, as
      // convergeObject reads the replica itself.
      let state: SourceObject | undefined;
      try {
        state = checked === undefined ? await readSource() : checked.state;
      } catch (error: unknown) {
        changeLogger({ eventId, key }).error("source read failed", {
          error: summarizeError(error),
        });
        return { error };
      }
      const steps = await Promise.all(
        pending.map(async (target): Promise<TargetResult> => {
          const log = changeLogger({ eventId, key, target: target.environment });
          try {
            const action = await convergeObject({
              route: {
                source: clients.s3(),
                target: clients.s3(targetRegion(target, settings)),
                sourceBucket: settings.sourceBucket,
                targetBucket: target.bucket,
                key,
              },
              change,
              source: state,
              budget: options.budget ?? UNLIMITED,
              log,
              ...(await objectMaskingFor(options.masking, target, key)),
              ...(first && state !== undefined && options.unlisted?.includes(target) === true
                ? { replica: { state: undefined } }
                : {}),
            });
            log.info("target replicated", { action });
            return { ok: true, target, action };
          } catch (error: unknown) {
            const result = targetFailure(target, error);
            log.error("target failed", { error: result.error, retryable: result.retryable });
            return result;
          }
        }),
      );
      return { steps, source: state };
    },
    readSource,
    sameSourceState,
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

/** Nothing to write: `absent` when neither side has the key, else `skipped`. */
export function unchangedResult(target: ReplicationTarget, replica: unknown): TargetResult {
  return { ok: true, target, action: replica === undefined ? "absent" : "skipped" };
}

/** A consistent read of one item (`undefined`: absent); `readSourceItem` is one GetItem. */
export type ItemRead = (
  dynamodb: DynamoDBClient,
  table: string,
  keys: ItemKey,
) => Promise<Item | undefined>;

/**
 * Converges the item with `keys` in every given target (items.ts has the guard). `scanned` is
 * the source item as a scan saw it (`undefined`: absent; `NOT_SCANNED`: unknown): a replica
 * already equal to it costs one read. In the first round, when no replica records a sequence
 * (live replication never wrote it, so there is no live change to undo), the targets are
 * written the scanned state; otherwise the source is read after every replica was. Either way
 * the round's writes are checked against the source read once more. `read` makes every read
 * (`npm run resync` batches those of many items into one BatchGetItem; each read still happens
 * where this order puts it).
 */
export async function resyncItem(
  settings: Pick<ReplicationSettings, "region" | "sourceTable">,
  clients: Pick<ReplicationClients, "dynamodb">,
  keys: ItemKey,
  scanned: Item | undefined | typeof NOT_SCANNED,
  targets: readonly ReplicationTarget[],
  read: ItemRead = readSourceItem,
  /** How each target sees items (masked or as they are). @default as they are */
  viewOf: (target: ReplicationTarget) => ItemView = () => AS_IS,
): Promise<TargetResult[]> {
  const client = (target: ReplicationTarget) => clients.dynamodb(targetRegion(target, settings));
  const readSource = () => read(clients.dynamodb(), settings.sourceTable, keys);
  return checkedRounds(
    targets,
    async (pending, first) => {
      const replicas = await Promise.all(
        pending.map(async (target) => ({
          target,
          replica: await settle(read(client(target), target.table, viewOf(target).keys(keys))),
        })),
      );
      const asScanned = (target: ReplicationTarget, replica: Item | undefined): boolean =>
        first && scanned !== NOT_SCANNED && sameItem(replica, viewOf(target).item(scanned));
      const readable = replicas.flatMap(({ target, replica }) =>
        replica.ok ? [{ target, value: replica.value }] : [],
      );
      let source: Item | undefined;
      if (
        first &&
        scanned !== NOT_SCANNED &&
        readable.every(({ value }) => value?.[ITEM_SEQUENCE_ATTRIBUTE] === undefined)
      ) {
        source = scanned;
      } else if (readable.some(({ target, value }) => !asScanned(target, value))) {
        try {
          source = await readSource();
        } catch (error: unknown) {
          return { error };
        }
      }
      const steps = await Promise.all(
        replicas.map(async ({ target, replica }): Promise<Step> => {
          if (!replica.ok) return targetFailure(target, replica.error);
          const view = viewOf(target);
          const wanted = view.item(source);
          if (asScanned(target, replica.value) || sameItem(replica.value, wanted)) {
            return unchangedResult(target, replica.value);
          }
          try {
            const write = await writeItemIfUnchanged(
              client(target),
              target.table,
              view.keys(keys),
              wanted,
              replica.value,
            );
            return write === "conflict"
              ? { ok: "conflict", target }
              : { ok: true, target, action: write };
          } catch (error: unknown) {
            return targetFailure(target, error);
          }
        }),
      );
      return { steps, source };
    },
    readSource,
    sameItem,
  );
}
