import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Event, EventSchema } from '../core/schema/index.js';
import { safeParseRecord } from '../core/schema/validate.js';
import { WorldFolder } from '../io/world-folder.js';
import { generateWorld } from './generate.js';
import { STEP_MS, simulateHistory } from './history.js';
import { World } from './world.js';

function collect(world: World): { events: Event[]; batches: number } {
  const events: Event[] = [];
  let batches = 0;
  for (const batch of simulateHistory(world)) {
    batches++;
    for (const e of batch.events) events.push(e);
  }
  return { events, batches };
}

describe('simulateHistory', () => {
  const world = new World({ users: 1500, items: 2000, days: 2, seed: 3 });
  const { events, batches } = collect(world);

  it('yields one batch per simulated step, in global time order', () => {
    expect(batches).toBe((2 * 24 * 60) / 10);
    expect(events.length).toBeGreaterThan(10_000);
    for (let k = 1; k < events.length; k++) expect(events[k]!.ts).toBeGreaterThanOrEqual(events[k - 1]!.ts);
    expect(events[0]!.ts).toBeGreaterThanOrEqual(world.startMs);
  });

  it('produces only valid events with unique ids', () => {
    for (const e of events) {
      const result = safeParseRecord(EventSchema, e);
      expect(result.ok, result.ok ? '' : result.message).toBe(true);
    }
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('attributes every reaction to a feed request that showed the item, at its position', () => {
    const shown = new Map<string, number>();
    const pageSizes = new Map<string, number>();
    for (const e of events) {
      if (e.type === 'impression') {
        shown.set(`${e.request_id}/${e.item_id}/${e.user_id}`, e.position);
        pageSizes.set(e.request_id, Math.max(pageSizes.get(e.request_id) ?? 0, e.position + 1));
      }
    }
    for (const e of events) {
      if (e.type === 'play' || e.type === 'like' || e.type === 'skip' || e.type === 'share') {
        expect(shown.has(`${e.request_id}/${e.item_id}/${e.user_id}`)).toBe(true);
      }
    }
    for (const size of pageSizes.values()) expect(size).toBeLessThanOrEqual(world.params.pageSize);
  });

  it('never shows a video before it was uploaded, nor to a user before they signed up', () => {
    for (const e of events) {
      if (e.type !== 'impression') continue;
      expect(e.ts).toBeGreaterThanOrEqual(world.itemCreatedMs[Number(e.item_id.slice(1))]!);
      expect(e.ts).toBeGreaterThanOrEqual(world.userSignupMs[Number(e.user_id.slice(1))]!);
    }
  });

  it('lets popularity emerge heavy-tailed: a few videos take a large share of plays', () => {
    const plays = new Map<string, number>();
    for (const e of events) if (e.type === 'play') plays.set(e.item_id, (plays.get(e.item_id) ?? 0) + 1);
    const counts = [...plays.values()].sort((a, b) => b - a);
    const total = counts.reduce((a, b) => a + b, 0);
    const top = counts.slice(0, Math.ceil(world.itemCount * 0.05)).reduce((a, b) => a + b, 0);
    // Were plays spread evenly, the top 5% of the catalogue would take about 5% of them.
    expect(top / total).toBeGreaterThan(0.25);
  });

  it('has a daily rhythm: evening hours are busier than the small hours', () => {
    const byHour = new Array(24).fill(0);
    for (const e of events) if (e.type === 'impression') byHour[new Date(e.ts).getUTCHours()]++;
    expect(byHour[20]).toBeGreaterThan(3 * byHour[3]);
  });

  it('is deterministic under a seed', () => {
    const again = collect(new World({ users: 1500, items: 2000, days: 2, seed: 3 })).events;
    expect(again.length).toBe(events.length);
    expect(again.slice(-200)).toEqual(events.slice(-200));
    const other = collect(new World({ users: 1500, items: 2000, days: 2, seed: 4 })).events;
    expect(other.slice(0, 50)).not.toEqual(events.slice(0, 50));
  });

  it('carries sessions that run past a step into the next batch instead of dropping them', () => {
    const small = new World({ users: 300, items: 500, days: 0.5, seed: 9 });
    let views = 0;
    let impressions = 0;
    for (const batch of simulateHistory(small, { onView: () => views++ })) {
      const stepStart = small.startMs + batch.step * STEP_MS;
      for (const e of batch.events) {
        if (batch.step < batch.steps - 1) expect(e.ts).toBeLessThan(stepStart + STEP_MS);
        if (e.type === 'impression') impressions++;
      }
    }
    expect(impressions).toBe(views);
  });
});

describe('generateWorld', () => {
  const fileHash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  it('writes the same files for the same seed, and a summary that matches them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'foryou-gen-'));
    const params = { users: 400, items: 600, days: 1, seed: 21 };
    const a = await generateWorld(join(root, 'a'), params);
    const b = await generateWorld(join(root, 'b'), params, { formats: ['jsonl'] });
    for (const table of ['users', 'creators', 'items', 'events'])
      expect(fileHash(join(root, 'a', `${table}.jsonl`))).toBe(fileHash(join(root, 'b', `${table}.jsonl`)));
    expect(a.summary).toEqual(b.summary);
    expect(a.manifest.counts).toEqual({ users: 400, creators: 30, items: 600, events: a.summary.events });
    expect(a.summary.eventsByType.play).toBe(a.summary.eventsByType.impression);
    const folder = await WorldFolder.open(join(root, 'a'));
    expect(Object.keys(await folder.sizes())).toHaveLength(8);
    let n = 0;
    for await (const _ of folder.records('events')) n++;
    expect(n).toBe(a.manifest.counts.events);
  });

  it('reports progress through every phase', async () => {
    const phases: string[] = [];
    await generateWorld(
      join(mkdtempSync(join(tmpdir(), 'foryou-gen-')), 'w'),
      { users: 50, items: 50, days: 0.25 },
      {
        formats: ['jsonl'],
        onProgress: (p) => {
          if (phases.at(-1) !== p.phase) phases.push(p.phase);
        },
      },
    );
    expect(phases).toEqual(['world', 'catalogue', 'history', 'parquet']);
  });
});
