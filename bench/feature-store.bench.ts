/**
 * The feature store (src/features), three figures, each beside a baseline from the same run:
 *
 * - features.online-read: getOnlineFeatures('item_features', 1,000 item keys) = 1,000 items x 66 features,
 *   TTL checked, decoded into one Float64Array, against the raw store reading the same bytes: a bare lmdb
 *   `getBinaryFast` loop over the same keys (LMDB), one raw ioredis `mgetBuffer` (Redis).
 * - features.stream: events/s through the streaming aggregator (all five Foryou views, one core) against
 *   JSON.parse of the same payloads, the least any consumer of the log pays per event.
 * - features.pit-join: point-in-time join of N label rows against five feature views (the SQL Foryou
 *   generates: ASOF joins plus TTL checks) against a hand-written DuckDB ASOF JOIN of the same tables.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { open } from 'lmdb';
import { FakeClock } from '../src/core/clock.js';
import { Rng } from '../src/core/rng.js';
import type { Event } from '../src/core/schema/index.js';
import { defineView, type FeatureViewDef } from '../src/features/definition.js';
import { eventType } from '../src/features/expr.js';
import { FORYOU_VIEWS, foryouRegistry, ITEM_STATS } from '../src/features/foryou-views.js';
import { historicalSql } from '../src/features/historical.js';
import { OnlineFeatureBuffers, OnlineFeatureStore } from '../src/features/online.js';
import { FeatureRegistry, onlineKey } from '../src/features/registry.js';
import { StreamingAggregator } from '../src/features/streaming.js';
import { withDuckDb } from '../src/io/duckdb.js';
import { simulateHistory } from '../src/sim/history.js';
import { World } from '../src/sim/world.js';
import { LMDB_HEADER_BYTES, LmdbKeyValueStore, lmdbLocation } from '../src/store/lmdb-store.js';
import type { KeyValueStore } from '../src/store/port.js';
import { redisKeyOf } from '../src/store/redis-key-layout.js';
import { RedisKeyValueStore } from '../src/store/redis-store.js';
import { benchArgs, keySetReaders, type Measurement, measureEach, report } from './harness/index.js';

const { size } = benchArgs();
const ITEMS = size(100_000, 5_000);
const KEYS = 1_000;
const KEY_SETS = 64;
const rng = new Rng('feature-store-bench');
const registry = foryouRegistry();
const now = Date.UTC(2026, 0, 10);
const clock = new FakeClock(now);
const keySets = Array.from({ length: KEY_SETS }, () =>
  Array.from({ length: KEYS }, () => `v${rng.int(ITEMS)}`),
);
const ms = (m: Measurement, p: 'median' | 'p99') => m.stats[p] / 1e6;

async function populate(online: OnlineFeatureStore): Promise<void> {
  const width = ITEM_STATS.features.filter((f) => f.kind !== 'last_n').length;
  for (let from = 0; from < ITEMS; from += 5_000) {
    const rows = [];
    for (let i = from; i < Math.min(ITEMS, from + 5_000); i++)
      rows.push({
        view: ITEM_STATS,
        key: `v${i}`,
        row: {
          eventTs: now - rng.int(3_600_000),
          values: Array.from({ length: width }, () => rng.float() * 100),
          lists: [],
        },
      });
    await online.writeRows(rows);
  }
}

const rotating = keySetReaders(keySets);

function reportRead(backend: string, figure: Measurement, baseline: Measurement, baselineName: string): void {
  for (const p of ['median', 'p99'] as const)
    report({
      name: `features.online-read.${backend}.${p === 'median' ? 'p50' : 'p99'}`,
      unit: 'ms',
      value: ms(figure, p),
      baseline: ms(baseline, p),
      baselineName,
      better: 'lower',
      params: { items: ITEMS, keysPerCall: KEYS, features: 66 },
      notes: `per call of ${KEYS} entities into reused result buffers (as serving reads); ${figure.runs} calls, interleaved with the baseline`,
    });
}

const readOptions = { warmupMs: size(1_000, 50), runs: size(1_500, 30), minTimeMs: size(3_000, 100) };

async function onlineReadLmdb(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-fs-'));
  const store = await LmdbKeyValueStore.open(dir);
  const root = open({ path: dir, maxDbs: 8 });
  try {
    const online = new OnlineFeatureStore(registry, store, clock);
    // Reused result buffers, as the serving hydrator reads (OnlineReadOptions.into).
    const into = new OnlineFeatureBuffers();
    await populate(online);
    // The bare loop reads the adapter's own layout directly: the view's sub-database, the keys within it.
    const rawKeySets = keySets.map((keys) => keys.map((key) => lmdbLocation(onlineKey(ITEM_STATS, key)).key));
    const raw = root.openDB<Buffer, string>({
      name: lmdbLocation(onlineKey(ITEM_STATS, 'v0')).db,
      encoding: 'binary',
    });
    const m = await measureEach(
      {
        features: rotating((keys) => online.getOnlineFeatures('item_features', keys, { into })),
        raw: rotating((keys) => {
          let sum = 0;
          for (const key of keys) {
            const value = raw.getBinaryFast(key);
            if (value !== undefined) sum += value[LMDB_HEADER_BYTES + 20] as number;
          }
          return sum;
        }, rawKeySets),
      },
      readOptions,
    );
    reportRead(
      'lmdb',
      m.features,
      m.raw,
      'bare lmdb getBinaryFast loop over the same keys (no copy, no decode)',
    );
  } finally {
    await store.close();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function onlineReadRedis(): Promise<void> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `fybench:${randomBytes(4).toString('hex')}:`;
  let store: KeyValueStore;
  try {
    store = await RedisKeyValueStore.connect(url, { keyPrefix: prefix });
  } catch (error) {
    process.stderr.write(
      `features.online-read.redis skipped: no Redis at ${url} (${(error as Error).message})\n`,
    );
    return;
  }
  const client = new Redis(url, { lazyConnect: false });
  try {
    const online = new OnlineFeatureStore(registry, store, clock);
    // Reused result buffers, as the serving hydrator reads (OnlineReadOptions.into).
    const into = new OnlineFeatureBuffers();
    await populate(online);
    const m = await measureEach(
      {
        features: rotating((keys) => online.getOnlineFeatures('item_features', keys, { into })),
        raw: rotating((keys) =>
          client.mgetBuffer(...keys.map((k) => redisKeyOf(prefix, onlineKey(ITEM_STATS, k)))),
        ),
      },
      readOptions,
    );
    reportRead('redis', m.features, m.raw, 'one raw ioredis mgetBuffer of the same keys');
  } finally {
    for await (const batch of client.scanStream({ match: `${prefix}*`, count: 5000 }))
      if (batch.length > 0) await client.del(...batch);
    client.disconnect();
    await store.close();
  }
}

async function streaming(): Promise<void> {
  const world = new World({
    users: size(20_000, 1_000),
    items: size(20_000, 1_000),
    days: size(2, 0.5),
    seed: 5,
  });
  const payloads: string[] = [];
  for (const batch of simulateHistory(world)) for (const e of batch.events) payloads.push(JSON.stringify(e));
  const items = Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i));
  let parsed: Event[] = [];
  let aggregator: StreamingAggregator;
  const m = await measureEach(
    {
      aggregate: () => {
        aggregator = new StreamingAggregator(FORYOU_VIEWS);
        for (const item of items)
          aggregator.upsertItem(item.item_id, {
            creator_id: item.creator_id ?? null,
            hashtags: item.hashtags,
            language: item.language ?? null,
            duration_ms: item.duration_ms ?? null,
          });
        for (const p of payloads) aggregator.apply(JSON.parse(p) as Event);
        let rows = 0;
        for (const _ of aggregator.takeChanged()) rows++;
        return rows;
      },
      parse: () => {
        parsed = payloads.map((p) => JSON.parse(p) as Event);
        return parsed.length;
      },
    },
    { warmupRuns: 1, runs: size(5, 1), items: payloads.length },
  );
  report({
    name: 'features.stream',
    unit: 'events/s',
    value: m.aggregate.itemsPerSec,
    baseline: m.parse.itemsPerSec,
    baselineName: 'JSON.parse of the same payloads',
    better: 'higher',
    params: {
      events: payloads.length,
      views: FORYOU_VIEWS.length,
      features: FORYOU_VIEWS.reduce((s, v) => s + v.features.length, 0),
    },
    notes:
      'one core; parse, enrich from the catalogue, update every view, then assemble each changed row once',
  });
}

/** Five synthetic views of one count each, their feature tables filled with random rows. */
async function pitJoin(): Promise<void> {
  const labels = size(10_000_000, 200_000);
  const rowsPerView = size(2_000_000, 40_000);
  const entities = size(500_000, 10_000);
  const views: FeatureViewDef[] = Array.from({ length: 5 }, (_, v) =>
    defineView({
      name: `v${v}`,
      version: 1,
      entity: 'user',
      ttlMs: 7 * 86_400_000,
      features: [{ name: 'f', kind: 'count', window: '1d', filter: eventType('play') }],
    }),
  );
  const reg = new FeatureRegistry(views, [
    { name: 'five', entity: 'user', features: views.map((v) => v.name) },
  ]);
  const service = reg.resolve('five');
  await withDuckDb(
    async (db) => {
      const span = 30 * 86_400_000;
      for (let v = 0; v < 5; v++)
        await db.run(`CREATE TABLE rows${v} AS SELECT 'u' || (hash(i, ${v}) % ${entities}) AS entity_key,
            ${Date.UTC(2026, 0, 1)} + (hash(i, ${v} + 10) % ${span})::BIGINT AS event_ts, i AS log_offset, (hash(i, ${v} + 20) % 1000)::DOUBLE AS f
          FROM range(${rowsPerView}) t(i)`);
      await db.run(`CREATE TABLE labels AS SELECT 'u' || (hash(i, 99) % ${entities}) AS user_id,
          ${Date.UTC(2026, 0, 1)} + (hash(i, 98) % ${span})::BIGINT AS ts FROM range(${labels}) t(i)`);
      const featureRows = Object.fromEntries(views.map((v, k) => [v.name, `rows${k}`]));
      const ours = `CREATE OR REPLACE TABLE out_ours AS ${historicalSql('labels', service, { featureRows, tsIsTimestamp: false })}`;
      const handWritten = (
        table: string,
      ) => `CREATE OR REPLACE TABLE ${table} AS SELECT l.*, ${views.map((_, k) => `CASE WHEN l.ts - r${k}.event_ts <= ${7 * 86_400_000} THEN r${k}.f END AS f${k}`).join(', ')}
        FROM labels l ${views.map((_, k) => `ASOF LEFT JOIN rows${k} r${k} ON r${k}.entity_key = l.user_id AND r${k}.event_ts <= l.ts`).join(' ')}`;
      // A second copy of the hand-written query is the A/A control: how far two runs of the same SQL drift.
      const m = await measureEach(
        {
          ours: () => db.run(ours),
          hand: () => db.run(handWritten('out_hand')),
          handAgain: () => db.run(handWritten('out_hand_again')),
        },
        { warmupRuns: 1, runs: size(5, 1), items: labels },
      );
      const aa = m.handAgain.stats.median / m.hand.stats.median;
      report({
        name: 'features.pit-join',
        unit: 's',
        value: m.ours.stats.median / 1e9,
        baseline: m.hand.stats.median / 1e9,
        baselineName: 'hand-written DuckDB ASOF LEFT JOINs of the same tables, with the same TTL rule',
        better: 'lower',
        params: { labels, views: 5, rowsPerView, entities },
        notes: `the SQL Foryou generates against what one would write by hand for the same result (TTL included); median of 5 runs after a warm-up, interleaved; same DuckDB settings, tables in memory; A/A control: the hand-written query run again measured ${aa.toFixed(3)}x the first`,
      });
    },
    { memoryLimit: '14GB', threads: 2 },
  );
}

await onlineReadLmdb();
await onlineReadRedis();
await streaming();
await pitJoin();
