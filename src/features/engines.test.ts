import { describe, expect, it } from 'vitest';
import { MS_PER_MINUTE } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import { withDuckDb } from '../io/duckdb.js';
import { defineView, type FeatureViewDef } from './definition.js';
import { div, eventType, field } from './expr.js';
import { featureRowsSql } from './sql.js';
import { StreamingAggregator } from './streaming.js';
import { createSourceTables } from './testing.js';

const views: FeatureViewDef[] = [
  defineView({
    name: 'user_activity',
    version: 1,
    entity: 'user',
    ttlMs: 7 * 86_400_000,
    features: [
      { name: 'plays_1h', kind: 'count', window: '1h', filter: eventType('play') },
      { name: 'likes_1d', kind: 'count', window: '1d', filter: eventType('like') },
      { name: 'like_rate_1d', kind: 'ratio', numerator: 'likes_1d', denominator: 'plays_1h' },
      { name: 'watch_ms_1d', kind: 'sum', window: '1d', value: field('watch_ms') },
      {
        name: 'watch_frac_1h',
        kind: 'mean',
        window: '1h',
        value: div(field('watch_ms'), field('duration_ms')),
      },
      { name: 'max_watch_10m', kind: 'max', window: '10m', value: field('watch_ms') },
      {
        name: 'likes_decay',
        kind: 'decayed_sum',
        window: '1d',
        halfLifeMs: 2 * 3_600_000,
        filter: eventType('like'),
      },
      {
        name: 'recent_items',
        kind: 'last_n',
        window: '1h',
        n: 4,
        value: field('item_id'),
        filter: eventType('play'),
      },
      {
        name: 'creators_7d',
        kind: 'distinct_count',
        window: '7d',
        value: field('creator_id'),
        precision: 10,
      },
    ],
  }),
  defineView({
    name: 'item_stats',
    version: 1,
    entity: 'item',
    ttlMs: 86_400_000,
    features: [{ name: 'plays_1d', kind: 'count', window: '1d', filter: eventType('play') }],
  }),
  defineView({
    name: 'user_creator',
    version: 1,
    entity: 'user_creator',
    ttlMs: 86_400_000,
    features: [{ name: 'plays_7d', kind: 'count', window: '7d', filter: eventType('play') }],
  }),
  defineView({
    name: 'user_tag',
    version: 1,
    entity: 'user_hashtag',
    ttlMs: 86_400_000,
    features: [
      { name: 'watch_1d', kind: 'sum', window: '1d', value: field('watch_ms'), filter: eventType('play') },
    ],
  }),
];

/** A seeded stream of events in time order over a handful of users, items and creators. */
function stream(
  n: number,
  seed: string,
): { events: Event[]; items: { item_id: string; creator_id: string; hashtags: string[] }[] } {
  const rng = new Rng(seed);
  const items = Array.from({ length: 12 }, (_, i) => ({
    item_id: `v${i}`,
    creator_id: `c${i % 4}`,
    hashtags: [`t${i % 3}`, `t${(i + 1) % 5}`],
  }));
  let ts = Date.UTC(2026, 0, 5);
  const events: Event[] = [];
  for (let k = 0; k < n; k++) {
    ts += rng.chance(0.1) ? rng.int(6 * 3_600_000) : rng.int(3 * MS_PER_MINUTE);
    const user = `u${rng.int(4)}`;
    const item = `v${rng.int(12)}`;
    const type = rng.pick(['play', 'play', 'like', 'skip'] as const);
    const base = { event_id: `e${k}`, user_id: user, ts } as never;
    if (type === 'play')
      events.push({
        ...(base as object),
        type,
        item_id: item,
        watch_ms: rng.int(40_000),
        duration_ms: rng.pick([0, 15_000, 30_000]) || 15_000,
      } as Event);
    else if (type === 'skip')
      events.push({ ...(base as object), type, item_id: item, watch_ms: rng.int(2_000) } as Event);
    else events.push({ ...(base as object), type, item_id: item } as Event);
  }
  return { events, items };
}

describe('streaming and SQL engines', () => {
  it('compute the same feature row after every event of every view', async () => {
    const { events, items } = stream(600, 'engines');
    const aggregator = new StreamingAggregator(views);
    for (const item of items)
      aggregator.upsertItem(item.item_id, {
        creator_id: item.creator_id,
        hashtags: item.hashtags,
        language: 'en',
        duration_ms: 15_000,
      });
    const online = new Map<string, unknown[]>();
    for (const event of events) {
      aggregator.apply(event);
      for (const { view, key, row } of aggregator.takeChanged())
        online.set(`${view.name}/${key}/${row.eventTs}`, [...row.values, ...row.lists]);
    }

    await withDuckDb(async (db) => {
      await createSourceTables(db, events, items);
      let compared = 0;
      for (const view of views) {
        const result = await db.runAndReadAll(featureRowsSql(view));
        const rows = result.getRowObjectsJson() as Record<string, unknown>[];
        expect(rows.length, view.name).toBeGreaterThan(10);
        for (const row of rows) {
          const want = online.get(`${view.name}/${row.entity_key}/${row.event_ts}`);
          // Rows that a later event of the same key and millisecond replaced exist online only as the later one.
          if (!want) continue;
          const numeric = view.features.filter((f) => f.kind !== 'last_n');
          numeric.forEach((f, k) => {
            const got = row[f.name] === null ? null : Number(row[f.name]);
            const expected = want[k] as number | null;
            if (f.kind === 'distinct_count')
              expect(Math.abs((got ?? 0) - (expected ?? 0)), f.name).toBeLessThanOrEqual(
                Math.max(1, 0.1 * (got ?? 0)),
              );
            else if (expected === null || got === null)
              expect(got, `${view.name}.${f.name} ${row.entity_key}@${row.event_ts}`).toBe(expected);
            else
              expect(got, `${view.name}.${f.name} ${row.entity_key}@${row.event_ts}`).toBeCloseTo(
                expected,
                6,
              );
          });
          view.features
            .filter((f) => f.kind === 'last_n')
            .forEach((f, k) => {
              expect(row[f.name], f.name).toEqual(want[numeric.length + k]);
            });
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(1000);
    });
  });
});
