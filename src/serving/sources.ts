import { Rng } from '../core/rng.js';
import type { CandidateSource, RunContext } from '../pipeline/components.js';
import { NO_LANGUAGE, rowOf } from './bundle.js';
import type { EmbeddingSpace } from './embeddings.js';
import { FeedCandidate, type FeedQuery } from './feed-query.js';

type Source = CandidateSource<FeedQuery, FeedCandidate>;

/**
 * How many more neighbours the ANN source asks for than it keeps, so that the language filter does not
 * empty it. Its search asks for `round(width * ANN_OVER_FETCH)` items (510 at the nominal 340), which is
 * the setting bench/ann.bench.ts measures recall at.
 */
export const ANN_OVER_FETCH = 1.5;

function candidate(query: FeedQuery, item: number, source: string, retrieval: number): FeedCandidate {
  const ids = query.bundle.data.itemIds;
  const lease = query.scratch.candidates;
  return lease ? lease.take(ids, item, source, retrieval) : new FeedCandidate(ids, item, source, retrieval);
}

/** Nearest items to the user's vector in one embedding space (known users, unless `anonymous`). */
export class AnnSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id: string;

  /**
   * `anonymous`: also serve users the bundle does not know, from the session's context items (a space
   * whose user vector comes from engagements, like the two-tower user tower). The bundle's factors leave
   * them to the cold-start source.
   */
  constructor(
    private readonly space: (query: FeedQuery) => EmbeddingSpace,
    spaceId: string,
    private readonly nominal = 500,
    private readonly overFetch = ANN_OVER_FETCH,
    private readonly anonymous = false,
  ) {
    this.id = `ann-${spaceId}`;
  }

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    if (query.user === null && !this.anonymous) return [];
    const space = this.space(query);
    const vector = space.userVector(query.user, query.user === null ? query.contextItems : []);
    if (!vector) return [];
    const width = ctx.width(this.nominal, 50);
    if (query.languages.length === 0) {
      const hits = space.search(vector, width);
      const all: FeedCandidate[] = [];
      for (let k = 0; k < hits.keys.length; k++)
        all.push(candidate(query, hits.keys[k]!, this.id, hits.scores[k]!));
      return all;
    }
    // Over-fetch and keep the languages the user reads, so the language filter does not empty the
    // source (a per-language index would do this without the over-fetch at larger scale).
    const reads = new Set(query.languages);
    const { itemLanguage } = query.bundle.data;
    const hits = space.search(vector, Math.round(width * this.overFetch));
    const out: FeedCandidate[] = [];
    for (let k = 0; k < hits.keys.length && out.length < width; k++) {
      const item = hits.keys[k]!;
      const l = itemLanguage[item]!;
      if (l === NO_LANGUAGE || reads.has(l)) out.push(candidate(query, item, this.id, hits.scores[k]!));
    }
    return out;
  }
}

/** Neighbours of the user's recent engagements (and session context items), summed by similarity. */
export class ItemToItemSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id = 'item-to-item';

  constructor(
    private readonly nominal = 300,
    private readonly seeds = 10,
  ) {}

  /** Per-request sums by item, in an open-addressing table reused between requests (fetch is synchronous). */
  private table = new Int32Array(0);
  private sums = new Float64Array(0);
  private slots: number[] = [];

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    const { neighbours } = query.bundle.data;
    const { ptr, idx, weight } = neighbours;
    const seeds = [...new Set([...query.contextItems, ...(query.recent ?? [])])].slice(0, this.seeds);
    let entries = 0;
    for (const seed of seeds) entries += ptr[seed + 1]! - ptr[seed]!;
    if (entries === 0) return [];
    // At most half full: the table holds item + 1 (0 = empty) and the slot's sum sits beside it.
    let size = 64;
    while (size < 2 * entries) size *= 2;
    if (this.table.length < size) {
      this.table = new Int32Array(size);
      this.sums = new Float64Array(size);
    }
    const table = this.table.subarray(0, size).fill(0);
    const sums = this.sums;
    const slots = this.slots;
    slots.length = 0;
    const mask = size - 1;
    for (const [rank, seed] of seeds.entries()) {
      // Newer engagements count more.
      const recency = 1 / (1 + 0.2 * rank);
      for (let e = ptr[seed]!; e < ptr[seed + 1]!; e++) {
        const j = idx[e]!;
        let h = Math.imul(j, 0x9e3779b1) & mask;
        while (table[h] !== 0 && table[h] !== j + 1) h = (h + 1) & mask;
        if (table[h] === 0) {
          table[h] = j + 1;
          sums[h] = 0;
          slots.push(h);
        }
        sums[h]! += recency * weight[e]!;
      }
    }
    // Best sums first, ties by item index.
    slots.sort((a, b) => sums[b]! - sums[a]! || table[a]! - table[b]!);
    const take = Math.min(slots.length, ctx.width(this.nominal, 20));
    const out: FeedCandidate[] = new Array(take);
    for (let k = 0; k < take; k++) {
      const h = slots[k]!;
      out[k] = candidate(query, table[h]! - 1, this.id, sums[h]!);
    }
    return out;
  }
}

/** What is trending in the user's language (the global list when it is unknown). */
export class TrendingSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id = 'trending';

  constructor(private readonly nominal = 200) {}

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    const { trending, languages } = query.bundle.data;
    const list = rowOf(trending, query.locale ?? languages.length);
    const take = Math.min(list.length, ctx.width(this.nominal, 20));
    // Walks past what the user was already served, so a returning user still gets `take` candidates.
    const seen = query.seenItems;
    const out: FeedCandidate[] = [];
    for (let k = 0; k < list.length && out.length < take; k++)
      if (!seen?.has(list[k]!)) out.push(candidate(query, list[k]!, this.id, 1 - k / list.length));
    return out;
  }
}

/** The newest videos of the creators the user follows. */
export class FollowedCreatorsSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id = 'followed-creators';

  constructor(
    private readonly nominal = 100,
    private readonly perCreator = 5,
  ) {}

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    const follows = query.follows ?? [];
    if (follows.length === 0) return [];
    const byCreator = query.bundle.creatorItems;
    const { itemCreatedMs } = query.bundle.data;
    const out: FeedCandidate[] = [];
    for (const c of follows) {
      const items = rowOf(byCreator, c);
      for (let k = 0; k < Math.min(this.perCreator, items.length); k++) {
        const i = items[k]!;
        if (itemCreatedMs[i]! <= query.nowMs) out.push(candidate(query, i, this.id, itemCreatedMs[i]!));
      }
    }
    return out.sort((a, b) => b.retrieval - a.retrieval).slice(0, ctx.width(this.nominal, 10));
  }
}

/**
 * Exploration: a seeded random sample of the newest videos in the user's language, which have too
 * little history for the other sources to find. The selector reserves slots for them.
 */
export class FreshSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id = 'fresh';

  constructor(private readonly nominal = 50) {}

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    const { fresh, languages } = query.bundle.data;
    const all = rowOf(fresh, query.locale ?? languages.length);
    // Only videos the user was not served yet.
    const seen = query.seenItems;
    const list = seen && seen.size > 0 ? all.filter((i) => !seen.has(i)) : all;
    const take = Math.min(list.length, ctx.width(this.nominal, 10));
    const rng = new Rng(query.seed).fork('fresh');
    const picked = new Set<number>();
    const out: FeedCandidate[] = [];
    while (picked.size < take) {
      const i = list[rng.int(list.length)]!;
      if (picked.has(i)) continue;
      picked.add(i);
      out.push(candidate(query, i, this.id, 0));
    }
    return out;
  }
}

/**
 * New and anonymous users: nearest items to the mean vector of the session's context items when there
 * are any, else the best of the locale's trending list.
 */
export class ColdStartSource implements Source {
  readonly kind = 'candidate-source' as const;
  readonly id = 'cold-start';

  constructor(
    private readonly space: (query: FeedQuery) => EmbeddingSpace,
    private readonly nominal = 300,
  ) {}

  async fetch(query: FeedQuery, ctx: RunContext): Promise<FeedCandidate[]> {
    if (query.user !== null) return [];
    const width = ctx.width(this.nominal, 20);
    if (query.contextItems.length > 0) {
      const space = this.space(query);
      const vector = space.userVector(null, query.contextItems);
      if (vector) {
        const hits = space.search(vector, width);
        return Array.from(hits.keys, (item, k) => candidate(query, item, this.id, hits.scores[k]!));
      }
    }
    const { trending, languages } = query.bundle.data;
    let list = rowOf(trending, query.locale ?? languages.length);
    if (list.length === 0) list = rowOf(trending, languages.length);
    return Array.from(list.subarray(0, width), (item, k) => candidate(query, item, this.id, -k));
  }
}
