import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { countAtMost, selectTop } from './sorted.js';

describe('countAtMost', () => {
  it('counts the values at most x, ties included, in a sorted array', () => {
    const sorted = Float64Array.from([1, 2, 2, 2, 5, 9]);
    expect([0, 1, 2, 3, 5, 8, 9, 10].map((x) => countAtMost(sorted, x))).toEqual([0, 1, 4, 4, 5, 5, 6, 6]);
    expect(countAtMost(sorted, Number.NaN)).toBe(0);
    expect(countAtMost([], 3)).toBe(0);
  });

  it('agrees with a linear count on random sorted arrays', () => {
    const rng = new Rng(7);
    const next = () => rng.int(50);
    for (let round = 0; round < 50; round++) {
      const values = Array.from({ length: round }, next).sort((a, b) => a - b);
      for (let x = -1; x <= 50; x++) expect(countAtMost(values, x)).toBe(values.filter((v) => v <= x).length);
    }
  });
});

describe('selectTop', () => {
  it('puts the nth-ranked index at nth of a range, better ones before it and worse after, ties by index', () => {
    const rng = new Rng('select');
    for (let round = 0; round < 50; round++) {
      const n = 1 + rng.int(200);
      // Few distinct values, so ties are common.
      const scores = Float32Array.from({ length: n }, () => rng.int(10));
      const order = Int32Array.from({ length: n }, (_, i) => n - 1 - i);
      const lo = rng.int(n);
      const hi = lo + rng.int(n - lo);
      const nth = lo + rng.int(hi - lo + 1);
      const before = Array.from(order);
      selectTop(scores, order, lo, hi, nth);
      const rank = (a: number, b: number) => scores[b]! - scores[a]! || a - b;
      const expected = before.slice(lo, hi + 1).sort(rank);
      expect(order[nth]).toBe(expected[nth - lo]);
      for (let j = lo; j < nth; j++) expect(rank(order[j]!, order[nth]!)).toBeLessThan(0);
      for (let j = nth + 1; j <= hi; j++) expect(rank(order[j]!, order[nth]!)).toBeGreaterThan(0);
      // Outside the range nothing moves.
      expect(Array.from(order.subarray(0, lo))).toEqual(before.slice(0, lo));
      expect(Array.from(order.subarray(hi + 1))).toEqual(before.slice(hi + 1));
    }
  });
});
