import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, freshPath, tempFile } from '../../test/helpers/index.js';
import { PopularityRecommender } from '../models/popularity.js';
import { readInteractionsFile } from './interactions-file.js';
import { writeRecommendations } from './recommend.js';

describe('readInteractionsFile', () => {
  it('reads MovieLens u.data (tab-separated, no header) with the ids as written', async () => {
    const path = tempFile('u.data', '196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n\n007\tA-1\t1\t0\n');
    expect(await readInteractionsFile(path)).toEqual([
      { user: '196', item: '242', value: 3, ts: 881250949000 },
      { user: '186', item: '302', value: 3.5, ts: 891717742000 },
      { user: '007', item: 'A-1', value: 1, ts: 0 },
    ]);
  });

  it('reads ratings.csv with its header, CRLF endings, and "::" files', async () => {
    const csv = tempFile('ratings.csv', 'userId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n');
    expect(await readInteractionsFile(csv)).toEqual([
      { user: '1', item: '31', value: 2.5, ts: 1260759144000 },
    ]);
    const dat = tempFile('ratings.dat', '1::1193::5::978300760\n');
    expect(await readInteractionsFile(dat)).toEqual([
      { user: '1', item: '1193', value: 5, ts: 978300760000 },
    ]);
  });

  it('reads two-column files (rating 1, time 0) with or without a header', async () => {
    const path = tempFile('pairs.tsv', 'user\titem\nalice\tsong 1\nbob\tsong 2\n');
    expect(await readInteractionsFile(path)).toEqual([
      { user: 'alice', item: 'song 1', value: 1, ts: 0 },
      { user: 'bob', item: 'song 2', value: 1, ts: 0 },
    ]);
  });

  it('names the file and line of a malformed line', async () => {
    const uneven = tempFile('u.data', '1\t2\t3\t4\n1\t2\t3\n');
    expect(await failureOf(readInteractionsFile(uneven), 'FY_DATASET_MALFORMED')).toContain(
      `${uneven}:2: expected 4 tab-separated fields like the first line, got 3`,
    );
    const rating = tempFile('u.data', '1\t2\t3\t4\n1\t2\tfive\t4\n');
    expect(await failureOf(readInteractionsFile(rating), 'FY_DATASET_MALFORMED')).toContain(
      ':2: expected rating to be a number, got "five"',
    );
    const single = tempFile('x.txt', 'just-one-field\n');
    expect(await failureOf(readInteractionsFile(single), 'FY_DATASET_MALFORMED')).toContain(
      'expected a tab-, comma- or "::"-separated line',
    );
    const empty = tempFile('empty.csv', '');
    expect(await failureOf(readInteractionsFile(empty), 'FY_DATASET_MALFORMED')).toContain('an empty file');
    await failureOf(readInteractionsFile(join(empty, '..', 'missing.csv')), 'FY_DATASET_NOT_FOUND');
  });
});

describe('writeRecommendations', () => {
  it('writes each user its top unseen items as JSON lines, and keeps an existing file unless forced', async () => {
    const data = [
      ['u1', 'a'],
      ['u2', 'a'],
      ['u3', 'a'],
      ['u2', 'b'],
      ['u3', 'b'],
      ['u3', 'c'],
    ].map(([user, item]) => ({ user: user!, item: item!, value: 1, ts: 0 }));
    const out = freshPath('recs.jsonl');
    expect(await writeRecommendations(new PopularityRecommender(), data, 2, out)).toEqual({
      users: 3,
      items: 3,
    });
    const lines = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { user: 'u1', items: ['b', 'c'] },
      { user: 'u2', items: ['c'] },
      { user: 'u3', items: [] },
    ]);
    await failureOf(writeRecommendations(new PopularityRecommender(), data, 2, out), 'FY_OUTPUT_EXISTS');
    await writeRecommendations(new PopularityRecommender(), data, 1, out, { force: true });
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('{"user":"u1","items":["b"]}');
    await failureOf(
      writeRecommendations(new PopularityRecommender(), data, 1, join(out, 'not-a-folder', 'x.jsonl')),
      'FY_IO_FAILED',
    );
  });
});
