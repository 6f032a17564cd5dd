import { describe, expect, it } from 'vitest';
import { InteractionMatrix } from './interactions.js';
import { PopularityRecommender } from './popularity.js';
import { topK } from './recommender.js';

describe('InteractionMatrix', () => {
  it('builds rows and columns, merging repeated pairs', () => {
    const m = InteractionMatrix.from([
      { user: 'a', item: 'x', value: 1, ts: 5 },
      { user: 'b', item: 'y', value: 2, ts: 1 },
      { user: 'a', item: 'y', value: 1, ts: 2 },
      { user: 'a', item: 'x', value: 3, ts: 9 },
    ]);
    expect([m.users, m.items, m.nnz]).toEqual([2, 2, 3]);
    expect(Array.from(m.itemsOf(0))).toEqual([0, 1]);
    expect(Array.from(m.valuesOf(0))).toEqual([4, 1]);
    expect(m.userTs[0]).toBe(9);
    expect(Array.from(m.usersOf(1))).toEqual([0, 1]);
    expect(Array.from(m.itemCounts())).toEqual([1, 2]);
    // a's pairs: x merged at 9, y at 2; b's only at 1.
    expect([m.newestOf(0), m.newestOf(1)]).toEqual([9, 1]);
  });

  it('shares indices with a universe and refuses ids outside it', () => {
    const train = InteractionMatrix.from([{ user: 'a', item: 'x', value: 1, ts: 0 }]);
    const test = InteractionMatrix.from([], train);
    expect(test.items).toBe(1);
    expect(() => InteractionMatrix.from([{ user: 'z', item: 'x', value: 1, ts: 0 }], train)).toThrow(
      'user z is not in',
    );
  });
});

describe('topK', () => {
  it('returns the best items first, ties to the lower index, skipping excluded ones', () => {
    const scores = Float32Array.from([0.5, 0.9, 0.9, 0.1, 0.7]);
    expect(Array.from(topK(scores, 3))).toEqual([1, 2, 4]);
    expect(Array.from(topK(scores, 3, Int32Array.from([1, 4])))).toEqual([2, 0, 3]);
    expect(Array.from(topK(scores, 10, Int32Array.from([0])))).toEqual([1, 2, 4, 3]);
  });

  it('agrees with a full sort on random scores', () => {
    let state = 7;
    const rand = () => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let t = 0; t < 50; t++) {
      const scores = Float32Array.from({ length: 200 }, () => Math.round(rand() * 50) / 50);
      const exclude = Int32Array.from(
        new Set(Array.from({ length: 20 }, () => Math.floor(rand() * 200))),
      ).sort();
      const excluded = new Set(exclude);
      const reference = Array.from(scores.keys())
        .filter((i) => !excluded.has(i))
        .sort((a, b) => scores[b]! - scores[a]! || a - b)
        .slice(0, 25);
      expect(Array.from(topK(scores, 25, exclude))).toEqual(reference);
    }
  });
});

describe('PopularityRecommender', () => {
  it('ranks by count, or by decayed count with a half-life', async () => {
    const m = InteractionMatrix.from([
      { user: 'a', item: 'old', value: 1, ts: 0 },
      { user: 'b', item: 'old', value: 1, ts: 0 },
      { user: 'c', item: 'new', value: 1, ts: 100 },
    ]);
    const out = new Float32Array(2);
    const pop = new PopularityRecommender();
    await pop.fit(m);
    pop.scoreUser(0, out);
    expect(Array.from(topK(out, 2))).toEqual([0, 1]);
    const trending = new PopularityRecommender({ halfLifeMs: 10 });
    await trending.fit(m);
    trending.scoreUser(0, out);
    expect(Array.from(topK(out, 2))).toEqual([1, 0]);
  });
});
