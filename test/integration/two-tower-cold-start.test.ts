/**
 * Cold start of the two-tower model on a simulated world (src/sim): trained on the positives before a
 * time cut, it must find, among the videos uploaded after the cut (no training interactions at all), the
 * ones each user then watched, better than the baselines that need no content:
 *
 * - popularity: training interactions per item. Every cold item has none, so it ranks them in index order,
 *   i.e. by upload time, oldest first (the ones that had the longest to be watched after the cut).
 * - creator popularity: each cold item scores its creator's training positives.
 *
 * Figures measured when this was written are in docs/two-tower.md.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY } from '../../src/core/clock.js';
import type { Event } from '../../src/core/schema/index.js';
import { historyEmbeddings, TwoTowerModel } from '../../src/models/two-tower.js';
import { buildTwoTowerData, type TwoTowerSplit } from '../../src/models/two-tower-data.js';
import { candidateRecall, creatorPopularityScores } from '../../src/models/two-tower-eval.js';
import { simulateHistory } from '../../src/sim/history.js';
import { World } from '../../src/sim/world.js';

const K = 100;

describe('two-tower cold start on a simulated world', () => {
  let data: TwoTowerSplit;
  let cold: Uint8Array;
  let model: TwoTowerModel;

  beforeAll(async () => {
    const world = new World({ users: 1500, items: 1500, days: 6, seed: 5 });
    const events: Event[] = [];
    for (const batch of simulateHistory(world)) for (const e of batch.events) events.push(e);
    const items = Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i));
    const cutMs = world.startMs + 4 * MS_PER_DAY;
    data = buildTwoTowerData(items, events, { cutMs });
    cold = Uint8Array.from(data.createdTs, (t) => (t >= cutMs ? 1 : 0));
    model = await TwoTowerModel.train(
      { train: data.train, content: data.content },
      { buckets: 1 << 14, epochs: 4 },
      { seed: 1 },
    );
  });

  /** Scores from the two towers; `knownUsers: false` embeds every user from their history alone. */
  const twoTower = (knownUsers = true) => {
    const items = model.embedItems(data.content, data.train.itemIds);
    const d = model.dim;
    const user = new Float32Array(d);
    return (u: number, out: Float32Array) => {
      const id = knownUsers ? data.train.userIds[u] : undefined;
      model.userEmbedding(id, historyEmbeddings(data.train, u, items, model), user);
      for (let i = 0; i < out.length; i++) {
        let x = 0;
        for (let c = 0; c < d; c++) x += user[c]! * items[i * d + c]!;
        out[i] = x;
      }
    };
  };

  it('has cold items that users watched after the cut and never before it', () => {
    const counts = data.train.itemCounts();
    let coldItems = 0;
    for (let i = 0; i < cold.length; i++)
      if (cold[i]) {
        coldItems++;
        expect(counts[i]).toBe(0);
      }
    expect(coldItems).toBeGreaterThan(200);
  });

  it('beats popularity and creator popularity at recall@100 on cold items', () => {
    const popularity = Float32Array.from(data.train.itemCounts());
    const creatorPop = creatorPopularityScores(
      data.train,
      data.content.map((c) => c.creatorId),
    );
    const tt = candidateRecall(twoTower(), data.train, data.test, cold, K);
    const pop = candidateRecall((_u, out) => out.set(popularity), data.train, data.test, cold, K);
    const cpop = candidateRecall((_u, out) => out.set(creatorPop), data.train, data.test, cold, K);
    expect(tt.users).toBeGreaterThan(200);
    expect(tt.recall).toBeGreaterThan(1.4 * pop.recall);
    expect(tt.recall).toBeGreaterThan(2 * cpop.recall);
    expect(tt.recall).toBeGreaterThan(0.6);
    // A user the model never saw, embedded from their history alone, is served nearly as well.
    const historyOnly = candidateRecall(twoTower(false), data.train, data.test, cold, K);
    expect(historyOnly.recall).toBeGreaterThan(1.4 * Math.max(pop.recall, cpop.recall));
  });

  it('beats popularity at recall@100 over all items', () => {
    const all = new Uint8Array(data.train.items).fill(1);
    const popularity = Float32Array.from(data.train.itemCounts());
    const tt = candidateRecall(twoTower(), data.train, data.test, all, K);
    const pop = candidateRecall((_u, out) => out.set(popularity), data.train, data.test, all, K);
    expect(tt.recall).toBeGreaterThan(2 * pop.recall);
  });
});
