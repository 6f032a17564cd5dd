import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from './interactions.js';
import { loadRecommender, saveRecommender } from './persist.js';
import { PopularityRecommender } from './popularity.js';

/**
 * Half-life 10 ms. Items x, y, z (indices 0, 1, 2). User a's time is 30, b's 50 (the log's newest), c's 40;
 * d has only an unknown time (0). Weights are powers of two, so the expected scores are exact in float32.
 */
const HAND: RawInteraction[] = [
  { user: 'a', item: 'x', value: 1, ts: 10 },
  { user: 'a', item: 'y', value: 1, ts: 30 },
  { user: 'b', item: 'x', value: 1, ts: 20 },
  { user: 'b', item: 'z', value: 1, ts: 50 },
  { user: 'c', item: 'y', value: 1, ts: 40 },
  { user: 'd', item: 'x', value: 1, ts: 0 },
];

// x: 2^-((t - 0) / 10) + 2^-((t - 10) / 10) + 2^-((t - 20) / 10); y: the events at 30 and 40 when at or
// before t; z: the one at 50.
const AS_OF_30 = [1 / 8 + 1 / 4 + 1 / 2, 1, 0]; // y at 40 and z at 50 are after a's time
const AS_OF_40 = [1 / 16 + 1 / 8 + 1 / 4, 1 / 2 + 1, 0];
const AS_OF_50 = [1 / 32 + 1 / 16 + 1 / 8, 1 / 4 + 1 / 2, 1];

const scoresOf = (model: PopularityRecommender, u: number): number[] => {
  const out = new Float32Array(model.itemIds.length);
  model.scoreUser(u, out);
  return Array.from(out);
};

const historyScores = (model: PopularityRecommender): number[] => {
  const out = new Float32Array(model.itemIds.length);
  model.scoreHistory([0], out);
  return Array.from(out);
};

/** The rule straight from its definition: every event at or before t, decayed to t. */
function reference(m: InteractionMatrix, t: number, half: number): Float32Array {
  const s = new Float64Array(m.items);
  for (let k = 0; k < m.nnz; k++)
    if (m.userTs[k]! <= t) s[m.userItems[k]!]! += 2 ** (-(t - m.userTs[k]!) / half);
  return Float32Array.from(s);
}

describe('trending (PopularityRecommender with a half-life)', () => {
  const m = InteractionMatrix.from(HAND);

  it('scores each user as of their newest training interaction, ignoring later ones', async () => {
    expect(m.itemIds).toEqual(['x', 'y', 'z']);
    const model = new PopularityRecommender({ halfLifeMs: 10 });
    await model.fit(m, { servedAt: 'user' });
    expect(scoresOf(model, 0)).toEqual(AS_OF_30);
    expect(scoresOf(model, 2)).toEqual(AS_OF_40);
    expect(scoresOf(model, 1)).toEqual(AS_OF_50);
    // z (at 50) is the top item for b but does not exist yet for a: their top items differ.
    expect(scoresOf(model, 0)[2]).toBe(0);
  });

  it('falls back to the newest time of the log for a history and for a user without times', async () => {
    const model = new PopularityRecommender({ halfLifeMs: 10 });
    await model.fit(m, { servedAt: 'user' });
    expect(scoresOf(model, 3)).toEqual(AS_OF_50);
    expect(historyScores(model)).toEqual(AS_OF_50);
  });

  it("scores everyone as of the log's newest interaction when served after the log (the default)", async () => {
    for (const [options, fit] of [
      [{}, {}],
      [{}, { servedAt: 'log' }],
      [{ asOf: 'log' }, { servedAt: 'user' }],
    ] as const) {
      const model = new PopularityRecommender({ halfLifeMs: 10, ...options });
      await model.fit(m, fit);
      for (let u = 0; u < m.users; u++) expect(scoresOf(model, u)).toEqual(AS_OF_50);
    }
    // The model's own option wins over the fit's.
    const own = new PopularityRecommender({ halfLifeMs: 10, asOf: 'user' });
    await own.fit(m, { servedAt: 'log' });
    expect(scoresOf(own, 0)).toEqual(AS_OF_30);
  });

  it('equals popularity when every timestamp is 0', async () => {
    const untimed = InteractionMatrix.from(HAND.map((x) => ({ ...x, ts: 0 })));
    const trending = new PopularityRecommender({ halfLifeMs: 10 });
    const popularity = new PopularityRecommender();
    await trending.fit(untimed, { servedAt: 'user' });
    await popularity.fit(untimed);
    for (let u = 0; u < untimed.users; u++) expect(scoresOf(trending, u)).toEqual(scoresOf(popularity, u));
    expect(scoresOf(popularity, 0)).toEqual([3, 2, 1]);
  });

  it('scores identically after a state round trip, in memory and through a model file', async () => {
    const model = new PopularityRecommender({ halfLifeMs: 10 });
    await model.fit(m, { servedAt: 'user' });
    const state = model.toState();
    expect(state.params).toEqual({ halfLifeMs: 10, asOf: 'user' });
    const copy = PopularityRecommender.fromState(state);
    const dir = mkdtempSync(join(tmpdir(), 'foryou-trending-'));
    try {
      await saveRecommender(model, dir);
      const loaded = await loadRecommender(dir);
      expect(loaded.name).toBe('trending');
      for (let u = 0; u < m.users; u++) {
        const a = new Float32Array(3);
        loaded.scoreUser(u, a);
        expect(Array.from(a)).toEqual(scoresOf(model, u));
        expect(scoresOf(copy, u)).toEqual(scoresOf(model, u));
      }
      expect(scoresOf(copy, 0)).toEqual(AS_OF_30);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a file saved before asOf existed as it scored then (from the newest interaction)', async () => {
    const old = new PopularityRecommender({ halfLifeMs: 10, asOf: 'log' });
    await old.fit(m);
    const state = old.toState();
    state.params = { halfLifeMs: 10 };
    const loaded = PopularityRecommender.fromState(state);
    expect(scoresOf(loaded, 0)).toEqual(AS_OF_50);
  });

  it('matches the definition on a log long enough for the snapshots, and after a round trip', async () => {
    const rng = new Rng(7);
    const rows: RawInteraction[] = [];
    for (let k = 0; k < 12_000; k++)
      rows.push({
        user: `u${rng.int(300)}`,
        item: `i${rng.int(100)}`,
        value: 1,
        ts: 1_000 + rng.int(100_000),
      });
    const big = InteractionMatrix.from(rows);
    const half = 5_000;
    const model = new PopularityRecommender({ halfLifeMs: half });
    await model.fit(big, { servedAt: 'user' });
    const copy = PopularityRecommender.fromState(model.toState());
    const out = new Float32Array(big.items);
    for (let u = 0; u < big.users; u += 7) {
      const ts = big.userTs.subarray(big.userPtr[u]!, big.userPtr[u + 1]!);
      const expected = reference(big, Math.max(...ts), half);
      model.scoreUser(u, out);
      for (let i = 0; i < big.items; i++) expect(out[i]).toBeCloseTo(expected[i]!, 4);
      expect(scoresOf(copy, u)).toEqual(Array.from(out));
    }
  });
});
