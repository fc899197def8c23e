/**
 * Items, end to end on the emulators: writes to the source table become KEYS_ONLY stream
 * records, the event source mapping (the program's batch, bisect, retry and age settings, partial
 * batch responses) invokes the built bundle in the Lambda host, and the target tables converge.
 * The mapping checkpoints on what the function reports, as Lambda does: only a SequenceNumber of
 * the batch counts.
 */
import { replicationRetry } from "../../lib/delivery";
import { itemKeys } from "../../tools/emulators/events";
import type { Fault } from "../../tools/emulators/fault-proxy";
import {
  TARGETS,
  deleteSourceItem,
  expectTargetsEqualSource,
  listQueue,
  putSourceItem,
  redrive,
  startHarness,
  tableContents,
  type Harness,
} from "../support/replication-harness";

let harness: Harness;
/** Keys whose writes to staging fail with this fault (set by a test). */
let failing: { pk: string; fault: Fault } | undefined;

beforeAll(async () => {
  harness = await startHarness({
    batchSize: 5,
    faults: {
      dynamodb: (request) =>
        failing !== undefined &&
        request.table === "staging-table" &&
        request.operation !== "GetItem" &&
        request.body.includes(`"${failing.pk}"`)
          ? failing.fault
          : undefined,
    },
  });
});
afterAll(async () => {
  await harness.stop();
});

const item = (pk: string, version: number) => ({
  ...itemKeys(pk, "profile"),
  version: { N: String(version) },
});
const staging = () => tableContents(harness, "staging", "staging-table");

describe("items", () => {
  it("puts, modifies and removes items in every target table", async () => {
    await putSourceItem(harness, item("user#1", 1));
    await putSourceItem(harness, item("user#2", 1));
    await putSourceItem(harness, item("user#1", 2));
    await deleteSourceItem(harness, itemKeys("user#2", "profile"));

    const { stream } = await harness.settle();

    expect(stream.invocations.every((invocation) => invocation.outcome === "success")).toBe(true);
    await expectTargetsEqualSource(harness);
    expect([...(await staging()).keys()]).toEqual(["user#1|profile"]);
  });

  it("names a record that keeps failing by its SequenceNumber; the records before it are applied", async () => {
    failing = { pk: "batch#3", fault: "dynamodb-throttling" };
    const records = harness.pipeline.stream?.records().length ?? 0;
    for (const n of [1, 2, 3, 4, 5]) await putSourceItem(harness, item(`batch#${n}`, 1));
    const written = harness.pipeline.stream?.records().slice(records) ?? [];
    const middle = written[2]?.dynamodb?.SequenceNumber;

    const { stream } = await harness.settle();
    failing = undefined;

    const partial = stream.invocations.filter((invocation) => invocation.outcome === "partial");
    expect(partial.length).toBeGreaterThan(0);
    // Every report names the failing record by its sequence number, never by eventID.
    for (const invocation of partial) {
      expect(invocation.reported).toEqual([middle]);
    }
    expect(stream.invocations.some((invocation) => invocation.outcome === "invalid-response")).toBe(
      false,
    );
    const rows = await staging();
    expect(rows.has("batch#1|profile")).toBe(true);
    expect(rows.has("batch#2|profile")).toBe(true);
    expect(rows.has("batch#3|profile")).toBe(false);
    // After the retries, the mapping discarded the rest of the batch from that record on, and
    // left its batch record in the DLQ (redrive replays it: integration-dead-letters).
    expect(stream.discarded).toEqual([
      expect.objectContaining({ startSequenceNumber: middle, reason: "retries-exhausted" }),
    ]);
    expect(stream.redeliveries).toBeGreaterThanOrEqual(replicationRetry.streamMaximumRetryAttempts);
  });

  it("dead-letters a record that fails for good on one target, once, and applies it elsewhere", async () => {
    failing = { pk: "denied#1", fault: "dynamodb-access-denied" };
    await putSourceItem(harness, item("denied#1", 1));

    const { stream } = await harness.settle();
    failing = undefined;

    expect(stream.invocations.at(-1)?.outcome).toBe("success");
    expect((await tableContents(harness, "dev", "dev-table")).has("denied#1|profile")).toBe(true);
    expect((await staging()).has("denied#1|profile")).toBe(false);
    const letters = await lettersFor("denied#1");
    expect(letters).toEqual([
      expect.objectContaining({
        reason: "target-failed",
        source: "dynamodb-stream",
        target: TARGETS[1],
      }),
    ]);
  });
});

describe("redrive beside live traffic", () => {
  it("never brings back an item deleted while the replay was under way", async () => {
    // A put that staging refused for good: one dead letter, naming staging.
    failing = { pk: "race#1", fault: "dynamodb-access-denied" };
    await putSourceItem(harness, item("race#1", 1));
    await harness.settle();
    failing = undefined;
    expect(await lettersFor("race#1")).toHaveLength(1);

    // The replay reads the source (the item is there), then, before its put reaches staging,
    // the item is deleted in production and the live path applies that delete everywhere.
    let raced = false;
    const summary = await redrive(harness, {
      prepare: (clients) => {
        clients.dynamodb().middlewareStack.add(
          (next) => async (args) => {
            const input = args.input as { TableName?: string; Item?: object };
            if (
              !raced &&
              input.TableName === "staging-table" &&
              JSON.stringify(input.Item ?? {}).includes('"race#1"')
            ) {
              raced = true;
              await deleteSourceItem(harness, itemKeys("race#1", "profile"));
              await harness.settle();
            }
            return next(args);
          },
          { step: "initialize", name: "raceLiveDelete" },
        );
      },
    });

    expect(raced).toBe(true);
    expect(summary.failed).toBe(0);
    // The put landed after the delete (nothing recorded a sequence to refuse it), and redrive
    // took it back once it read the source again.
    expect((await staging()).has("race#1|profile")).toBe(false);
    await expectTargetsEqualSource(harness);
  });
});

async function lettersFor(pk: string): Promise<Record<string, unknown>[]> {
  return (await listQueue(harness.source.sqs, harness.dlqUrl))
    .map((message) => message.body as Record<string, unknown>)
    .filter((letter) => JSON.stringify(letter.event ?? null).includes(`"${pk}"`));
}
