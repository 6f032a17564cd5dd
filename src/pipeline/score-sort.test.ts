import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { sortByScoreDescending } from './score-sort.js';

/** The reference: a stable comparator sort, highest first, NaN last. */
function reference<T extends { score: number }>(entries: T[]): T[] {
  return [...entries].sort((a, b) => {
    if (Number.isNaN(a.score) || Number.isNaN(b.score))
      return Number(Number.isNaN(a.score)) - Number(Number.isNaN(b.score));
    return b.score > a.score ? 1 : b.score < a.score ? -1 : 0;
  });
}

describe('sortByScoreDescending', () => {
  it('orders as a stable comparator sort does, ties in input order, NaN last', () => {
    const rng = new Rng(5);
    const specials = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-310, -1e-310];
    for (const n of [0, 1, 2, 63, 64, 65, 300, 1362, 5000]) {
      for (const kind of ['wide', 'ties', 'specials', 'negative']) {
        const entries = Array.from({ length: n }, (_, id) => {
          const score =
            kind === 'wide'
              ? (rng.float() - 0.5) * 10 ** rng.int(12)
              : kind === 'ties'
                ? rng.int(7) / 4
                : kind === 'specials'
                  ? rng.float() < 0.3
                    ? specials[rng.int(specials.length)]!
                    : rng.float()
                  : -rng.float() * 3;
          return { id, score };
        });
        const want = reference(entries).map((e) => e.id);
        const got = sortByScoreDescending([...entries]).map((e) => e.id);
        expect(got, `${kind} x ${n}`).toEqual(want);
      }
    }
  });

  it('sorts in place and returns the same array', () => {
    const entries = Array.from({ length: 100 }, (_, k) => ({ score: k % 10 }));
    expect(sortByScoreDescending(entries)).toBe(entries);
    expect(entries[0]!.score).toBe(9);
    expect(entries.at(-1)!.score).toBe(0);
  });
});
