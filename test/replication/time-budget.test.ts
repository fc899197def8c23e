/** The invocation's time budget for copies (lib/replication/time-budget.ts). */
import { TimeBudgetError } from "../../lib/replication/errors";
import {
  DEFAULT_COPY_BYTES_PER_MS,
  ESTIMATE_FACTOR,
  MIN_MEASURED_BYTES,
  SAFETY_MARGIN_MS,
  UNLIMITED,
  copyRate,
  estimateCopyMs,
  invocationBudget,
  safetyMarginMs,
} from "../../lib/replication/time-budget";

const GiB = 1024 ** 3;

beforeEach(() => {
  copyRate.reset();
});

describe("estimateCopyMs", () => {
  it("divides the size by the rate and the parallel streams, padded", () => {
    expect(estimateCopyMs(GiB)).toBeCloseTo((GiB / DEFAULT_COPY_BYTES_PER_MS) * ESTIMATE_FACTOR);
    expect(estimateCopyMs(GiB, 4)).toBeCloseTo(estimateCopyMs(GiB) / 4);
  });

  it("learns the rate of this execution environment from large copies only", () => {
    copyRate.observe(MIN_MEASURED_BYTES - 1, 1); // latency-dominated: ignored
    expect(copyRate.bytesPerMs).toBe(DEFAULT_COPY_BYTES_PER_MS);

    copyRate.observe(GiB, 1000); // about 1 GiB/s
    expect(copyRate.bytesPerMs).toBeGreaterThan(DEFAULT_COPY_BYTES_PER_MS);
    const faster = estimateCopyMs(GiB);
    copyRate.observe(GiB, 0); // no time measured: ignored
    expect(estimateCopyMs(GiB)).toBe(faster);
  });
});

describe("invocationBudget", () => {
  it("refuses a copy that cannot finish in the time left, saying why", () => {
    const budget = invocationBudget(() => 20_000);
    const needed = estimateCopyMs(GiB);

    expect(() => {
      budget.requireTimeFor(GiB, 1, "big.bin");
    }).toThrow(TimeBudgetError);
    expect(() => {
      budget.requireTimeFor(GiB, 1, "big.bin");
    }).toThrow(
      `copying big.bin (${GiB} bytes) needs about ${Math.ceil(needed / 1000)} s at the measured rate, and the invocation has ${(20_000 - SAFETY_MARGIN_MS) / 1000} s left`,
    );
    expect(() => {
      budget.requireTimeFor(1024, 1, "small.txt");
    }).not.toThrow();
  });

  it("keeps 5 s in reserve, or a quarter of the time left when that is less", () => {
    expect(safetyMarginMs(120_000)).toBe(SAFETY_MARGIN_MS);
    expect(safetyMarginMs(8_000)).toBe(2_000);
    expect(safetyMarginMs(-5)).toBe(0);
    // A function with a 3 s timeout still copies a small object.
    expect(() => {
      invocationBudget(() => 3_000).requireTimeFor(1024 * 1024, 1, "small");
    }).not.toThrow();
  });

  it("calls back when the time left falls to the safety margin, unless cancelled", () => {
    jest.useFakeTimers();
    try {
      const budget = invocationBudget(() => 40_000);
      const low = jest.fn();
      budget.onLow(low);
      jest.advanceTimersByTime(40_000 - SAFETY_MARGIN_MS - 1);
      expect(low).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);
      expect(low).toHaveBeenCalledTimes(1);

      const cancelled = jest.fn();
      budget.onLow(cancelled).cancel();
      jest.advanceTimersByTime(10_000);
      expect(cancelled).not.toHaveBeenCalled();
    } finally {
      jest.useRealTimers();
    }
  });

  it("has no limit outside an invocation (redrive, resync)", () => {
    expect(() => {
      UNLIMITED.requireTimeFor(5 * 1024 * GiB, 1, "huge");
    }).not.toThrow();
    const low = jest.fn();
    UNLIMITED.onLow(low).cancel();
    expect(low).not.toHaveBeenCalled();
  });
});
