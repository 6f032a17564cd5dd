import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, failureOf, folderWith, freshPath } from '../../test/helpers/index.js';
import { WorldFolder, type WorldTable } from '../io/world-folder.js';
import type { Interaction } from './interaction.js';
import { importMovieLens } from './movielens-import.js';
import { resolveMovieLens } from './movielens-layout.js';
import { readMovieLensInteractions } from './movielens-ratings.js';

const lines = (rows: string[], eol = '\n') => rows.join(eol) + eol;
const outDir = () => freshPath('world');

async function table<T extends WorldTable>(dir: string, name: T) {
  return collect((await WorldFolder.open(dir)).records(name));
}

const LATEST_RATINGS = [
  'userId,movieId,rating,timestamp',
  '1,1,4.0,964982703',
  '1,29,3.5,964981247',
  '2,1,5.0,1445714835',
  '2,999,0.5,1445714900',
];
const LATEST_MOVIES = [
  'movieId,title,genres',
  '1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy',
  '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Adventure|Drama|Sci-Fi',
  '7789,"11\'09""01 - September 11 (2002)",Drama',
  '143410,Hyena Road,(no genres listed)',
];

const flags = (on: string[]) =>
  ['unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama']
    .concat(['Fantasy', 'Film-Noir', 'Horror', 'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War'])
    .concat(['Western'])
    .map((g) => (on.includes(g) ? '1' : '0'))
    .join('|');
const U_ITEM = Buffer.concat([
  Buffer.from(
    `242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|${flags(['Comedy'])}\n`,
  ),
  Buffer.from(`302|L.A. Confidential (1997)|01-Jan-1997||x|${flags(['Crime', 'Film-Noir', 'Thriller'])}\n`),
  Buffer.from(`1|Misérables, Les (1995)|01-Jan-1995||x|${flags(['Drama', 'Musical'])}\n`, 'latin1'),
  Buffer.from(`267|unknown||||${flags(['unknown'])}\n`),
]);

describe('MovieLens latest-small (CSV)', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ])('imports ratings and movies with %s line endings', async (_name, eol) => {
    const dir = folderWith({
      'ratings.csv': lines(LATEST_RATINGS, eol),
      'movies.csv': lines(LATEST_MOVIES, eol),
    });
    const out = outDir();
    const manifest = await importMovieLens(dir, out, { formats: ['jsonl'] });
    expect(manifest.source).toBe('movielens');
    expect(manifest.params).toEqual({ path: dir, layout: 'latest-small' });
    expect(manifest.counts).toEqual({ users: 2, creators: 0, items: 5, events: 4 });
    expect(manifest.timeRange).toEqual({ startMs: 964981247000, endMs: 1445714900000 });

    expect(await table(out, 'events')).toEqual([
      { event_id: 'ml-r2', type: 'rating', user_id: 'ml-u1', item_id: 'ml-m1', ts: 964982703000, value: 4 },
      {
        event_id: 'ml-r3',
        type: 'rating',
        user_id: 'ml-u1',
        item_id: 'ml-m29',
        ts: 964981247000,
        value: 3.5,
      },
      { event_id: 'ml-r4', type: 'rating', user_id: 'ml-u2', item_id: 'ml-m1', ts: 1445714835000, value: 5 },
      {
        event_id: 'ml-r5',
        type: 'rating',
        user_id: 'ml-u2',
        item_id: 'ml-m999',
        ts: 1445714900000,
        value: 0.5,
      },
    ]);
    expect(await table(out, 'users')).toEqual([
      { user_id: 'ml-u1', signup_ts: 964981247000, interests: [] },
      { user_id: 'ml-u2', signup_ts: 1445714835000, interests: [] },
    ]);
    const y = (year: number) => Date.UTC(year, 0, 1);
    expect(await table(out, 'items')).toEqual([
      {
        item_id: 'ml-m1',
        caption: 'Toy Story (1995)',
        hashtags: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
        created_ts: y(1995),
      },
      {
        item_id: 'ml-m29',
        caption: 'City of Lost Children, The (Cité des enfants perdus, La) (1995)',
        hashtags: ['Adventure', 'Drama', 'SciFi'],
        created_ts: y(1995),
      },
      {
        item_id: 'ml-m7789',
        caption: '11\'09"01 - September 11 (2002)',
        hashtags: ['Drama'],
        created_ts: y(2002),
      },
      { item_id: 'ml-m143410', caption: 'Hyena Road', hashtags: [], created_ts: 0 },
      // rated but not in movies.csv: still an item, without a caption
      { item_id: 'ml-m999', caption: '', hashtags: [], created_ts: 0 },
    ]);
  });

  it('writes Parquet too by default', async () => {
    const out = outDir();
    const manifest = await importMovieLens(folderWith({ 'ratings.csv': lines(LATEST_RATINGS) }), out);
    expect(manifest.formats).toEqual(['jsonl', 'parquet']);
    expect(existsSync(join(out, 'events.parquet'))).toBe(true);
    expect(manifest.counts.items).toBe(3);
  });

  it('yields raw interactions from a folder or a single ratings file', async () => {
    const dir = folderWith({ 'ratings.csv': lines(LATEST_RATINGS), 'movies.csv': lines(LATEST_MOVIES) });
    const expected: Interaction[] = [
      { user: 'ml-u1', item: 'ml-m1', value: 4, ts: 964982703000, line: 2 },
      { user: 'ml-u1', item: 'ml-m29', value: 3.5, ts: 964981247000, line: 3 },
      { user: 'ml-u2', item: 'ml-m1', value: 5, ts: 1445714835000, line: 4 },
      { user: 'ml-u2', item: 'ml-m999', value: 0.5, ts: 1445714900000, line: 5 },
    ] as Interaction[];
    expect(await collect(readMovieLensInteractions(dir))).toEqual(expected);
    expect(await collect(readMovieLensInteractions(join(dir, 'ratings.csv')))).toEqual(expected);
  });

  it('accepts a ratings file without its header', async () => {
    const dir = folderWith({ 'ratings.csv': lines(LATEST_RATINGS.slice(1)) });
    expect((await collect(readMovieLensInteractions(dir))).map((r) => r.line)).toEqual([1, 2, 3, 4]);
  });
});

describe('MovieLens 100k (u.data, u.item)', () => {
  const U_DATA = lines([
    '196\t242\t3\t881250949',
    '186\t302\t3\t891717742',
    '196\t1\t4\t881250950',
    '7\t267\t1\t881250000',
  ]);

  it('imports tab-separated ratings and Latin-1 pipe-separated movies', async () => {
    const dir = folderWith({ 'u.data': U_DATA, 'u.item': U_ITEM });
    const out = outDir();
    const manifest = await importMovieLens(dir, out, { formats: ['jsonl'] });
    expect(manifest.params).toEqual({ path: dir, layout: '100k' });
    expect(manifest.counts).toEqual({ users: 3, creators: 0, items: 4, events: 4 });
    const events = await table(out, 'events');
    expect(events[0]).toEqual({
      event_id: 'ml-r1',
      type: 'rating',
      user_id: 'ml-u196',
      item_id: 'ml-m242',
      ts: 881250949000,
      value: 3,
    });
    expect(await table(out, 'items')).toEqual([
      { item_id: 'ml-m242', caption: 'Kolya (1996)', hashtags: ['Comedy'], created_ts: Date.UTC(1996, 0, 1) },
      {
        item_id: 'ml-m302',
        caption: 'L.A. Confidential (1997)',
        hashtags: ['Crime', 'FilmNoir', 'Thriller'],
        created_ts: Date.UTC(1997, 0, 1),
      },
      {
        item_id: 'ml-m1',
        caption: 'Misérables, Les (1995)',
        hashtags: ['Drama', 'Musical'],
        created_ts: Date.UTC(1995, 0, 1),
      },
      { item_id: 'ml-m267', caption: 'unknown', hashtags: [], created_ts: 0 },
    ]);
  });

  it('reads a split file such as u1.base, with u.item beside it', async () => {
    const dir = folderWith({ 'u1.base': U_DATA, 'u.item': U_ITEM });
    const source = await resolveMovieLens(join(dir, 'u1.base'));
    expect(source).toMatchObject({ layout: '100k', moviesPath: join(dir, 'u.item') });
    const manifest = await importMovieLens(join(dir, 'u1.base'), outDir(), { formats: ['jsonl'] });
    expect(manifest.counts.events).toBe(4);
  });
});

describe('MovieLens 1m / 10m (ratings.dat, movies.dat)', () => {
  const RATINGS = lines(['1::1193::5::978300760', '1::3::3.5::978302109', '2::1193::4::978298413']);

  it.each([
    ['Latin-1 (ml-1m)', 'latin1'],
    ['UTF-8 (ml-10m)', 'utf8'],
  ] as const)('imports "::" files with a %s movies.dat', async (_name, encoding) => {
    const movies = Buffer.from(
      lines([
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama",
        '3::Misérables, Les (1995)::Drama|Musical',
      ]),
      encoding,
    );
    const dir = folderWith({
      'ratings.dat': RATINGS,
      'movies.dat': movies,
      'users.dat': '1::F::1::10::48067\n',
    });
    const out = outDir();
    const manifest = await importMovieLens(dir, out, { formats: ['jsonl'] });
    expect(manifest.params).toEqual({ path: dir, layout: '1m' });
    expect(manifest.counts).toEqual({ users: 2, creators: 0, items: 2, events: 3 });
    const items = await table(out, 'items');
    expect(items.map((i) => [i.item_id, i.caption, i.hashtags])).toEqual([
      ['ml-m1193', "One Flew Over the Cuckoo's Nest (1975)", ['Drama']],
      ['ml-m3', 'Misérables, Les (1995)', ['Drama', 'Musical']],
    ]);
    const events = await table(out, 'events');
    expect(events.map((e) => (e.type === 'rating' ? [e.event_id, e.value, e.ts] : null))).toEqual([
      ['ml-r1', 5, 978300760000],
      ['ml-r2', 3.5, 978302109000],
      ['ml-r3', 4, 978298413000],
    ]);
  });

  it('honours an explicit layout', async () => {
    const dir = folderWith({ 'ratings.dat': RATINGS, 'u.data': lines(['1\t2\t3\t4']) });
    expect((await resolveMovieLens(dir, '1m')).ratingsPath).toBe(join(dir, 'ratings.dat'));
    expect((await resolveMovieLens(dir, '100k')).ratingsPath).toBe(join(dir, 'u.data'));
    const message = await failureOf(resolveMovieLens(dir), 'FY_INVALID_ARGUMENT');
    expect(message).toContain('u.data and ratings.dat');
  });
});

describe('MovieLens errors', () => {
  it('names a missing folder, a folder without ratings and a missing layout file', async () => {
    const missing = join(tmpdir(), 'foryou-no-such-dataset');
    expect(await failureOf(importMovieLens(missing, outDir()), 'FY_DATASET_NOT_FOUND')).toContain(
      `${missing} does not exist; expected a MovieLens folder`,
    );
    const empty = folderWith({ 'README.txt': 'hi' });
    expect(await failureOf(importMovieLens(empty, outDir()), 'FY_DATASET_NOT_FOUND')).toContain(
      'holds no MovieLens ratings file; expected',
    );
    expect(await failureOf(resolveMovieLens(empty, '100k'), 'FY_DATASET_NOT_FOUND')).toBe(
      `${join(empty, 'u.data')} does not exist; expected the 100k ratings file u.data`,
    );
  });

  it('names file and line of a line with the wrong number of fields', async () => {
    const dir = folderWith({ 'u.data': lines(['196\t242\t3\t881250949', '186\t302\t3']) });
    const message = await failureOf(importMovieLens(dir, outDir()), 'FY_DATASET_MALFORMED');
    expect(message).toBe(
      `${join(dir, 'u.data')}:2: expected 4 tab-separated fields user item rating timestamp, got 3`,
    );
  });

  it('names file and line of a value that does not parse or breaks the schema', async () => {
    const bad = folderWith({ 'ratings.csv': lines([...LATEST_RATINGS, '3,5,four,1445714900']) });
    expect(await failureOf(importMovieLens(bad, outDir()), 'FY_DATASET_MALFORMED')).toBe(
      `${join(bad, 'ratings.csv')}:6: expected rating to be a number, got "four"`,
    );
    const high = folderWith({ 'ratings.dat': lines(['1::1::4::978300760', '1::2::11::978300760']) });
    expect(await failureOf(importMovieLens(high, outDir()), 'FY_VALIDATION_FAILED')).toBe(
      `${join(high, 'ratings.dat')}:2: invalid event: value: must be at most 10`,
    );
  });

  it('rejects a wrong header and an unclosed quote before writing anything', async () => {
    const header = folderWith({ 'ratings.csv': lines(['user,item,stars,time', '1,1,4,1']) });
    expect(await failureOf(importMovieLens(header, outDir()), 'FY_DATASET_MALFORMED')).toContain(
      'ratings.csv:1: expected the header userId,movieId,rating,timestamp, got "user,item,stars,time"',
    );
    const quote = folderWith({
      'ratings.csv': lines(LATEST_RATINGS),
      'movies.csv': lines([...LATEST_MOVIES, '5,"Father of the Bride Part II (1995),Comedy']),
    });
    const out = outDir();
    expect(await failureOf(importMovieLens(quote, out), 'FY_DATASET_MALFORMED')).toContain(
      `${join(quote, 'movies.csv')}:6: expected 3 comma-separated fields with closed quotes`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('checks the genre flags of u.item', async () => {
    const dir = folderWith({
      'u.data': lines(['1\t1\t3\t1']),
      'u.item': `1|Toy Story (1995)|||x|${flags([])}|0\n`,
    });
    expect(await failureOf(importMovieLens(dir, outDir()), 'FY_DATASET_MALFORMED')).toContain(
      'u.item:1: expected 24 pipe-separated fields movie id|title|release date|video release date|IMDb URL|19 genre flags, got 25',
    );
  });

  it('does not overwrite a non-empty output folder unless forced', async () => {
    const dir = folderWith({ 'ratings.csv': lines(LATEST_RATINGS) });
    const out = folderWith({ 'keep.txt': 'x' });
    await failureOf(importMovieLens(dir, out), 'FY_OUTPUT_EXISTS');
    expect((await importMovieLens(dir, out, { force: true, formats: ['jsonl'] })).counts.events).toBe(4);
  });
});
