import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from './interactions.js';
import {
  ItemKnnRecommender,
  SarRecommender,
  type Similarity,
  similarityOf,
  userAffinity,
} from './item-knn.js';
import { sessionWeighting } from './session-weight.js';
import { plantedGroups, plantedRecall } from './testing.js';

function randomInteractions(seed: number): InteractionMatrix {
  const rng = new Rng(seed);
  const rows: RawInteraction[] = [];
  for (let u = 0; u < 40; u++)
    for (let k = 0; k < 10; k++)
      rows.push({
        user: `u${u}`,
        item: `i${rng.int(60)}`,
        value: 1 + rng.int(5),
        ts: rng.int(20_000) * 60_000,
      });
  return InteractionMatrix.from(rows);
}

/** Brute force: the dense co-occurrence, every similarity, each target's `keep` best sources, the sums. */
function knnReference(train: InteractionMatrix, similarity: Similarity, keep: number, sessionWeight: number) {
  const n = train.items;
  const session = sessionWeighting({ sessionWeight }, { sessionWeight, sessionHalfLifeSec: 600 });
  const c = new Float64Array(n * n);
  for (let u = 0; u < train.users; u++) {
    const start = train.userPtr[u]!;
    for (let a = start; a < train.userPtr[u + 1]!; a++)
      for (let b = start; b < train.userPtr[u + 1]!; b++)
        c[train.userItems[a]! * n + train.userItems[b]!]! += session.weight(
          train.userTs[a]! - train.userTs[b]!,
        );
  }
  const counts = train.itemCounts();
  const s = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const sources = [];
    for (let i = 0; i < n; i++)
      if (i !== j && c[i * n + j]! >= 1)
        sources.push({ i, s: similarityOf(similarity, c[i * n + j]!, counts[i]!, counts[j]!) });
    sources.sort((x, y) => y.s - x.s || x.i - y.i);
    for (const { i, s: value } of sources.slice(0, keep || n)) s[i * n + j] = value;
  }
  return (u: number) => {
    const scores = new Float64Array(n);
    for (const i of train.itemsOf(u)) for (let j = 0; j < n; j++) scores[j]! += s[i * n + j]!;
    return scores;
  };
}

describe('ItemKnnRecommender', () => {
  it('learns a planted structure: held-out items of the own group outrank the other group', async () => {
    const data = plantedGroups();
    for (const model of [new ItemKnnRecommender(), new SarRecommender()]) {
      await model.fit(data.train);
      expect(plantedRecall(model, data)).toBeGreaterThanOrEqual(0.9);
    }
  });

  it.each([
    ['cosine', 5, 0],
    ['jaccard', 0, 0],
    ['lift', 3, 2],
    ['cooccurrence', 8, 2],
  ] as const)(
    'matches the brute-force reference (%s, %i neighbours, session weight %i)',
    async (similarity, neighbours, sessionWeight) => {
      const train = randomInteractions(11);
      const model = new ItemKnnRecommender({ similarity, neighbours, sessionWeight });
      await model.fit(train);
      const reference = knnReference(train, similarity, neighbours, sessionWeight);
      const out = new Float32Array(train.items);
      for (let u = 0; u < train.users; u += 7) {
        model.scoreUser(u, out);
        const expected = reference(u);
        for (let j = 0; j < train.items; j++) expect(out[j]).toBeCloseTo(expected[j]!, 5);
      }
    },
  );

  it("decays affinities from the user's newest interaction and can weigh values", () => {
    const day = 86_400_000;
    const train = InteractionMatrix.from([
      { user: 'a', item: 'x', value: 4, ts: 10 * day },
      { user: 'a', item: 'y', value: 2, ts: 40 * day },
      { user: 'b', item: 'x', value: 1, ts: 0 },
    ]);
    expect(Array.from(userAffinity(train, { halfLifeDays: 30 }))).toEqual([0.5, 1, 1]);
    expect(Array.from(userAffinity(train, { halfLifeDays: 30, useValues: true }))).toEqual([2, 2, 1]);
    expect(Array.from(userAffinity(train, {}))).toEqual([1, 1, 1]);
  });

  it('is named after its preset and rejects bad hyper-parameters', () => {
    expect(new SarRecommender().name).toBe('sar');
    expect(new ItemKnnRecommender().name).toBe('item-knn');
    expect(() => new ItemKnnRecommender({ neighbours: -1 })).toThrow('neighbours');
    expect(() => new ItemKnnRecommender({ similarity: 'dice' as Similarity })).toThrow('similarity');
    expect(() => new ItemKnnRecommender({ halfLifeDays: 0 })).toThrow('halfLifeDays');
  });
});
