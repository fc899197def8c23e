/**
 * Property-based exploration: fast-check generates workloads and scheduler seeds, each pair is a
 * simulation run, and a run that breaks an invariant is shrunk to a minimal workload and printed
 * as a readable timeline with what replays it. Used by the test suite (a fixed corpus of seeds)
 * and by `npm run simulate` (as many runs as asked).
 */
import fc from "fast-check";
import {
  describeFailure,
  simulate,
  type SimulationOptions,
  type SimulationResult,
  warmUp,
} from "./simulate";
import { workload, type Workload } from "./workload";

export interface ExploreOptions {
  /** Runs to explore. */
  readonly runs: number;
  /** fast-check's seed: the same seed explores the same runs. */
  readonly seed: number;
  /** fast-check's path of a counterexample, to replay it alone. */
  readonly path?: string;
  readonly maxOperations?: number;
  /** Passed to every run (simulate.ts): a test's damage behind the code's back. */
  readonly tamper?: SimulationOptions["tamper"];
  /**
   * Seconds of shrinking after the first failure: each shrink step reruns a whole simulation,
   * and some failures took fast-check more than 13 minutes to shrink. Past the budget, further
   * candidates are not run (taken as holding), so the smallest failing case found so far is
   * reported, marked as perhaps not minimal. @default 60
   */
  readonly shrinkSeconds?: number;
  /** The clock of the shrink budget, in milliseconds. @default Date.now */
  readonly now?: () => number;
}

export type Exploration =
  | { readonly ok: true; readonly runs: number }
  | {
      readonly ok: false;
      readonly runs: number;
      readonly workload: Workload;
      readonly simulationSeed: number;
      readonly result: SimulationResult;
      /** What replays it: `npm run simulate -- --seed S --path P`. */
      readonly replay: string;
      readonly report: string;
      /** Whether shrinking ran out of its budget (the case may not be minimal). */
      readonly shrinkCutShort: boolean;
    };

/** The generated input of one run: a workload and the seed of its scheduler and models. */
export const runInput = (maxOperations = 10) =>
  fc.tuple(workload({ maxOperations }), fc.integer({ min: 1, max: 2 ** 31 - 1 }));

/** Whether a run holds every invariant. */
export async function holds(
  input: readonly [Workload, number],
  tamper?: SimulationOptions["tamper"],
): Promise<boolean> {
  const [load, seed] = input;
  const result = await simulate(load, { seed, ...(tamper === undefined ? {} : { tamper }) });
  return result.violations.length === 0;
}

export async function explore(options: ExploreOptions): Promise<Exploration> {
  const { tamper, now = Date.now } = options;
  const budgetMs = (options.shrinkSeconds ?? 60) * 1000;
  let deadline: number | undefined;
  // Set inside the property (TypeScript cannot see a closure's writes to a `let`).
  const shrink = { cutShort: false };
  await warmUp();
  const details = await fc.check(
    fc.asyncProperty(runInput(options.maxOperations), async (input) => {
      if (deadline !== undefined && now() >= deadline) {
        shrink.cutShort = true;
        return true;
      }
      const held = await holds(input, tamper);
      if (!held) deadline ??= now() + budgetMs;
      return held;
    }),
    {
      seed: options.seed,
      numRuns: options.runs,
      ...(options.path === undefined ? {} : { path: options.path }),
      // Shrinking reruns whole simulations: bounded, so that a report comes back.
      maxSkipsPerRun: 0,
    },
  );
  if (!details.failed || details.counterexample === null) {
    return { ok: true, runs: details.numRuns };
  }
  const [load, simulationSeed] = details.counterexample[0];
  const result = await simulate(load, {
    seed: simulationSeed,
    ...(tamper === undefined ? {} : { tamper }),
  });
  const replay = `npm run simulate -- --seed ${String(options.seed)} --path ${details.counterexamplePath}`;
  return {
    ok: false,
    runs: details.numRuns,
    workload: load,
    simulationSeed,
    result,
    replay,
    report:
      `${describeFailure(load, result)}\nreplay: ${replay}` +
      (shrink.cutShort
        ? `\nshrinking stopped after ${String(budgetMs / 1000)} s (--shrink-seconds): the case may not be minimal`
        : ""),
    shrinkCutShort: shrink.cutShort,
  };
}
