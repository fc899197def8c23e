/**
 * One simulation run: a world with a seed and a weather, a workload applied to it, the function
 * and the operators it starts run to quiescence, a last redrive, and the invariants checked. The
 * run's timeline (every call's effect, every invocation, every workload operation, in virtual
 * time) is what a failing case prints, with the seed that replays it.
 */
import { logger } from "../../lib/replication/logger";
import { schedule } from "./driver";
import { REDRIVE_VISIBILITY_TIMEOUT_SECONDS } from "../ops/redrive";
import { checkInvariants, undrained, type Violation } from "./invariants";
import { CALM, type Weather } from "./network";
import { seededRng } from "./rng";
import type { TimelineEntry } from "./scheduler";
import { describeOperation, type Workload } from "./workload";
import { World } from "./world";

/** The weather of the explored runs: every kind of trouble, often enough to meet each other. */
export const STORMY: Weather = {
  fault: 0.08,
  lostAnswer: 0.04,
  hold: 0.15,
  maxHoldMs: 40_000,
  latencyMs: 40,
};

export interface SimulationResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  /** What the guarantees do not cover, seen in this run (invariants.ts): not a failure. */
  readonly limits: readonly string[];
  readonly timeline: readonly TimelineEntry[];
  readonly invocations: number;
  readonly calls: number;
  /** Virtual ms the run took. */
  readonly virtualMs: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly weather?: Weather;
  readonly functionTimeoutMs?: number;
  /**
   * Changes the world behind the code's back once it has settled, before the invariants are
   * checked: how a test shows that the invariants see a damaged target.
   */
  readonly tamper?: (world: World) => void;
}

/** Runs `workload` in a fresh world; never throws for what the code under test does. */
export async function simulate(
  workload: Workload,
  options: SimulationOptions,
): Promise<SimulationResult> {
  const random = Math.random;
  // The SDK's retry jitter draws from Math.random: the run's own generator, for the replay.
  Math.random = seededRng(options.seed, "Math.random");
  const level = logger.getLevelName();
  logger.setLogLevel("SILENT");
  const world = new World({
    seed: options.seed,
    weather: options.weather ?? STORMY,
    ...(options.functionTimeoutMs === undefined
      ? {}
      : { functionTimeoutMs: options.functionTimeoutMs }),
  });
  const started = world.scheduler.now();
  try {
    schedule(world, workload);
    const span = Math.max(0, ...workload.operations.map((timed) => timed.at));
    await world.runUntilQuiet(span);
    // What an operator does at the end: replay whatever is in the dead-letter queue.
    world.startRedrive();
    await world.runUntilQuiet(0);
    options.tamper?.(world);
    const { violations, limits } = checkInvariants(world, world.history);
    violations.push(...(await calmRedrive(world)));
    return {
      seed: options.seed,
      violations,
      limits,
      timeline: world.scheduler.timeline,
      invocations: world.invocations.length,
      calls: world.network.calls.length,
      virtualMs: world.scheduler.now() - started,
    };
  } finally {
    world.dispose();
    Math.random = random;
    logger.setLogLevel(level);
  }
}

/**
 * Invariant 6 (invariants.ts): once AWS answers again, a redrive empties the DLQ. Only when there
 * is something in it: the weather turns calm, the visibility of what the last redrive kept runs
 * out, one more redrive runs, and what it left is reported, with any message it deleted before
 * what it names converged (invariant 3).
 */
async function calmRedrive(world: World): Promise<Violation[]> {
  const held = world.sqs.messages(world.dlqUrl);
  if (held.length === 0) return [];
  world.network.weather = CALM;
  const deletions = world.redriveDeletions.length;
  // What the last redrive kept is visible again unless its release was lost: then wait it out.
  const hidden = held.some((message) => !message.visible);
  await world.runUntilQuiet(hidden ? REDRIVE_VISIBILITY_TIMEOUT_SECONDS * 1000 : 0);
  world.scheduler.note("the weather is calm: one more redrive");
  world.startRedrive();
  await world.runUntilQuiet(0);
  return [
    ...world.redriveDeletions
      .slice(deletions)
      .filter((each) => !each.converged)
      .map((each) => ({
        invariant: 3 as const,
        text: `the calm redrive deleted a message naming ${each.names} while ${each.why}`,
      })),
    ...undrained(world),
  ];
}

/** A failing run as a person reads it: the seed, the workload, the violations, the timeline. */
export function describeFailure(workload: Workload, result: SimulationResult, limit = 400): string {
  const start = result.timeline[0]?.at ?? 0;
  const time = (at: number): string => `${((at - start) / 1000).toFixed(3).padStart(9)} s`;
  const lines = [
    `simulation seed ${String(result.seed)}: ${String(result.violations.length)} violation(s)`,
    ...result.violations.map((violation) => `  [${String(violation.invariant)}] ${violation.text}`),
    "workload:",
    ...workload.operations.map(
      (timed) => `  at ${String(timed.at)} ms: ${describeOperation(timed.op)}`,
    ),
    `  operators: resync at ${String(workload.operators.resyncAt ?? "never")}, redrive at ${String(workload.operators.redriveAt ?? "never")} (and at the end)`,
    "timeline:",
    ...result.timeline.slice(0, limit).map((entry) => `${time(entry.at)}  ${entry.text}`),
  ];
  if (result.timeline.length > limit)
    lines.push(`  ... ${String(result.timeline.length - limit)} more`);
  return lines.join("\n");
}

/**
 * One run whose result is not used. The SDK's first send in a process loads modules in real
 * time, which the scheduler cannot see (it would take the code for quiet): a process runs this
 * before the runs it measures.
 */
export async function warmUp(): Promise<void> {
  await simulate(
    {
      operations: [{ at: 0, op: { kind: "deleteItem", key: "user#1" } }],
      operators: { resyncAt: undefined, redriveAt: undefined },
    },
    { seed: 1 },
  );
}
