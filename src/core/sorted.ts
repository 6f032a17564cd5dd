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

/**
 * Rearranges `order[lo..hi]` (inclusive; indices into `scores`) so that position `nth` holds the index that
 * ranks there when ranked by score, highest first, ties to the lower index; every index before it ranks
 * ahead of it and every one after ranks behind (Hoare's selection, expected linear time). The k best of a
 * range are then its first k, in no particular order.
 */
export function selectTop(
  scores: Float32Array,
  order: Int32Array,
  lo: number,
  hi: number,
  nth: number,
): void {
  while (lo < hi) {
    const pivot = order[(lo + hi) >> 1]!;
    const ps = scores[pivot]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      // order[i] ranks ahead of the pivot: a higher score, or the same score and a lower index.
      for (;;) {
        const x = order[i]!;
        const xs = scores[x]!;
        if (xs > ps || (xs === ps && x < pivot)) i++;
        else break;
      }
      for (;;) {
        const x = order[j]!;
        const xs = scores[x]!;
        if (ps > xs || (xs === ps && pivot < x)) j--;
        else break;
      }
      if (i <= j) {
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
        i++;
        j--;
      }
    }
    if (nth <= j) hi = j;
    else if (nth >= i) lo = i;
    else return;
  }
}
