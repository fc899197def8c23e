/**
 * The deterministic scheduler: it owns time and order. Virtual time is the only time the code
 * under test sees (`Date` is faked; `setTimeout` and `setInterval` become steps of the scheduler),
 * and every step (an SDK call reaching a service, taking effect, answering; a timer; a delivery;
 * a workload operation) waits in one queue. When several steps are ready, the seeded rng picks
 * which goes first; when none is, the clock moves to the earliest. Between two steps the
 * scheduler lets the JavaScript under test run until it is blocked again (on a step or a timer),
 * so that every interleaving the rng picks is one the code could meet, and a run is reproducible
 * from its seed.
 *
 * Nothing here knows AWS: the models (tools/simulation/model/) say what a call does; the world
 * (world.ts) says which calls exist.
 */
import FakeTimers from "@sinonjs/fake-timers";
import type { Rng } from "./model/types";
import { below, seededRng } from "./rng";

/** One thing that can happen at or after `at` (virtual ms). */
export interface Step {
  readonly id: number;
  readonly at: number;
  readonly label: string;
  readonly run: () => void | Promise<void>;
  cancelled: boolean;
}

/** One line of a run's timeline. */
export interface TimelineEntry {
  readonly at: number;
  readonly text: string;
}

/** The real setImmediate, captured before anything is faked: the scheduler's own yield. */
const realSetImmediate = globalThis.setImmediate;
const realSetTimeout = globalThis.setTimeout;
const yieldToCode = (): Promise<void> =>
  new Promise((resolve) => {
    realSetImmediate(resolve);
  });
const sleepReally = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    realSetTimeout(resolve, ms);
  });

/**
 * Turns of the event loop with nothing new after which the code under test is taken as blocked.
 * Nothing in a run does real I/O, so one turn usually suffices; a few more cover lazy loading.
 */
const QUIET_TURNS = 4;

/**
 * Real milliseconds the scheduler waits, once nothing is left to run and the run is not done,
 * for code that is still busy outside virtual time (a module loaded lazily from disk, a file
 * read) to make its next call. Only a run that is really stuck pays it.
 */
const STALL_GRACE_MS = 3_000;

/** A fake Node.js `Timeout`: what `setTimeout` returns to the code under test. */
class FakeTimeout {
  constructor(readonly step: Step) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.step.id;
  }
}

export interface SchedulerOptions {
  readonly seed: number;
  /** Virtual time at the start (ms since the epoch). @default 2026-12-01T00:00:00Z */
  readonly start?: number;
}

export class Scheduler {
  readonly rng: Rng;
  readonly timeline: TimelineEntry[] = [];
  private readonly steps: Step[] = [];
  private nextId = 1;
  private readonly clock: ReturnType<ReturnType<typeof FakeTimers.withGlobal>["install"]>;
  private readonly restore: (() => void)[] = [];
  /** Bumped whenever a step is added: how the scheduler tells the code is still moving. */
  private activity = 0;

  constructor(options: SchedulerOptions) {
    this.rng = seededRng(options.seed, "scheduler");
    this.clock = FakeTimers.withGlobal(globalThis).install({
      now: options.start ?? Date.parse("2026-12-01T00:00:00.000Z"),
      toFake: ["Date"],
    });
    this.fakeTimers();
  }

  now(): number {
    return this.clock.now;
  }

  /** Adds a step that may run at or after `at`. */
  at(at: number, label: string, run: () => void | Promise<void>): Step {
    const step: Step = {
      id: this.nextId++,
      at: Math.max(at, this.now()),
      label,
      run,
      cancelled: false,
    };
    this.steps.push(step);
    this.activity += 1;
    return step;
  }

  /** Adds a step that may run after `delayMs`. */
  after(delayMs: number, label: string, run: () => void | Promise<void>): Step {
    return this.at(this.now() + delayMs, label, run);
  }

  cancel(step: Step): void {
    step.cancelled = true;
  }

  /** Writes a line of the timeline at the current time. */
  note(text: string): void {
    this.timeline.push({ at: this.now(), text });
  }

  /** Lets the code under test run until it is blocked on the scheduler again. */
  async settle(): Promise<void> {
    let quiet = 0;
    while (quiet < QUIET_TURNS) {
      const before = this.activity;
      await yieldToCode();
      quiet = this.activity === before ? quiet + 1 : 0;
    }
  }

  /**
   * Runs steps until `done()` holds after a step, or nothing is left, or the clock passes
   * `horizon`. `poll` is called before each choice, so that models may hand out what became
   * ready (an invocation Lambda starts now). Returns whether `done()` held.
   */
  async run(options: {
    readonly done: () => boolean;
    readonly horizon: number;
    readonly poll?: () => void;
    /** The earliest time a model will change by itself (a retry, a restore, a poll). */
    readonly nextDue?: () => number | undefined;
    readonly onDue?: () => void;
    /**
     * Whether no code of the run is running at all (no invocation or command has begun and not
     * ended): a run with no step left then ends at once, or as soon as the last one ends, without
     * waiting out STALL_GRACE_MS.
     */
    readonly idle?: () => boolean;
  }): Promise<boolean> {
    for (;;) {
      await this.settle();
      options.poll?.();
      this.prune();
      if (options.done()) return true;
      const now = this.now();
      const ready = this.steps.filter((step) => step.at <= now);
      if (ready.length > 0) {
        const step = ready[below(this.rng, ready.length)];
        if (step === undefined) continue;
        this.steps.splice(this.steps.indexOf(step), 1);
        await step.run();
        continue;
      }
      const next = Math.min(
        ...this.steps.map((step) => step.at),
        options.nextDue?.() ?? Number.POSITIVE_INFINITY,
      );
      if (!Number.isFinite(next) || next > options.horizon) {
        if (await this.stirsReally(options.done, options.idle)) continue;
        return false;
      }
      this.clock.setSystemTime(Math.max(now, next));
      options.onDue?.();
    }
  }

  /**
   * Whether the code, blocked on nothing the scheduler holds, comes back within STALL_GRACE_MS
   * of real time: a new step, or the run done. Under load a lazy module load or a file read can
   * outlast QUIET_TURNS, and ending the run then would judge a world still moving.
   */
  private async stirsReally(done: () => boolean, idle?: () => boolean): Promise<boolean> {
    const before = this.activity;
    for (let waited = 0; waited < STALL_GRACE_MS && idle?.() !== true; waited += 10) {
      await sleepReally(10);
      if (this.activity !== before || done()) return true;
    }
    return false;
  }

  /** Drops cancelled steps. */
  private prune(): void {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      if (this.steps[i]?.cancelled === true) this.steps.splice(i, 1);
    }
  }

  /** Whether any step is waiting (a request in flight, a timer). */
  get busy(): boolean {
    return this.steps.some((step) => !step.cancelled);
  }

  /**
   * `setTimeout` / `setInterval` of the code under test become steps: the SDK's retry backoff,
   * a copy's time watch. The scheduler's own yield is the real `setImmediate`.
   */
  private fakeTimers(): void {
    const scope = globalThis as unknown as Record<string, unknown>;
    const saved = {
      setTimeout: scope.setTimeout,
      clearTimeout: scope.clearTimeout,
      setInterval: scope.setInterval,
      clearInterval: scope.clearInterval,
    };
    const schedule = (callback: unknown, delay: unknown, args: unknown[], repeat: boolean) => {
      if (typeof callback !== "function") throw new TypeError("callback must be a function");
      const ms = Math.max(0, Number(delay) || 0);
      let handle: FakeTimeout;
      const fire = (): void => {
        if (repeat) handle = new FakeTimeout(this.after(Math.max(1, ms), "timer", fire));
        (callback as (...values: unknown[]) => void)(...args);
      };
      handle = new FakeTimeout(this.after(ms, "timer", fire));
      return {
        get current() {
          return handle;
        },
      };
    };
    const timers = new WeakMap<object, { current: FakeTimeout }>();
    const start =
      (repeat: boolean) =>
      (callback: unknown, delay?: unknown, ...args: unknown[]) => {
        const holder = schedule(callback, delay, args, repeat);
        const handle = holder.current;
        timers.set(handle, holder);
        return handle;
      };
    const stop = (handle: unknown): void => {
      if (handle instanceof FakeTimeout) {
        const holder = timers.get(handle);
        this.cancel((holder?.current ?? handle).step);
      }
    };
    scope.setTimeout = start(false);
    scope.setInterval = start(true);
    scope.clearTimeout = stop;
    scope.clearInterval = stop;
    this.restore.push(() => {
      Object.assign(scope, saved);
    });
  }

  /** Gives the real timers and `Date` back. */
  dispose(): void {
    for (const undo of this.restore.reverse()) undo();
    this.clock.uninstall();
  }
}
