import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { BprRecommender } from './bpr.js';
import { BprSampler, type BprShared, bprStep, bprStepReference } from './bpr-kernel.js';
import { plantedGroups, plantedRecall } from './testing.js';

describe('BPR kernel', () => {
  it('updates like the reference on the same triples', () => {
    const data = plantedGroups();
    const train = data.train;
    const f = 5;
    const rng = new Rng(9);
    const shared: BprShared = {
      factors: f,
      learningRate: 0.1,
      regularization: 0.01,
      biasRegularization: 0.02,
      negativeExponent: 0.5,
      users: train.users,
      items: train.items,
      userPtr: train.userPtr,
      userItems: train.userItems,
      userOf: Int32Array.from(train.userItems, (_, k) => {
        let u = 0;
        while (train.userPtr[u + 1]! <= k) u++;
        return u;
      }),
      itemCounts: train.itemCounts(),
      p: Float32Array.from({ length: train.users * f }, () => rng.normal(0, 0.1)),
      q: Float32Array.from({ length: train.items * f }, () => rng.normal(0, 0.1)),
      bias: new Float32Array(train.items),
    };
    const model = {
      p: Array.from({ length: train.users }, (_, u) => Array.from(shared.p.subarray(u * f, u * f + f))),
      q: Array.from({ length: train.items }, (_, i) => Array.from(shared.q.subarray(i * f, i * f + f))),
      bias: Array.from(shared.bias),
    };
    const sampler = new BprSampler(shared, 'test');
    const triple = new Int32Array(3);
    for (let t = 0; t < 500; t++) {
      expect(sampler.next(triple)).toBe(true);
      const [u, i, j] = triple as unknown as [number, number, number];
      expect(Array.from(train.itemsOf(u))).toContain(i);
      expect(Array.from(train.itemsOf(u))).not.toContain(j);
      bprStep(shared, u, i, j);
      bprStepReference(model, shared, u, i, j);
    }
    for (let u = 0; u < train.users; u++)
      for (let k = 0; k < f; k++) expect(shared.p[u * f + k]).toBeCloseTo(model.p[u]![k]!, 4);
    for (let i = 0; i < train.items; i++) {
      expect(shared.bias[i]).toBeCloseTo(model.bias[i]!, 4);
      for (let k = 0; k < f; k++) expect(shared.q[i * f + k]).toBeCloseTo(model.q[i]![k]!, 4);
    }
  });
});

describe('BprRecommender', () => {
  it('learns a planted structure: held-out items of the own group outrank the other group', async () => {
    const data = plantedGroups();
    for (const negativeExponent of [0, 1]) {
      const bpr = new BprRecommender({ factors: 16, epochs: 200, regularization: 0.02, negativeExponent });
      await bpr.fit(data.train, { seed: 1 });
      expect(plantedRecall(bpr, data)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('is deterministic under a seed (one thread)', async () => {
    const data = plantedGroups();
    const scores = async (seed: number) => {
      const bpr = new BprRecommender({ factors: 8, epochs: 5 });
      await bpr.fit(data.train, { seed, threads: 2 });
      const out = new Float32Array(data.train.items);
      bpr.scoreUser(0, out);
      return out;
    };
    const first = await scores(3);
    expect(await scores(3)).toEqual(first);
    expect(await scores(4)).not.toEqual(first);
  });

  it('learns the planted structure Hogwild-style on two workers', async () => {
    const data = plantedGroups();
    const bpr = new BprRecommender({ factors: 16, epochs: 200, regularization: 0.02, hogwild: true });
    await bpr.fit(data.train, { seed: 1, threads: 2 });
    expect(plantedRecall(bpr, data)).toBeGreaterThanOrEqual(0.9);
  });

  it('rejects bad hyper-parameters', () => {
    expect(() => new BprRecommender({ epochs: 0 })).toThrow('epochs');
    expect(() => new BprRecommender({ learningRate: 0 })).toThrow('learningRate');
  });
});
