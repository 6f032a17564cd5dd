import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { CREATOR_STATS, foryouRegistry, ITEM_STATS, USER_CREATOR } from '../features/foryou-views.js';
import { OnlineFeatureStore } from '../features/online.js';
import { rowLayout } from '../features/row.js';
import { LmdbKeyValueStore } from '../store/lmdb-store.js';
import type { KeyValueStore } from '../store/port.js';
import { FeatureHydrator } from './hydrators.js';
import { candidateOf, tinyBundle, tinyQuery } from './testing.js';

let store: LmdbKeyValueStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

/** The same store without its range read, as on Redis. */
function pointReadsOnly(inner: KeyValueStore): KeyValueStore {
  return {
    kind: inner.kind,
    getMany: (keys) => inner.getMany(keys),
    visitMany: (keys, visit, prefix) => inner.visitMany(keys, visit, prefix),
    get: (key) => inner.get(key),
    putMany: (entries) => inner.putMany(entries),
    deleteMany: (keys) => inner.deleteMany(keys),
    scanPrefix: (prefix, options) => inner.scanPrefix(prefix, options),
    sweepExpired: () => inner.sweepExpired(),
    close: () => inner.close(),
  };
}

describe('FeatureHydrator', () => {
  it('reads the user x creator rows in one range read with the same block as point reads, else point by point', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const bundle = tinyBundle(40, 10, 8);
    const now = Date.now();
    const row = (view: typeof ITEM_STATS, seed: number) => ({
      eventTs: now,
      values: rowLayout(view).numeric.map((_, k) => seed * 10 + k),
      lists: rowLayout(view).lists.map(() => []),
    });
    const online = new OnlineFeatureStore(foryouRegistry(), store);
    await online.writeRows([
      ...bundle.data.itemIds.map((id, i) => ({ view: ITEM_STATS, key: id, row: row(ITEM_STATS, i) })),
      ...bundle.data.creatorIds.map((id, c) => ({
        view: CREATOR_STATS,
        key: id,
        row: row(CREATOR_STATS, c),
      })),
      // u0 has pairs with c1 and c3 (and c9, which no candidate has); u00 shares the prefix "u0" but not "u0|".
      { view: USER_CREATOR, key: 'u0|c1', row: row(USER_CREATOR, 1) },
      { view: USER_CREATOR, key: 'u0|c3', row: row(USER_CREATOR, 3) },
      { view: USER_CREATOR, key: 'u0|c9', row: row(USER_CREATOR, 9) },
      { view: USER_CREATOR, key: 'u00|c2', row: row(USER_CREATOR, 2) },
    ]);
    const items = [0, 1, 2, 3, 11, 13, 21];
    const hydrate = async (kv: KeyValueStore) => {
      const query = tinyQuery(bundle, 5);
      const candidates = items.map((i) => candidateOf(bundle, i));
      await new FeatureHydrator(new OnlineFeatureStore(foryouRegistry(), kv)).hydrate(query, candidates);
      return query.scratch.features!;
    };
    const ranged = await hydrate(store);
    const pointwise = await hydrate(pointReadsOnly(store));
    expect(ranged.names).toEqual(pointwise.names);
    expect(Array.from(ranged.values)).toEqual(Array.from(pointwise.values));
    // Pair columns: c1 (items 1, 11, 21) and c3 (items 3, 13) are known; c0 and c2 are not.
    const width = ranged.names.length;
    const pairAt = ranged.names.indexOf('user_creator__plays_30d');
    expect(pairAt).toBeGreaterThan(0);
    const pairs = items.map((_, r) => ranged.values[r * width + pairAt]);
    expect(pairs).toEqual([Number.NaN, 10, Number.NaN, 30, 10, 30, 10]);
  });
});
