import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlsRecommender } from './als.js';
import { BprRecommender } from './bpr.js';
import { EaseRecommender } from './ease.js';
import { ItemKnnRecommender, SAR_DEFAULTS } from './item-knn.js';
import { MODEL_HEADER } from './model-file.js';
import { loadRecommender, saveRecommender } from './persist.js';
import { PopularityRecommender } from './popularity.js';
import type { ServableRecommender } from './recommender.js';
import { plantedGroups, plantedRecall } from './testing.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'foryou-persist-'));
  dirs.push(d);
  return d;
};

const MODELS: [string, () => ServableRecommender][] = [
  ['popularity', () => new PopularityRecommender()],
  ['trending', () => new PopularityRecommender({ halfLifeMs: 86_400_000 })],
  ['item-knn', () => new ItemKnnRecommender()],
  ['sar', () => new ItemKnnRecommender(SAR_DEFAULTS, 'sar')],
  ['als', () => new AlsRecommender({ factors: 8, iterations: 5 })],
  ['bpr', () => new BprRecommender({ factors: 8, epochs: 10 })],
  ['ease', () => new EaseRecommender({ lambda: 10 })],
];

describe('saving and loading models', () => {
  it.each(MODELS)('%s scores exactly the same after a round trip', async (_, create) => {
    const data = plantedGroups({ seed: 3 });
    const model = create();
    await model.fit(data.train, { seed: 1, threads: 1 });
    const dir = tempDir();
    await saveRecommender(model, dir);
    const loaded = await loadRecommender(dir);
    expect(loaded.name).toBe(model.name);
    expect(loaded.itemIds).toEqual(data.train.itemIds);
    expect(loaded.userIds).toEqual(data.train.userIds);
    const a = new Float32Array(data.train.items);
    const b = new Float32Array(data.train.items);
    for (const u of [0, 7, data.train.users - 1]) {
      model.scoreUser(u, a);
      loaded.scoreUser(u, b);
      expect(b).toEqual(a);
      const history = data.train.itemsOf(u);
      model.scoreHistory(history, a);
      loaded.scoreHistory(history, b);
      expect(b).toEqual(a);
    }
  });

  it.each(MODELS.filter(([name]) => !['popularity', 'trending'].includes(name)))(
    '%s learns the planted groups from a history alone (serving a user it was not trained on)',
    async (_, create) => {
      const data = plantedGroups({ seed: 5 });
      const model = create();
      await model.fit(data.train, { seed: 1, threads: 1 });
      const byHistory = {
        scoreUser: (u: number, out: Float32Array) => model.scoreHistory(data.train.itemsOf(u), out),
      };
      expect(plantedRecall(byHistory, data)).toBeGreaterThan(0.9);
    },
  );

  it('fails clearly on a folder without a model, and on an unknown kind', async () => {
    const dir = tempDir();
    await expect(loadRecommender(dir)).rejects.toThrow(/no readable model/);
    const model = new PopularityRecommender();
    await model.fit(plantedGroups().train);
    await saveRecommender(model, dir);
    writeFileSync(
      join(dir, MODEL_HEADER),
      JSON.stringify({ format: 'foryou-model/1', kind: 'mystery', name: 'x', params: {}, arrays: [] }),
    );
    await expect(loadRecommender(dir)).rejects.toThrow(/kind "mystery"; known kinds: popularity/);
  });

  it('refuses a model file whose arrays do not match its ids', async () => {
    const dir = tempDir();
    const model = new AlsRecommender({ factors: 4, iterations: 2 });
    await model.fit(plantedGroups().train, { threads: 1 });
    await saveRecommender(model, dir);
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ users: ['a'], items: ['b'] }));
    await expect(loadRecommender(dir)).rejects.toThrow(/array userFactors .*wrong type or length/);
  });
});
