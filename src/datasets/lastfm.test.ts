import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, failureOf, folderWith, freshPath } from '../../test/helpers/index.js';
import { WorldFolder, type WorldTable } from '../io/world-folder.js';
import { LASTFM_TIMESTAMP_MS, readLastfmInteractions } from './lastfm-files.js';
import { importLastfm } from './lastfm-import.js';

const outDir = () => freshPath('world');

async function table<T extends WorldTable>(dir: string, name: T) {
  return collect((await WorldFolder.open(dir)).records(name));
}

// user_artists.dat uses CRLF line endings in the HetRec release; artists.dat uses LF.
const PLAYS = ['userID\tartistID\tweight', '2\t51\t13883', '2\t52\t11690', '3\t51\t7', '4\t99\t1'];
const ARTISTS = [
  'id\tname\turl\tpictureURL',
  '51\tDuran Duran\thttp://www.last.fm/music/Duran+Duran\thttp://userserve-ak.last.fm/serve/252/1.jpg',
  '52\tBjörk\thttp://www.last.fm/music/Bj%C3%B6rk\t',
  '53\tサカナクション\thttp://www.last.fm/music/x',
];
const crlf = (rows: string[]) => `${rows.join('\r\n')}\r\n`;
const lf = (rows: string[]) => `${rows.join('\n')}\n`;

describe('Last.fm HetRec 2011', () => {
  it('fixes every time at the dataset release, 2011-05-01', () => {
    expect(new Date(LASTFM_TIMESTAMP_MS).toISOString()).toBe('2011-05-01T00:00:00.000Z');
  });

  it('imports play counts as play_count events and artists as items', async () => {
    const dir = folderWith({ 'user_artists.dat': crlf(PLAYS), 'artists.dat': lf(ARTISTS) });
    const out = outDir();
    const manifest = await importLastfm(dir, out, { formats: ['jsonl'] });
    expect(manifest.source).toBe('lastfm');
    expect(manifest.params).toEqual({ path: dir, layout: 'hetrec-2011' });
    expect(manifest.counts).toEqual({ users: 3, creators: 0, items: 4, events: 4 });
    expect(manifest.timeRange).toEqual({ startMs: LASTFM_TIMESTAMP_MS, endMs: LASTFM_TIMESTAMP_MS });

    const ts = LASTFM_TIMESTAMP_MS;
    expect(await table(out, 'events')).toEqual([
      { event_id: 'lfm-p2', type: 'play_count', user_id: 'lfm-u2', item_id: 'lfm-a51', ts, count: 13883 },
      { event_id: 'lfm-p3', type: 'play_count', user_id: 'lfm-u2', item_id: 'lfm-a52', ts, count: 11690 },
      { event_id: 'lfm-p4', type: 'play_count', user_id: 'lfm-u3', item_id: 'lfm-a51', ts, count: 7 },
      { event_id: 'lfm-p5', type: 'play_count', user_id: 'lfm-u4', item_id: 'lfm-a99', ts, count: 1 },
    ]);
    expect(await table(out, 'users')).toEqual(
      ['lfm-u2', 'lfm-u3', 'lfm-u4'].map((user_id) => ({ user_id, signup_ts: ts, interests: [] })),
    );
    expect(await table(out, 'items')).toEqual([
      { item_id: 'lfm-a51', caption: 'Duran Duran', hashtags: [], created_ts: 0 },
      { item_id: 'lfm-a52', caption: 'Björk', hashtags: [], created_ts: 0 },
      { item_id: 'lfm-a53', caption: 'サカナクション', hashtags: [], created_ts: 0 },
      { item_id: 'lfm-a99', caption: '', hashtags: [], created_ts: 0 },
    ]);
  });

  it('reads raw interactions from the folder or user_artists.dat, with or without the header', async () => {
    const dir = folderWith({ 'user_artists.dat': crlf(PLAYS.slice(1)) });
    const rows = await collect(readLastfmInteractions(dir));
    expect(rows[0]).toEqual({
      user: 'lfm-u2',
      item: 'lfm-a51',
      value: 13883,
      ts: LASTFM_TIMESTAMP_MS,
      line: 1,
    });
    expect(rows).toHaveLength(4);
    expect(await collect(readLastfmInteractions(join(dir, 'user_artists.dat')))).toEqual(rows);
    const manifest = await importLastfm(dir, outDir(), { formats: ['jsonl'] });
    expect(manifest.counts.items).toBe(3);
  });

  it('names a missing folder and a folder without user_artists.dat', async () => {
    const missing = join(tmpdir(), 'foryou-no-such-lastfm');
    expect(await failureOf(importLastfm(missing, outDir()), 'FY_DATASET_NOT_FOUND')).toContain(
      `${missing} does not exist; expected a Last.fm HetRec 2011 folder`,
    );
    const dir = folderWith({ 'artists.dat': lf(ARTISTS) });
    expect(await failureOf(importLastfm(dir, outDir()), 'FY_DATASET_NOT_FOUND')).toBe(
      `${join(dir, 'user_artists.dat')} does not exist; expected the Last.fm play counts user_artists.dat (userID artistID weight)`,
    );
  });

  it('names file and line of a malformed row and of a zero play count', async () => {
    const short = folderWith({ 'user_artists.dat': crlf([...PLAYS.slice(0, 3), '3\t51']) });
    expect(await failureOf(importLastfm(short, outDir()), 'FY_DATASET_MALFORMED')).toBe(
      `${join(short, 'user_artists.dat')}:4: expected 3 tab-separated fields userID artistID weight, got 2`,
    );
    const zero = folderWith({ 'user_artists.dat': crlf([...PLAYS, '5\t51\t0']) });
    expect(await failureOf(importLastfm(zero, outDir()), 'FY_VALIDATION_FAILED')).toBe(
      `${join(zero, 'user_artists.dat')}:6: invalid event: count: must be > 0`,
    );
    const artists = folderWith({
      'user_artists.dat': crlf(PLAYS),
      'artists.dat': lf([...ARTISTS, 'x\tNobody']),
    });
    expect(await failureOf(importLastfm(artists, outDir()), 'FY_DATASET_MALFORMED')).toBe(
      `${join(artists, 'artists.dat')}:5: expected id to be a whole number, got "x"`,
    );
  });
});
