/**
 * The local engine's object part: lists the source bucket and every target (ListObjectsV2,
 * paginated, under the prefix), walks the listings side by side in S3's key order (so memory
 * stays constant whatever the bucket's size), and converges every source key in every target
 * through the replication function's own convergence code (`convergeObject`: server-side copy,
 * never through this process; lib/replication/resync.ts runs and checks the rounds). Keys found only in a target are extra: reported, and deleted (through the same code,
 * which re-reads the source first) with --delete-extra. A dry run reads and changes nothing.
 */
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import type { ReplicationClients } from "../../lib/replication/clients";
import { targetRegion } from "../../lib/replication/clients";
import type { ReplicationSettings, ReplicationTarget } from "../../lib/replication/contract";
import { summarizeError } from "../../lib/replication/errors";
import { objectRuleOf } from "../../lib/replication/masking";
import { objectMaskingFor, type Masking } from "../../lib/replication/masking-key";
import {
  readObjectTags,
  readReplica,
  readSourceObject,
  sameTags,
  wantedOf,
} from "../../lib/replication/objects";
import type { TargetResult } from "../../lib/replication/outcome";
import { resyncObjectWith, unchangedResult } from "../../lib/replication/resync";
import type { ResyncTally } from "./resync-progress";

/** Every key of `bucket` under `prefix`, in the order S3 lists them. */
export async function* listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string | undefined,
): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    yield* (page.Contents ?? [])
      .map((object) => object.Key)
      .filter((key): key is string => key !== undefined);
    token = page.NextContinuationToken;
  } while (token !== undefined);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * S3's listing order: "List results are always returned in UTF-8 binary order"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html). JavaScript compares
 * UTF-16 code units, which is the same order unless a key has characters outside the BMP.
 */
export function compareKeys(a: string, b: string): number {
  if (SURROGATE.test(a) || SURROGATE.test(b)) {
    return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A key to converge in every target (with the targets that did not list it), or a key only one target has. */
export type ObjectWork =
  | {
      readonly kind: "source";
      readonly key: string;
      readonly unlisted: readonly ReplicationTarget[];
    }
  | { readonly kind: "extra"; readonly key: string; readonly target: ReplicationTarget };

/**
 * Merges the source's listing with each target's (all in S3's order): every source key once, with
 * the targets whose listing does not have it, then every key a target has and the source does
 * not, as soon as the source's listing is past it.
 */
export async function* mergeListings(
  source: AsyncIterable<string>,
  targets: readonly { readonly target: ReplicationTarget; readonly keys: AsyncIterable<string> }[],
): AsyncGenerator<ObjectWork> {
  const cursors = targets.map(({ target, keys }) => ({
    target,
    iterator: keys[Symbol.asyncIterator](),
    head: undefined as string | undefined,
  }));
  const advance = async (cursor: (typeof cursors)[number]): Promise<void> => {
    const next = await cursor.iterator.next();
    cursor.head = next.done === true ? undefined : next.value;
  };
  await Promise.all(cursors.map(advance));
  /** Yields the extras below `key`; collects the targets that list `key` itself. */
  const drainBelow = async function* (
    key: string | undefined,
    listed: ReplicationTarget[],
  ): AsyncGenerator<ObjectWork> {
    for (const cursor of cursors) {
      while (cursor.head !== undefined) {
        const order = key === undefined ? -1 : compareKeys(cursor.head, key);
        if (order > 0) break;
        if (order < 0) yield { kind: "extra", key: cursor.head, target: cursor.target };
        else listed.push(cursor.target);
        await advance(cursor);
      }
    }
  };
  for await (const key of source) {
    const listed: ReplicationTarget[] = [];
    yield* drainBelow(key, listed);
    yield {
      kind: "source",
      key,
      unlisted: targets.map(({ target }) => target).filter((target) => !listed.includes(target)),
    };
  }
  yield* drainBelow(undefined, []);
}

/** Runs `work` on each item with at most `concurrency` at once (the items are pulled lazily). */
export async function inPool<T>(
  items: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const iterator: AsyncIterator<T> | Iterator<T> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) return;
      await work(next.value);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface ObjectResyncRun {
  readonly settings: ReplicationSettings;
  readonly clients: ReplicationClients;
  readonly targets: readonly ReplicationTarget[];
  readonly prefix: string | undefined;
  readonly dryRun: boolean;
  readonly deleteExtra: boolean;
  readonly concurrency: number;
  /** Log id of this run. */
  readonly runId: string;
  readonly tally: ResyncTally;
  /** What reaches the targets masked. @default nothing is */
  readonly masking?: Masking;
}

/** Whether `key` is under a prefix the masking excludes from `target`. */
const excludedFrom = (run: ObjectResyncRun, target: ReplicationTarget, key: string): boolean =>
  run.masking?.masks(target) === true && objectRuleOf(run.masking.rules, key)?.exclude === true;

/** What a dry run predicts for one key in each target (the decisions convergeObject makes). */
async function planKey(
  run: ObjectResyncRun,
  key: string,
  targets: readonly ReplicationTarget[],
): Promise<TargetResult[]> {
  const { settings, clients } = run;
  let source;
  try {
    source = await readSourceObject(clients.s3(), settings.sourceBucket, key);
  } catch (error: unknown) {
    return targets.map((target) => failed(target, error));
  }
  return Promise.all(
    targets.map(async (target): Promise<TargetResult> => {
      try {
        const replica = await readReplica(
          clients.s3(targetRegion(target, settings)),
          target.bucket,
          key,
        );
        if (source === undefined) {
          return replica === undefined
            ? unchangedResult(target, undefined)
            : { ok: true, target, action: "deleted" };
        }
        const masked = await objectMaskingFor(run.masking, target, key);
        const version = masked.masking?.masker.version;
        if (replica?.source === source.fingerprint && replica.masking === version) {
          // The same contents: the tags decide (a tag change keeps the fingerprint).
          const held = await readObjectTags(
            clients.s3(targetRegion(target, settings)),
            target.bucket,
            key,
          );
          return held !== undefined && sameTags(held, wantedOf(source, masked.masking).tags)
            ? unchangedResult(target, replica)
            : { ok: true, target, action: "tagged" };
        }
        if (source.archived !== undefined) return { ok: true, target, action: "archived" };
        return { ok: true, target, action: "copied" };
      } catch (error: unknown) {
        return failed(target, error);
      }
    }),
  );
}

function failed(target: ReplicationTarget, error: unknown): TargetResult {
  return { ok: false, target, error: summarizeError(error), attempts: 1, retryable: false };
}

/**
 * Converges (or, in a dry run, plans) one key in the given targets; `unlisted`: the targets whose
 * listing did not have it.
 */
function converge(
  run: ObjectResyncRun,
  key: string,
  targets: readonly ReplicationTarget[],
  unlisted: readonly ReplicationTarget[] = [],
): Promise<TargetResult[]> {
  if (run.dryRun) return planKey(run, key, targets);
  return resyncObjectWith(run.settings, run.clients, key, {
    targets,
    unlisted,
    eventId: run.runId,
    ...(run.masking === undefined ? {} : { masking: run.masking }),
  });
}

/**
 * A key that only `target` listed. Without --delete-extra it is confirmed absent from the
 * source and counted as extra; with it, it is converged like any key (the source is read first:
 * a key created since the listing is copied, not deleted).
 */
async function handleExtra(run: ObjectResyncRun, key: string, target: ReplicationTarget) {
  const { tally } = run;
  const environment = target.environment;
  if (run.deleteExtra) {
    for (const result of await converge(run, key, [target])) {
      if (result.ok && result.action === "deleted") tally.add(environment, "objects", "extra");
      tally.record("objects", key, result);
    }
    return;
  }
  let source;
  try {
    source = await readSourceObject(run.clients.s3(), run.settings.sourceBucket, key);
  } catch (error: unknown) {
    tally.record("objects", key, failed(target, error));
    return;
  }
  if (source === undefined) {
    tally.add(environment, "objects", "extra");
    return;
  }
  // Created in the source since it was listed: converge it like a listed key.
  for (const result of await converge(run, key, [target])) tally.record("objects", key, result);
}

/**
 * A replica under a prefix the masking excludes (written before the rule): extra, and deleted
 * (conditional on the replica as its HEAD saw it) with --delete-extra.
 */
async function handleExcluded(run: ObjectResyncRun, key: string, target: ReplicationTarget) {
  const { tally } = run;
  if (!run.deleteExtra || run.dryRun) {
    tally.add(target.environment, "objects", "extra");
    return;
  }
  const s3 = run.clients.s3(targetRegion(target, run.settings));
  try {
    const replica = await readReplica(s3, target.bucket, key);
    if (replica === undefined) return;
    await s3.send(
      new DeleteObjectCommand({ Bucket: target.bucket, Key: key, IfMatch: replica.etag }),
    );
    tally.add(target.environment, "objects", "extra");
    tally.record("objects", key, { ok: true, target, action: "deleted" });
  } catch (error: unknown) {
    tally.record("objects", key, failed(target, error));
  }
}

/** Resyncs the objects of every given target. */
export async function resyncObjects(run: ObjectResyncRun): Promise<void> {
  const { settings, clients, targets, prefix, tally } = run;
  const work = mergeListings(
    listKeys(clients.s3(), settings.sourceBucket, prefix),
    targets.map((target) => ({
      target,
      keys: listKeys(clients.s3(targetRegion(target, settings)), target.bucket, prefix),
    })),
  );
  await inPool(work, run.concurrency, async (item) => {
    if (item.kind === "extra") {
      await handleExtra(run, item.key, item.target);
    } else {
      const excluded = targets.filter((target) => excludedFrom(run, target, item.key));
      const included = targets.filter((target) => !excluded.includes(target));
      // A replica under an excluded prefix should not exist: extra, deleted with --delete-extra.
      for (const target of excluded.filter((t) => !item.unlisted.includes(t))) {
        await handleExcluded(run, item.key, target);
      }
      for (const result of await converge(run, item.key, included, item.unlisted)) {
        tally.record("objects", item.key, result);
      }
      tally.done.objects += 1;
    }
  });
  tally.total.objects = tally.done.objects;
}
