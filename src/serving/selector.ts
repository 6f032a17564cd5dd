import { Rng } from '../core/rng.js';
import type { Scored, Selector } from '../pipeline/components.js';
import { DEFAULT_COMMON_HASHTAG_SHARE, rowOf } from './bundle.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';

export interface DiversityOptions {
  /** Most items of one creator on a page (default 2). */
  maxPerCreator?: number;
  /** Most items sharing one hashtag on a page (default 3). */
  maxPerHashtag?: number;
  /** MMR trade-off: 1 ranks by score alone, lower favours items unlike those already picked (default 0.7). */
  lambda?: number;
  /** Share of the page reserved for exploration candidates (default 0.1; at least 1 slot when > 0). */
  explorationShare?: number;
  /** Source whose candidates fill the exploration slots (default `fresh`). */
  explorationSource?: string;
  /** Candidates considered, as a multiple of the page size (default 10). */
  poolFactor?: number;
  /**
   * Hashtags on more than this share of the catalogue (#fyp, #viral) say nothing about a video's subject,
   * so they count toward neither the caps nor similarity (default 0.02).
   */
  commonHashtagShare?: number;
}

/** The hashtags of item `i` that say something about its subject (see `commonHashtagShare`). */
export function topicalHashtags(
  bundle: FeedQuery['bundle'],
  i: number,
  commonShare = DEFAULT_COMMON_HASHTAG_SHARE,
): number[] {
  return Array.from(rowOf(bundle.topicalHashtags(commonShare), i));
}

/**
 * The final page: greedy maximal marginal relevance over the best candidates (relevance is the ranker's
 * score scaled to [0, 1]; similarity of two items is 1 for the same creator, else the Jaccard overlap of
 * their hashtags), under hard caps per creator and per hashtag, with evenly spaced slots reserved for
 * exploration candidates drawn at random (seeded by the request) from the exploration source.
 */
export class DiversitySelector implements Selector<FeedQuery, FeedCandidate> {
  readonly kind = 'selector' as const;
  readonly id = 'diversity';
  readonly maxPerCreator: number;
  readonly maxPerHashtag: number;
  private readonly lambda: number;
  private readonly explorationShare: number;
  private readonly explorationSource: string;
  private readonly poolFactor: number;
  private readonly commonHashtagShare: number;

  constructor(options: DiversityOptions = {}) {
    this.maxPerCreator = options.maxPerCreator ?? 2;
    this.maxPerHashtag = options.maxPerHashtag ?? 3;
    this.lambda = options.lambda ?? 0.7;
    this.explorationShare = options.explorationShare ?? 0.1;
    this.explorationSource = options.explorationSource ?? 'fresh';
    this.poolFactor = options.poolFactor ?? 10;
    this.commonHashtagShare = options.commonHashtagShare ?? DEFAULT_COMMON_HASHTAG_SHARE;
  }

  select(query: FeedQuery, scored: Scored<FeedCandidate>[]): Scored<FeedCandidate>[] {
    const count = query.count;
    const { itemCreator } = query.bundle.data;
    const { ptr: tagPtr, idx: tagIdx } = query.bundle.topicalHashtags(this.commonHashtagShare);
    const explore: Scored<FeedCandidate>[] = [];
    const main: Scored<FeedCandidate>[] = [];
    const poolSize = count * this.poolFactor;
    for (const s of scored)
      if (s.candidate.source === this.explorationSource) explore.push(s);
      else if (main.length < poolSize) main.push(s);
    const slots =
      this.explorationShare > 0 && explore.length > 0
        ? Math.min(explore.length, Math.max(1, Math.round(count * this.explorationShare)))
        : 0;
    const exploreAt = new Set<number>();
    for (let k = 0; k < slots; k++)
      exploreAt.add(Math.min(count - 1, Math.floor(((k + 1) * count) / (slots + 1))));

    const creatorCount = new Map<number, number>();
    const tagCount = new Map<number, number>();
    const picked: Scored<FeedCandidate>[] = [];
    const used = new Set<number>();
    const fits = (item: number): boolean => {
      const c = itemCreator[item]!;
      if (c >= 0 && (creatorCount.get(c) ?? 0) >= this.maxPerCreator) return false;
      for (let e = tagPtr[item]!; e < tagPtr[item + 1]!; e++)
        if ((tagCount.get(tagIdx[e]!) ?? 0) >= this.maxPerHashtag) return false;
      return true;
    };
    const take = (s: Scored<FeedCandidate>) => {
      const item = s.candidate.item;
      picked.push(s);
      used.add(item);
      const c = itemCreator[item]!;
      if (c >= 0) creatorCount.set(c, (creatorCount.get(c) ?? 0) + 1);
      for (let e = tagPtr[item]!; e < tagPtr[item + 1]!; e++)
        tagCount.set(tagIdx[e]!, (tagCount.get(tagIdx[e]!) ?? 0) + 1);
    };
    // 1 for the same creator, else the Jaccard overlap of the two items' topical hashtags.
    const similarity = (a: number, b: number): number => {
      if (itemCreator[a]! >= 0 && itemCreator[a] === itemCreator[b]) return 1;
      const a0 = tagPtr[a]!;
      const a1 = tagPtr[a + 1]!;
      const b0 = tagPtr[b]!;
      const b1 = tagPtr[b + 1]!;
      if (a0 === a1 || b0 === b1) return 0;
      let shared = 0;
      for (let e = a0; e < a1; e++) {
        const t = tagIdx[e]!;
        for (let f = b0; f < b1; f++)
          if (tagIdx[f] === t) {
            shared++;
            break;
          }
      }
      return shared / (a1 - a0 + (b1 - b0) - shared);
    };
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const s of main) {
      lo = Math.min(lo, s.score);
      hi = Math.max(hi, s.score);
    }
    const span = hi > lo ? hi - lo : 1;
    const poolItem = Int32Array.from(main, (s) => s.candidate.item);
    const relevance = Float64Array.from(main, (s) => (s.score - lo) / span);
    // Each pool candidate's largest similarity to the items picked so far, updated after every pick.
    const maxSim = new Float64Array(main.length);
    const rng = new Rng(query.seed).fork('explore');
    const explorePool = explore.slice();

    while (picked.length < count) {
      let choice: Scored<FeedCandidate> | null = null;
      if (exploreAt.has(picked.length)) {
        while (explorePool.length > 0 && choice === null) {
          const [s] = explorePool.splice(rng.int(explorePool.length), 1);
          if (s && !used.has(s.candidate.item) && fits(s.candidate.item)) choice = s;
        }
      }
      if (choice === null) {
        let best = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < main.length; k++) {
          const item = poolItem[k]!;
          const mmr = this.lambda * relevance[k]! - (1 - this.lambda) * maxSim[k]!;
          if (mmr > best && !used.has(item) && fits(item)) {
            best = mmr;
            choice = main[k]!;
          }
        }
      }
      if (choice === null)
        // The main pool ran dry under the caps: fall back to any exploration candidate that fits.
        choice = explore.find((s) => !used.has(s.candidate.item) && fits(s.candidate.item)) ?? null;
      if (choice === null) break;
      take(choice);
      const item = choice.candidate.item;
      for (let k = 0; k < main.length; k++) {
        const sim = similarity(poolItem[k]!, item);
        if (sim > maxSim[k]!) maxSim[k] = sim;
      }
    }
    return picked;
  }
}
