import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import type { Event, Item } from '../core/schema/index.js';
import { InteractionMatrix } from './interactions.js';
import { plantedGroups, plantedRecall } from './testing.js';
import { historyEmbeddings, TwoTowerModel, TwoTowerRecommender } from './two-tower.js';
import { buildTwoTowerData, positiveInteractions } from './two-tower-data.js';
import { candidateRecall, creatorPopularityScores } from './two-tower-eval.js';
import { buildItemFeatures, captionTokens, contentFeatures, type ItemContent } from './two-tower-features.js';
import {
  TwoTowerScratch,
  type TwoTowerShared,
  twoTowerBatch,
  twoTowerBatchReference,
} from './two-tower-kernel.js';

describe('item tower features', () => {
  it('splits spaced scripts into words and cuts Chinese and Japanese into character bigrams', () => {
    expect(captionTokens('Hiking at SUNSET! 🌄 day-2')).toEqual(['hiking', 'at', 'sunset', 'day', '2']);
    expect(captionTokens('瀑布鸟类')).toEqual(['瀑布', '布鸟', '鸟类']);
    expect(captionTokens('猫')).toEqual(['猫']);
    expect(captionTokens('vlog日常 ねこ')).toEqual(['vlog', '日常', 'ねこ']);
    expect(captionTokens('')).toEqual([]);
  });

  it('gives each field the mean of its tokens, and items with history their id row', () => {
    const content: ItemContent = { caption: 'a b a', hashtags: ['#X', 'y'], creatorId: 'c1', language: 'en' };
    const f = contentFeatures(content, { caption: 1, hashtags: 2, creator: 1, language: 0.5 });
    expect(f.tokens).toEqual(['w:a', 'w:b', 'h:x', 'h:y', 'c:c1', 'l:en']);
    expect(f.weights).toEqual([0.5, 0.5, 1, 1, 1, 0.5]);
    const built = buildItemFeatures([content, undefined, {}], 64, undefined, Int32Array.of(-1, 0, 1));
    expect(Array.from(built.ptr)).toEqual([0, 6, 7, 8]);
    expect(built.rows[6]).toBe(64);
    expect(built.rows[7]).toBe(65);
    for (const r of built.rows.subarray(0, 6)) expect(r).toBeLessThan(64);
    expect(() => buildItemFeatures([content], 0)).toThrow('buckets');
  });
});

/** A training state over the planted data with content, for the kernel test. */
function kernelState(seed: number): TwoTowerShared {
  const { train } = plantedGroups();
  const rng = new Rng(seed);
  const d = 6;
  const buckets = 16;
  const content = train.itemIds.map((_id, i) => ({ caption: `t${i % 7} w${i % 3}`, creatorId: `c${i % 5}` }));
  const idRow = Int32Array.from(train.itemIds, (_, i) => (i % 2 === 0 ? i / 2 : -1));
  const f = buildItemFeatures(content, buckets, undefined, idRow);
  const rows = buckets + Math.ceil(train.items / 2);
  const histCount = Int32Array.from(
    { length: train.users },
    (_, u) => train.userPtr[u + 1]! - train.userPtr[u]!,
  );
  return {
    dim: d,
    learningRate: 0.1,
    regularization: 0.01,
    temperature: 0.7,
    historyWeight: 0.8,
    featPtr: f.ptr,
    featRows: f.rows,
    featWeights: f.weights,
    idRowStart: buckets,
    table: Float32Array.from({ length: rows * d }, () => rng.normal(0, 0.3)),
    tableAcc: Float32Array.from({ length: rows * d }, () => rng.float()),
    userTable: Float32Array.from({ length: train.users * d }, () => rng.normal(0, 0.3)),
    userAcc: Float32Array.from({ length: train.users * d }, () => rng.float()),
    exUser: Int32Array.from({ length: train.nnz }, (_, k) => {
      let u = 0;
      while (train.userPtr[u + 1]! <= k) u++;
      return u;
    }),
    exItem: Int32Array.from(train.userItems),
    exInHistory: Uint8Array.from({ length: train.nnz }, (_, k) => k % 3),
    logQ: Float32Array.from({ length: train.items }, () => Math.log(rng.float() * 0.1 + 0.001)),
    order: Int32Array.from({ length: train.nnz }, (_, k) => k),
    itemSnap: Float32Array.from({ length: train.items * d }, () => rng.normal(0, 0.3)),
    histSum: Float32Array.from({ length: train.users * d }, () => rng.normal(0, 1)),
    histCount: histCount.map((c) => Math.min(c, 4)),
  };
}

describe('two-tower kernel', () => {
  it('updates like the reference on the same batches', () => {
    const s = kernelState(3);
    const rows = (a: Float32Array) =>
      Array.from({ length: a.length / s.dim }, (_, r) => Array.from(a.subarray(r * s.dim, (r + 1) * s.dim)));
    const model = {
      table: rows(s.table),
      tableAcc: rows(s.tableAcc),
      userTable: rows(s.userTable),
      userAcc: rows(s.userAcc),
    };
    const rng = new Rng(5);
    const scratch = new TwoTowerScratch(12, s.dim);
    for (let step = 0; step < 20; step++) {
      // Batches with repeated items (masked negatives) and dropped id rows.
      const batch = Int32Array.from({ length: 4 + rng.int(9) }, () => rng.int(s.exItem.length));
      if (step % 4 === 0) batch[1] = batch[0]!;
      const keep = Uint8Array.from(batch, () => rng.int(4));
      const loss = twoTowerBatch(s, batch, keep, scratch);
      const expected = twoTowerBatchReference(model, s, Array.from(batch), Array.from(keep));
      expect(loss).toBeCloseTo(expected, 3);
    }
    const flat = (m: number[][]) => m.flat();
    expect(Array.from(s.table).every((v, k) => Math.abs(v - flat(model.table)[k]!) < 1e-4)).toBe(true);
    expect(Array.from(s.tableAcc).every((v, k) => Math.abs(v - flat(model.tableAcc)[k]!) < 1e-4)).toBe(true);
    expect(Array.from(s.userTable).every((v, k) => Math.abs(v - flat(model.userTable)[k]!) < 1e-4)).toBe(
      true,
    );
  });
});

/**
 * Planted groups with content: every item's caption carries a token of its group (in one of two
 * "languages" of the same group, to make the model share them) and a per-item token.
 */
function plantedContent(itemIds: readonly string[], itemsPerGroup: number): ItemContent[] {
  return itemIds.map((id, i) => {
    const g = Math.floor(i / itemsPerGroup);
    return {
      caption: `${i % 2 ? 'topic' : 'tema'}${g} ${id}`,
      hashtags: [`tag${g}`],
      creatorId: `c${g}-${i % 3}`,
    };
  });
}

describe('TwoTowerRecommender', () => {
  it('learns a planted structure id-only (no content), as on MovieLens', async () => {
    const data = plantedGroups();
    const model = new TwoTowerRecommender({ dim: 16, epochs: 60, batchSize: 32, buckets: 8 });
    await model.fit(data.train, { seed: 1 });
    expect(plantedRecall(model, data)).toBeGreaterThanOrEqual(0.9);
  });

  it('ranks cold items of the own group first from content alone', async () => {
    // Items 0..9 of each group of 20 never appear in training: their embeddings come from content only.
    const planted = plantedGroups({ groups: 3, itemsPerGroup: 20, itemsPerUser: 8, heldOutPerUser: 0 });
    const itemIds = planted.train.itemIds;
    const raw = [];
    for (let u = 0; u < planted.train.users; u++)
      for (const i of planted.train.itemsOf(u))
        if (i % 20 >= 10) raw.push({ user: planted.train.userIds[u]!, item: itemIds[i]!, value: 1, ts: i });
    const train = InteractionMatrix.from(raw, { userIds: planted.train.userIds, itemIds });
    const content = plantedContent(itemIds, 20);
    const model = await TwoTowerModel.train(
      { train, content },
      { dim: 16, epochs: 40, batchSize: 32, buckets: 512 },
      { seed: 2 },
    );
    const items = model.embedItems(content, itemIds);
    const cold = Uint8Array.from(itemIds, (_, i) => (i % 20 < 10 ? 1 : 0));
    // Test positives: every cold item of the user's own group.
    const testRaw = train.userIds.flatMap((user, u) => {
      const g = Math.floor(u / 30);
      return Array.from({ length: 10 }, (_, k) => ({ user, item: itemIds[g * 20 + k]!, value: 1, ts: 0 }));
    });
    const test = InteractionMatrix.from(testRaw, { userIds: train.userIds, itemIds });
    const user = new Float32Array(model.dim);
    const score = (u: number, out: Float32Array) => {
      model.userEmbedding(train.userIds[u], historyEmbeddings(train, u, items, model), user);
      for (let i = 0; i < out.length; i++) {
        let x = 0;
        for (let c = 0; c < model.dim; c++) x += user[c]! * items[i * model.dim + c]!;
        out[i] = x;
      }
    };
    expect(candidateRecall(score, train, test, cold, 10).recall).toBeGreaterThanOrEqual(0.9);
  });

  it('is deterministic under a seed (one thread)', async () => {
    const data = plantedGroups();
    const scores = async (seed: number) => {
      const model = new TwoTowerRecommender({ dim: 8, epochs: 3, batchSize: 16, buckets: 8 });
      await model.fit(data.train, { seed, threads: 2 });
      const out = new Float32Array(data.train.items);
      model.scoreUser(0, out);
      return out;
    };
    const first = await scores(3);
    expect(await scores(3)).toEqual(first);
    expect(await scores(4)).not.toEqual(first);
  });

  it('learns the planted structure Hogwild-style on two workers', async () => {
    const data = plantedGroups();
    const model = new TwoTowerRecommender({ dim: 16, epochs: 60, batchSize: 32, buckets: 8, hogwild: true });
    await model.fit(data.train, { seed: 1, threads: 2 });
    expect(plantedRecall(model, data)).toBeGreaterThanOrEqual(0.9);
  });
});

describe('TwoTowerModel files', () => {
  it('saves and loads: same item and user embeddings, new items embedded from content', async () => {
    const data = plantedGroups();
    const content = plantedContent(data.train.itemIds, 20);
    const model = await TwoTowerModel.train(
      { train: data.train, content },
      { dim: 8, epochs: 2, batchSize: 16, buckets: 128 },
      { seed: 1 },
    );
    const path = join(mkdtempSync(join(tmpdir(), 'foryou-two-tower-')), 'model.fytt');
    model.save(path);
    const loaded = TwoTowerModel.load(path);
    expect(loaded.dim).toBe(8);
    expect(loaded.embedItems(content, data.train.itemIds)).toEqual(
      model.embedItems(content, data.train.itemIds),
    );
    const brandNew: ItemContent = { caption: 'topic1 fresh', hashtags: ['tag1'], creatorId: 'c1-0' };
    expect(loaded.embedItem(brandNew, 'never-seen')).toEqual(model.embedItem(brandNew));
    const history = model.embedItems(content.slice(0, 3));
    expect(loaded.userEmbedding('user-4', history)).toEqual(model.userEmbedding('user-4', history));
    // A new item differs from a warm one with the same content only by the warm one's id embedding.
    expect(model.embedItem(content[0]!, data.train.itemIds[0])).not.toEqual(model.embedItem(content[0]!));
  });

  it('treats users without training positives as unseen: their embedding is the history mean alone', async () => {
    const universe = { userIds: ['a', 'ghost'], itemIds: ['x', 'y'] };
    const train = InteractionMatrix.from([{ user: 'a', item: 'x', value: 1, ts: 0 }], universe);
    const model = await TwoTowerModel.train({ train }, { dim: 4, epochs: 1, buckets: 4, historyWeight: 1 });
    expect(model.userIds).toEqual(['a']);
    expect(Array.from(model.userEmbedding('ghost', new Float32Array(0)))).toEqual([0, 0, 0, 0]);
    const history = Float32Array.of(1, 2, 3, 4, 3, 2, 1, 0);
    expect(Array.from(model.userEmbedding('ghost', history))).toEqual([2, 2, 2, 2]);
  });

  it('rejects bad inputs and files that are not two-tower models', async () => {
    const data = plantedGroups();
    expect(() => new TwoTowerRecommender({ dim: 0 })).toThrow('dim');
    expect(() => new TwoTowerRecommender({ idDropout: 1 })).toThrow('idDropout');
    expect(() => new TwoTowerRecommender({ learningRate: -1 })).toThrow('learningRate');
    await expect(TwoTowerModel.train({ train: data.train, content: [{}] })).rejects.toThrow('content has 1');
    const model = await TwoTowerModel.train({ train: data.train }, { dim: 4, epochs: 1, buckets: 4 });
    expect(() => model.userEmbedding(undefined, new Float32Array(5))).toThrow('4-dimensional');
    expect(() => model.embedItems([{}], ['a', 'b'])).toThrow('2 item ids');
    expect(() => new TwoTowerRecommender().scoreUser(0, new Float32Array(1))).toThrow('before fit');
    const dir = mkdtempSync(join(tmpdir(), 'foryou-two-tower-'));
    writeFileSync(join(dir, 'bad'), 'hello world');
    expect(() => TwoTowerModel.load(join(dir, 'bad'))).toThrow('not a two-tower model file');
    expect(() => TwoTowerModel.fromBuffer(model.toBuffer().subarray(0, 40))).toThrow('past the end');
    expect(() => TwoTowerModel.load(join(dir, 'missing'))).toThrow('cannot read');
  });
});

describe('two-tower data', () => {
  const item = (id: string, creator: string, created: number): Item => ({
    item_id: id as Item['item_id'],
    creator_id: creator as Item['creator_id'],
    caption: `caption of ${id}`,
    hashtags: [],
    language: 'en',
    created_ts: created,
  });
  const base = { event_id: 'e', user_id: 'u1' } as const;
  const ev = (e: Record<string, unknown>) => ({ ...base, ...e }) as unknown as Event;

  it('keeps well-watched plays, likes and shares as positives, split at the cut', () => {
    const events = [
      ev({ type: 'play', item_id: 'v1', watch_ms: 900, duration_ms: 1000, ts: 1 }),
      ev({ type: 'play', item_id: 'v2', watch_ms: 100, duration_ms: 1000, ts: 2 }),
      ev({ type: 'skip', item_id: 'v2', watch_ms: 100, ts: 2 }),
      ev({ type: 'like', item_id: 'v3', ts: 3, user_id: 'u2' }),
      ev({ type: 'share', item_id: 'v3', ts: 10 }),
      ev({ type: 'impression', item_id: 'v1', request_id: 'r', position: 0, ts: 0 }),
    ];
    expect(positiveInteractions(events).map((p) => p.item)).toEqual(['v1', 'v3', 'v3']);
    expect(positiveInteractions(events, { minWatchFraction: 0.1 })).toHaveLength(4);
    const split = buildTwoTowerData([item('v1', 'c1', 0), item('v2', 'c1', 0), item('v3', 'c2', 5)], events, {
      cutMs: 5,
    });
    expect(split.train.userIds).toEqual(['u1', 'u2']);
    expect(split.train.nnz).toBe(2);
    expect(split.test.nnz).toBe(1);
    expect(split.content[0]).toEqual({
      caption: 'caption of v1',
      hashtags: [],
      creatorId: 'c1',
      language: 'en',
    });
    expect(Array.from(creatorPopularityScores(split.train, ['c1', 'c1', 'c2']))).toEqual([1, 1, 1]);
    expect(() => buildTwoTowerData([item('v1', 'c1', 0)], events)).toThrow('not in the catalogue');
    expect(() => positiveInteractions(events, { minWatchFraction: -1 })).toThrow('minWatchFraction');
  });

  it('computes recall over candidate items only', () => {
    const universe = { userIds: ['a'], itemIds: ['x', 'y', 'z'] };
    const train = InteractionMatrix.from([{ user: 'a', item: 'x', value: 1, ts: 0 }], universe);
    const test = InteractionMatrix.from([{ user: 'a', item: 'z', value: 1, ts: 1 }], universe);
    const scores = (_u: number, out: Float32Array) => out.set([3, 2, 1]);
    expect(candidateRecall(scores, train, test, Uint8Array.of(1, 1, 1), 1).recall).toBe(0);
    expect(candidateRecall(scores, train, test, Uint8Array.of(1, 0, 1), 1).recall).toBe(1);
    expect(() => candidateRecall(scores, train, test, Uint8Array.of(1), 1)).toThrow('same users');
  });
});
