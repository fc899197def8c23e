/**
 * The benchmark's targets: each is a measured value held against a limit, and becomes one row of
 * the targets table (wanted, measured, pass or fail).
 */
import { formatNumber, type Target } from "./report";

/** How a measured value is shown: `x` for ratios, otherwise a unit after the number. */
export function formatMeasured(value: number, unit: string): string {
  return unit === "x" ? `${formatNumber(value)}x` : `${formatNumber(value)} ${unit}`;
}

/** A target met when `measured <= limit`. */
export function atMost(name: string, measured: number, limit: number, unit: string): Target {
  return {
    name,
    target: `<= ${formatMeasured(limit, unit)}`,
    measured: formatMeasured(measured, unit),
    pass: measured <= limit,
  };
}

/** A target met when `measured >= limit`. */
export function atLeast(name: string, measured: number, limit: number, unit: string): Target {
  return {
    name,
    target: `>= ${formatMeasured(limit, unit)}`,
    measured: formatMeasured(measured, unit),
    pass: measured >= limit,
  };
}

/** A target met when `measured === wanted` exactly (a count). */
export function exactly(name: string, measured: number, wanted: number, unit: string): Target {
  return {
    name,
    target: `= ${formatMeasured(wanted, unit)}`,
    measured: formatMeasured(measured, unit),
    pass: measured === wanted,
  };
}

/**
 * A target that could not be measured honestly (a check of the measurement itself failed): it
 * fails, and says why instead of a value.
 */
export function unmeasured(name: string, wanted: string, reason: string): Target {
  return { name, target: wanted, measured: `not measured: ${reason}`, pass: false };
}

/** Largest over smallest of positive values: 1 when they are all equal. */
export function spread(values: readonly number[]): number {
  if (values.length === 0) throw new Error("spread needs at least one value");
  return Math.max(...values) / Math.min(...values);
}
