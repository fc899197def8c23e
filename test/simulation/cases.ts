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
];
