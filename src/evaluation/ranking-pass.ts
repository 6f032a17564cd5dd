import type { InteractionMatrix } from '../models/interactions.js';
import { type Recommender, topK } from '../models/recommender.js';
import type { RecommendationLists } from './beyond-accuracy.js';
import { fullRankOf, MeanAccumulator, rankingScores } from './ranking-metrics.js';
import type { Split } from './split.js';

/** What every model's pass over a split shares: who is evaluated, which items can be ranked. */
export interface RankingContext {
  split: Split;
  /** Users with at least one training and one test interaction, ascending. */
  users: Int32Array;
  /** Items with at least one training interaction (the ranking's candidates), ascending. */
  candidates: Int32Array;
  /** The other items, ascending: never recommended. */
  nonCandidates: Int32Array;
}

export function rankingContext(split: Split): RankingContext {
  const { train, test } = split;
  const users: number[] = [];
  for (let u = 0; u < train.users; u++)
    if (train.userPtr[u + 1]! > train.userPtr[u]! && test.userPtr[u + 1]! > test.userPtr[u]!) users.push(u);
  const counts = train.itemCounts();
  const candidates: number[] = [];
  const nonCandidates: number[] = [];
  counts.forEach((c, i) => {
    (c > 0 ? candidates : nonCandidates).push(i);
  });
  return {
    split,
    users: Int32Array.from(users),
    candidates: Int32Array.from(candidates),
    nonCandidates: Int32Array.from(nonCandidates),
  };
}

/** The ascending union (without repeats) of ascending index lists. */
export function mergeSorted(lists: readonly Int32Array[]): Int32Array {
  const all = new Int32Array(lists.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const l of lists) {
    all.set(l, at);
    at += l.length;
  }
  all.sort();
  let w = 0;
  for (let r = 0; r < all.length; r++) if (r === 0 || all[r] !== all[r - 1]) all[w++] = all[r]!;
  return all.slice(0, w);
}

/** The items removed from user u's test ranking: training items, the protocol's extras, non-candidates. */
export function excludedItems(ctx: RankingContext, u: number): Int32Array {
  const extra = ctx.split.alsoExcludeAtTest.map((m: InteractionMatrix) => m.itemsOf(u));
  return mergeSorted([ctx.split.train.itemsOf(u), ...extra, ctx.nonCandidates]);
}

export interface RankingPass {
  lists: RecommendationLists;
  /** Mean accuracy over evaluated users, named `precision@k` ... and `mrr` (full ranking, no cutoff). */
  accuracy: Record<string, number>;
}

/**
 * Ranks every evaluated user with a trained model (top `max(ks)` of the full ranking, excluded items
 * removed, through `topK`) and scores the lists against the user's test items at every k.
 */
export function rankUsers(model: Recommender, ctx: RankingContext, ks: readonly number[]): RankingPass {
  const { train, test } = ctx.split;
  const depth = Math.max(...ks);
  const lists: RecommendationLists = {
    depth,
    items: new Int32Array(ctx.users.length * depth).fill(-1),
    lengths: new Int32Array(ctx.users.length),
  };
  const scores = new Float32Array(train.items);
  const relevant = new Uint8Array(train.items);
  const excluded = new Uint8Array(train.items);
  const isRelevant = (i: number) => relevant[i] === 1;
  const isExcluded = (i: number) => excluded[i] === 1;
  const means = new MeanAccumulator();
  ctx.users.forEach((u, j) => {
    scores.fill(0);
    model.scoreUser(u, scores);
    const exclude = excludedItems(ctx, u);
    const ranked = topK(scores, depth, exclude);
    lists.items.set(ranked, j * depth);
    lists.lengths[j] = ranked.length;
    const held = test.itemsOf(u);
    for (const i of held) relevant[i] = 1;
    for (const k of ks) {
      const s = rankingScores(ranked, isRelevant, held.length, k);
      means.add(`precision@${k}`, s.precision);
      means.add(`recall@${k}`, s.recall);
      means.add(`ndcg@${k}`, s.ndcg);
      means.add(`map@${k}`, s.ap);
      means.add(`mrr@${k}`, s.rr);
      means.add(`hit_rate@${k}`, s.hit);
    }
    // Reciprocal rank of the best-placed test item in the full ranking (0 when none can be ranked).
    for (const i of exclude) excluded[i] = 1;
    let best = -1;
    for (const i of held) {
      if (excluded[i]) continue;
      if (best < 0 || scores[i]! > scores[best]! || (scores[i] === scores[best] && i < best)) best = i;
    }
    means.add('mrr', best < 0 ? 0 : 1 / fullRankOf(scores, best, isExcluded));
    for (const i of exclude) excluded[i] = 0;
    for (const i of held) relevant[i] = 0;
  });
  return { lists, accuracy: means.means() };
}
