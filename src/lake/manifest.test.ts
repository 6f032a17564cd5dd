import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { hourOf, partFileName } from './layout.js';
import {
  emptyManifest,
  type LakeFile,
  manifestPath,
  nextManifest,
  readManifest,
  writeManifest,
} from './manifest.js';

const file = (path: string, minOffset = 0): LakeFile => ({
  table: 'events',
  path,
  partition: { type: 'play', hour: '2026-01-05T13' },
  rows: 10,
  bytes: 1000,
  minOffset,
  maxOffset: minOffset + 9,
});

describe('lake manifest', () => {
  it('reads an empty manifest from a lake nothing was written to', async () => {
    expect(await readManifest(join(tempDir(), 'nowhere'))).toEqual(emptyManifest());
  });

  it('round-trips, one file per line', async () => {
    const dir = tempDir('foryou-lake-');
    const next = nextManifest(emptyManifest(), {
      add: [file('events/type=play/hour=2026-01-05T13/part-0-9.parquet')],
      offsets: { events: 10 },
    });
    await writeManifest(dir, next);
    expect(await readManifest(dir)).toEqual(next);
    const text = readFileSync(manifestPath(dir), 'utf8');
    expect(text.split('\n').filter((line) => line.includes('"table"'))).toHaveLength(1);
    expect(existsSync(`${manifestPath(dir)}.tmp`)).toBe(false);
  });

  it('changes files and offsets together and leaves the base untouched', () => {
    const base = nextManifest(emptyManifest(), { add: [file('a'), file('b', 10)], offsets: { events: 20 } });
    const next = nextManifest(base, {
      add: [file('c', 20)],
      remove: new Set(['a']),
      offsets: { catalog: 3 },
    });
    expect(next.sequence).toBe(2);
    expect(next.files.map((f) => f.path)).toEqual(['b', 'c']);
    expect(next.offsets).toEqual({ events: 20, catalog: 3 });
    expect(base.files.map((f) => f.path)).toEqual(['a', 'b']);
  });

  it('ignores a half-written replacement: the previous manifest stays the lake', async () => {
    const dir = tempDir('foryou-lake-');
    const committed = nextManifest(emptyManifest(), { add: [file('a')], offsets: { events: 10 } });
    await writeManifest(dir, committed);
    // A writer that died while writing the next manifest leaves only its temp file.
    writeFileSync(`${manifestPath(dir)}.tmp`, '{"format":"foryou-lake","vers');
    expect(await readManifest(dir)).toEqual(committed);
  });

  it('is never seen half-written by a reader while it is being replaced', async () => {
    const dir = tempDir('foryou-lake-');
    let manifest = emptyManifest();
    let writing = true;
    const writes = (async () => {
      for (let k = 0; k < 60; k++) {
        manifest = nextManifest(manifest, {
          add: Array.from({ length: 50 }, (_, n) => file(`f${k}-${n}`, k * 100 + n)),
          offsets: { events: k * 100 },
        });
        await writeManifest(dir, manifest);
      }
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const seen = await readManifest(dir);
      expect(seen.files).toHaveLength(seen.sequence * 50);
      reads++;
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
  });

  it('refuses a manifest that is not JSON or not a manifest, as FY_LAKE_CORRUPT', async () => {
    const dir = tempDir('foryou-lake-');
    writeFileSync(manifestPath(dir), '{"format":');
    expect(await failureOf(readManifest(dir), 'FY_LAKE_CORRUPT')).toMatch(/not valid JSON/);
    writeFileSync(manifestPath(dir), JSON.stringify({ ...emptyManifest(), sequence: -1 }));
    expect(await failureOf(readManifest(dir), 'FY_LAKE_CORRUPT')).toMatch(/sequence/);
  });
});

describe('lake layout', () => {
  it('names the hour partition from UTC time', () => {
    expect(hourOf(Date.UTC(2026, 0, 5, 13, 59, 59, 999))).toBe('2026-01-05T13');
    expect(hourOf(Date.UTC(2026, 0, 6))).toBe('2026-01-06T00');
  });

  it('never reuses the name of a live file', () => {
    const dir = 'events/type=play/hour=2026-01-05T13';
    expect(partFileName(dir, 5, 90, new Set())).toBe('part-5-90.parquet');
    const taken = new Set([`${dir}/part-5-90.parquet`, `${dir}/part-5-90.1.parquet`]);
    expect(partFileName(dir, 5, 90, taken)).toBe('part-5-90.2.parquet');
  });
});
