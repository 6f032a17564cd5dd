import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { FileEventLog } from '../log/file-log.js';
import { Lake } from './lake.js';
import { lakeLag } from './status.js';
import { appendCatalogue, appendEvents, sampleEvents, sampleItem, sampleUser } from './testing.js';
import { LakeWriter } from './writer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function writtenLake() {
  const root = tempDir('foryou-lake-');
  const log = await FileEventLog.open(join(root, 'log'), { fsync: 'never' });
  cleanups.push(() => log.close());
  await appendEvents(log, sampleEvents(5000, { hours: 6 }));
  await appendCatalogue(log, [sampleItem('i1', 'a'), sampleUser('u1', 'US'), sampleItem('i1', 'b')]);
  const lakeDir = join(root, 'lake');
  const writer = await LakeWriter.open(lakeDir, log, { batchRecords: 2000, compactMinFiles: 0 });
  await writer.runOnce();
  await writer.close();
  const lake = await Lake.open(lakeDir);
  cleanups.push(() => lake.close());
  return { log, lake, lakeDir };
}

describe('Lake', () => {
  it('reads only the partitions a filter on type and hour selects', async () => {
    const { lake } = await writtenLake();
    const events = lake.manifest.files.filter((f) => f.table === 'events');
    const inPartition = (type: string, hours: string[]) =>
      events.filter((f) => f.partition.type === type && hours.includes(f.partition.hour!)).length;
    expect(events.length).toBeGreaterThan(30);

    const one = `SELECT count(*) FROM events WHERE type = 'play' AND hour = '2026-01-05T02'`;
    expect(inPartition('play', ['2026-01-05T02'])).toBeGreaterThan(0);
    expect(await lake.filesScanned(one)).toBe(inPartition('play', ['2026-01-05T02']));

    const range = `SELECT count(*) FROM events WHERE type = 'like' AND hour BETWEEN '2026-01-05T01' AND '2026-01-05T03'`;
    const hours = ['2026-01-05T01', '2026-01-05T02', '2026-01-05T03'];
    expect(await lake.filesScanned(range)).toBe(inPartition('like', hours));

    const byType = `SELECT count(*) FROM events WHERE type = 'search'`;
    expect(await lake.filesScanned(byType)).toBe(events.filter((f) => f.partition.type === 'search').length);

    expect(await lake.filesScanned('SELECT count(*) FROM events')).toBe(events.length);
    // Pruning changes what is read, not the answer.
    const [pruned] = await lake.query(one.replace('count(*)', 'count(*) AS n'));
    const [scanned] = await lake.query(
      `SELECT count(*) AS n FROM events WHERE type || '' = 'play' AND strftime(ts, '%Y-%m-%dT%H') = '2026-01-05T02'`,
    );
    expect(pruned).toEqual(scanned);
  });

  it('reports tables, partitions, files, rows, bytes and the lag behind the log', async () => {
    const { lake, log } = await writtenLake();
    const status = lake.status();
    expect(status.offsets).toEqual({ events: 5000, catalog: 3 });
    const byTable = Object.fromEntries(status.tables.map((t) => [t.table, t]));
    expect(byTable.events).toMatchObject({ rows: 5000, partitions: 5 * 6 });
    expect(byTable.events!.bytes).toBeGreaterThan(0);
    expect(byTable.items).toMatchObject({ rows: 2, files: 1, partitions: 1 });
    expect(byTable.users).toMatchObject({ rows: 1 });
    expect(byTable.rejects).toMatchObject({ rows: 0, files: 0 });

    await appendEvents(log, sampleEvents(7, { idPrefix: 'new' }));
    expect(await lakeLag(lake.manifest, log)).toEqual([
      { topic: 'events', lake: 5000, logStart: 0, logEnd: 5007, lag: 7, missed: 0 },
      { topic: 'catalog', lake: 3, logStart: 0, logEnd: 3, lag: 0, missed: 0 },
    ]);
  });

  it('sees new commits after refresh, and only then', async () => {
    const { lake, log, lakeDir } = await writtenLake();
    await appendEvents(log, sampleEvents(10, { idPrefix: 'new' }));
    const writer = await LakeWriter.open(lakeDir, log);
    await writer.runOnce();
    await writer.close();
    expect(await lake.query('SELECT count(*) AS n FROM events')).toEqual([{ n: 5000 }]);
    expect(await lake.refresh()).toBe(true);
    expect(await lake.query('SELECT count(*) AS n FROM events')).toEqual([{ n: 5010 }]);
    expect(await lake.refresh()).toBe(false);
  });

  it('opens an empty lake with every view in place', async () => {
    const lake = await Lake.open(join(tempDir(), 'lake'));
    cleanups.push(() => lake.close());
    for (const view of ['events', 'items', 'item_versions', 'users', 'user_versions', 'rejects'])
      expect(await lake.query(`SELECT count(*) AS n FROM ${view}`)).toEqual([{ n: 0 }]);
    const columns = await lake.query<{ column_name: string }>('DESCRIBE events');
    expect(columns.map((c) => c.column_name)).toEqual([
      'log_offset',
      'event_id',
      'type',
      'user_id',
      'ts',
      'item_id',
      'creator_id',
      'request_id',
      'position',
      'watch_ms',
      'duration_ms',
      'query',
      'text',
      'value',
      'count',
      'hour',
    ]);
  });

  it('refuses a lake inside a folder named like a partition, which DuckDB would read as one', async () => {
    const dir = join(tempDir(), 'type=raw', 'lake');
    expect(await failureOf(Lake.open(dir), 'FY_INVALID_ARGUMENT')).toMatch(/type=raw/);
    const log = await FileEventLog.open(join(tempDir(), 'log'), { fsync: 'never' });
    cleanups.push(() => log.close());
    await failureOf(LakeWriter.open(dir, log), 'FY_INVALID_ARGUMENT');
    const fine = await Lake.open(join(tempDir(), 'year=2026', 'lake'));
    fine.close();
  });

  it('reports a bad query as FY_INVALID_ARGUMENT and gives jobs the connection itself', async () => {
    const { lake } = await writtenLake();
    expect(await failureOf(lake.query('SELECT nope FROM events'), 'FY_INVALID_ARGUMENT')).toMatch(/nope/);
    const reader = await lake.connection().runAndReadAll('SELECT count(*)::INTEGER AS n FROM users');
    expect(reader.getRowObjectsJS()).toEqual([{ n: 1 }]);
  });
});
