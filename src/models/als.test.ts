import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { AlsRecommender } from './als.js';
import { type AlsSide, alsScratch, gramian, solveRow, solveRowCg, solveRowReference } from './als-kernel.js';
import { plantedGroups, plantedRecall } from './testing.js';

function randomSide(rows: number, cols: number, seed: number): AlsSide {
  const rng = new Rng(seed);
  const ptr = new Int32Array(rows + 1);
  const idx: number[] = [];
  const conf: number[] = [];
  for (let r = 0; r < rows; r++) {
    const picked = new Set<number>();
    for (let k = 0; k < 1 + rng.int(8); k++) picked.add(rng.int(cols));
    for (const c of [...picked].sort((a, b) => a - b)) {
      idx.push(c);
      conf.push(1 + 5 * rng.float());
    }
    ptr[r + 1] = idx.length;
  }
  return { ptr, idx: Int32Array.from(idx), conf: Float32Array.from(conf) };
}

describe('ALS kernels', () => {
  const f = 6;
  const cols = 30;
  const rng = new Rng(3);
  const other = Float64Array.from({ length: cols * f }, () => rng.normal());
  const side = randomSide(10, cols, 4);
  const gram = new Float64Array(f * f);
  gramian(other, cols, f, gram);

  it('solves each row like the dense definition (Gramian trick vs Yᵀ C Y over every item)', () => {
    const out = new Float64Array(10 * f);
    const scratch = alsScratch(f);
    for (let r = 0; r < 10; r++) {
      solveRow(gram, other, f, 0.3, side, r, out, scratch);
      const expected = solveRowReference(other, cols, f, 0.3, side, r);
      for (let k = 0; k < f; k++) expect(out[r * f + k]).toBeCloseTo(expected[k]!, 9);
    }
  });

  it('converges to the same solution by conjugate gradient in f steps', () => {
    const out = new Float64Array(10 * f);
    const scratch = alsScratch(f);
    for (let r = 0; r < 10; r++) {
      solveRowCg(gram, other, f, 0.3, side, r, out, scratch, f);
      const expected = solveRowReference(other, cols, f, 0.3, side, r);
      for (let k = 0; k < f; k++) expect(out[r * f + k]).toBeCloseTo(expected[k]!, 6);
    }
  });
});

describe('AlsRecommender', () => {
  it('learns a planted structure: held-out items of the own group outrank the other group', async () => {
    const data = plantedGroups();
    const als = new AlsRecommender({ factors: 8, lambda: 5, iterations: 10 });
    await als.fit(data.train, { seed: 1, threads: 1 });
    expect(plantedRecall(als, data)).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic under a seed, on one thread or two, with either solver', async () => {
    const data = plantedGroups({ usersPerGroup: 80 });
    const scores = async (seed: number, threads: number, cgSteps: number) => {
      const als = new AlsRecommender({ factors: 8, iterations: 3, cgSteps });
      await als.fit(data.train, { seed, threads });
      const out = new Float32Array(data.train.items);
      als.scoreUser(3, out);
      return out;
    };
    for (const cgSteps of [0, 3]) {
      const one = await scores(5, 1, cgSteps);
      expect(await scores(5, 2, cgSteps)).toEqual(one);
      expect(await scores(6, 1, cgSteps)).not.toEqual(one);
    }
  });

  it('rejects bad hyper-parameters', () => {
    expect(() => new AlsRecommender({ factors: 0 })).toThrow('factors');
    expect(() => new AlsRecommender({ lambda: 0 })).toThrow('lambda');
    expect(() => new AlsRecommender({ cgSteps: -1 })).toThrow('cgSteps');
  });
});
