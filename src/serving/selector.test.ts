import { describe, expect, it } from 'vitest';
import { rowOf } from './bundle.js';
import { DiversitySelector, topicalHashtags } from './selector.js';
import { candidateOf, tinyBundle, tinyQuery } from './testing.js';

describe('DiversitySelector', () => {
  const bundle = tinyBundle(40, 10, 8);
  const scoredAll = (source = 'ann-factors') =>
    Array.from({ length: 40 }, (_, i) => ({ candidate: candidateOf(bundle, i, source), score: 40 - i }));

  it('fills the page under the per-creator and per-hashtag caps', () => {
    const selector = new DiversitySelector({ maxPerCreator: 1, maxPerHashtag: 2, explorationShare: 0 });
    const page = selector.select(tinyQuery(bundle, 8), scoredAll());
    expect(page).toHaveLength(8);
    const creators = page.map((s) => bundle.data.itemCreator[s.candidate.item]);
    expect(new Set(creators).size).toBe(8);
    const perTag = new Map<number, number>();
    for (const s of page)
      for (const t of topicalHashtags(bundle, s.candidate.item)) perTag.set(t, (perTag.get(t) ?? 0) + 1);
    expect(Math.max(...perTag.values())).toBeLessThanOrEqual(2);
  });

  it('ignores a hashtag on most of the catalogue (tag 0 is on every item)', () => {
    expect(rowOf(bundle.data.itemHashtags, 3)).toContain(0);
    expect(topicalHashtags(bundle, 3)).not.toContain(0);
    const page = new DiversitySelector({ maxPerHashtag: 1, explorationShare: 0 }).select(
      tinyQuery(bundle, 8),
      scoredAll(),
    );
    expect(page).toHaveLength(8);
  });

  it('with lambda 1 and loose caps keeps score order', () => {
    const page = new DiversitySelector({
      lambda: 1,
      maxPerCreator: 9,
      maxPerHashtag: 99,
      explorationShare: 0,
    }).select(tinyQuery(bundle, 6), scoredAll());
    expect(page.map((s) => s.candidate.item)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('reserves evenly spaced exploration slots for the exploration source', () => {
    const main = scoredAll().slice(0, 30);
    const explore = scoredAll('fresh').slice(30);
    const page = new DiversitySelector({ explorationShare: 0.2, maxPerCreator: 9, maxPerHashtag: 99 }).select(
      tinyQuery(bundle, 10),
      [...main, ...explore],
    );
    expect(page).toHaveLength(10);
    const at = page.flatMap((s, k) => (s.candidate.source === 'fresh' ? [k] : []));
    expect(at).toEqual([3, 6]);
  });

  it('returns fewer items when the caps leave too few candidates', () => {
    // Items 0, 10, 20, 30 share creator c0.
    const sameCreator = [0, 10, 20, 30].map((i) => ({ candidate: candidateOf(bundle, i), score: i }));
    const page = new DiversitySelector({ maxPerCreator: 2, explorationShare: 0 }).select(
      tinyQuery(bundle, 4),
      sameCreator,
    );
    expect(page).toHaveLength(2);
  });
});
