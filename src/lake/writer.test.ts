import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import type { Event } from '../core/schema/index.js';
import { FileEventLog } from '../log/file-log.js';
import { Lake } from './lake.js';
import { hourOf } from './layout.js';
import { readManifest } from './manifest.js';
import { appendCatalogue, appendEvents, sampleEvents, sampleItem, sampleUser } from './testing.js';
import { type CommitInfo, LakeWriter } from './writer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const root = tempDir('foryou-lake-');
  const log = await FileEventLog.open(join(root, 'log'), { fsync: 'never' });
  cleanups.push(() => log.close());
  return { root, log, lakeDir: join(root, 'lake') };
}

async function openLake(dir: string): Promise<Lake> {
  const lake = await Lake.open(dir);
  cleanups.push(() => lake.close());
  return lake;
}

describe('LakeWriter', () => {
  it('partitions events by type and by the UTC hour of their own ts', async () => {
    const { log, lakeDir } = await setup();
    const events = sampleEvents(3000, { hours: 5, startMs: Date.UTC(2026, 0, 5, 22) });
    // Hour edges: the last millisecond of an hour and the first of the next day.
    const edge = (id: string, ts: number): Event => ({
      event_id: id as never,
      user_id: 'u1' as never,
      ts,
      type: 'like',
      item_id: 'i1' as never,
    });
    events.push(edge('edge-a', Date.UTC(2026, 0, 5, 23, 59, 59, 999)), edge('edge-b', Date.UTC(2026, 0, 6)));
    await appendEvents(log, events);
    const writer = await LakeWriter.open(lakeDir, log, { batchRecords: 1000 });
    const summary = await writer.runOnce();
    await writer.close();
    expect(summary).toMatchObject({ batches: 4, records: 3002, rejected: 0 });

    const expected = new Map<string, number>();
    for (const e of events) {
      const key = `${e.type}|${hourOf(e.ts)}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    const lake = await openLake(lakeDir);
    const rows = await lake.query<{ type: string; hour: string; n: number }>(
      'SELECT type, hour, count(*) AS n FROM events GROUP BY ALL',
    );
    expect(new Map(rows.map((r) => [`${r.type}|${r.hour}`, r.n]))).toEqual(expected);
    expect(
      await lake.query(`SELECT event_id, hour FROM events WHERE event_id IN ('edge-a', 'edge-b') ORDER BY 1`),
    ).toEqual([
      { event_id: 'edge-a', hour: '2026-01-05T23' },
      { event_id: 'edge-b', hour: '2026-01-06T00' },
    ]);
    // Every file sits in the folder its partition names, and exists.
    const manifest = await readManifest(lakeDir);
    for (const file of manifest.files.filter((f) => f.table === 'events')) {
      expect(file.path).toMatch(
        new RegExp(
          `^events/type=${file.partition.type}/hour=${file.partition.hour}/part-\\d+-\\d+(\\.\\d+)?\\.parquet$`,
        ),
      );
      expect(existsSync(join(lakeDir, file.path))).toBe(true);
    }
    // Stored values survive: ts as a timestamp, the optional fields as written.
    const [play] = events.filter((e) => e.type === 'play') as Extract<Event, { type: 'play' }>[];
    const [row] = await lake.query(`SELECT * FROM events WHERE event_id = '${play!.event_id}'`);
    expect(row).toMatchObject({
      type: 'play',
      user_id: play!.user_id,
      item_id: play!.item_id,
      watch_ms: play!.watch_ms,
    });
    expect((row!.ts as Date).getTime()).toBe(play!.ts);
  });

  it('resumes from the manifest offsets: a second run writes only what is new', async () => {
    const { log, lakeDir } = await setup();
    await appendEvents(log, sampleEvents(500));
    let writer = await LakeWriter.open(lakeDir, log);
    await writer.runOnce();
    expect((await writer.runOnce()).batches).toBe(1); // nothing new: no second commit
    await writer.close();
    await appendEvents(log, sampleEvents(300, { idPrefix: 'n' }));
    writer = await LakeWriter.open(lakeDir, log);
    expect(await writer.runOnce()).toMatchObject({ batches: 1, records: 300 });
    await writer.close();
    const lake = await openLake(lakeDir);
    expect(await lake.query('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events')).toEqual([
      { n: 800, d: 800 },
    ]);
    expect(lake.manifest.offsets).toEqual({ events: 800 });
  });

  it('keeps every catalogue version and shows the newest per id', async () => {
    const { log, lakeDir } = await setup();
    await appendCatalogue(log, [sampleItem('i1', 'first'), sampleUser('u1', 'US'), sampleItem('i2', 'only')]);
    const writer = await LakeWriter.open(lakeDir, log, { batchRecords: 2 });
    await writer.runOnce();
    await appendCatalogue(log, [
      sampleItem('i1', 'second'),
      sampleUser('u1', 'JP'),
      sampleItem('i1', 'third'),
    ]);
    await writer.runOnce();
    await writer.close();
    const lake = await openLake(lakeDir);
    expect(await lake.query('SELECT item_id, caption, log_offset FROM items ORDER BY item_id')).toEqual([
      { item_id: 'i1', caption: 'third', log_offset: 5 },
      { item_id: 'i2', caption: 'only', log_offset: 2 },
    ]);
    expect(
      await lake.query('SELECT caption FROM item_versions WHERE item_id = $1 ORDER BY log_offset', ['i1']),
    ).toEqual([{ caption: 'first' }, { caption: 'second' }, { caption: 'third' }]);
    expect(await lake.query('SELECT user_id, country, interests FROM users')).toEqual([
      { user_id: 'u1', country: 'JP', interests: ['cats'] },
    ]);
    expect(await lake.query('SELECT count(*) AS n FROM user_versions')).toEqual([{ n: 2 }]);
    const [version] = await lake.query('SELECT log_ts FROM item_versions LIMIT 1');
    expect(version!.log_ts).toBeInstanceOf(Date);
  });

  it('sends records it cannot store to rejects, with the reason, and writes the rest', async () => {
    const { log, lakeDir } = await setup();
    const encode = (text: string) => new TextEncoder().encode(text);
    await appendEvents(log, sampleEvents(100));
    await log.append('events', [
      { id: 'torn', payload: encode('{"event_id":"torn","type":"play"') },
      { id: 'badtype', payload: encode('{"event_id":"x","user_id":"u","ts":5,"type":"teleport"}') },
      { id: 'badts', payload: encode('{"event_id":"y","user_id":"u","ts":"noon","type":"like"}') },
      { id: 'multi', payload: encode('{"event_id":"z",\n"user_id":"u","ts":7,"type":"like","item_id":"i"}') },
    ]);
    await appendEvents(log, sampleEvents(100, { idPrefix: 'after' }));
    await log.append('catalog', [
      { id: 'c1', payload: encode('{"kind":"creator","record":{"creator_id":"c"}}') },
      { id: 'c2', payload: encode('{"kind":"item","record":{"item_id":"i9","created_ts":1e17}}') },
    ]);
    const writer = await LakeWriter.open(lakeDir, log);
    expect(await writer.runOnce()).toMatchObject({ records: 206, rejected: 5 });
    await writer.close();
    const lake = await openLake(lakeDir);
    expect(await lake.query('SELECT count(*) AS n FROM events')).toEqual([{ n: 201 }]);
    const rejects = await lake.query<{ topic: string; log_offset: number; reason: string; payload: string }>(
      'SELECT topic, log_offset, reason, payload FROM rejects ORDER BY topic, log_offset',
    );
    expect(rejects.map((r) => [r.topic, r.log_offset])).toEqual([
      ['catalog', 0],
      ['catalog', 1],
      ['events', 100],
      ['events', 101],
      ['events', 102],
    ]);
    expect(rejects.map((r) => r.reason)).toEqual([
      'kind is neither "item" nor "user"',
      'record.created_ts is not milliseconds between 1970 and 2100',
      expect.stringMatching(/column types: unexpected end of data/),
      'type is not an event type',
      expect.stringMatching(/column types: Failed to cast value to numerical: "noon"/),
    ]);
    expect(rejects[2]!.payload).toBe('{"event_id":"torn","type":"play"');
    expect(await lake.query('SELECT count(*) AS n FROM item_versions')).toEqual([{ n: 0 }]);
    expect(lake.manifest.offsets).toEqual({ events: 204, catalog: 2 });
  });

  it('writes a batch every batchMs while following, and flushes when stopped', async () => {
    const { log, lakeDir } = await setup();
    const commits: CommitInfo[] = [];
    const writer = await LakeWriter.open(lakeDir, log, { batchMs: 50, onCommit: (c) => commits.push(c) });
    const controller = new AbortController();
    const following = writer.follow(controller.signal);
    await appendEvents(log, sampleEvents(10));
    await until(() => commits.length >= 1);
    await appendEvents(log, sampleEvents(5, { idPrefix: 'later' }));
    await until(() => commits.length >= 2);
    controller.abort();
    expect(await following).toMatchObject({ batches: 2, records: 15 });
    await writer.close();
    expect(commits.map((c) => c.records.events)).toEqual([10, 5]);
  });

  it('stays at its last commit when a batch fails, and carries on from there', async () => {
    const { log, lakeDir } = await setup();
    await appendEvents(log, sampleEvents(900, { hours: 1 }));
    const writer = await LakeWriter.open(lakeDir, log, { batchRecords: 300 });
    await writer.runOnce();
    // A file where the rejects folder would go: the next batch that has a reject cannot be published.
    writeFileSync(join(lakeDir, 'rejects'), 'in the way');
    await appendEvents(log, sampleEvents(500, { idPrefix: 'n' }));
    await log.append('events', [{ id: 'bad', payload: new TextEncoder().encode('{"oops"') }]);
    await appendEvents(log, sampleEvents(500, { idPrefix: 'm' }));
    await expect(writer.runOnce()).rejects.toThrow();
    expect((await readManifest(lakeDir)).offsets).toEqual(writer.manifest.offsets);
    rmSync(join(lakeDir, 'rejects'));
    await writer.runOnce();
    await writer.close();
    const lake = await openLake(lakeDir);
    expect(await lake.query('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events')).toEqual([
      { n: 1900, d: 1900 },
    ]);
    expect(await lake.query('SELECT count(*) AS n FROM rejects')).toEqual([{ n: 1 }]);
  });

  it('lets one writer at a time hold a lake', async () => {
    const { log, lakeDir } = await setup();
    const writer = await LakeWriter.open(lakeDir, log);
    await expect(failureOf(LakeWriter.open(lakeDir, log), 'FY_LAKE_LOCKED')).resolves.toMatch(
      String(process.pid),
    );
    await writer.close();
    const again = await LakeWriter.open(lakeDir, log);
    await again.close();
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
