/** Median, minimum and maximum of a series of measurements. */
export interface Summary {
  /** The middle value (the mean of the two middle values for an even count). */
  readonly median: number;
  /** The smallest value. */
  readonly min: number;
  /** The largest value. */
  readonly max: number;
}

/**
 * Summarises a non-empty series.
 *
 * @throws RangeError when `values` is empty.
 */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summarize: values must not be empty');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** Applies `map` to each field of a summary (e.g. to turn ns/op into ops/s; min and max are reordered). */
export function mapSummary(summary: Summary, map: (value: number) => number): Summary {
  const a = map(summary.min);
  const b = map(summary.max);
  return { median: map(summary.median), min: Math.min(a, b), max: Math.max(a, b) };
}
