import { IdDictionary } from '../core/id-dictionary.js';
import { type BundleData, csrOf, ServingBundle } from './bundle.js';
import { FeedCandidate, type FeedQuery } from './feed-query.js';

/**
 * A hand-made bundle for unit tests: `items` items, item i by creator `i % creators`, hashtag
 * `i % hashtags` plus the common tag 0 on every item, language en for even items and es for odd ones,
 * 4-dimensional factors, one user (u0, reads en).
 */
export function tinyBundle(items = 40, creators = 10, hashtags = 8): ServingBundle {
  const d = 4;
  const itemFactors = new Float32Array(items * d);
  for (let i = 0; i < items; i++) for (let k = 0; k < d; k++) itemFactors[i * d + k] = Math.sin(i * (k + 1));
  const data: BundleData = {
    version: 'tiny',
    languages: ['en', 'es'],
    creatorIds: IdDictionary.of(Array.from({ length: creators }, (_, c) => `c${c}`)),
    hashtags: Array.from({ length: hashtags + 1 }, (_, t) => `t${t}`),
    itemIds: IdDictionary.of(Array.from({ length: items }, (_, i) => `v${i}`)),
    itemCreator: Int32Array.from({ length: items }, (_, i) => i % creators),
    itemLanguage: Uint8Array.from({ length: items }, (_, i) => i % 2),
    itemCreatedMs: Float64Array.from({ length: items }, (_, i) => 1000 * i),
    itemDurationMs: new Float32Array(items).fill(20_000),
    itemHashtags: csrOf(Array.from({ length: items }, (_, i) => [0, 1 + (i % hashtags)])),
    itemPopularity: Float32Array.from({ length: items }, (_, i) => items - i),
    dimensions: d,
    itemFactors,
    userIds: IdDictionary.of(['u0']),
    userLanguage: Uint8Array.of(0),
    userFactors: Float32Array.of(1, 0, 0, 0),
    userLanguages: csrOf([[0]]),
    userFollows: csrOf([[1]]),
    // Creator 2 is blocked (the last one in a bundle with fewer creators).
    userBlocked: csrOf([[Math.min(2, creators - 1)]]),
    userRecent: csrOf([[0, 1]]),
    neighbours: {
      ...csrOf(Array.from({ length: items }, (_, i) => [(i + 1) % items])),
      weight: new Float32Array(items).fill(1),
    },
    trending: csrOf([
      [0, 2, 4],
      [1, 3],
      [0, 1, 2, 3],
    ]),
    fresh: csrOf([[items - 2], [items - 1], [items - 1, items - 2]]),
  };
  return ServingBundle.build(data, { threads: 1 });
}

/** A query for user u0 of `bundle`. */
export function tinyQuery(bundle: ServingBundle, count: number, extra: Partial<FeedQuery> = {}): FeedQuery {
  return {
    bundle,
    userId: 'u0',
    user: 0,
    anonymous: false,
    contextItems: [],
    languages: [],
    locale: 0,
    count,
    offset: 0,
    previousPage: [],
    seed: 1,
    nowMs: 1e12,
    scratch: { features: null, hydrated: {} },
    ...extra,
  };
}

export function candidateOf(bundle: ServingBundle, item: number, source = 'ann-factors'): FeedCandidate {
  return new FeedCandidate(bundle.data.itemIds, item, source, 0);
}
