/**
 * Summary statistics over benchmark samples.
 *
 * Percentile rule: linear interpolation between the two nearest order statistics, with the sorted samples
 * x[0..n-1] placed at ranks 0..n-1. The p-th percentile sits at rank h = (n - 1) * p / 100 and is
 * x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]). This is "type 7" in Hyndman and Fan's
 * list, the default of R's quantile() and NumPy's percentile(); p = 0 gives the minimum, p = 100 the
 * maximum and p = 50 the usual median (the mean of the two middle values when n is even).
 *
 * With few samples a high percentile is mostly the maximum: p99 of 30 runs lies between the two slowest.
 * Report p99 only where there are hundreds of samples (latencies), and the median for repeated runs.
 */

export type Samples = Float64Array | readonly number[];

export interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); 0 for a single sample. */
  stddev: number;
  median: number;
  p90: number;
  p99: number;
  p999: number;
}

/** A sorted copy; the input is left untouched. */
export function sortedCopy(samples: Samples): Float64Array {
  const out = Float64Array.from(samples);
  out.sort();
  return out;
}

/** The p-th percentile (0..100) of samples that are already sorted ascending. NaN when there are none. */
export function percentileOfSorted(sorted: Samples, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = ((n - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

/** The p-th percentile (0..100) of samples in any order. */
export function percentile(samples: Samples, p: number): number {
  return percentileOfSorted(sortedCopy(samples), p);
}

export function median(samples: Samples): number {
  return percentile(samples, 50);
}

export function mean(samples: Samples): number {
  if (samples.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i] as number;
  return sum / samples.length;
}

export function min(samples: Samples): number {
  if (samples.length === 0) return Number.NaN;
  let m = Number.POSITIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) if ((samples[i] as number) < m) m = samples[i] as number;
  return m;
}

export function max(samples: Samples): number {
  if (samples.length === 0) return Number.NaN;
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) if ((samples[i] as number) > m) m = samples[i] as number;
  return m;
}

/** Every statistic at once, sorting a single copy. All fields are NaN for an empty input (count is 0). */
export function summarize(samples: Samples): Summary {
  const sorted = sortedCopy(samples);
  const n = sorted.length;
  const avg = mean(sorted);
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((sorted[i] as number) - avg) ** 2;
  return {
    count: n,
    min: n === 0 ? Number.NaN : (sorted[0] as number),
    max: n === 0 ? Number.NaN : (sorted[n - 1] as number),
    mean: avg,
    stddev: n === 0 ? Number.NaN : n === 1 ? 0 : Math.sqrt(squares / (n - 1)),
    median: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    p999: percentileOfSorted(sorted, 99.9),
  };
}
