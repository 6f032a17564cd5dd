import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { FileEventLog } from '../log/file-log.js';
import { compactionPlan, compactLake } from './compaction.js';
import { Lake } from './lake.js';
import { partitionKey } from './layout.js';
import { type LakeFile, type LakeManifest, readManifest } from './manifest.js';
import { appendCatalogue, appendEvents, sampleEvents, sampleItem } from './testing.js';
import { LakeWriter } from './writer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A lake written in many small batches: several files per partition. */
async function smallBatchLake() {
  const root = tempDir('foryou-lake-');
  const log = await FileEventLog.open(join(root, 'log'), { fsync: 'never' });
  cleanups.push(() => log.close());
  const lakeDir = join(root, 'lake');
  await appendEvents(log, sampleEvents(4000, { hours: 2 }));
  for (let v = 0; v < 5; v++)
    await appendCatalogue(log, [sampleItem('i1', `v${v}`), sampleItem(`i${v + 2}`, 'x')]);
  const writer = await LakeWriter.open(lakeDir, log, { batchRecords: 250, compactMinFiles: 0 });
  await writer.runOnce();
  await writer.close();
  return { log, lakeDir };
}

const SNAPSHOT = `SELECT
  (SELECT count(*) FROM events) AS events,
  (SELECT count(DISTINCT event_id) FROM events) AS ids,
  (SELECT sum(watch_ms) FROM events) AS watch,
  (SELECT string_agg(type || hour || event_id, ',' ORDER BY log_offset) FROM events) AS digest,
  (SELECT count(*) FROM item_versions) AS versions,
  (SELECT string_agg(item_id || caption, ',' ORDER BY item_id) FROM items) AS latest`;

async function snapshot(lakeDir: string) {
  const lake = await Lake.open(lakeDir);
  try {
    return (await lake.query(SNAPSHOT))[0];
  } finally {
    lake.close();
  }
}

function filesPerPartition(manifest: LakeManifest): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of manifest.files) {
    const key = partitionKey(f.table, f.partition);
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

describe('lake compaction', () => {
  it('merges each partition into one file and keeps every row, version and value', async () => {
    const { lakeDir } = await smallBatchLake();
    const before = await readManifest(lakeDir);
    const rowsBefore = await snapshot(lakeDir);
    expect(Math.max(...filesPerPartition(before).values())).toBeGreaterThan(2);

    const result = await compactLake(lakeDir);
    const after = await readManifest(lakeDir);
    const merged = [...filesPerPartition(before).values()].filter((n) => n > 1);
    expect(result).toMatchObject({
      merges: merged.length,
      filesIn: merged.reduce((sum, n) => sum + n, 0),
      sequence: before.sequence + 1,
    });
    expect([...filesPerPartition(after).values()].every((n) => n === 1)).toBe(true);
    expect(after.files.length).toBe(filesPerPartition(before).size);
    expect(after.offsets).toEqual(before.offsets);
    expect(await snapshot(lakeDir)).toEqual(rowsBefore);
    // The inputs are gone from disk, the merged files are there.
    const kept = new Set(after.files.map((f) => f.path));
    for (const f of before.files) expect(existsSync(join(lakeDir, f.path))).toBe(kept.has(f.path));
    for (const f of after.files) expect(existsSync(join(lakeDir, f.path))).toBe(true);
    expect(await compactLake(lakeDir)).toMatchObject({ merges: 0, sequence: after.sequence });
  });

  it('plans runs of small files per partition, up to the target size', () => {
    const f = (path: string, bytes: number, minOffset: number, hour = 'h1'): LakeFile => ({
      table: 'events',
      path,
      partition: { type: 'play', hour },
      rows: 1,
      bytes,
      minOffset,
      maxOffset: minOffset,
    });
    const manifest: LakeManifest = {
      format: 'foryou-lake',
      version: 1,
      sequence: 1,
      committedAt: null,
      offsets: {},
      files: [
        f('a', 40, 0),
        f('b', 40, 1),
        f('big', 500, 2),
        f('c', 40, 3),
        f('d', 40, 4),
        f('e', 40, 5),
        f('x', 10, 6, 'h2'),
      ],
    };
    const plan = (options: Parameters<typeof compactionPlan>[1]) =>
      compactionPlan(manifest, options).map((run) => run.map((file) => file.path));
    expect(plan({ targetBytes: 100 })).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(plan({ targetBytes: 100, minFiles: 3 })).toEqual([['a', 'b', 'c']]);
    expect(plan({ targetBytes: 1000, maxMerges: 1 })).toEqual([['a', 'b', 'big', 'c', 'd', 'e']]);
  });

  it('runs inside the writer once a partition has enough small files', async () => {
    const root = tempDir('foryou-lake-');
    const log = await FileEventLog.open(join(root, 'log'), { fsync: 'never' });
    cleanups.push(() => log.close());
    await appendEvents(log, sampleEvents(2000, { hours: 1 }));
    const writer = await LakeWriter.open(join(root, 'lake'), log, { batchRecords: 200, compactMinFiles: 4 });
    const summary = await writer.runOnce();
    await writer.close();
    expect(summary.compactions).toBeGreaterThan(0);
    const manifest = await readManifest(join(root, 'lake'));
    expect(Math.max(...filesPerPartition(manifest).values())).toBeLessThan(4);
    expect((await snapshot(join(root, 'lake')))?.events).toBe(2000);
  });

  it('lets a reader opened before a compaction keep querying (it moves to the new manifest)', async () => {
    const { lakeDir } = await smallBatchLake();
    const lake = await Lake.open(lakeDir);
    cleanups.push(() => lake.close());
    const before = lake.manifest.sequence;
    await compactLake(lakeDir);
    expect(await lake.query('SELECT count(*) AS n FROM events')).toEqual([{ n: 4000 }]);
    expect(lake.manifest.sequence).toBe(before + 1);
  });

  it('refuses to run while a writer holds the lake', async () => {
    const { log, lakeDir } = await smallBatchLake();
    const writer = await LakeWriter.open(lakeDir, log);
    await failureOf(compactLake(lakeDir), 'FY_LAKE_LOCKED');
    await writer.close();
  });
});
