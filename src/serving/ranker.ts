import type { FeatureBlock, FeedCandidate, FeedQuery } from './feed-query.js';

/**
 * The ranking port: scores for N candidates given the request (user, bundle, user features) and the
 * candidates' hydrated features. A `Ranker` is the full model run on the top few hundred; a pre-ranker is
 * a cheaper one run on every candidate first. The multi-task ranker and its pre-ranker plug in here with a
 * one-file adapter; `FusedRanker` and `FactorPreRanker` are the defaults that need no trained ranker.
 */
export interface Ranker {
  /** Kebab-case id, used as the pipeline component id. */
  readonly id: string;
  /**
   * The hydrated columns it reads (`view__feature`), so that hydration reads and keeps only those; every
   * column when absent. It may change when the ranker loads another model.
   */
  readonly features?: readonly string[];
  /** Writes one score per candidate into `out` (same order); higher ranks first. */
  score(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    features: FeatureBlock | null,
    out: Float64Array,
  ): void | Promise<void>;
}

/** Pre-ranker: the user-item inner product of the bundle's factors plus a popularity prior. */
export class FactorPreRanker implements Ranker {
  readonly id = 'pre-ranker';

  constructor(private readonly popularityWeight = 0.05) {}

  score(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    _f: FeatureBlock | null,
    out: Float64Array,
  ): void {
    const { bundle } = query;
    const d = bundle.data.dimensions;
    const factors = bundle.data.itemFactors;
    const pop = bundle.data.itemPopularity;
    const user = userVectorOf(query);
    for (let c = 0; c < candidates.length; c++) {
      const i = candidates[c]!.item;
      out[c] = affinityOf(user, factors, i, d) + this.popularityWeight * pop[i]!;
    }
  }
}

/** Inner product of the user's factor with item `i`'s (0 without a user vector). */
function affinityOf(user: Float32Array | null, factors: Float32Array, i: number, d: number): number {
  if (!user) return 0;
  const base = i * d;
  let s = 0;
  for (let k = 0; k < d; k++) s += user[k]! * factors[base + k]!;
  return s;
}

/** The user's factor, or the mean factor of the session's context and recent items. */
export function userVectorOf(query: FeedQuery): Float32Array | null {
  const { bundle } = query;
  if (query.user !== null) return bundle.userVector(query.user);
  const items = query.contextItems.length > 0 ? query.contextItems : (query.recent ?? []);
  if (items.length === 0) return null;
  const d = bundle.data.dimensions;
  const mean = new Float32Array(d);
  for (const i of items) {
    const v = bundle.itemVector(i);
    for (let k = 0; k < d; k++) mean[k]! += v[k]! / items.length;
  }
  return mean;
}

export interface FusedWeights {
  affinity: number;
  likeRate: number;
  watchFraction: number;
  completionRate: number;
  skipRate: number;
  trending: number;
  creatorLikeRate: number;
  userCreator: number;
  popularity: number;
}

export const FUSED_DEFAULTS: FusedWeights = {
  affinity: 1,
  likeRate: 2,
  watchFraction: 1,
  completionRate: 0.5,
  skipRate: -1,
  trending: 0.1,
  creatorLikeRate: 0.5,
  userCreator: 0.3,
  popularity: 0.05,
};

/** Features the fused ranker reads, and the value it assumes when one is unknown. */
const COLUMNS = {
  likeRate: ['item_stats__like_rate_7d', 0.05],
  watchFraction: ['item_stats__watch_fraction_7d', 0.4],
  completionRate: ['item_stats__completion_rate_7d', 0.2],
  skipRate: ['item_stats__skip_rate_7d', 0.3],
  trending: ['item_stats__trending_score', 0],
  creatorLikeRate: ['creator_stats__like_rate_7d', 0.05],
  userCreatorPlays: ['user_creator__plays_30d', 0],
  userCreatorWatch: ['user_creator__watch_fraction_30d', 0],
} as const;

/**
 * The default full ranker: a weighted sum of the user-item factor affinity, the item's observed
 * engagement rates (like, watch fraction, completion, skip, trend), its creator's like rate and the user's
 * history with the creator. Unknown features take a neutral prior, so new items are not buried.
 */
export class FusedRanker implements Ranker {
  readonly id = 'ranker';
  readonly features: readonly string[] = Object.values(COLUMNS).map(([name]) => name);

  constructor(private readonly w: FusedWeights = FUSED_DEFAULTS) {}

  score(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    features: FeatureBlock | null,
    out: Float64Array,
  ): void {
    const { bundle } = query;
    const d = bundle.data.dimensions;
    const factors = bundle.data.itemFactors;
    const pop = bundle.data.itemPopularity;
    const user = userVectorOf(query);
    const col = (name: string) => (features ? features.names.indexOf(name) : -1);
    const at = Object.fromEntries(Object.entries(COLUMNS).map(([k, [name]]) => [k, col(name)])) as Record<
      keyof typeof COLUMNS,
      number
    >;
    const width = features?.names.length ?? 0;
    const values = features?.values;
    const read = (row: number, key: keyof typeof COLUMNS): number => {
      const c = at[key];
      if (!values || row < 0 || c < 0) return COLUMNS[key][1];
      const v = values[row * width + c]!;
      return Number.isNaN(v) ? COLUMNS[key][1] : v;
    };
    const w = this.w;
    for (let c = 0; c < candidates.length; c++) {
      const cand = candidates[c]!;
      const i = cand.item;
      const affinity = affinityOf(user, factors, i, d);
      const r = cand.featureRow;
      out[c] =
        w.affinity * affinity +
        w.likeRate * read(r, 'likeRate') +
        w.watchFraction * read(r, 'watchFraction') +
        w.completionRate * read(r, 'completionRate') +
        w.skipRate * read(r, 'skipRate') +
        w.trending * Math.log1p(Math.max(0, read(r, 'trending'))) +
        w.creatorLikeRate * read(r, 'creatorLikeRate') +
        w.userCreator * (Math.log1p(read(r, 'userCreatorPlays')) + read(r, 'userCreatorWatch')) +
        w.popularity * pop[i]!;
    }
  }
}
