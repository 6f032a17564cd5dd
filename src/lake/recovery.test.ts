import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { FileEventLog } from '../log/file-log.js';
import { listFiles } from './durable.js';
import { Lake } from './lake.js';
import { manifestPath, readManifest } from './manifest.js';
import { appendCatalogue, appendEvents, sampleEvents, sampleItem } from './testing.js';
import { LakeWriter } from './writer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const root = tempDir('foryou-lake-');
  const log = await FileEventLog.open(join(root, 'log'), { fsync: 'never' });
  cleanups.push(() => log.close());
  return { log, lakeDir: join(root, 'lake') };
}

async function countEvents(lakeDir: string): Promise<{ n: number; d: number }> {
  const lake = await Lake.open(lakeDir);
  try {
    const [row] = await lake.query<{ n: number; d: number }>(
      'SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM events',
    );
    return row!;
  } finally {
    lake.close();
  }
}

describe('lake recovery', () => {
  it('removes the files no manifest lists, and the staging folder, when a writer opens', async () => {
    const { log, lakeDir } = await setup();
    await appendEvents(log, sampleEvents(400));
    let writer = await LakeWriter.open(lakeDir, log);
    await writer.runOnce();
    await writer.close();
    const live = (await readManifest(lakeDir)).files.map((f) => f.path).sort();
    // What a crash leaves: Parquet published but never committed, scratch files, a torn manifest.
    const orphan = 'events/type=play/hour=2026-01-05T01/part-400-500.parquet';
    copyFileSync(join(lakeDir, live[0]!), join(lakeDir, orphan));
    mkdirSync(join(lakeDir, 'items'), { recursive: true });
    writeFileSync(join(lakeDir, 'items', 'part-0-3.parquet'), 'half a file');
    mkdirSync(join(lakeDir, 'events/type=like/hour=2030-01-01T00'), { recursive: true });
    mkdirSync(join(lakeDir, '_staging', 'batch-9-0'), { recursive: true });
    writeFileSync(join(lakeDir, '_staging', 'batch-9-0', 'events.ndjson'), '{}\n');
    writeFileSync(`${manifestPath(lakeDir)}.tmp`, '{');
    writeFileSync(join(lakeDir, 'NOTES.txt'), "not the lake writer's to delete");

    writer = await LakeWriter.open(lakeDir, log);
    expect([...writer.orphansRemoved].sort()).toEqual(
      ['_manifest.json.tmp', '_staging/batch-9-0/events.ndjson', orphan, 'items/part-0-3.parquet'].sort(),
    );
    await writer.close();
    const remaining = (await listFiles(lakeDir)).sort();
    expect(remaining).toEqual([...live, '_manifest.json', 'NOTES.txt'].sort());
    expect(existsSync(join(lakeDir, 'events/type=like/hour=2030-01-01T00'))).toBe(false);
    expect(await countEvents(lakeDir)).toEqual({ n: 400, d: 400 });
  });

  it('rewrites a batch whose files were published but not committed, exactly once', async () => {
    const { log, lakeDir } = await setup();
    await appendEvents(log, sampleEvents(600));
    await appendCatalogue(log, [sampleItem('i1', 'a')]);
    let writer = await LakeWriter.open(lakeDir, log, { batchRecords: 300 });
    await writer.runOnce();
    await writer.close();
    // Roll the manifest back to the first commit: the later batches' files are on disk, uncommitted,
    // exactly as if the writer had died between publishing them and replacing the manifest.
    const text = readFileSync(manifestPath(lakeDir), 'utf8');
    const all = await readManifest(lakeDir);
    expect(all.sequence).toBe(3);
    const firstBatch = all.files.filter((f) => f.maxOffset < 300 && f.table === 'events');
    const rolledBack = {
      ...all,
      sequence: 1,
      offsets: { events: 300 },
      files: firstBatch,
    };
    writeFileSync(manifestPath(lakeDir), JSON.stringify(rolledBack));
    expect(await countEvents(lakeDir)).toEqual({ n: 300, d: 300 });

    writer = await LakeWriter.open(lakeDir, log, { batchRecords: 300 });
    expect(writer.orphansRemoved.filter((p) => p.endsWith('.parquet')).length).toBe(
      all.files.length - firstBatch.length,
    );
    await writer.runOnce();
    await writer.close();
    expect(await countEvents(lakeDir)).toEqual({ n: 600, d: 600 });
    expect((await readManifest(lakeDir)).offsets).toEqual(JSON.parse(text).offsets);
  });
});
