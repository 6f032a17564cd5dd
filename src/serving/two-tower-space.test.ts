import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactRegistry } from '../models/artifact-registry.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import { TwoTowerModel } from '../models/two-tower.js';
import type { ItemContent } from '../models/two-tower-features.js';
import type { ServingBundle } from './bundle.js';
import { tinyBundle, tinyQuery } from './testing.js';
import {
  TWO_TOWER_INDEX_ARTIFACT,
  type TwoTowerCatalogue,
  TwoTowerHolder,
  TwoTowerIndex,
} from './two-tower-space.js';

/**
 * A tiny world over `tinyBundle(40)` (items v0..v39): even items are about cats, odd ones about cars (own
 * captions, hashtags, creators, language). Users a0..a9 like cat videos, b0..b9 car videos. v38 and v39
 * are uploaded after training (no positives, not in the training matrix); the catalogue also has an item
 * the bundle does not know (w-extra), and lists the items in reverse, so index rows are not bundle indices.
 */
const ITEMS = 40;
const NEW_ITEMS = new Set(['v38', 'v39']);

function contentOf(i: number): ItemContent {
  return i % 2 === 0
    ? { caption: `cute cat ${i}`, hashtags: ['cats', 'kitten'], creatorId: `ca${i % 4}`, language: 'en' }
    : { caption: `fast car ${i}`, hashtags: ['cars', 'racing'], creatorId: `cb${i % 4}`, language: 'es' };
}

async function trainTinyModel(): Promise<TwoTowerModel> {
  const itemIds = Array.from({ length: ITEMS }, (_, i) => `v${i}`).filter((id) => !NEW_ITEMS.has(id));
  const raw: RawInteraction[] = [];
  for (let u = 0; u < 20; u++) {
    const parity = u < 10 ? 0 : 1;
    const user = u < 10 ? `a${u}` : `b${u - 10}`;
    for (let k = 0; k < 8; k++) {
      const i = (2 * ((u * 3 + k * 5) % 19) + parity) % 38;
      raw.push({ user, item: `v${i}`, value: 1, ts: 1000 * k });
    }
  }
  const train = InteractionMatrix.from(raw, {
    userIds: [...new Set(raw.map((r) => r.user))],
    itemIds,
  });
  const content = itemIds.map((id) => contentOf(Number(id.slice(1))));
  return TwoTowerModel.train(
    { train, content },
    { dim: 8, buckets: 1 << 10, epochs: 30, batchSize: 16, learningRate: 0.1 },
    { seed: 3 },
  );
}

function catalogue(): TwoTowerCatalogue {
  const ids = Array.from({ length: ITEMS }, (_, i) => `v${ITEMS - 1 - i}`);
  return {
    itemIds: [...ids, 'w-extra'],
    contents: [...ids.map((id) => contentOf(Number(id.slice(1)))), contentOf(0)],
  };
}

/** Bundle items ranked for a user who recently engaged with `recent` (bundle indices). */
function ranked(index: TwoTowerIndex, bundle: ServingBundle, userId: string, recent: number[]): number[] {
  const space = index.space(tinyQuery(bundle, 10, { userId, recent }), { maxK: 1000 });
  const vector = space.userVector(0, []);
  expect(vector).not.toBeNull();
  return [...space.search(vector!, 1000).keys];
}

const dir = mkdtempSync(join(tmpdir(), 'foryou-two-tower-space-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the two-tower embedding space', () => {
  let model: TwoTowerModel;
  let index: TwoTowerIndex;
  let bundle: ServingBundle;

  beforeAll(async () => {
    model = await trainTinyModel();
    index = TwoTowerIndex.build(model, catalogue(), { ann: { threads: 1 } });
    bundle = tinyBundle(ITEMS);
  });

  it('answers bundle item indices, leaving out items the bundle does not know', () => {
    expect(index.items).toBe(ITEMS + 1);
    const keys = ranked(index, bundle, 'a0', [0, 2, 4]);
    expect(keys).toHaveLength(ITEMS);
    expect(new Set(keys).size).toBe(ITEMS);
    for (const i of keys) expect(i).toBeGreaterThanOrEqual(0);
    for (const i of keys) expect(i).toBeLessThan(ITEMS);
    // A cat lover's nearest items are cat videos (even bundle indices), whatever the index's own order.
    expect(keys.slice(0, 10).every((i) => i % 2 === 0)).toBe(true);
    expect(
      ranked(index, bundle, 'b0', [1, 3])
        .slice(0, 10)
        .every((i) => i % 2 === 1),
    ).toBe(true);
  });

  it('finds a video uploaded after training through its content', () => {
    expect(model.embedItems([contentOf(38)], ['v38'])).toEqual(model.embedItems([contentOf(38)]));
    for (const [user, recent, fresh] of [
      ['a1', [0, 2], 38],
      ['b1', [1, 3], 39],
    ] as const) {
      const keys = ranked(index, bundle, user, [...recent]);
      const at = keys.indexOf(fresh);
      expect(at).toBeGreaterThanOrEqual(0);
      // Above every video of the other topic.
      for (let k = 0; k < keys.length; k++) if (keys[k]! % 2 !== fresh % 2) expect(at).toBeLessThan(k);
    }
  });

  it('builds the user vector from recent items alone for a user the model never saw', () => {
    expect(
      ranked(index, bundle, 'someone-new', [0, 2, 4, 6])
        .slice(0, 10)
        .every((i) => i % 2 === 0),
    ).toBe(true);
    expect(
      ranked(index, bundle, 'someone-new', [1, 3, 5, 7])
        .slice(0, 10)
        .every((i) => i % 2 === 1),
    ).toBe(true);
    // Session context items count as history too.
    const space = index.space(tinyQuery(bundle, 10, { userId: 'someone-new', contextItems: [5] }));
    expect(space.userVector(0, [])).not.toBeNull();
    // No id embedding and no history: no vector, so the source stays empty.
    expect(index.space(tinyQuery(bundle, 10, { userId: 'someone-new' })).userVector(0, [])).toBeNull();
  });

  it('caps the k of one search', () => {
    const space = index.space(tinyQuery(bundle, 10, { userId: 'a0', recent: [0] }), { maxK: 5 });
    expect(space.id).toBe('two-tower');
    expect(space.search(space.userVector(0, [])!, 750).keys).toHaveLength(5);
  });

  it('saves and loads (memory-mapped), answering as before', async () => {
    const out = join(dir, 'index');
    await index.save(out);
    const loaded = await TwoTowerIndex.load(out);
    try {
      expect(loaded.itemIds).toEqual(index.itemIds);
      for (const row of [0, 17, ITEMS]) expect(loaded.itemVector(row)).toEqual(index.itemVector(row));
      expect(ranked(loaded, bundle, 'a0', [0, 2, 4])).toEqual(ranked(index, bundle, 'a0', [0, 2, 4]));
      expect(() => loaded.itemVector(ITEMS + 1)).toThrow('no row');
    } finally {
      loaded.close();
    }
    await expect(TwoTowerIndex.load(join(dir, 'nothing'))).rejects.toThrow('no two-tower index');
  });

  it('holds the promoted index and swaps in a new version', async () => {
    const registry = new ArtifactRegistry(join(dir, 'artifacts'));
    const holder = new TwoTowerHolder(() => bundle);
    try {
      const query = tinyQuery(bundle, 10, { userId: 'a0', recent: [0, 2] });
      expect(holder.entry.id).toBe('two-tower');
      expect(holder.entry.of(query).userVector(0, [])).toBeNull();
      expect(await holder.reload(registry)).toBe(false);
      const publish = async (cat: TwoTowerCatalogue) => {
        const built = TwoTowerIndex.build(model, cat, { ann: { threads: 1 } });
        const meta = await registry.publish(
          TWO_TOWER_INDEX_ARTIFACT,
          { kind: 'index', config: {}, metrics: {}, inputs: {} },
          (out) => built.save(out),
        );
        await registry.promote(TWO_TOWER_INDEX_ARTIFACT, meta.version);
      };
      // First version: cat videos only.
      const all = catalogue();
      const cats = all.itemIds
        .map((id, k) => [id, all.contents[k]] as const)
        .filter(([id]) => id !== 'w-extra');
      await publish({
        itemIds: cats.filter(([id]) => Number(id.slice(1)) % 2 === 0).map(([id]) => id),
        contents: cats.filter(([id]) => Number(id.slice(1)) % 2 === 0).map(([, c]) => c),
      });
      expect(await holder.reload(registry)).toBe(true);
      expect(holder.version).toBe(1);
      const space = holder.entry.of(query);
      const first = space.search(space.userVector(0, [])!, 100).keys;
      expect(first).toHaveLength(ITEMS / 2);
      expect(first.every((i) => i % 2 === 0)).toBe(true);
      // The next version has every item; a request that started on the old space still answers.
      await publish(all);
      expect(await holder.reload(registry)).toBe(true);
      expect(holder.swaps).toBe(2);
      expect(space.search(space.userVector(0, [])!, 100).keys).toHaveLength(ITEMS / 2);
      const next = holder.entry.of(query);
      expect(next.search(next.userVector(0, [])!, 100).keys).toHaveLength(ITEMS);
      expect(await holder.reload(registry)).toBe(false);
    } finally {
      holder.close();
    }
  });
});
