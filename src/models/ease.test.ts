import { describe, expect, it } from 'vitest';
import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { EaseRecommender } from './ease.js';
import { InteractionMatrix, type RawInteraction } from './interactions.js';
import { PopularityRecommender } from './popularity.js';
import { sessionWeighting } from './session-weight.js';
import { spdInverseReference } from './spd-reference.js';
import { plantedGroups, plantedRecall } from './testing.js';

function randomInteractions(users: number, items: number, perUser: number, seed: number): InteractionMatrix {
  const rng = new Rng(seed);
  const rows: RawInteraction[] = [];
  for (let u = 0; u < users; u++)
    for (let k = 0; k < perUser; k++)
      rows.push({ user: `u${u}`, item: `i${rng.int(items)}`, value: 1, ts: rng.int(5_000) * 1000 });
  return InteractionMatrix.from(rows);
}

/** EASE straight from the definition on dense matrices: G, P = (G + λI)⁻¹, B = I - P / diag(P), x_u B. */
function easeReference(train: InteractionMatrix, lambda: number, sessionWeight: number, halfLifeSec: number) {
  const n = train.items;
  const weight = sessionWeighting(
    { sessionWeight, sessionHalfLifeSec: halfLifeSec },
    { sessionWeight, sessionHalfLifeSec: halfLifeSec },
  );
  const g = new Float64Array(n * n);
  for (let u = 0; u < train.users; u++) {
    const items = train.itemsOf(u);
    const ts = train.userTs.subarray(train.userPtr[u]!, train.userPtr[u + 1]!);
    for (let a = 0; a < items.length; a++)
      for (let b = 0; b < items.length; b++) g[items[a]! * n + items[b]!]! += weight.weight(ts[a]! - ts[b]!);
  }
  for (let i = 0; i < n; i++) g[i * n + i]! += lambda;
  const p = spdInverseReference(g, n);
  return (u: number) => {
    const scores = new Float64Array(n);
    for (const i of train.itemsOf(u))
      for (let j = 0; j < n; j++) if (j !== i) scores[j]! -= p[i * n + j]! / p[j * n + j]!;
    return scores;
  };
}

describe('EaseRecommender', () => {
  it('learns a planted structure: held-out items of the own group outrank the other group', async () => {
    const data = plantedGroups();
    const ease = new EaseRecommender({ lambda: 10 });
    await ease.fit(data.train, { threads: 1 });
    expect(plantedRecall(ease, data)).toBeGreaterThanOrEqual(0.9);
    const popularity = new PopularityRecommender();
    await popularity.fit(data.train);
    expect(plantedRecall(popularity, data)).toBeLessThan(0.75);
  });

  it.each([
    [0, 1],
    [2, 2],
  ])('matches the dense reference (session weight %i, %i thread(s))', async (sessionWeight, threads) => {
    const train = randomInteractions(40, 150, 12, 3);
    const ease = new EaseRecommender({ lambda: 5, sessionWeight, sessionHalfLifeSec: 600 });
    await ease.fit(train, { threads });
    const reference = easeReference(train, 5, sessionWeight, 600);
    const out = new Float32Array(train.items);
    for (const u of [0, 7, 39]) {
      ease.scoreUser(u, out);
      const expected = reference(u);
      for (let j = 0; j < train.items; j++) expect(out[j]).toBeCloseTo(expected[j]!, 4);
    }
  });

  it('gives bit-identical weights on one and two threads, and on refits', async () => {
    const train = randomInteractions(60, 300, 15, 4);
    const scores = async (threads: number) => {
      const ease = new EaseRecommender();
      await ease.fit(train, { threads });
      const out = new Float32Array(train.items);
      ease.scoreUser(5, out);
      return out;
    };
    const one = await scores(1);
    expect(await scores(2)).toEqual(one);
    expect(await scores(1)).toEqual(one);
  });

  it('models only items with minItemCount interactions; the rest score -Infinity', async () => {
    const train = randomInteractions(30, 80, 10, 5);
    const counts = train.itemCounts();
    const ease = new EaseRecommender({ minItemCount: 3 });
    await ease.fit(train, { threads: 1 });
    const out = new Float32Array(train.items);
    ease.scoreUser(0, out);
    for (let i = 0; i < train.items; i++) {
      if (counts[i]! < 3) expect(out[i]).toBe(Number.NEGATIVE_INFINITY);
      else expect(Number.isFinite(out[i])).toBe(true);
    }
  });

  it('models at most maxItems items, the most interacted-with', async () => {
    const train = randomInteractions(30, 80, 10, 5);
    const counts = train.itemCounts();
    const ease = new EaseRecommender({ maxItems: 12 });
    await ease.fit(train, { threads: 1 });
    const out = new Float32Array(train.items);
    ease.scoreUser(0, out);
    const modelled = [...out.keys()].filter((i) => Number.isFinite(out[i]));
    expect(modelled).toHaveLength(12);
    const leastKept = Math.min(...modelled.map((i) => counts[i]!));
    for (let i = 0; i < train.items; i++)
      if (!modelled.includes(i)) expect(counts[i]).toBeLessThanOrEqual(leastKept);
    expect(() => new EaseRecommender({ maxItems: 0 })).toThrow('maxItems');
  });

  it('refuses a catalogue too large for its memory budget, suggesting a minItemCount', async () => {
    const train = randomInteractions(30, 80, 10, 6);
    const budget = EaseRecommender.bytesFor(20);
    const ease = new EaseRecommender({ maxMemoryBytes: budget });
    const error = await ease.fit(train, { threads: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForyouError);
    expect((error as ForyouError).code).toBe('FY_INVALID_ARGUMENT');
    expect((error as ForyouError).message).toMatch(/needs .* GiB, more than maxMemoryBytes/);
    const suggested = (error as ForyouError).details.suggestedMinItemCount as number;
    const kept = train.itemCounts().filter((c) => c >= suggested).length;
    expect(EaseRecommender.bytesFor(kept)).toBeLessThanOrEqual(budget);
    await new EaseRecommender({ maxMemoryBytes: budget, minItemCount: suggested }).fit(train, { threads: 1 });
  });

  it('rejects bad hyper-parameters', () => {
    expect(() => new EaseRecommender({ lambda: 0 })).toThrow('lambda');
    expect(() => new EaseRecommender({ minItemCount: 0.5 })).toThrow('minItemCount');
    expect(() => new EaseRecommender({ sessionWeight: -1 })).toThrow('sessionWeight');
  });
});
