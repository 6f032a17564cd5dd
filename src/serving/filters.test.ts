import { describe, expect, it } from 'vitest';
import { DuplicateFilter, SeenFilter } from './filters.js';
import { candidateOf, tinyBundle, tinyQuery } from './testing.js';

describe('SeenFilter', () => {
  const bundle = tinyBundle(40, 10, 8);
  const candidates = () => [3, 5, 7, 9].map((i) => candidateOf(bundle, i));

  it('drops served items: by item index when hydrated so, else by id for a short or a long history', () => {
    const short = new Set(['v5', 'v9', 'unknown-id']);
    const long = new Set([...short, ...Array.from({ length: 30 }, (_, k) => `v${10 + k}`)]);
    const variants = [{ seen: short }, { seen: long }, { seen: long, seenItems: new Set([5, 9]) }];
    for (const hydrated of variants) {
      const result = new SeenFilter().apply(tinyQuery(bundle, 5, hydrated), candidates());
      expect(result.kept.map((c) => c.id)).toEqual(['v3', 'v7']);
      expect(result.removed.map((r) => [r.candidate.id, r.reason])).toEqual([
        ['v5', 'already served'],
        ['v9', 'already served'],
      ]);
    }
  });
});

describe('DuplicateFilter', () => {
  const bundle = tinyBundle(40, 10, 8);

  it('drops the items the user engaged with recently or gave as context, and nothing else', () => {
    const candidates = [3, 5, 7, 9, 11].map((i) => candidateOf(bundle, i));
    const query = tinyQuery(bundle, 5, { recent: [9, 30], contextItems: [5] });
    const result = new DuplicateFilter().apply(query, candidates);
    expect(result.kept.map((c) => c.item)).toEqual([3, 7, 11]);
    expect(result.removed.map((r) => [r.candidate.item, r.reason])).toEqual([
      [5, 'already engaged'],
      [9, 'already engaged'],
    ]);
    // Nothing engaged: the input as it is.
    const none = new DuplicateFilter().apply(tinyQuery(bundle, 5, { recent: [] }), candidates);
    expect(none.kept).toBe(candidates);
  });
});
