import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { FakeClock } from '../core/clock.js';
import { LmdbKeyValueStore } from '../store/lmdb-store.js';
import type { KeyValueStore } from '../store/port.js';
import { decodeRow, encodeRow } from './codec.js';
import { defineView } from './definition.js';
import { eventType, field } from './expr.js';
import { OnlineFeatureBuffers, OnlineFeatureStore } from './online.js';
import { FeatureRegistry } from './registry.js';

const view = defineView({
  name: 'u',
  version: 3,
  entity: 'user',
  ttlMs: 60_000,
  features: [
    { name: 'a', kind: 'count', window: '1h', filter: eventType('play') },
    { name: 'recent', kind: 'last_n', window: '1h', n: 3, value: field('item_id') },
    { name: 'b', kind: 'sum', window: '1h', value: field('watch_ms') },
  ],
});
const registry = new FeatureRegistry(
  [view],
  [
    { name: 'all', entity: 'user', features: ['u'] },
    { name: 'only_b', entity: 'user', features: ['u:b', 'u:recent'] },
  ],
);

let store: KeyValueStore | null = null;
afterEach(async () => {
  await store?.close();
  store = null;
});

describe('online feature store', () => {
  it('round-trips rows through the packed codec, nulls and lists included', () => {
    const row = {
      eventTs: 1_767_000_000_123,
      values: [3, null, 1.5],
      lists: [['v1', 'ラーメン', null, 2.5]],
    };
    expect(decodeRow(encodeRow(row))).toEqual(row);
  });

  it('reads many keys in one call into a matrix, enforcing the TTL and reporting missing keys', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const clock = new FakeClock(1_000_000);
    const online = new OnlineFeatureStore(registry, store, clock);
    await online.writeRows([
      { view, key: 'u1', row: { eventTs: 990_000, values: [5, 100], lists: [['v9', 'v8']] } },
      { view, key: 'u2', row: { eventTs: 950_000, values: [7, null], lists: [[]] } },
    ]);
    clock.set(1_005_000);
    const all = await online.getOnlineFeatures('all', ['u1', 'u2', 'u3'], { lists: true });
    expect(all.names).toEqual(['u__a', 'u__b']);
    expect(Array.from(all.values)).toEqual([5, 100, 7, Number.NaN, Number.NaN, Number.NaN]);
    expect(all.lists).toEqual([[['v9', 'v8']], [[]], []]);
    expect(all.found).toBe(2);
    clock.set(1_010_001); // u2's row (event 950,000) is now past the 60 s TTL; u1's is not
    const later = await online.getOnlineFeatures('all', ['u1', 'u2']);
    expect(Array.from(later.values)).toEqual([5, 100, Number.NaN, Number.NaN]);
    expect(later.expired).toBe(1);
    const subset = await online.getOnlineFeatures('only_b', ['u1']);
    expect(subset.names).toEqual(['u__b']);
    expect(Array.from(subset.values)).toEqual([100]);
  });

  it('range-reads the rows under an entity prefix as point reads would see them, and refuses past the limit', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const clock = new FakeClock(1_000_000);
    const online = new OnlineFeatureStore(registry, store, clock);
    const row = (eventTs: number, a: number, b: number | null) => ({ eventTs, values: [a, b], lists: [[]] });
    await online.writeRows([
      { view, key: 'u1|c2', row: row(990_000, 2, 20) },
      { view, key: 'u1|c1', row: row(990_000, 1, null) },
      { view, key: 'u1|c3', row: row(950_000, 3, 30) },
      { view, key: 'u10|c1', row: row(990_000, 9, 9) },
    ]);
    clock.set(1_010_001); // u1|c3 (event 950,000) is past the 60 s TTL
    for (const service of ['all', 'only_b']) {
      const scan = await online.scanOnlineFeatures(service, 'u1|', 10);
      expect(scan?.entities).toEqual(['u1|c1', 'u1|c2']);
      const points = await online.getOnlineFeatures(service, ['u1|c1', 'u1|c2']);
      expect(scan?.names).toEqual(points.names);
      expect(Array.from(scan!.values)).toEqual(Array.from(points.values));
    }
    expect(await online.scanOnlineFeatures('all', 'u1|', 2)).toBeNull();
    expect((await online.scanOnlineFeatures('all', 'nobody|', 2))?.entities).toEqual([]);
  });

  it('does not write rows already past their TTL', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const online = new OnlineFeatureStore(registry, store, new FakeClock(1_000_000));
    expect(
      await online.writeRows([{ view, key: 'u1', row: { eventTs: 900_000, values: [1, 1], lists: [[]] } }]),
    ).toBe(0);
    expect(await online.readRow(view, 'u1')).toBeNull();
  });

  it('fills reusable buffers when given them, with the same values, each read overwriting the last', async () => {
    store = await LmdbKeyValueStore.open(join(tempDir(), 'store'));
    const clock = new FakeClock(1_000_000);
    const online = new OnlineFeatureStore(registry, store, clock);
    await online.writeRows([
      { view, key: 'u1', row: { eventTs: 990_000, values: [5, 100], lists: [[]] } },
      { view, key: 'u:2', row: { eventTs: 995_000, values: [7, null], lists: [[]] } },
    ]);
    const into = new OnlineFeatureBuffers();
    const first = await online.getOnlineFeatures('all', ['u1', 'u:2', 'u3'], { into });
    const fresh = await online.getOnlineFeatures('all', ['u1', 'u:2', 'u3']);
    expect(Array.from(first.values)).toEqual(Array.from(fresh.values));
    expect(Array.from(first.eventTs)).toEqual([990_000, 995_000, Number.NaN]);
    expect(first.values.buffer).toBe(into.values.buffer);
    const second = await online.getOnlineFeatures('all', ['u:2'], { into });
    expect(Array.from(second.values)).toEqual([7, Number.NaN]);
    expect(Array.from(first.values.subarray(0, 2))).toEqual([7, Number.NaN]);
  });
});
