import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import type { Event } from '../../src/core/schema/index.js';
import { checkConsistency, FEATURE_LOG_TOPIC, logServed } from '../../src/features/consistency.js';
import { foryouRegistry } from '../../src/features/foryou-views.js';
import { buildOfflineTable, offlineTablePath } from '../../src/features/offline.js';
import { OnlineFeatureStore } from '../../src/features/online.js';
import { CATALOG_TOPIC, EVENTS_TOPIC, FeatureStreamer } from '../../src/features/streamer.js';
import { sqlString } from '../../src/io/duckdb.js';
import { Lake } from '../../src/lake/lake.js';
import { LakeWriter } from '../../src/lake/writer.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { simulateHistory } from '../../src/sim/history.js';
import { World } from '../../src/sim/world.js';
import { LmdbKeyValueStore } from '../../src/store/lmdb-store.js';
import { tempDir } from '../helpers/index.js';

const encoder = new TextEncoder();

describe('feature store on a simulated world', () => {
  it('serves online what the offline engine computes at the same instants', async () => {
    const dir = tempDir('foryou-fs-');
    const world = new World({ users: 300, items: 400, days: 1.5, seed: 8 });
    const log = await FileEventLog.open(join(dir, 'log'), { fsync: 'never' });
    await log.append(
      CATALOG_TOPIC,
      Array.from({ length: world.itemCount }, (_, i) => {
        const record = world.itemRecord(i);
        return {
          id: `item:${record.item_id}`,
          payload: encoder.encode(JSON.stringify({ kind: 'item', record })),
        };
      }),
    );
    const events: Event[] = [];
    for (const batch of simulateHistory(world)) events.push(...batch.events);
    for (let k = 0; k < events.length; k += 5000)
      await log.append(
        EVENTS_TOPIC,
        events
          .slice(k, k + 5000)
          .map((e) => ({ id: e.event_id, payload: encoder.encode(JSON.stringify(e)) })),
      );
    expect(events.length).toBeGreaterThan(5_000);

    // Online: the streaming path into LMDB, with the clock at the end of the simulated history.
    const clock = new FakeClock(events.at(-1)!.ts);
    const registry = foryouRegistry();
    const store = await LmdbKeyValueStore.open(join(dir, 'store'));
    const online = new OnlineFeatureStore(registry, store, clock);
    const streamer = new FeatureStreamer(log, online, registry, { clock });
    const progress = await streamer.runOnce();
    expect(progress.offset).toBe(events.length);
    expect(progress.rowsWritten).toBeGreaterThan(1000);

    // Serve a sample of every entity kind and log what was served.
    const servedAt = clock.now();
    const users = [...new Set(events.map((e) => e.user_id))].slice(0, 60);
    const items = [...new Set(events.flatMap((e) => ('item_id' in e && e.item_id ? [e.item_id] : [])))].slice(
      0,
      120,
    );
    const creators = [...new Set(items.map((i) => world.itemRecord(Number(i.slice(1))).creator_id!))];
    const pairs = users.flatMap((u) => creators.slice(0, 5).map((c) => `${u}|${c}`));
    const tags = users.flatMap((u) => world.itemRecord(0).hashtags.map((t) => `${u}|${t}`));
    for (const [service, keys] of [
      ['user_features', users],
      ['item_features', items],
      ['creator_features', creators],
      ['user_creator_features', pairs],
      ['user_hashtag_features', tags],
    ] as const) {
      const served = await online.getOnlineFeatures(service, keys);
      expect(served.found, service).toBeGreaterThan(0);
      await logServed(log, service, keys, served, servedAt);
    }
    expect((await log.bounds(FEATURE_LOG_TOPIC)).end).toBeGreaterThan(300);

    // Offline: the lake from the same log, the views' feature rows, then the check.
    const writer = await LakeWriter.open(join(dir, 'lake'), log, { batchMs: 10 });
    await writer.runOnce();
    await writer.close();
    const lake = await Lake.open(join(dir, 'lake'));
    const featureRows: Record<string, string> = {};
    for (const view of registry.allViews()) {
      await buildOfflineTable(lake.connection(), lake.dir, lake.manifest.sequence, view);
      featureRows[view.name] = `read_parquet(${sqlString(offlineTablePath(lake.dir, view))})`;
    }
    const report = await checkConsistency(lake.connection(), log, registry, featureRows);
    expect(report.servedRows).toBeGreaterThan(300);
    const worst = report.features.filter((f) => f.mismatches > 0);
    // Every feature agrees exactly (HyperLogLog ones within their stated bound): mismatch rate 0.
    expect(worst).toEqual([]);
    expect(report.features.length).toBeGreaterThan(80);
    await store.close();
    await log.close();
  }, 120_000);
});
