import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InteractionMatrix } from '../models/interactions.js';
import {
  catalogueCoverage,
  cooccurrenceCosine,
  gini,
  intraListDiversity,
  itemSelfInformation,
  meanNovelty,
  personalisation,
  type RecommendationLists,
  recommendationGini,
  userSetJaccard,
} from './beyond-accuracy.js';

// Users a, b, c; items x = 0, y = 1, z = 2. a: {x, y}, b: {x, y}, c: {x, z}.
const train = InteractionMatrix.from(
  [
    ['a', 'x'],
    ['a', 'y'],
    ['b', 'x'],
    ['b', 'y'],
    ['c', 'x'],
    ['c', 'z'],
  ].map(([user, item]) => ({ user: user!, item: item!, value: 1, ts: 0 })),
);
const [X, Y, Z] = [0, 1, 2];
const candidates = Int32Array.from([X, Y, Z]);

/** Lists from plain arrays (rows padded with -1 to the longest). */
function listsOf(rows: number[][]): RecommendationLists {
  const depth = Math.max(...rows.map((r) => r.length));
  const items = new Int32Array(rows.length * depth).fill(-1);
  rows.forEach((r, j) => {
    items.set(r, j * depth);
  });
  return { depth, items, lengths: Int32Array.from(rows, (r) => r.length) };
}

const lists = listsOf([
  [X, Y, Z],
  [Y, Z],
  [X, Z],
]);

const cosXY = 2 / Math.sqrt(6);
const cosXZ = 1 / Math.sqrt(3);

describe('beyond-accuracy metrics on a hand-computed case', () => {
  it('catalogue coverage: distinct recommended items over candidates', () => {
    expect(catalogueCoverage(lists, 1, train.items, candidates)).toBeCloseTo(2 / 3, 12);
    expect(catalogueCoverage(lists, 2, train.items, candidates)).toBe(1);
  });

  it('novelty: mean self-information -log2(users of the item / users)', () => {
    const info = itemSelfInformation(train);
    expect(Array.from(info)).toEqual([0, Math.log2(3 / 2), Math.log2(3)]);
    const expected = ((0 + info[Y]!) / 2 + (info[Y]! + info[Z]!) / 2 + (0 + info[Z]!) / 2) / 3;
    expect(meanNovelty(lists, 2, info)).toBeCloseTo(expected, 12);
  });

  it('co-occurrence cosine and Jaccard similarities', () => {
    const cos = cooccurrenceCosine(train);
    expect(cos(X, Y)).toBeCloseTo(cosXY, 12);
    expect(cos(Z, X)).toBeCloseTo(cosXZ, 12);
    expect(cos(Y, Z)).toBe(0);
    const jac = userSetJaccard(train);
    expect([jac(X, Y), jac(X, Z), jac(Y, Z)]).toEqual([2 / 3, 1 / 3, 0]);
  });

  it('intra-list diversity: mean over lists of the mean pairwise 1 - similarity', () => {
    const [at2, at3] = intraListDiversity(lists, [2, 3], cooccurrenceCosine(train));
    const user0at3 = (1 - cosXY + (1 - cosXZ) + 1) / 3;
    expect(at2).toBeCloseTo((1 - cosXY + 1 + (1 - cosXZ)) / 3, 12);
    expect(at3).toBeCloseTo((user0at3 + 1 + (1 - cosXZ)) / 3, 12);
    // Lists of one item have no pairs and are left out.
    expect(intraListDiversity(lists, [1], cooccurrenceCosine(train))[0]).toBeNaN();
  });

  it('personalisation: 1 - mean pairwise overlap / k', () => {
    // Every pair of the three lists at k = 2 shares exactly one item.
    expect(personalisation(lists, 2, train.items)).toBeCloseTo(0.5, 12);
    expect(
      personalisation(
        listsOf([
          [X, Y],
          [X, Y],
        ]),
        2,
        3,
      ),
    ).toBe(0);
    expect(personalisation(listsOf([[X], [Y]]), 1, 3)).toBe(1);
    expect(personalisation(listsOf([[X]]), 1, 3)).toBeNaN();
  });

  it('Gini of recommendation counts over candidate items', () => {
    expect(gini([1, 1, 1, 1])).toBe(0);
    expect(gini([0, 0, 0, 10])).toBeCloseTo(0.75, 12);
    expect(gini([3, 1, 2])).toBeCloseTo(4 / 18, 12);
    expect(gini([0, 0])).toBe(0);
    // At k = 1: x twice, y once, z never.
    expect(recommendationGini(lists, 1, train.items, candidates)).toBeCloseTo(4 / 9, 12);
  });
});

describe('the cosine list fast path', () => {
  it('gives the same diversity as the pairwise similarity on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 14 }), fc.nat({ max: 19 })), { minLength: 1, maxLength: 120 }),
        fc.array(fc.uniqueArray(fc.nat({ max: 19 }), { maxLength: 8 }), { minLength: 1, maxLength: 10 }),
        (pairs, rows) => {
          const m = InteractionMatrix.from(
            pairs.map(([u, i]) => ({ user: `u${u}`, item: `i${i}`, value: 1, ts: 0 })),
            {
              userIds: [...Array(15).keys()].map((u) => `u${u}`),
              itemIds: [...Array(20).keys()].map((i) => `i${i}`),
            },
          );
          const fast = cooccurrenceCosine(m);
          const pairwise = (a: number, b: number) => fast(a, b);
          const ks = [1, 2, 5, 8];
          const a = intraListDiversity(listsOf(rows.length ? rows : [[]]), ks, fast);
          const b = intraListDiversity(listsOf(rows.length ? rows : [[]]), ks, pairwise);
          a.forEach((v, x) => {
            if (Number.isNaN(v)) expect(b[x]).toBeNaN();
            else expect(v).toBeCloseTo(b[x]!, 10);
          });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('personalisation against brute force', () => {
  it('matches the mean over all pairs of |L_u ∩ L_v| / k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.nat({ max: 9 }), { minLength: 3, maxLength: 3 }), {
          minLength: 2,
          maxLength: 12,
        }),
        (rows) => {
          let overlap = 0;
          let pairs = 0;
          for (let a = 0; a < rows.length; a++)
            for (let b = a + 1; b < rows.length; b++) {
              overlap += rows[a]!.filter((i) => rows[b]!.includes(i)).length / 3;
              pairs++;
            }
          expect(personalisation(listsOf(rows), 3, 10)).toBeCloseTo(1 - overlap / pairs, 10);
        },
      ),
    );
  });
});
