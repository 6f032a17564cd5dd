import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { countAtMost } from './sorted.js';

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
