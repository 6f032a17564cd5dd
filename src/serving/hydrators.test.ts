import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { CREATOR_STATS, foryouRegistry, ITEM_STATS, USER_CREATOR } from '../features/foryou-views.js';
import { OnlineFeatureStore } from '../features/online.js';
import { rowLayout } from '../features/row.js';
import { LmdbKeyValueStore } from '../store/lmdb-store.js';
import type { KeyValueStore } from '../store/port.js';
import { withoutRangeReads } from '../store/testing.js';
import { FeatureHydrator } from './hydrators.js';
import { FusedRanker } from './ranker.js';
import { candidateOf, tinyBundle, tinyQuery } from './testing.js';

let store: LmdbKeyValueStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

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
    const pointwise = await hydrate(withoutRangeReads(store));
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

  describe('item and creator row caches', () => {
    const rowOf = (view: typeof ITEM_STATS, value: number) => ({
      eventTs: Date.now(),
      values: rowLayout(view).numeric.map(() => value),
      lists: rowLayout(view).lists.map(() => []),
    });
    /** Every item, creator and u0's pairs with every creator, all holding `value`. */
    const writeAll = (online: OnlineFeatureStore, bundle: ReturnType<typeof tinyBundle>, value: number) =>
      online.writeRows([
        ...bundle.data.itemIds
          .toArray()
          .map((id) => ({ view: ITEM_STATS, key: id, row: rowOf(ITEM_STATS, value) })),
        ...bundle.data.creatorIds.toArray().flatMap((id) => [
          { view: CREATOR_STATS, key: id, row: rowOf(CREATOR_STATS, value) },
          { view: USER_CREATOR, key: `u0|${id}`, row: rowOf(USER_CREATOR, value) },
        ]),
      ]);
    /** `firstValues` of a hydration of items 0, 1 and 2 for u0. */
    const firstValuesOf = async (hydrator: FeatureHydrator, bundle: ReturnType<typeof tinyBundle>) => {
      const query = tinyQuery(bundle, 5);
      await hydrator.hydrate(
        query,
        [0, 1, 2].map((i) => candidateOf(bundle, i)),
      );
      return firstValues(query.scratch.features!);
    };
    /** The first value of each service's columns in candidate 0's row. */
    const firstValues = (block: { names: string[]; values: Float64Array }) =>
      ['item_stats__', 'creator_stats__', 'user_creator__'].map(
        (prefix) => block.values[block.names.findIndex((n) => n.startsWith(prefix))],
      );

    it('without the change feed, serves item and creator rows up to maxAgeMs old, never the user x creator ones', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      let now = 0;
      const hydrator = new FeatureHydrator(online, {
        maxAgeMs: 1000,
        followChanges: false,
        clock: () => now,
      });
      expect(hydrator.followsChanges).toBe(false);
      const hydrate = () => firstValuesOf(hydrator, bundle);
      await writeAll(online, bundle, 1);
      expect(await hydrate()).toEqual([1, 1, 1]);
      await writeAll(online, bundle, 2);
      now = 1000;
      expect(await hydrate()).toEqual([1, 1, 2]);
      expect([hydrator.itemCache!.hits, hydrator.creatorCache!.hits]).toEqual([3, 3]);
      now = 1001;
      expect(await hydrate()).toEqual([2, 2, 2]);
      // Off: every request reads the store.
      const uncached = new FeatureHydrator(online, { maxAgeMs: 0 });
      expect(uncached.itemCache).toBeNull();
      await writeAll(online, bundle, 3);
      const query = tinyQuery(bundle, 5);
      await uncached.hydrate(query, [candidateOf(bundle, 0)]);
      expect(firstValues(query.scratch.features!)).toEqual([3, 3, 3]);
    });

    it('following the change feed, serves a row until it is written, then at most pollMs longer', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      let now = 0;
      const hydrator = new FeatureHydrator(online, { clock: () => now });
      expect(hydrator.followsChanges).toBe(true);
      expect(
        new FeatureHydrator(new OnlineFeatureStore(foryouRegistry(), withoutRangeReads(store)))
          .followsChanges,
      ).toBe(false);
      const hydrate = () => firstValuesOf(hydrator, bundle);
      await writeAll(online, bundle, 1);
      expect(await hydrate()).toEqual([1, 1, 1]);
      // Nobody writes: rows are served for up to the default minute, the pairs read every time.
      now = 59_000;
      expect(await hydrate()).toEqual([1, 1, 1]);
      expect([hydrator.itemCache!.hits, hydrator.creatorCache!.hits]).toEqual([3, 3]);
      // Written: served until the next poll of the change feed (pollMs, 250 by default), then read again.
      await writeAll(online, bundle, 2);
      now = 59_100;
      expect(await hydrate()).toEqual([1, 1, 2]);
      now = 59_250;
      expect(await hydrate()).toEqual([2, 2, 2]);
      expect([hydrator.itemCache!.hits, hydrator.creatorCache!.hits]).toEqual([6, 6]);
      // Only written rows are dropped: item 1 is written, item 2 is not.
      await online.writeRows([
        { view: ITEM_STATS, key: bundle.data.itemIds.id(1), row: rowOf(ITEM_STATS, 3) },
      ]);
      now = 59_500;
      const query = tinyQuery(bundle, 5);
      await hydrator.hydrate(
        query,
        [1, 2].map((i) => candidateOf(bundle, i)),
      );
      const f = query.scratch.features!;
      const at = f.names.findIndex((n) => n.startsWith('item_stats__'));
      expect([f.values[at], f.values[f.names.length + at]]).toEqual([3, 2]);
      expect(hydrator.itemCache!.hits).toBe(7);
      // Past the maximum age every row is read again, written or not.
      now = 59_500 + 60_001;
      expect(await hydrate()).toEqual([2, 2, 2]);
      expect(hydrator.itemCache!.hits).toBe(7);
    });

    it('does not keep rows read before a change-feed poll that was applied while they were in flight', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      await writeAll(online, bundle, 1);
      // Point reads take their snapshot at once and answer when released, as a remote store's would.
      const held: (() => void)[] = [];
      const slow: KeyValueStore = Object.create(store);
      slow.visitMany = async (keys, visit, prefix) => {
        const found = await store!.visitMany(keys, visit, prefix);
        await new Promise<void>((resolve) => held.push(resolve));
        return found;
      };
      let now = 0;
      const hydrator = new FeatureHydrator(new OnlineFeatureStore(foryouRegistry(), slow), {
        clock: () => now,
      });
      const itemValue = (query: ReturnType<typeof tinyQuery>) => {
        const f = query.scratch.features!;
        return f.values[f.names.findIndex((n) => n.startsWith('item_stats__'))];
      };
      const hydrate = (item: number) => {
        const query = tinyQuery(bundle, 5);
        return { query, done: hydrator.hydrate(query, [candidateOf(bundle, item)]) };
      };
      const release = async (done: Promise<unknown>) => {
        while (
          !(await Promise.race([done.then(() => true), new Promise((r) => setTimeout(() => r(false), 5))]))
        )
          for (const resolve of held.splice(0)) resolve();
      };
      // a reads item 0 (value 1) and waits; item 0 is written; b polls, reads the new value and keeps it.
      const a = hydrate(0);
      await new Promise((r) => setTimeout(r, 5));
      await online.writeRows([
        { view: ITEM_STATS, key: bundle.data.itemIds.id(0), row: rowOf(ITEM_STATS, 2) },
      ]);
      now = 300;
      const b = hydrate(0);
      await release(b.done);
      expect(itemValue(b.query)).toBe(2);
      // a answers with what it read, but does not put its older row over b's.
      await release(a.done);
      expect(itemValue(a.query)).toBe(1);
      now = 400;
      const c = hydrate(0);
      await release(c.done);
      expect(itemValue(c.query)).toBe(2);
      expect(hydrator.itemCache!.hits).toBe(1);
    });

    it('holds only the columns the ranker reads, with the values a full read gives them', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      const now = Date.now();
      const varied = (view: typeof ITEM_STATS, seed: number) => ({
        eventTs: now,
        values: rowLayout(view).numeric.map((_, k) => seed * 100 + k),
        lists: rowLayout(view).lists.map(() => []),
      });
      await online.writeRows([
        ...bundle.data.itemIds
          .toArray()
          .map((id, i) => ({ view: ITEM_STATS, key: id, row: varied(ITEM_STATS, i) })),
        ...bundle.data.creatorIds.toArray().flatMap((id, c) => [
          { view: CREATOR_STATS, key: id, row: varied(CREATOR_STATS, c) },
          { view: USER_CREATOR, key: `u0|${id}`, row: varied(USER_CREATOR, c) },
        ]),
      ]);
      const wanted = [
        'user_creator__plays_30d',
        'item_stats__like_rate_7d',
        'nowhere__x',
        'creator_stats__like_rate_7d',
      ];
      const block = async (hydrator: FeatureHydrator) => {
        const query = tinyQuery(bundle, 5);
        await hydrator.hydrate(
          query,
          [0, 1, 5, 12].map((i) => candidateOf(bundle, i)),
        );
        return query.scratch.features!;
      };
      const full = await block(new FeatureHydrator(online));
      const projected = new FeatureHydrator(online, { columns: () => wanted });
      for (const round of [0, 1]) {
        const part = await block(projected);
        // In the services' order, unknown names left out; the second round comes from the caches.
        expect(part.names).toEqual([
          'item_stats__like_rate_7d',
          'creator_stats__like_rate_7d',
          'user_creator__plays_30d',
        ]);
        for (let r = 0; r < 4; r++)
          for (const [k, name] of part.names.entries())
            expect(part.values[r * part.names.length + k]).toBe(
              full.values[r * full.names.length + full.names.indexOf(name)],
            );
        expect(projected.itemCache!.hits).toBe(round * 4);
      }
    });

    it("preloads every stored item and creator row in chunks, up to the caches' room, for the bundle in service", async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      await writeAll(online, bundle, 1);
      // A row of an item the bundle does not know is read and left out.
      await online.writeRows([{ view: ITEM_STATS, key: 'not-in-bundle', row: rowOf(ITEM_STATS, 9) }]);
      const hydrator = new FeatureHydrator(online, { columns: () => new FusedRanker().features });
      expect(await hydrator.preload(bundle, () => bundle, 7)).toBe(50);
      const query = tinyQuery(bundle, 5);
      const items = [0, 7, 19, 33, 39];
      await hydrator.hydrate(
        query,
        items.map((i) => candidateOf(bundle, i)),
      );
      expect(firstValues(query.scratch.features!)).toEqual([1, 1, 1]);
      expect([hydrator.itemCache!.hits, hydrator.itemCache!.misses]).toEqual([5, 0]);
      expect(hydrator.creatorCache!.misses).toBe(0);
      // Room for 5 items: 5 items and the 10 creators.
      expect(await new FeatureHydrator(online, { items: 5 }).preload(bundle)).toBe(15);
      // Another bundle in service, or a store that cannot range-read: nothing.
      expect(await new FeatureHydrator(online).preload(bundle, () => tinyBundle(40, 10, 8))).toBe(0);
      const pointwise = new OnlineFeatureStore(foryouRegistry(), withoutRangeReads(store));
      expect(await new FeatureHydrator(pointwise).preload(bundle)).toBe(0);
    });

    it('does not serve a row cached under another bundle, whose indices name other items', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const online = new OnlineFeatureStore(foryouRegistry(), store);
      const first = tinyBundle(40, 10, 8);
      await writeAll(online, first, 1);
      await online.writeRows([{ view: ITEM_STATS, key: 'v0', row: rowOf(ITEM_STATS, 5) }]);
      const hydrator = new FeatureHydrator(online, { clock: () => 0 });
      const itemValue = async (bundle: ReturnType<typeof tinyBundle>) => {
        const query = tinyQuery(bundle, 5);
        await hydrator.hydrate(query, [candidateOf(bundle, 0)]);
        return firstValues(query.scratch.features!)[0];
      };
      expect(await itemValue(first)).toBe(5);
      // The same shape, but a new bundle object: item 0 is looked up again (here it is still v0).
      await online.writeRows([{ view: ITEM_STATS, key: 'v0', row: rowOf(ITEM_STATS, 6) }]);
      expect(await itemValue(tinyBundle(40, 10, 8))).toBe(6);
      expect(await itemValue(first)).toBe(6);
    });

    it('copies a cached row out before awaiting its reads, so another request refilling the cache cannot change it', async () => {
      store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
      const bundle = tinyBundle(40, 10, 8);
      const inner = new OnlineFeatureStore(foryouRegistry(), store);
      for (const [i, id] of bundle.data.itemIds.toArray().entries())
        await inner.writeRows([{ view: ITEM_STATS, key: id, row: rowOf(ITEM_STATS, i) }]);
      // Reads answer only when released, as a remote store's would after a round trip.
      const held: (() => void)[] = [];
      const slow = withoutRangeReads(store);
      const visitMany = slow.visitMany.bind(slow);
      slow.visitMany = async (keys, visit, prefix) => {
        await new Promise<void>((resolve) => held.push(resolve));
        return visitMany(keys, visit, prefix);
      };
      const hydrator = new FeatureHydrator(new OnlineFeatureStore(foryouRegistry(), slow), {
        items: 3,
        clock: () => 0,
      });
      const hydrate = (items: number[]) => {
        const query = tinyQuery(bundle, 5);
        const done = hydrator.hydrate(
          query,
          items.map((i) => candidateOf(bundle, i)),
        );
        return { query, done };
      };
      const releaseAll = async (done: Promise<unknown>) => {
        while (true) {
          const settled = await Promise.race([
            done.then(() => true),
            new Promise((r) => setTimeout(() => r(false), 5)),
          ]);
          if (settled) return;
          for (const release of held.splice(0)) release();
        }
      };
      const warm = hydrate([0, 1, 2]);
      await releaseAll(warm.done);
      // a: all three items hit the cache and wait on their creator and pair reads; b: three misses, whose
      // rows take the cache's three slots while a waits.
      const a = hydrate([0, 1, 2]);
      const b = hydrate([3, 4, 5]);
      await releaseAll(b.done);
      await releaseAll(a.done);
      const items = (q: typeof a.query) => {
        const f = q.scratch.features!;
        const at = f.names.findIndex((n) => n.startsWith('item_stats__'));
        return [0, 1, 2].map((r) => f.values[r * f.names.length + at]);
      };
      expect(items(a.query)).toEqual([0, 1, 2]);
      expect(items(b.query)).toEqual([3, 4, 5]);
      expect(hydrator.itemCache!.hits).toBe(3);
    });
  });
});
