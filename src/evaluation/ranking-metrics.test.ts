import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullRankOf, idealDcg, MeanAccumulator, rankingScores } from './ranking-metrics.js';

const log2 = Math.log2;

function scoresOf(ranked: number[], relevant: number[], count: number, k: number) {
  const set = new Set(relevant);
  return rankingScores(Int32Array.from(ranked), (i) => set.has(i), count, k);
}

describe('rankingScores on hand-computed cases', () => {
  // Ranked [3, 1, 7, 2, 9]; held-out {1, 2, 5}: hits at ranks 2 and 4; item 5 is never ranked.
  const ranked = [3, 1, 7, 2, 9];
  const relevant = [1, 2, 5];

  it('at k = 5', () => {
    const s = scoresOf(ranked, relevant, 3, 5);
    expect(s.precision).toBeCloseTo(2 / 5, 12);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.ndcg).toBeCloseTo((1 / log2(3) + 1 / log2(5)) / (1 + 1 / log2(3) + 1 / log2(4)), 12);
    expect(s.ap).toBeCloseTo((1 / 2 + 2 / 4) / 3, 12);
    expect(s.rr).toBe(0.5);
    expect(s.hit).toBe(1);
  });

  it('at k = 3 and k = 1', () => {
    const s3 = scoresOf(ranked, relevant, 3, 3);
    expect(s3.precision).toBeCloseTo(1 / 3, 12);
    expect(s3.recall).toBeCloseTo(1 / 3, 12);
    expect(s3.ndcg).toBeCloseTo(1 / log2(3) / (1 + 1 / log2(3) + 0.5), 12);
    expect(s3.ap).toBeCloseTo(1 / 2 / 3, 12);
    expect(scoresOf(ranked, relevant, 3, 1)).toEqual({
      precision: 0,
      recall: 0,
      ndcg: 0,
      ap: 0,
      rr: 0,
      hit: 0,
    });
  });

  it('divides precision by k when the list is short, and caps the ideal DCG and AP at min(k, n)', () => {
    const s = scoresOf([5], [5, 6], 2, 10);
    expect(s.precision).toBeCloseTo(0.1, 12);
    expect(s.recall).toBe(0.5);
    expect(s.ndcg).toBeCloseTo(1 / (1 + 1 / log2(3)), 12);
    expect(s.ap).toBe(0.5);
    expect(s.rr).toBe(1);
    // Twelve held-out items, all ten ranked ones relevant: a perfect list at k = 10.
    const perfect = scoresOf([...Array(10).keys()], [...Array(12).keys()], 12, 10);
    expect([perfect.ndcg, perfect.ap, perfect.precision]).toEqual([1, 1, 1]);
    expect(perfect.recall).toBeCloseTo(10 / 12, 12);
  });

  it('refuses a user without held-out items', () => {
    expect(() => scoresOf([1], [], 0, 5)).toThrow('at least one held-out item');
  });

  it('idealDcg sums 1 / log2(rank + 1)', () => {
    expect(idealDcg(0)).toBe(0);
    expect(idealDcg(3)).toBeCloseTo(1 + 1 / log2(3) + 0.5, 12);
  });
});

/** Slow reference implementations, written from the definitions in docs/evaluation.md. */
function reference(ranked: number[], relevant: Set<number>, count: number, k: number) {
  const top = ranked.slice(0, k);
  const gains = top.map((i) => (relevant.has(i) ? 1 : 0));
  const hits = gains.reduce((a: number, b) => a + b, 0);
  const dcg = (g: number[]) => g.reduce((sum, gain, r) => sum + gain / log2(r + 2), 0);
  const ideal = Array.from({ length: Math.min(k, count) }, () => 1);
  let ap = 0;
  top.forEach((i, r) => {
    if (relevant.has(i)) ap += top.slice(0, r + 1).filter((j) => relevant.has(j)).length / (r + 1);
  });
  return { recall: hits / count, ndcg: dcg(gains) / dcg(ideal), ap: ap / Math.min(k, count) };
}

describe('rankingScores against the slow reference (random cases)', () => {
  it('agrees on recall, NDCG and MAP', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { maxLength: 60 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 25 }),
        (ranked, relevant, unrankable, k) => {
          const set = new Set(relevant);
          const count = relevant.length + unrankable;
          const fast = rankingScores(Int32Array.from(ranked), (i) => set.has(i), count, k);
          const slow = reference(ranked, set, count, k);
          expect(fast.recall).toBeCloseTo(slow.recall, 10);
          expect(fast.ndcg).toBeCloseTo(slow.ndcg, 10);
          expect(fast.ap).toBeCloseTo(slow.ap, 10);
          expect(fast.ndcg).toBeLessThanOrEqual(1 + 1e-12);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('fullRankOf', () => {
  it('agrees with a full sort (higher first, ties to the lower index, excluded items skipped)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.uniqueArray(fc.nat({ max: 39 })),
        (values, pick, excludedList) => {
          const scores = Float32Array.from(values);
          const target = pick % values.length;
          const excluded = new Set(excludedList.filter((i) => i !== target));
          const order = [...scores.keys()]
            .filter((i) => !excluded.has(i))
            .sort((a, b) => scores[b]! - scores[a]! || a - b);
          expect(fullRankOf(scores, target, (i) => excluded.has(i))).toBe(order.indexOf(target) + 1);
        },
      ),
    );
  });
});

describe('MeanAccumulator', () => {
  it('averages each name over its own values', () => {
    const m = new MeanAccumulator();
    m.add('a', 1);
    m.add('a', 2);
    m.add('b', 5);
    expect(m.means()).toEqual({ a: 1.5, b: 5 });
  });
});
