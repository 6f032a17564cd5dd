import { describe, expect, it } from 'vitest';
import type { Event } from '../core/schema/index.js';
import { withDuckDb } from '../io/duckdb.js';
import { defineView } from './definition.js';
import { eventType } from './expr.js';
import { historicalSql } from './historical.js';
import { FeatureRegistry } from './registry.js';
import { featureRowsSql } from './sql.js';
import { createSourceTables } from './testing.js';

const T = Date.UTC(2026, 0, 5, 12);
const plays = defineView({
  name: 'plays',
  version: 1,
  entity: 'user',
  ttlMs: 100_000,
  features: [{ name: 'plays_1d', kind: 'count', window: '1d', filter: eventType('play') }],
});
const pair = defineView({
  name: 'pair',
  version: 1,
  entity: 'user_creator',
  ttlMs: 3_600_000,
  features: [{ name: 'likes_1d', kind: 'count', window: '1d', filter: eventType('like') }],
});
const registry = new FeatureRegistry(
  [plays, pair],
  [
    { name: 'user', entity: 'user', features: ['plays'] },
    { name: 'pair', entity: 'user_creator', features: ['pair'] },
  ],
);

const play = (id: string, user: string, ts: number): Event =>
  ({ event_id: id, type: 'play', user_id: user, ts, item_id: 'v1', watch_ms: 1, duration_ms: 2 }) as Event;
const like = (id: string, user: string, ts: number, item: string): Event =>
  ({ event_id: id, type: 'like', user_id: user, ts, item_id: item }) as Event;

async function join(
  events: Event[],
  labels: [string, number][] | [string, string, number][],
  service: string,
) {
  return withDuckDb(async (db) => {
    await createSourceTables(db, events, [
      { item_id: 'v1', creator_id: 'c1', hashtags: [] },
      { item_id: 'v2', creator_id: 'c2', hashtags: [] },
    ]);
    const resolved = registry.resolve(service);
    const featureRows = Object.fromEntries(
      resolved.views.map(({ view }) => [view.name, `(${featureRowsSql(view)})`]),
    );
    const isPair = labels[0]?.length === 3;
    const values = labels
      .map((l) => (isPair ? `('${l[0]}', '${l[1]}', ${l[2]})` : `('${l[0]}', ${l[1]})`))
      .join(', ');
    const relation = `(SELECT * FROM (VALUES ${values}) AS t(${isPair ? 'user_id, creator_id, ts' : 'user_id, ts'}))`;
    const result = await db.runAndReadAll(
      historicalSql(relation, resolved, {
        featureRows,
        tsIsTimestamp: false,
        keepOrder: true,
        includeEventTs: true,
      }),
    );
    return result.getRowObjectsJson();
  });
}

describe('point-in-time joins', () => {
  const events = [
    play('e1', 'u1', T),
    play('e2', 'u1', T + 100),
    play('e3', 'u1', T + 40_000),
    play('e4', 'u1', T + 40_000),
    play('e5', 'u2', T + 5),
  ];

  it('never lets a value from after the label time leak in', async () => {
    const rows = await join(
      events,
      [
        ['u1', T - 1],
        ['u1', T],
        ['u1', T + 99],
        ['u1', T + 100],
        ['u1', T + 39_999],
      ],
      'user',
    );
    expect(rows.map((r) => r.plays__plays_1d)).toEqual([null, '1', '1', '2', '2']);
  });

  it('takes every event of a millisecond when the label falls on it (ties resolve to the last by log order)', async () => {
    const rows = await join(events, [['u1', T + 40_000]], 'user');
    expect(rows[0]!.plays__plays_1d).toBe('4');
    expect(rows[0]!.plays__event_ts).toBe(String(T + 40_000));
  });

  it('returns NULL past the view TTL, and for keys it has never seen', async () => {
    const rows = await join(
      events,
      [
        ['u1', T + 40_000 + 100_000],
        ['u1', T + 40_000 + 100_001],
        ['u9', T + 40_000],
        ['u2', T + 200_000],
      ],
      'user',
    );
    expect(rows.map((r) => r.plays__plays_1d)).toEqual(['4', null, null, null]);
  });

  it('keeps the labels in their order and their own columns', async () => {
    const rows = await join(
      events,
      [
        ['u2', T + 10],
        ['u1', T + 100],
        ['u2', T],
      ],
      'user',
    );
    expect(rows.map((r) => [r.user_id, r.plays__plays_1d])).toEqual([
      ['u2', '1'],
      ['u1', '2'],
      ['u2', null],
    ]);
  });

  it('joins multi-part entity keys, with the creator taken from the catalogue', async () => {
    const pairEvents = [
      like('l1', 'u1', T, 'v1'),
      like('l2', 'u1', T + 10, 'v1'),
      like('l3', 'u1', T + 20, 'v2'),
    ];
    const rows = await join(
      pairEvents,
      [
        ['u1', 'c1', T + 15],
        ['u1', 'c2', T + 15],
        ['u1', 'c2', T + 25],
      ],
      'pair',
    );
    expect(rows.map((r) => r.pair__likes_1d)).toEqual(['2', null, '1']);
  });

  it('carries a NULL in the newest row as NULL, keeps label columns that look like feature columns, and gives a label without a time nothing', async () => {
    const rows = await withDuckDb(async (db) => {
      const featureRows = {
        plays: `(SELECT * FROM (VALUES ('u1', ${T}, 0, 5), ('u1', ${T + 10}, 1, NULL), ('u2', ${T}, 2, 7))
          AS t(entity_key, event_ts, log_offset, plays_1d))`,
      };
      const labels = `(SELECT * FROM (VALUES ('u1', ${T + 5}, 'a'), ('u1', ${T + 20}, 'b'), ('u2', NULL, 'c'), (NULL, ${T + 5}, 'd'))
        AS t(user_id, ts, entity_key))`;
      const result = await db.runAndReadAll(
        historicalSql(labels, registry.resolve('user'), {
          featureRows,
          tsIsTimestamp: false,
          keepOrder: true,
        }),
      );
      return result.getRowObjectsJson();
    });
    expect(rows.map((r) => [r.entity_key, r.plays__plays_1d])).toEqual([
      ['a', 5],
      ['b', null],
      ['c', null],
      ['d', null],
    ]);
  });
});
