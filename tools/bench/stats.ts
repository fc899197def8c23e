/** Median, min and max of repeated measurements, and ratios taken run by run. */

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
  readonly values: readonly number[];
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize needs at least one value");
  const sorted = [...values].sort((a, b) => a - b);
  const at = (index: number): number => sorted[index] ?? Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? at(middle) : (at(middle - 1) + at(middle)) / 2;
  return {
    median,
    min: at(0),
    max: at(sorted.length - 1),
    runs: values.length,
    values,
  };
}

/**
 * `numerators[i] / denominators[i]` for each run: measurements taken side by side (alternating)
 * are compared within their run, so that a slow spell of the machine affects both alike.
 */
export function pairwiseRatios(
  numerators: readonly number[],
  denominators: readonly number[],
): number[] {
  if (numerators.length !== denominators.length) {
    throw new Error(
      `pairwise ratios need as many numerators as denominators (${numerators.length} vs ${denominators.length})`,
    );
  }
  return numerators.map((value, run) => value / (denominators[run] ?? Number.NaN));
}

/** `values[i] - subtrahends[i]` for each run (see pairwiseRatios). */
export function pairwiseDifferences(
  values: readonly number[],
  subtrahends: readonly number[],
): number[] {
  if (values.length !== subtrahends.length) {
    throw new Error(
      `pairwise differences need as many values as subtrahends (${values.length} vs ${subtrahends.length})`,
    );
  }
  return values.map((value, run) => value - (subtrahends[run] ?? Number.NaN));
}
