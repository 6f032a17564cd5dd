import { ForyouError } from '../core/errors.js';

/** The accuracy metrics of one ranked list at one cutoff k. */
export interface RankingScores {
  /** Hits in the top k, divided by k (also when the list is shorter than k). */
  precision: number;
  /** Hits in the top k, divided by the number of held-out items (Recommenders' convention, not min(k, n)). */
  recall: number;
  /** Binary-relevance DCG with a log2(rank + 1) discount over the ideal DCG of min(k, n) hits at the top. */
  ndcg: number;
  /** Sum of precision at each hit's rank, divided by min(k, n) (Recommenders' `map_at_k`). */
  ap: number;
  /** 1 / rank of the first hit within the top k, 0 when there is none. */
  rr: number;
  /** 1 when the top k holds at least one held-out item, else 0. */
  hit: number;
}

const idealCache: number[] = [0];

/** Ideal DCG of `m` relevant items at ranks 1..m: sum of 1 / log2(rank + 1). */
export function idealDcg(m: number): number {
  for (let r = idealCache.length; r <= m; r++) idealCache.push(idealCache[r - 1]! + 1 / Math.log2(r + 1));
  return idealCache[m]!;
}

/**
 * The accuracy of one user's ranked list. `ranked` holds item indices, best first (only the first `k`
 * count); `isRelevant` says whether an item is one of the user's held-out items; `relevantCount` is how many
 * held-out items the user has (it may include items that could never be ranked, which count as misses).
 */
export function rankingScores(
  ranked: ArrayLike<number>,
  isRelevant: (item: number) => boolean,
  relevantCount: number,
  k: number,
): RankingScores {
  if (!(relevantCount >= 1) || !(k >= 1))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `ranking metrics need k >= 1 and at least one held-out item, got k ${k} and ${relevantCount} items`,
    );
  const depth = Math.min(k, ranked.length);
  let hits = 0;
  let dcg = 0;
  let precisionSum = 0;
  let rr = 0;
  for (let r = 1; r <= depth; r++) {
    if (!isRelevant(ranked[r - 1]!)) continue;
    hits++;
    dcg += 1 / Math.log2(r + 1);
    precisionSum += hits / r;
    if (rr === 0) rr = 1 / r;
  }
  const cap = Math.min(k, relevantCount);
  return {
    precision: hits / k,
    recall: hits / relevantCount,
    ndcg: dcg / idealDcg(cap),
    ap: precisionSum / cap,
    rr,
    hit: hits > 0 ? 1 : 0,
  };
}

/**
 * The rank (1-based) that item `target` would get in a full ranking of `scores` with `excluded` items
 * removed, using `topK`'s order: higher score first, ties to the lower index.
 */
export function fullRankOf(
  scores: Float32Array,
  target: number,
  excluded: (item: number) => boolean,
): number {
  const s = scores[target]!;
  let better = 0;
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i]!;
    if ((x > s || (x === s && i < target)) && !excluded(i)) better++;
  }
  return better + 1;
}

/** Running means of named values, for averaging per-user metrics over users. */
export class MeanAccumulator {
  private readonly sums = new Map<string, number>();
  private readonly counts = new Map<string, number>();

  add(name: string, value: number): void {
    this.sums.set(name, (this.sums.get(name) ?? 0) + value);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  /** The mean of every name added so far (NaN never appears: a name exists once it has a value). */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, sum] of this.sums) out[name] = sum / this.counts.get(name)!;
    return out;
  }
}
