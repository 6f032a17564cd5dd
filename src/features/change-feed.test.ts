import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { FakeClock } from '../core/clock.js';
import { LmdbKeyValueStore } from '../store/lmdb-store.js';
import type { KeyValueStore } from '../store/port.js';
import { withoutRangeReads } from '../store/testing.js';
import { CHANGE_LAG_MS, CHANGE_RETENTION_MS, changePrefix } from './change-feed.js';
import { defineView } from './definition.js';
import { eventType } from './expr.js';
import { OnlineFeatureStore } from './online.js';
import { FeatureRegistry } from './registry.js';

const viewOf = (name: string) =>
  defineView({
    name,
    version: 1,
    entity: 'item',
    ttlMs: 3_600_000,
    features: [{ name: 'a', kind: 'count', window: '1h', filter: eventType('play') }],
  });
const items = viewOf('items');
const creators = viewOf('creators');
const registry = new FeatureRegistry(
  [items, creators],
  [
    { name: 'item_features', entity: 'item', features: ['items'] },
    { name: 'creator_features', entity: 'item', features: ['creators'] },
  ],
);

let store: KeyValueStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

const rowAt = (eventTs: number, a: number) => ({ eventTs, values: [a], lists: [] });

describe('online store change feed', () => {
  it("reports the keys each view's writes named since the last poll, each write once", async () => {
    const clock = new FakeClock(1_000_000);
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'), { clock });
    const online = new OnlineFeatureStore(registry, store, clock);
    const follower = online.followChanges([items, creators])!;
    await online.writeRows([
      { view: items, key: 'v1', row: rowAt(clock.now(), 1) },
      { view: items, key: 'v:2', row: rowAt(clock.now(), 1) },
      { view: creators, key: 'c1', row: rowAt(clock.now(), 1) },
    ]);
    clock.advance(10);
    // A row already past its TTL is not written, so not reported either.
    await online.writeRows([
      { view: items, key: 'v3', row: rowAt(clock.now(), 2) },
      { view: items, key: 'gone', row: rowAt(clock.now() - 3_600_001, 2) },
    ]);
    const first = await follower.poll();
    expect(first!.get(items)).toEqual(['v1', 'v:2', 'v3']);
    expect(first!.get(creators)).toEqual(['c1']);
    // Polled again within the lag it re-reads: the same records are not reported twice.
    clock.advance(100);
    await online.writeRows([{ view: items, key: 'v1', row: rowAt(clock.now(), 3) }]);
    const second = await follower.poll();
    expect(second!.get(items)).toEqual(['v1']);
    expect(second!.get(creators)).toEqual([]);
    // Records hold entity keys only, in their own namespace; a write past the retention deletes the older
    // ones of the views it writes (the creators' record stays until creators are written).
    const records = async (view: typeof items) => {
      const keys: string[] = [];
      for await (const e of store!.scanPrefix(changePrefix(view))) keys.push(e.key);
      return keys;
    };
    expect(await records(items)).toHaveLength(3);
    clock.advance(CHANGE_RETENTION_MS + 1);
    await online.writeRows([{ view: items, key: 'v9', row: rowAt(clock.now(), 4) }]);
    const left = await records(items);
    expect(left).toHaveLength(1);
    expect(left[0]!.startsWith(`${changePrefix(items)}${String(clock.now()).padStart(16, '0')}:`)).toBe(true);
    expect(await records(creators)).toHaveLength(1);
    // Nothing expires on its own: no sweep is needed.
    expect(await store.sweepExpired()).toBe(0);
  });

  it('reports a write stamped before the last poll that committed after it, while within the lag', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const clock = new FakeClock(1_000_000);
    const reader = new OnlineFeatureStore(registry, store, clock);
    // A second writer whose clock runs behind by less than the lag: its record sorts before the poll.
    const lateClock = new FakeClock(1_000_000);
    const late = new OnlineFeatureStore(registry, store, lateClock);
    const follower = reader.followChanges([items])!;
    clock.advance(2_000);
    expect((await follower.poll())!.get(items)).toEqual([]);
    lateClock.advance(1_000);
    await late.writeRows([{ view: items, key: 'late', row: rowAt(lateClock.now(), 1) }]);
    clock.advance(100);
    expect((await follower.poll())!.get(items)).toEqual(['late']);
    // Stamped further back than the lag behind the last poll: not seen (maximum ages cover this).
    clock.advance(CHANGE_LAG_MS + 1_000);
    await follower.poll();
    await late.writeRows([{ view: items, key: 'too-late', row: rowAt(lateClock.now(), 1) }]);
    clock.advance(100);
    expect((await follower.poll())!.get(items)).toEqual([]);
  });

  it('says "all" to a follower that polled too rarely for the retained records to cover', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const clock = new FakeClock(1_000_000);
    const online = new OnlineFeatureStore(registry, store, clock);
    const follower = online.followChanges([items])!;
    clock.advance(CHANGE_RETENTION_MS);
    expect((await follower.poll())!.get(items)).toBe('all');
    clock.advance(1_000);
    expect((await follower.poll())!.get(items)).toEqual([]);
  });

  it('writes no records and follows nothing on a store without ordered range reads', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const inner = store;
    const unordered = withoutRangeReads(inner);
    const online = new OnlineFeatureStore(registry, unordered);
    expect(online.followChanges([items])).toBeNull();
    await online.writeRows([{ view: items, key: 'v1', row: rowAt(Date.now(), 1) }]);
    const keys: string[] = [];
    for await (const e of inner.scanPrefix('')) keys.push(e.key);
    expect(keys).toEqual(['fv:items@v1:v1']);
  });
});
