/**
 * The invocation's time budget for copies. Lambda tells the function how long it has left
 * (`context.getRemainingTimeInMillis()`, https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html);
 * a copy that cannot finish in that time at the copy rate measured in this execution
 * environment is not started: it is dead-lettered at once, and redrive or resync (which have no
 * time limit) complete it. Multipart copies are also aborted when the time runs low.
 */
import { TimeBudgetError } from "./errors";

/**
 * Time kept for what follows a copy (dead letters, the response) and for estimate errors: 5 s,
 * or a quarter of the time left when that is less (a function with a short timeout still copies
 * small objects).
 */
export const SAFETY_MARGIN_MS = 5_000;

/** The time kept back from `remainingMs`. */
export function safetyMarginMs(remainingMs: number): number {
  return Math.min(SAFETY_MARGIN_MS, Math.max(0, remainingMs) / 4);
}
/** Estimates are padded by this factor: copy rates vary from one copy to the next. */
export const ESTIMATE_FACTOR = 1.25;
/**
 * Server-side copy rate assumed until this execution environment has measured its own: 40 MiB/s
 * per request stream, a deliberately low figure (copies of a few GiB within a region usually go
 * faster; across regions slower).
 */
export const DEFAULT_COPY_BYTES_PER_MS = (40 * 1024 * 1024) / 1000;
/** Copies smaller than this are dominated by request latency: they do not update the rate. */
export const MIN_MEASURED_BYTES = 64 * 1024 * 1024;

/** The copy rate per request stream measured in this execution environment (exponentially weighted average). */
export const copyRate = {
  bytesPerMs: DEFAULT_COPY_BYTES_PER_MS,
  /** A copy of `bytes` took `ms` over `streams` parallel request streams. */
  observe(bytes: number, ms: number, streams = 1): void {
    if (bytes < MIN_MEASURED_BYTES || ms <= 0) return;
    this.bytesPerMs = 0.7 * this.bytesPerMs + 0.3 * (bytes / ms / streams);
  },
  reset(): void {
    this.bytesPerMs = DEFAULT_COPY_BYTES_PER_MS;
  },
};

/** How long a copy of `bytes` over `streams` parallel request streams is expected to take. */
export function estimateCopyMs(bytes: number, streams = 1): number {
  return (bytes / (copyRate.bytesPerMs * streams)) * ESTIMATE_FACTOR;
}

export interface TimeBudget {
  /** Whether a copy of `bytes` over `streams` parallel streams can finish in the time left. */
  fits(bytes: number, streams: number): boolean;
  /** Throws `TimeBudgetError` when a copy of `bytes` cannot finish in the time left. */
  requireTimeFor(bytes: number, streams: number, key: string): void;
  /** Calls `low` once when the time left falls to the safety margin; `cancel` stops the watch. */
  onLow(low: () => void): { cancel(): void };
}

/** No time limit (redrive, resync). */
export const UNLIMITED: TimeBudget = {
  fits: () => true,
  requireTimeFor: () => undefined,
  onLow: () => ({ cancel: () => undefined }),
};

/** The budget of one invocation, from Lambda's `getRemainingTimeInMillis`. */
export function invocationBudget(remainingMs: () => number): TimeBudget {
  const left = (): number => {
    const remaining = remainingMs();
    return remaining - safetyMarginMs(remaining);
  };
  return {
    fits: (bytes, streams) => estimateCopyMs(bytes, streams) <= left(),
    requireTimeFor(bytes, streams, key) {
      const needed = estimateCopyMs(bytes, streams);
      const available = left();
      if (needed > available) {
        throw new TimeBudgetError(
          `copying ${key} (${bytes} bytes) needs about ${Math.ceil(needed / 1000)} s at the ` +
            `measured rate, and the invocation has ${Math.max(0, Math.floor(available / 1000))} s left`,
        );
      }
    },
    onLow(low) {
      const remaining = remainingMs();
      const timer = setTimeout(low, Math.max(0, remaining - safetyMarginMs(remaining)));
      return {
        cancel: () => {
          clearTimeout(timer);
        },
      };
    },
  };
}
