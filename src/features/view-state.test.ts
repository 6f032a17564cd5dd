import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MS_PER_MINUTE } from '../core/clock.js';
import { defineView, type FeatureViewDef, tilesIn, WINDOWS } from './definition.js';
import { compileJs, div, eventType, field, type Scalar, type SourceRow } from './expr.js';
import { ViewLayout } from './view-state.js';

const view: FeatureViewDef = defineView({
  name: 'user_test',
  version: 1,
  entity: 'user',
  ttlMs: 86_400_000,
  features: [
    { name: 'plays_1h', kind: 'count', window: '1h', filter: eventType('play') },
    { name: 'events_10m', kind: 'count', window: '10m' },
    { name: 'watch_ms_1h', kind: 'sum', window: '1h', value: field('watch_ms'), filter: eventType('play') },
    {
      name: 'watch_frac_1d',
      kind: 'mean',
      window: '1d',
      value: div(field('watch_ms'), field('duration_ms')),
    },
    { name: 'max_watch_1h', kind: 'max', window: '1h', value: field('watch_ms') },
    {
      name: 'decay_1h',
      kind: 'decayed_sum',
      window: '1h',
      halfLifeMs: 10 * MS_PER_MINUTE,
      filter: eventType('like'),
    },
    {
      name: 'recent_items_1h',
      kind: 'last_n',
      window: '1h',
      value: field('item_id'),
      n: 3,
      filter: eventType('play'),
    },
    { name: 'items_1d', kind: 'distinct_count', window: '1d', value: field('item_id'), precision: 10 },
  ],
});

interface Ev {
  ts: number;
  row: SourceRow;
}

/** The definition computed the slow, obvious way: scan every earlier row of the key. */
function reference(events: Ev[], i: number, of: FeatureViewDef = view): (Scalar | Scalar[])[] {
  const now = events[i]!;
  const out: (Scalar | Scalar[])[] = [];
  for (const f of of.features) {
    if (f.kind === 'ratio') continue;
    const tileMs = WINDOWS[f.window].tileMs;
    const n = tilesIn(f.window);
    const head = Math.floor(now.ts / tileMs);
    const inWindow = events.slice(0, i + 1).filter((e) => Math.floor(e.ts / tileMs) > head - n);
    const filter = f.filter ? compileJs(f.filter) : () => true;
    const rows = inWindow.filter((e) => filter(e.row) === true);
    const value = 'value' in f && f.value ? compileJs(f.value) : () => 1;
    const nums = rows.map((e) => value(e.row)).filter((v): v is number => typeof v === 'number');
    switch (f.kind) {
      case 'count':
        out.push(rows.length);
        break;
      case 'sum':
        out.push(nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0));
        break;
      case 'mean':
        out.push(nums.length === 0 ? null : nums.reduce((a, b) => a + b, 0) / nums.length);
        break;
      case 'max':
        out.push(nums.length === 0 ? null : Math.max(...nums));
        break;
      case 'decayed_sum':
        out.push(rows.reduce((s, e) => s + 2 ** (-(now.ts - e.ts) / f.halfLifeMs), 0));
        break;
      case 'last_n':
        out.push(
          rows
            .map((e) => value(e.row))
            .filter((v) => v !== null)
            .reverse()
            .slice(0, f.n),
        );
        break;
      case 'distinct_count':
        out.push(new Set(rows.map((e) => value(e.row)).filter((v) => v !== null)).size);
        break;
    }
  }
  return out;
}

const eventArb = fc.record({
  gapMs: fc.oneof(fc.integer({ min: 0, max: 30_000 }), fc.integer({ min: 0, max: 3 * 3_600_000 })),
  type: fc.constantFrom('play', 'like', 'skip', 'impression'),
  item: fc.integer({ min: 0, max: 40 }),
  watch: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: null }),
  duration: fc.constantFrom(0, 15_000, 30_000),
});

describe('ViewLayout (streaming tiles) against a brute-force reference', () => {
  /** Every feature of `of`, computed by `layout` after each event of random streams, equals the reference. */
  function agreesWithReference(layout: ViewLayout, of: FeatureViewDef): void {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 80 }), (draws) => {
        let ts = Date.UTC(2026, 0, 5);
        const events: Ev[] = draws.map((d) => {
          ts += d.gapMs;
          return {
            ts,
            row: {
              type: d.type,
              user_id: 'u1',
              item_id: `v${d.item}`,
              ts,
              watch_ms: d.watch,
              duration_ms: d.duration,
            },
          };
        });
        const state = layout.newState();
        events.forEach((e, i) => {
          expect(layout.relevant(e.row)).toBe(true);
          layout.apply(state, e.ts);
          const got = layout.evaluate(state, e.ts);
          const want = reference(events, i, of);
          for (let k = 0; k < want.length; k++) {
            const name = of.features[k]!.name;
            if (name === 'items_1d') {
              // HyperLogLog at precision 10: within 10% (3 standard errors) of the exact count.
              expect(Math.abs((got[k] as number) - (want[k] as number)), name).toBeLessThanOrEqual(
                Math.max(1, 0.1 * (want[k] as number)),
              );
            } else if (typeof want[k] === 'number')
              expect(got[k] as number, name).toBeCloseTo(want[k] as number, 9);
            else expect(got[k], name).toEqual(want[k]);
          }
        });
      }),
      { numRuns: 150 },
    );
  }

  it('agrees on every aggregation after every event of random in-order streams', () => {
    agreesWithReference(new ViewLayout(view), view);
  });

  it('agrees the same with compact keys (a few tile records first, the full ring once a key needs it)', () => {
    // Compact keys are for views without distinct counts (pair entities); the rest of the view as it is.
    const compact = defineView({
      ...view,
      name: 'user_test_compact',
      features: view.features.filter((f) => f.kind !== 'distinct_count'),
    });
    agreesWithReference(new ViewLayout(compact, { compactKeys: true }), compact);
  });

  it('keeps a fixed amount of state per key whatever the traffic', () => {
    const layout = new ViewLayout(view);
    const state = layout.newState();
    const allocated = layout.chunkBytes();
    let ts = Date.UTC(2026, 0, 5);
    for (let k = 0; k < 20_000; k++) {
      ts += 7_000;
      layout.relevant({ type: 'play', user_id: 'u1', item_id: `v${k}`, watch_ms: 1000, duration_ms: 2000 });
      layout.apply(state, ts);
    }
    expect(layout.chunkBytes()).toBe(allocated);
    expect((layout.evaluate(state, ts)[6] as unknown[]).length).toBe(3);
  });

  it('drops a row whose tile has already left the window', () => {
    const layout = new ViewLayout(view);
    const state = layout.newState();
    const t0 = Date.UTC(2026, 0, 5, 12);
    layout.relevant({ type: 'play', user_id: 'u1', item_id: 'v1' });
    layout.apply(state, t0);
    layout.relevant({ type: 'play', user_id: 'u1', item_id: 'v2' });
    layout.apply(state, t0 + 2 * 3_600_000);
    layout.relevant({ type: 'play', user_id: 'u1', item_id: 'v3' });
    layout.apply(state, t0); // two hours late
    expect(layout.evaluate(state, t0 + 2 * 3_600_000)[0]).toBe(1);
  });
});
