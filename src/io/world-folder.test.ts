import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { folderWith, freshPath, tempDir, tempFile } from '../../test/helpers/index.js';
import { isForyouError } from '../core/errors.js';
import { asCreatorId, asEventId, asItemId, asRequestId, asUserId } from '../core/ids.js';
import type { Event } from '../core/schema/index.js';
import { sqlString, withDuckDb } from './duckdb.js';
import { readJsonLines } from './jsonl.js';
import { WorldFolder, WorldFolderWriter } from './world-folder.js';

const t0 = Date.UTC(2026, 0, 1, 12);
const events: Event[] = [
  {
    event_id: asEventId('e1'),
    type: 'impression',
    user_id: asUserId('u1'),
    ts: t0,
    item_id: asItemId('v1'),
    request_id: asRequestId('r1'),
    position: 0,
  },
  {
    event_id: asEventId('e2'),
    type: 'play',
    user_id: asUserId('u1'),
    ts: t0 + 5,
    item_id: asItemId('v1'),
    watch_ms: 9000,
    duration_ms: 10_000,
  },
  { event_id: asEventId('e3'), type: 'search', user_id: asUserId('u1'), ts: t0 + 9, query: "l'été 夏天" },
];

async function writeSample(dir: string, formats?: ('jsonl' | 'parquet')[]) {
  const writer = await WorldFolderWriter.create(dir, formats ? { formats } : {});
  writer.write('users', {
    user_id: asUserId('u1'),
    country: 'CN',
    language: 'zh',
    signup_ts: t0 - 1000,
    interests: ['food'],
  });
  writer.write('creators', {
    creator_id: asCreatorId('c1'),
    name: 'c',
    country: 'CN',
    language: 'zh',
    topics: [],
    created_ts: 0,
  });
  writer.write('items', {
    item_id: asItemId('v1'),
    creator_id: asCreatorId('c1'),
    caption: '夏天的面',
    hashtags: ['美食'],
    language: 'zh',
    duration_ms: 10_000,
    created_ts: t0 - 5000,
  });
  for (const e of events) writer.write('events', e);
  return writer.finish('test', { seed: 1 });
}

describe('world folder', () => {
  it('writes JSON lines and Parquet with a manifest, and reads them back', async () => {
    const dir = freshPath('w');
    const manifest = await writeSample(dir);
    expect(manifest.counts).toEqual({ users: 1, creators: 1, items: 1, events: 3 });
    expect(manifest.timeRange).toEqual({ startMs: t0, endMs: t0 + 9 });

    const folder = await WorldFolder.open(dir);
    const back: Event[] = [];
    for await (const e of folder.records('events')) back.push(e);
    expect(back).toEqual(events);

    const rows = await withDuckDb(async (db) => {
      const r = await db.runAndReadAll(
        `SELECT type, epoch_ms(ts) AS ms, watch_ms, query FROM read_parquet(${sqlString(folder.path('events', 'parquet'))}) ORDER BY ts`,
      );
      return r.getRowObjectsJson();
    });
    expect(rows).toEqual([
      { type: 'impression', ms: String(t0), watch_ms: null, query: null },
      { type: 'play', ms: String(t0 + 5), watch_ms: 9000, query: null },
      { type: 'search', ms: String(t0 + 9), watch_ms: null, query: "l'été 夏天" },
    ]);
  });

  it('refuses to overwrite a non-empty folder unless forced', async () => {
    const dir = folderWith({ 'keep.txt': 'x' });
    await expect(WorldFolderWriter.create(dir)).rejects.toSatisfy((e) =>
      isForyouError(e, 'FY_OUTPUT_EXISTS'),
    );
    const world = join(dir, 'w');
    await writeSample(world, ['parquet']);
    await expect(WorldFolderWriter.create(world)).rejects.toThrow(`${world} is not empty`);
    const forced = await WorldFolderWriter.create(world, { force: true });
    expect((await forced.finish('test', {})).counts.events).toBe(0);
  });

  it('leaves the existing folder untouched when a forced rewrite is aborted, and leaves no staging behind', async () => {
    const parent = tempDir();
    const world = join(parent, 'w');
    await writeSample(world, ['jsonl']);
    const before = await (await WorldFolder.open(world)).sizes();
    const writer = await WorldFolderWriter.create(world, { force: true });
    writer.write('users', { user_id: asUserId('u9'), signup_ts: 0, interests: [] });
    await writer.abort();
    expect(await (await WorldFolder.open(world)).sizes()).toEqual(before);
    expect(readdirSync(parent)).toEqual(['w']);
  });

  it('can write Parquet only, leaving no JSON lines behind', async () => {
    const dir = freshPath('w');
    await writeSample(dir, ['parquet']);
    const folder = await WorldFolder.open(dir);
    expect(Object.keys(await folder.sizes())).toEqual([
      'users.parquet',
      'creators.parquet',
      'items.parquet',
      'events.parquet',
    ]);
    expect(() => folder.records('events')).toThrow('without JSON lines');
  });

  it('names the file and line of a JSON line that does not parse', async () => {
    const path = tempFile('x.jsonl', '{"a":1}\n{"a":\n');
    const read = async () => {
      for await (const _ of readJsonLines(path));
    };
    await expect(read()).rejects.toThrow(`${path}:2 is not valid JSON`);
  });
});
