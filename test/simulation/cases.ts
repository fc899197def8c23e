/**
 * Cases the simulation found, kept as regression tests: each a shrunk workload and the seed of
 * its scheduler and models, as `npm run simulate` printed it, the defect it showed, and what the
 * run must contain for the case to still exercise that defect (the models may change; a case that
 * no longer reaches its scenario fails instead of passing for nothing).
 */
import type { TimelineEntry } from "../../tools/simulation/scheduler";
import type { Workload } from "../../tools/simulation/workload";

export interface FoundCase {
  readonly name: string;
  /** What broke when the case was found, and the fix (file and function). */
  readonly defect: string;
  readonly seed: number;
  readonly workload: Workload;
  /** Whether the run still reaches the scenario: `[description, test]`. */
  readonly reaches: readonly [string, (timeline: readonly TimelineEntry[]) => boolean];
}

/** The index of the first entry whose text includes `text`, after entry `from`; -1 if none. */
export const indexOf = (timeline: readonly TimelineEntry[], text: string, from = -1): number =>
  timeline.findIndex((entry, index) => index > from && entry.text.includes(text));

/** `first` happens, then `then` after it. */
export const inOrder =
  (first: string, then: string) =>
  (timeline: readonly TimelineEntry[]): boolean => {
    const at = indexOf(timeline, first);
    return at >= 0 && indexOf(timeline, then, at) >= 0;
  };

/** Each of `texts` happens, in this order. */
export const inSequence =
  (...texts: readonly string[]) =>
  (timeline: readonly TimelineEntry[]): boolean => {
    let at = -1;
    for (const text of texts) {
      at = indexOf(timeline, text, at);
      if (at < 0) return false;
    }
    return true;
  };

export const FOUND: readonly FoundCase[] = [
  {
    name: "a delayed write onto an item near 400 KB",
    defect:
      "an invocation timed out with its PutItem of the small item in flight; the retry wrote the " +
      "newer item near 400 KB without a marker; the late PutItem passed attribute_not_exists(#seq) " +
      "and left staging at the older item (items.ts newerGuard: attribute_not_exists(#key))",
    seed: 2105232762,
    workload: {
      operations: [
        { at: 0, op: { kind: "untag", key: "a.txt" } },
        { at: 18, op: { kind: "putItem", key: "user#2", value: "v1", large: false } },
        { at: 20, op: { kind: "rewrite", key: "a.txt", metadata: {} } },
        { at: 67, op: { kind: "putItem", key: "user#2", value: "v1", large: true } },
      ],
      operators: { resyncAt: 394, redriveAt: undefined },
    },
    reaches: [
      "the timed-out invocation's PutItem into staging takes effect after it ended, and is refused",
      inOrder(
        "stream#stream-0 ends: timeout",
        "stream#stream-0 PutItem: ConditionalCheckFailedException (staging-table",
      ),
    ],
  },
  {
    name: "a copy of the state before a metadata-only rewrite lands after it, and the check converges again",
    defect:
      "the PutObject's invocation copied a.txt into dev with the metadata it read before a " +
      "same-ETag rewrite; the copy landed after the rewrite; its check after the writes saw the " +
      "source move and converged again with the same change, which convergeObject skipped because " +
      "the replica recorded that change's sequencer; redrive's replay of the rewrite's dead letter " +
      "(dev was down) skipped the same way and deleted the message with dev older " +
      "(objects.ts convergeOnce: no skip by the recorded sequencer; replicator.ts checkAfterWrites)",
    seed: 706436456,
    workload: {
      operations: [
        {
          at: 0,
          op: { kind: "put", key: "a.txt", body: "one", metadata: {}, tags: {}, archived: false },
        },
        { at: 739, op: { kind: "rewrite", key: "a.txt", metadata: { m1: "x" } } },
        { at: 840, op: { kind: "outage", target: "dev", forMs: 2965 } },
      ],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "async-0 copies into dev after the rewrite, and redrive replays the rewrite's dead letter",
      inSequence(
        "workload: CopyObject a.txt onto itself",
        "async#async-0 CopyObject (dev-bucket a.txt",
        "SendMessage",
        "redrive DeleteMessage",
      ),
    ],
  },
  {
    name: "a tag change during another change's convergence, which then writes the older tags",
    defect:
      "the PutObject's invocation read a.txt's tags (t2=x), was held up, and after the " +
      "DeleteObjectTagging put t2=x onto staging's replica (which another invocation had copied " +
      "untagged); its check after the writes compared the fingerprints only, which tags do not " +
      "change, and reported it replicated with staging tagged and the source not " +
      "(objects.ts sameSourceState: tags are part of the state compared)",
    seed: 1102289043,
    workload: {
      operations: [
        { at: 34, op: { kind: "putItem", key: "user#1", value: "v1", large: true } },
        {
          at: 335,
          op: {
            kind: "put",
            key: "a.txt",
            body: "two",
            metadata: { m2: "y z" },
            tags: { t2: "x" },
            archived: false,
          },
        },
        { at: 1712, op: { kind: "outage", target: "dev", forMs: 51550 } },
        { at: 2470, op: { kind: "untag", key: "a.txt" } },
        {
          at: 3872,
          op: {
            kind: "put",
            key: "e=f&g.json",
            body: "three",
            metadata: { m1: "é" },
            tags: { t1: "x" },
            archived: false,
          },
        },
      ],
      operators: { resyncAt: 1189, redriveAt: undefined },
    },
    reaches: [
      "async-0 puts the tags it read before the DeleteObjectTagging onto staging after it",
      inSequence(
        "workload: DeleteObjectTagging a.txt",
        "async#async-0 PutObjectTagging (staging-bucket a.txt",
      ),
    ],
  },
  {
    name: "an object put straight into GLACIER",
    defect:
      "CopyObject from the archived source answered InvalidObjectState, and the function " +
      "dead-lettered it for both targets (an alarm for a state the owner chose), which no redrive " +
      "can replay (objects.ts convergeOnce: an archived source is `archived`, from its HEAD or " +
      "from InvalidObjectState)",
    seed: 11,
    workload: {
      operations: [
        {
          at: 10,
          op: {
            kind: "put",
            key: "e=f&g.json",
            body: "one",
            metadata: {},
            tags: {},
            archived: true,
          },
        },
      ],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "the function converges the archived key",
      inSequence("async#async-0 HeadObject (prod-bucket e=f&g.json", "async#async-0 ends: success"),
    ],
  },
  {
    name: "an object put into GLACIER and restored",
    defect:
      "the function left the archived object alone, as it should, but the rule did not pass " +
      "`Object Restore Completed`: once restored, nothing copied it, and both targets stayed " +
      "without it with no dead letter (lib/delivery.ts replicatedDetailTypes)",
    seed: 912694738,
    workload: {
      operations: [
        {
          at: 2,
          op: {
            kind: "put",
            key: "a.txt",
            body: "three",
            metadata: { m2: "x", m1: "y z" },
            tags: { t1: "x", t2: "é" },
            archived: true,
          },
        },
        { at: 3118, op: { kind: "restore", key: "a.txt" } },
      ],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "the restore is requested while no target has a copy",
      (timeline) => {
        const restore = indexOf(timeline, "workload: RestoreObject a.txt");
        const copy = indexOf(timeline, "CopyObject (dev-bucket a.txt");
        return restore >= 0 && (copy < 0 || copy > restore);
      },
    ],
  },
  {
    name: "an item near 400 KB",
    defect:
      "the replica was written with the `_replicationSequence` marker, which took it past " +
      "DynamoDB's 400 KB: every PutItem answered ValidationException, the record was " +
      "dead-lettered for both targets, and no redrive could ever replay it " +
      "(items.ts replicaItem: no marker on an item it would take past the limit)",
    seed: 29,
    workload: {
      operations: [{ at: 2113, op: { kind: "putItem", key: "user#1", value: "v1", large: true } }],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "the item's stream record is delivered",
      inSequence("workload: PutItem user#1 value=v1 (near 400 KB)", "stream#stream-0 starts"),
    ],
  },
  {
    name: "a stream batch dead-lettered in an outage, read back after empty pages",
    defect:
      "dev was down long enough for Lambda to give up on the batch (its on-failure record in the " +
      "DLQ); redrive read the batch's range from the stream, took three empty pages in a row for " +
      "its end, replayed nothing and deleted the message with dev's item missing " +
      "(tools/ops/stream-range.ts readStreamRange: empty pages are not the end)",
    seed: 8,
    workload: {
      operations: [
        { at: 466, op: { kind: "outage", target: "dev", forMs: 57560 } },
        {
          at: 505,
          op: {
            kind: "put",
            key: "dir/b c+d.csv",
            body: "two",
            metadata: { m1: "y z", m2: "x" },
            tags: { t1: "é", t2: "x" },
            archived: true,
          },
        },
        { at: 1244, op: { kind: "delete", key: "a.txt" } },
        {
          at: 2065,
          op: {
            kind: "put",
            key: "a.txt",
            body: "two",
            metadata: { m1: "é" },
            tags: { t1: "x" },
            archived: false,
          },
        },
        { at: 3282, op: { kind: "deleteItem", key: "user#2" } },
        { at: 3511, op: { kind: "putItem", key: "user#1", value: "v2", large: false } },
      ],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "redrive reads a dead-lettered batch back from the stream",
      inSequence("redrive GetShardIterator", "redrive GetRecords"),
    ],
  },
  {
    name: "a dead letter of an outage, and the end's redrive",
    defect:
      "staging was down, the DeleteObject's change was dead-lettered for it; the end's redrive " +
      "short-polled, got an empty answer (a short poll samples some of SQS's servers) and took " +
      "the queue for empty, leaving the message, which no later redrive read either " +
      "(tools/ops/redrive.ts REDRIVE_WAIT_SECONDS: long polling)",
    seed: 22,
    workload: {
      operations: [
        { at: 3995, op: { kind: "delete", key: "a.txt" } },
        { at: 3996, op: { kind: "outage", target: "staging", forMs: 2011 } },
      ],
      operators: { resyncAt: undefined, redriveAt: 7 },
    },
    reaches: [
      "the function dead-letters a change, then a redrive receives",
      inSequence("async#async-0 SendMessage", "redrive starts", "redrive ReceiveMessage"),
    ],
  },
  {
    name: "an item change while its target is down",
    defect:
      "every attempt at the record failed on dev (retryable) and was counted as ChangesFailed, " +
      "though Lambda delivered the batch again and nothing was dead-lettered: an alarm per " +
      "attempt (invocation.ts: a record is counted when it settles, not on each attempt)",
    seed: 1402307226,
    workload: {
      operations: [
        { at: 1595, op: { kind: "outage", target: "dev", forMs: 89985 } },
        { at: 2670, op: { kind: "putItem", key: "user#2", value: "v2", large: false } },
      ],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    reaches: [
      "a delivery of the record fails while dev is down",
      inSequence("workload: PutItem user#2", "stream#stream-1 ends: error"),
    ],
  },
];
