/**
 * The deterministic simulation (tools/simulation/): the real function, redrive and resync against
 * models of S3, DynamoDB, DynamoDB Streams, SQS, EventBridge and Lambda delivery, under schedules
 * a seeded scheduler picks (delays, documented faults, lost answers, concurrent invocations).
 *
 * - The fixed corpus: fast-check seeds 1 and 2, generated workloads and schedules; a failure is
 *   shrunk and printed as a timeline (describeFailure) with the seed and path that replay it.
 * - The cases it found (cases.ts), each a regression test that still reaches its scenario.
 * - The invariants have teeth: a world where a replica is damaged behind the function's back
 *   breaks them, and a failing exploration reports a replayable case.
 *
 * `npm run simulate -- --runs N --seed S` explores further (docs/architecture.md).
 */
import { test } from "@fast-check/jest";
import { parseSimulateArgs } from "../../tools/simulation/args";
import { explore, runInput } from "../../tools/simulation/explore";
import { describeFailure, simulate, warmUp } from "../../tools/simulation/simulate";
import type { Workload } from "../../tools/simulation/workload";
import { OTHER_REGION } from "../../tools/simulation/world";
import { FOUND } from "./cases";

/** Holds every invariant, or throws the readable failure (fast-check shrinks it and prints it). */
async function holdsOrExplains(load: Workload, seed: number): Promise<void> {
  const result = await simulate(load, { seed });
  if (result.violations.length > 0) throw new Error(describeFailure(load, result));
}

// The SDK's first send in a process loads modules in real time (simulate.ts, warmUp).
beforeAll(warmUp);

describe("the fixed corpus", () => {
  for (const seed of [1, 2]) {
    test.prop([runInput()], { seed, numRuns: 30, endOnFailure: true })(
      `every invariant holds under fast-check seed ${String(seed)}`,
      async ([load, simulationSeed]) => {
        await holdsOrExplains(load, simulationSeed);
      },
    );
  }
});

describe("cases the simulation found", () => {
  it.each(FOUND.map((found) => [found.name, found] as const))("%s", async (_name, found) => {
    const result = await simulate(found.workload, { seed: found.seed });
    const [scenario, reaches] = found.reaches;

    expect({ scenario, reached: reaches(result.timeline) }).toEqual({ scenario, reached: true });
    expect(result.violations).toEqual([]);
  });
});

describe("replaying", () => {
  it("gives the same timeline for the same workload and seed", async () => {
    const [found] = FOUND;
    if (found === undefined) throw new Error("no case");
    const first = await simulate(found.workload, { seed: found.seed });
    const again = await simulate(found.workload, { seed: found.seed });
    const other = await simulate(found.workload, { seed: found.seed + 1 });

    expect(again.timeline).toEqual(first.timeline);
    expect(other.timeline).not.toEqual(first.timeline);
  });
});

describe("npm run simulate's arguments", () => {
  it("takes runs, seed, path and max operations, with defaults", () => {
    expect(parseSimulateArgs(["--runs", "5", "--seed", "9", "--path", "3:1"])).toEqual({
      runs: 5,
      seed: 9,
      path: "3:1",
      maxOperations: 10,
      shrinkSeconds: 60,
      help: false,
    });
    expect(parseSimulateArgs([], () => 0.5)).toMatchObject({ runs: 100, seed: 2 ** 30 });
  });

  it("lists every bad argument at once, naming it and its value", () => {
    expect(() =>
      parseSimulateArgs([
        "--runs",
        "0",
        "--max-operations",
        "x",
        "--shrink-seconds",
        "-1",
        "--path",
        "a",
      ]),
    ).toThrow(
      /--runs must be an integer from 1 to 1000000: "0"; --max-operations must be an integer from 1 to 100: "x"; --shrink-seconds must be an integer from 0 to 86400: "-1"; --path must be fast-check's path, numbers separated by ":": "a"; --path needs the --seed it was printed with/,
    );
  });
});

describe("exploration", () => {
  // A replica damaged behind the function's back once everything settled: an object in dev
  // that prod never had, which invariant 1 must see in every run.
  const strayObject: NonNullable<Parameters<typeof explore>[0]["tamper"]> = (world) => {
    world.s3
      .start({
        service: "s3",
        region: OTHER_REGION,
        command: "PutObject",
        input: { Bucket: "dev-bucket", Key: "stray.txt", Body: "not from prod" },
      })
      .finish();
  };

  it("reports a run that breaks an invariant, shrunk, with its timeline and the command that replays it", async () => {
    const outcome = await explore({ runs: 3, seed: 4, maxOperations: 2, tamper: strayObject });

    if (outcome.ok) throw new Error("the damaged world held every invariant");
    expect(outcome.runs).toBe(1);
    // Shrunk: one operation is the least a workload has.
    expect(outcome.workload.operations).toHaveLength(1);
    expect(
      outcome.result.violations
        .filter((violation) => violation.text.startsWith("object stray.txt in dev:"))
        .map((violation) => violation.invariant),
    ).toEqual([1]);
    expect(outcome.replay).toMatch(/^npm run simulate -- --seed 4 --path \d+(:\d+)*$/);
    expect(outcome.report).toContain(`simulation seed ${String(outcome.simulationSeed)}`);
    expect(outcome.report).toContain("timeline:");
    expect(outcome.report).toContain(outcome.replay);
    expect(outcome.shrinkCutShort).toBe(false);
    expect(outcome.report).not.toContain("may not be minimal");
  });

  it("stops shrinking at its budget and reports the smallest failing case so far, saying so", async () => {
    let clock = 0;
    const outcome = await explore({
      runs: 3,
      seed: 4,
      maxOperations: 6,
      tamper: strayObject,
      shrinkSeconds: 5,
      // Each reading of the clock is three seconds later: the second shrink step is past budget.
      now: () => (clock += 3000),
    });

    if (outcome.ok) throw new Error("the damaged world held every invariant");
    expect(outcome.shrinkCutShort).toBe(true);
    expect(outcome.report).toContain(
      "shrinking stopped after 5 s (--shrink-seconds): the case may not be minimal",
    );
    // The first run failed; one shrink step ran before the budget was spent.
    expect(outcome.replay).toMatch(/ --path 0(:\d+)?$/);
    expect(outcome.result.violations.map((violation) => violation.invariant)).toContain(1);
  });

  it("reports a dead letter no redrive can replay, once the weather is calm (invariant 6)", async () => {
    const result = await simulate(
      {
        operations: [{ at: 0, op: { kind: "deleteItem", key: "user#1" } }],
        operators: { resyncAt: undefined, redriveAt: undefined },
      },
      {
        seed: 3,
        tamper: (world) => {
          world.sqs
            .start({
              service: "sqs",
              region: world.settings.region,
              command: "SendMessage",
              input: { QueueUrl: world.dlqUrl, MessageBody: "not a dead letter" },
            })
            .finish();
        },
      },
    );

    expect(result.violations).toEqual([
      {
        invariant: 6,
        text: "after a redrive in calm weather the DLQ still holds a message naming no key or item for every target",
      },
    ]);
    expect(result.timeline.map((entry) => entry.text)).toContain(
      "the weather is calm: one more redrive",
    );
  });

  it("holds on an undamaged world from the same seed", async () => {
    await expect(explore({ runs: 3, seed: 4, maxOperations: 2 })).resolves.toEqual({
      ok: true,
      runs: 3,
    });
  });
});
