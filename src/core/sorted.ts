/**
 * How many of `sorted` (ascending) are at most `x`: the index of the first value above it, found by
 * binary search. NaN in `x` counts nothing.
 */
export function countAtMost(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
