import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { rowOf, ServingBundle } from './bundle.js';
import { decodeCursor } from './feed-service.js';
import { tinyBundle } from './testing.js';

describe('ServingBundle', () => {
  it('saves and loads every array, and the loaded index answers like the built one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foryou-bundle-'));
    try {
      const built = tinyBundle(30, 6, 5);
      await built.save(dir);
      const loaded = await ServingBundle.load(dir);
      expect(loaded.version).toBe('tiny');
      for (const key of Object.keys(built.data) as (keyof typeof built.data)[])
        expect(loaded.data[key], key).toEqual(built.data[key]);
      expect(loaded.data.itemIds.toArray()).toEqual(built.data.itemIds.toArray());
      expect(loaded.data.userIds.indexOf('u0')).toBe(0);
      expect(loaded.data.creatorIds.id(5)).toBe('c5');
      const query = built.userVector(0);
      expect(Array.from(loaded.ann.search(query, 5).keys)).toEqual(
        Array.from(built.ann.search(query, 5).keys),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a bundle written before ids had their own files (ids inline in bundle.json)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foryou-bundle-'));
    try {
      const built = tinyBundle(12, 3, 2);
      await built.save(dir);
      const meta = JSON.parse(readFileSync(join(dir, 'bundle.json'), 'utf8'));
      delete meta.ids;
      for (const f of ['itemIds', 'userIds', 'creatorIds'] as const) {
        meta[f] = built.data[f].toArray();
        for (const part of ['chars', 'starts']) {
          rmSync(join(dir, `${f}.${part}.bin`));
          delete meta.arrays[`${f}.${part}`];
        }
      }
      writeFileSync(join(dir, 'bundle.json'), JSON.stringify(meta));
      const loaded = await ServingBundle.load(dir);
      expect(loaded.data.itemIds.toArray()).toEqual(built.data.itemIds.toArray());
      expect(loaded.data.creatorIds.indexOf('c2')).toBe(2);
      delete meta.itemIds;
      writeFileSync(join(dir, 'bundle.json'), JSON.stringify(meta));
      await expect(ServingBundle.load(dir)).rejects.toThrow(/has no itemIds/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('derives creator items newest first and hashtag counts', () => {
    const bundle = tinyBundle(30, 6, 5);
    expect(Array.from(rowOf(bundle.creatorItems, 1))).toEqual([25, 19, 13, 7, 1]);
    expect(bundle.hashtagCounts[0]).toBe(30);
    expect(bundle.hashtagCounts[1]).toBe(6);
  });

  it('refuses arrays of the wrong shape, and entries that index past what they point into', () => {
    const good = tinyBundle(10, 2, 2).data;
    const data = { ...good, itemPopularity: new Float32Array(3) };
    expect(() => ServingBundle.build(data)).toThrow(/itemPopularity must have 10 entries/);
    const creatorOut = { ...good, itemCreator: good.itemCreator.map((c, i) => (i === 3 ? 2 : c)) };
    expect(() => ServingBundle.build(creatorOut)).toThrow('itemCreator[3] is 2, outside -1..1');
    const neighbourOut = {
      ...good,
      neighbours: { ...good.neighbours, idx: good.neighbours.idx.map(() => 10) },
    };
    expect(() => ServingBundle.build(neighbourOut)).toThrow('neighbours entry 0 is 10, outside 0..9');
    const languageOut = { ...good, userLanguage: Uint8Array.of(7) };
    expect(() => ServingBundle.build(languageOut)).toThrow('userLanguage[0] is 7, but there are 2 languages');
  });

  it('names the bundle and the id list when ids cannot be read, and refuses a newer layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foryou-bundle-'));
    try {
      await tinyBundle(12, 3, 2).save(dir);
      const metaPath = join(dir, 'bundle.json');
      const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
      writeFileSync(join(dir, 'userIds.starts.bin'), Buffer.from(Int32Array.of(0, 9).buffer));
      await expect(ServingBundle.load(dir)).rejects.toThrow(
        `serving bundle in ${dir}: its userIds cannot be read`,
      );
      writeFileSync(metaPath, JSON.stringify({ ...meta, ids: {} }));
      await expect(ServingBundle.load(dir)).rejects.toThrow('ids.wide.itemIds in bundle.json');
      writeFileSync(metaPath, JSON.stringify({ ...meta, format: 3 }));
      await expect(ServingBundle.load(dir)).rejects.toThrow(
        'has layout 3; this Foryou reads layouts up to 2',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('decodeCursor', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('reads a cursor this API issues', () => {
    expect(decodeCursor(encode({ v: 1, o: 20, s: 'abc-1', p: ['v1', 'v2'] }))).toEqual({
      o: 20,
      s: 'abc-1',
      p: ['v1', 'v2'],
    });
  });

  it.each([
    ['not base64!'],
    [encode({ v: 2, o: 0, s: 'a' })],
    [encode({ v: 1, o: -1, s: 'a' })],
    [encode({ v: 1, o: 1, s: 'bad id' })],
    [encode({ v: 1, o: 1, s: 'a', p: ['ok', 'not ok'] })],
    [encode([1, 2])],
  ])('rejects %s naming the parameter', (text) => {
    try {
      decodeCursor(text);
      expect.unreachable();
    } catch (error) {
      expect(isForyouError(error, 'FY_INVALID_ARGUMENT')).toBe(true);
      expect((error as { details: { parameter: string } }).details.parameter).toBe('cursor');
    }
  });
});
