import { MS_PER_DAY } from '../core/clock.js';
import { IdDictionary } from '../core/id-dictionary.js';
import type { Event, Item, User } from '../core/schema/index.js';
import { type BundleData, type Csr, csrOf, NO_LANGUAGE } from './bundle.js';
import type { EmbeddingTable } from './embeddings.js';

export interface BundleBuildInput {
  version: string;
  items: readonly Item[];
  users: readonly User[];
  /** The history the lists are built from (plays, likes, follows, not-interested), any order. */
  events: Iterable<Event>;
  embeddings: EmbeddingTable;
  /** "Now" for trending decay and freshness. */
  nowMs: number;
  /** Neighbours kept per item (default 30). */
  neighbours?: number;
  /** Length of each trending and fresh list (default 1,000: the trending source takes up to 900, skipping what the user was served). */
  listLength?: number;
  /** Half-life of a play in the trending score (default 1 day). */
  trendingHalfLifeMs?: number;
  /** Recent engagements kept per user (default 20). */
  recentPerUser?: number;
}

/** A play of at least half the video, a like, share or comment: the engagements sources build on. */
function isEngagement(e: Event): boolean {
  if (e.type === 'play') return e.watch_ms >= 0.5 * e.duration_ms;
  return e.type === 'like' || e.type === 'share' || e.type === 'comment';
}

/**
 * Builds a bundle's data from catalogue records, an event history and an embedding table: trending
 * (decayed plays) and fresh lists per language, item-to-item neighbours by co-occurrence in users'
 * engagements (cosine), per-user languages, follows, blocked creators and recent engagements.
 */
export function buildBundleData(input: BundleBuildInput): BundleData {
  const listLength = input.listLength ?? 1000;
  const keepNeighbours = input.neighbours ?? 30;
  const halfLife = input.trendingHalfLifeMs ?? MS_PER_DAY;
  const recentPerUser = input.recentPerUser ?? 20;
  const languages: string[] = [];
  const languageIndex = new Map<string, number>();
  const lang = (code: string | undefined): number => {
    if (!code) return NO_LANGUAGE;
    let l = languageIndex.get(code);
    if (l === undefined) {
      l = languages.length;
      languages.push(code);
      languageIndex.set(code, l);
    }
    return l;
  };
  const n = input.items.length;
  const itemIndex = new Map<string, number>();
  const creatorIds: string[] = [];
  const creatorIndex = new Map<string, number>();
  const hashtags: string[] = [];
  const hashtagIndex = new Map<string, number>();
  const itemCreator = new Int32Array(n).fill(-1);
  const itemLanguage = new Uint8Array(n).fill(NO_LANGUAGE);
  const itemCreatedMs = new Float64Array(n);
  const itemDurationMs = new Float32Array(n);
  const itemTags: number[][] = [];
  for (const [i, item] of input.items.entries()) {
    itemIndex.set(item.item_id, i);
    if (item.creator_id) {
      let c = creatorIndex.get(item.creator_id);
      if (c === undefined) {
        c = creatorIds.length;
        creatorIds.push(item.creator_id);
        creatorIndex.set(item.creator_id, c);
      }
      itemCreator[i] = c;
    }
    itemLanguage[i] = lang(item.language);
    itemCreatedMs[i] = item.created_ts;
    itemDurationMs[i] = item.duration_ms ?? 0;
    itemTags.push(
      [...new Set(item.hashtags)].map((tag) => {
        let h = hashtagIndex.get(tag);
        if (h === undefined) {
          h = hashtags.length;
          hashtags.push(tag);
          hashtagIndex.set(tag, h);
        }
        return h;
      }),
    );
  }
  const u = input.users.length;
  const userIndex = new Map<string, number>();
  const userLanguage = new Uint8Array(u).fill(NO_LANGUAGE);
  for (const [k, user] of input.users.entries()) {
    userIndex.set(user.user_id, k);
    userLanguage[k] = lang(user.language);
  }

  // One pass over the history.
  const decayed = new Float64Array(n);
  const follows: Set<number>[] = Array.from({ length: u }, () => new Set());
  const blocked: Set<number>[] = Array.from({ length: u }, () => new Set());
  const engaged: { item: number; ts: number }[][] = Array.from({ length: u }, () => []);
  for (const e of input.events) {
    const who = userIndex.get(e.user_id);
    if (e.type === 'follow') {
      const c = creatorIndex.get(e.creator_id);
      if (who !== undefined && c !== undefined) follows[who]!.add(c);
      continue;
    }
    if (!('item_id' in e) || e.item_id === undefined) continue;
    const i = itemIndex.get(e.item_id);
    if (i === undefined) continue;
    if (e.type === 'play' && e.ts <= input.nowMs) decayed[i]! += 2 ** (-(input.nowMs - e.ts) / halfLife);
    if (who === undefined) continue;
    if (e.type === 'not_interested' && itemCreator[i]! >= 0) blocked[who]!.add(itemCreator[i]!);
    if (isEngagement(e)) engaged[who]!.push({ item: i, ts: e.ts });
  }
  const itemPopularity = Float32Array.from(decayed, (x) => Math.log1p(x));

  // Per user: distinct engaged items newest first; languages read.
  const userItems: number[][] = [];
  const userRecent: number[][] = [];
  const userLanguages: number[][] = [];
  for (let k = 0; k < u; k++) {
    const list = engaged[k]!.sort((a, b) => b.ts - a.ts);
    const distinct = [...new Set(list.map((x) => x.item))];
    userItems.push(distinct.slice(0, 200));
    userRecent.push(distinct.slice(0, recentPerUser));
    const counts = new Map<number, number>();
    for (const i of distinct) counts.set(itemLanguage[i]!, (counts.get(itemLanguage[i]!) ?? 0) + 1);
    const reads = new Set<number>();
    if (userLanguage[k] !== NO_LANGUAGE) reads.add(userLanguage[k]!);
    for (const [l, c] of counts) if (l !== NO_LANGUAGE && c >= 3 && c >= 0.2 * distinct.length) reads.add(l);
    userLanguages.push([...reads].sort((a, b) => a - b));
  }

  // Trending and fresh per language, then global (last row).
  const byLanguage = (score: (i: number) => number, eligible: (i: number) => boolean): Csr => {
    const rows: number[][] = Array.from({ length: languages.length + 1 }, () => []);
    const order = Array.from({ length: n }, (_, i) => i)
      .filter(eligible)
      .sort((a, b) => score(b) - score(a) || a - b);
    for (const i of order) {
      const l = itemLanguage[i]!;
      if (l !== NO_LANGUAGE && rows[l]!.length < listLength) rows[l]!.push(i);
      if (rows[languages.length]!.length < listLength) rows[languages.length]!.push(i);
    }
    return csrOf(rows);
  };
  const trending = byLanguage(
    (i) => decayed[i]!,
    (i) => decayed[i]! > 0,
  );
  const fresh = byLanguage(
    (i) => itemCreatedMs[i]!,
    (i) => itemCreatedMs[i]! <= input.nowMs,
  );

  return {
    version: input.version,
    languages,
    creatorIds: IdDictionary.of(creatorIds),
    hashtags,
    itemIds: IdDictionary.of(input.items.map((it) => it.item_id)),
    itemCreator,
    itemLanguage,
    itemCreatedMs,
    itemDurationMs,
    itemHashtags: csrOf(itemTags),
    itemPopularity,
    ...alignEmbeddings(input.embeddings, itemIndex, userIndex, n, u),
    userIds: IdDictionary.of(input.users.map((x) => x.user_id)),
    userLanguage,
    userLanguages: csrOf(userLanguages),
    userFollows: csrOf(follows.map((s) => [...s].sort((a, b) => a - b))),
    userBlocked: csrOf(blocked.map((s) => [...s].sort((a, b) => a - b))),
    userRecent: csrOf(userRecent),
    neighbours: cooccurrenceNeighbours(userItems, n, keepNeighbours),
    trending,
    fresh,
  };
}

/** Item and user vectors in the bundle's order; ids the table lacks get zero vectors. */
function alignEmbeddings(
  table: EmbeddingTable,
  itemIndex: Map<string, number>,
  userIndex: Map<string, number>,
  n: number,
  u: number,
): { dimensions: number; itemFactors: Float32Array; userFactors: Float32Array } {
  const d = table.dimensions;
  const itemFactors = new Float32Array(n * d);
  for (const [k, id] of table.itemIds.entries()) {
    const i = itemIndex.get(id);
    if (i !== undefined) itemFactors.set(table.itemVectors.subarray(k * d, (k + 1) * d), i * d);
  }
  const userFactors = new Float32Array(u * d);
  for (const [k, id] of table.userIds.entries()) {
    const x = userIndex.get(id);
    if (x !== undefined) userFactors.set(table.userVectors.subarray(k * d, (k + 1) * d), x * d);
  }
  return { dimensions: d, itemFactors, userFactors };
}

/**
 * Item-to-item neighbours: co-occurrence of two items in one user's engagements, cosine-normalised
 * (C_ij / sqrt(C_ii C_jj)), the best `keep` per item. O(sum over users of |items|²) with the per-user
 * lists capped, which suits the catalogues the bundle is built for here.
 */
export function cooccurrenceNeighbours(
  userItems: readonly (readonly number[])[],
  n: number,
  keep: number,
): { ptr: Int32Array; idx: Int32Array; weight: Float32Array } {
  const count = new Float64Array(n);
  const byItem: number[][] = Array.from({ length: n }, () => []);
  for (const [k, items] of userItems.entries())
    for (const i of items) {
      count[i]!++;
      byItem[i]!.push(k);
    }
  const acc = new Float64Array(n);
  const rows: number[][] = [];
  const weights: number[][] = [];
  for (let j = 0; j < n; j++) {
    const touched: number[] = [];
    for (const k of byItem[j]!)
      for (const i of userItems[k]!) {
        if (i === j) continue;
        if (acc[i] === 0) touched.push(i);
        acc[i]!++;
      }
    const scored = touched.map((i) => ({ i, s: acc[i]! / Math.sqrt(count[i]! * count[j]!) }));
    for (const i of touched) acc[i] = 0;
    scored.sort((a, b) => b.s - a.s || a.i - b.i);
    const best = scored.slice(0, keep);
    rows.push(best.map((x) => x.i));
    weights.push(best.map((x) => x.s));
  }
  const csr = csrOf(rows);
  return { ...csr, weight: Float32Array.from(weights.flat()) };
}
