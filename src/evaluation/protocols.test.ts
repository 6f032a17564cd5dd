import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import { applyProtocol } from './protocols.js';
import { kCoreMask, recboleCounts } from './recbole-protocol.js';
import { recommendersSplit } from './recommenders-protocol.js';
import { roundHalfEven, type Split } from './split.js';
import { temporalCut, temporalSplit } from './temporal-protocol.js';

/** Distinct (user, item) pairs: user u has `sizes[u]` interactions on random items, rating 1-5. */
function dataset(sizes: number[], items = 200, seed = 1): RawInteraction[] {
  const rng = new Rng(seed);
  const out: RawInteraction[] = [];
  sizes.forEach((n, u) => {
    const chosen = rng.shuffle([...Array(items).keys()]).slice(0, n);
    for (const i of chosen)
      out.push({ user: `u${u}`, item: `i${i}`, value: 1 + rng.int(5), ts: rng.int(1e9) });
  });
  return out;
}

/** The (user id, item id) pairs of a matrix, as "user|item" strings, sorted. */
function pairs(m: InteractionMatrix): string[] {
  const out: string[] = [];
  for (let u = 0; u < m.users; u++) for (const i of m.itemsOf(u)) out.push(`${m.userIds[u]}|${m.itemIds[i]}`);
  return out.sort();
}

function expectDisjoint(...ms: InteractionMatrix[]): void {
  const seen = new Set<string>();
  for (const m of ms)
    for (const p of pairs(m)) {
      expect(seen.has(p), p).toBe(false);
      seen.add(p);
    }
}

function expectSharedUniverse(split: Split): void {
  for (const m of [split.test, split.validation ?? split.test]) {
    expect(m.userIds).toEqual(split.train.userIds);
    expect(m.itemIds).toEqual(split.train.itemIds);
  }
}

const perUser = (m: InteractionMatrix, u: number) => m.userPtr[u + 1]! - m.userPtr[u]!;

describe('roundHalfEven (Python round)', () => {
  it('rounds halves to the even neighbour', () => {
    expect([0.5, 1.5, 2.5, 3.5, 4.5, 7.5, 2.25, 2.75].map(roundHalfEven)).toEqual([0, 2, 2, 4, 4, 8, 2, 3]);
  });
});

describe('recommenders protocol', () => {
  const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 33];
  const data = dataset(sizes);

  it('puts round-half-even(0.75 n) of each user in train and the rest in test', () => {
    const split = recommendersSplit(data, 42);
    const expectedTrain = [1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 15, 25];
    sizes.forEach((n, j) => {
      const u = split.train.userIds.indexOf(`u${j}`);
      expect([perUser(split.train, u), perUser(split.test, u)]).toEqual([
        expectedTrain[j],
        n - expectedTrain[j]!,
      ]);
    });
    expectSharedUniverse(split);
    expectDisjoint(split.train, split.test);
    expect([...pairs(split.train), ...pairs(split.test)].sort()).toEqual(pairs(InteractionMatrix.from(data)));
    expect(split.params).toEqual({ seed: 42, ratio: 0.75 });
    // Test interactions lie among the training ones in time: a user is served as of their own.
    expect(split.servedAt).toBe('user');
  });

  it('is determined by the seed and the set of interactions, not their order', () => {
    const a = recommendersSplit(data, 7);
    const b = recommendersSplit([...data].reverse(), 7);
    expect(pairs(b.train)).toEqual(pairs(a.train));
    expect(pairs(b.test)).toEqual(pairs(a.test));
    expect(pairs(recommendersSplit(data, 8).test)).not.toEqual(pairs(a.test));
  });

  it('merges repeated pairs before splitting, so a pair is never on both sides', () => {
    const repeated = [...data, ...data.map((x) => ({ ...x, ts: x.ts + 1 }))];
    const split = recommendersSplit(repeated, 1);
    expectDisjoint(split.train, split.test);
    expect(split.train.nnz + split.test.nnz).toBe(data.length);
  });
});

describe('recbole protocol', () => {
  it('splits 80/10/10 with floor for validation and test, as RecBole does', () => {
    expect(recboleCounts(10, [0.8, 0.1, 0.1])).toEqual([8, 1, 1]);
    expect(recboleCounts(19, [0.8, 0.1, 0.1])).toEqual([17, 1, 1]);
    expect(recboleCounts(25, [0.8, 0.1, 0.1])).toEqual([21, 2, 2]);
    expect(recboleCounts(30, [0.8, 0.1, 0.1])).toEqual([24, 3, 3]);
    expect(recboleCounts(3, [0.8, 0.1, 0.1])).toEqual([1, 1, 1]);
    expect(recboleCounts(2, [0.8, 0.1, 0.1])).toEqual([1, 0, 1]);
  });

  /** The k-core by peeling one vertex at a time (a different algorithm from `kCoreMask`'s passes). */
  function slowCore(edges: [number, number][], core: number): string[] {
    const alive = new Set(edges.map(([u, i]) => `${u}|${i}`));
    for (;;) {
      const deg = new Map<string, number>();
      for (const e of alive) {
        const [u, i] = e.split('|');
        deg.set(`u${u}`, (deg.get(`u${u}`) ?? 0) + 1);
        deg.set(`i${i}`, (deg.get(`i${i}`) ?? 0) + 1);
      }
      const weak = [...deg].find(([, d]) => d < core)?.[0];
      if (weak === undefined) return [...alive].sort();
      for (const e of [...alive]) {
        const [u, i] = e.split('|');
        if (weak === `u${u}` || weak === `i${i}`) alive.delete(e);
      }
    }
  }

  it('10-core filtering reaches the fixpoint: the unique largest subgraph with every degree >= k', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.nat({ max: 11 }), fc.nat({ max: 11 })), {
          selector: ([u, i]) => `${u}|${i}`,
          maxLength: 100,
        }),
        fc.integer({ min: 1, max: 6 }),
        (edges, core) => {
          const m = InteractionMatrix.from(
            edges.map(([u, i]) => ({ user: `${u}`, item: `${i}`, value: 1, ts: 0 })),
          );
          const mask = kCoreMask(m, core);
          const kept: string[] = [];
          for (let u = 0; u < m.users; u++)
            for (let k = m.userPtr[u]!; k < m.userPtr[u + 1]!; k++)
              if (mask[k]) kept.push(`${m.userIds[u]}|${m.itemIds[m.userItems[k]!]}`);
          expect(kept.sort()).toEqual(slowCore(edges, core));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps ratings >= 3 of the 10-core, splits each user 80/10/10, and masks validation at test time', () => {
    const data = dataset(
      Array.from({ length: 60 }, (_, u) => 15 + (u % 30)),
      60,
    );
    const split = applyProtocol('recbole', data, 42);
    expectSharedUniverse(split);
    expect(split.servedAt).toBe('user');
    const validation = split.validation!;
    expectDisjoint(split.train, validation, split.test);
    expect(split.alsoExcludeAtTest).toEqual([validation]);
    const userDeg = new Int32Array(split.train.users);
    const itemDeg = new Int32Array(split.train.items);
    for (const m of [split.train, validation, split.test]) {
      for (let u = 0; u < m.users; u++) userDeg[u]! += perUser(m, u);
      m.itemCounts().forEach((c, i) => {
        itemDeg[i]! += c;
      });
      for (const v of m.userValues) expect(v).toBeGreaterThanOrEqual(3);
    }
    expect(Math.min(...userDeg, ...itemDeg)).toBeGreaterThanOrEqual(10);
    for (let u = 0; u < split.train.users; u++)
      expect([perUser(split.train, u), perUser(validation, u), perUser(split.test, u)]).toEqual(
        recboleCounts(userDeg[u]!, [0.8, 0.1, 0.1]),
      );
    expect(pairs(applyProtocol('recbole', data, 42).test)).toEqual(pairs(split.test));
  });
});

describe('temporal protocol', () => {
  const at = (user: string, item: string, ts: number): RawInteraction => ({ user, item, value: 1, ts });
  const data = [
    at('a', 'x', 1),
    at('a', 'y', 2),
    at('b', 'x', 3),
    at('b', 'z', 4),
    at('a', 'z', 5),
    at('a', 'x', 6), // a repeat of a pair seen in training
    at('c', 'x', 7), // a user never seen in training
    at('b', 'w', 8), // an item never seen in training
    at('b', 'y', 9),
    at('a', 'w', 10),
  ];

  it('cuts at the timestamp at position floor(q n) of the sorted times', () => {
    expect(temporalCut(data)).toBe(9);
    expect(temporalCut(data, { quantile: 0.5 })).toBe(6);
    expect(temporalCut(data, { cutMs: 3.5 })).toBe(3.5);
  });

  it('trains before the cut and tests after it on known users and items, without repeats', () => {
    const split = temporalSplit(data, 0, { quantile: 0.5 });
    expect(pairs(split.train)).toEqual(['a|x', 'a|y', 'a|z', 'b|x', 'b|z']);
    expect(pairs(split.test)).toEqual(['b|y']);
    expectSharedUniverse(split);
    expect(split.params).toMatchObject({ cutMs: 6, quantile: 0.5 });
    // Everyone is served after the cut, so after the whole training log.
    expect(split.servedAt).toBe('log');
  });

  it('fails with a clear message when every timestamp is equal', () => {
    let error: unknown;
    try {
      temporalSplit([at('a', 'x', 5), at('b', 'y', 5)], 0);
    } catch (e) {
      error = e;
    }
    expect(isForyouError(error, 'FY_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('needs distinct timestamps');
  });
});

describe('applyProtocol', () => {
  it('rejects an unknown protocol and bad options', () => {
    expect(() => applyProtocol('leave-one-out' as 'temporal', [], 1)).toThrow(
      'unknown protocol "leave-one-out"; expected recommenders, recbole, temporal',
    );
    expect(() => applyProtocol({ name: 'recommenders', options: { ratio: 1 } }, [], 1)).toThrow(
      'ratio must be between 0 and 1',
    );
    expect(() => applyProtocol('recommenders', dataset([1, 1]), 1)).toThrow('left 2 training and 0 test');
  });
});
