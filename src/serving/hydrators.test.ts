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
      ...bundle.data.itemIds
        .toArray()
        .map((id, i) => ({ view: ITEM_STATS, key: id, row: row(ITEM_STATS, i) })),
      ...bundle.data.creatorIds.toArray().map((id, c) => ({
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

  it('lends its feature block to a request until the request releases it, and never to two at once', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const bundle = tinyBundle(40, 10, 8);
    const online = new OnlineFeatureStore(foryouRegistry(), store);
    await online.writeRows(
      bundle.data.itemIds.toArray().map((id, i) => ({
        view: ITEM_STATS,
        key: id,
        row: {
          eventTs: Date.now(),
          values: rowLayout(ITEM_STATS).numeric.map((_, k) => i * 100 + k),
          lists: rowLayout(ITEM_STATS).lists.map(() => []),
        },
      })),
    );
    const hydrator = new FeatureHydrator(online);
    const hydrate = async (items: number[], release: (() => void)[] | undefined) => {
      const query = tinyQuery(bundle, 5);
      if (release) query.scratch.release = release;
      await hydrator.hydrate(
        query,
        items.map((i) => candidateOf(bundle, i)),
      );
      return query.scratch.features!;
    };
    const firstRelease: (() => void)[] = [];
    const first = await hydrate([1, 2, 3], firstRelease);
    const firstValues = Array.from(first.values);
    // In flight: a second request gets a block of its own, and the first one's values stay as they were.
    const secondRelease: (() => void)[] = [];
    const second = await hydrate([4, 5, 6], secondRelease);
    expect(second.values.buffer).not.toBe(first.values.buffer);
    expect(Array.from(first.values)).toEqual(firstValues);
    // Answered: the first request's block serves the next request.
    for (const release of firstRelease) release();
    const third = await hydrate([7, 8, 9], []);
    expect(third.values.buffer).toBe(first.values.buffer);
    expect(third.values[0]).toBe(700);
    // A request that cannot release (no hook) gets a block nobody else will be lent.
    for (const release of secondRelease) release();
    const unhooked = await hydrate([10], undefined);
    expect(unhooked.values.buffer).not.toBe(second.values.buffer);
    expect(unhooked.values.buffer).not.toBe(first.values.buffer);
  });
});
