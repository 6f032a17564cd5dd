/**
 * The LMDB adapter: the shared conformance suite, then what only this adapter has: the stored format
 * (8-byte expiry header + raw bytes), TTLs on an injected clock, the sweep, and the reused read buffer.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { FakeClock } from '../core/clock.js';
import { describeKeyValueConformance } from './key-value.conformance.js';
import {
  LMDB_HEADER_BYTES,
  LmdbKeyValueStore,
  type LmdbKeyValueStoreOptions,
  lmdbLocation,
  MAX_NAMESPACES,
} from './lmdb-store.js';

const encoder = new TextEncoder();
const text = (value: Uint8Array | null) => (value === null ? null : new TextDecoder().decode(value));

describeKeyValueConformance(
  'lmdb',
  async () => {
    const dir = join(tempDir('foryou-kv-'), 'store');
    return {
      open: () => LmdbKeyValueStore.open(dir),
      destroy: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { orderedKeys: true },
);

async function withStore(
  options: LmdbKeyValueStoreOptions,
  fn: (store: LmdbKeyValueStore, dir: string) => Promise<void>,
): Promise<void> {
  const dir = join(tempDir('foryou-kv-'), 'store');
  const store = await LmdbKeyValueStore.open(dir, options);
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The raw stored bytes of `key`, read with lmdb directly. */
async function rawValue(dir: string, key: string): Promise<Buffer | undefined> {
  const root = open({ path: dir, maxDbs: 8 });
  try {
    const place = lmdbLocation(key);
    return root.openDB<Buffer, string>({ name: place.db, encoding: 'binary' }).getBinary(place.key);
  } finally {
    await root.close();
  }
}

describe('LmdbKeyValueStore', () => {
  it('stores an 8-byte expiry header (float64 LE epoch ms, 0 for never) before the raw bytes', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    await withStore({ clock }, async (store, dir) => {
      await store.putMany([
        { key: 'h:plain', value: Uint8Array.of(1, 2, 3) },
        { key: 'h:ttl', value: Uint8Array.of(9), ttlMs: 5_000 },
      ]);
      const plain = await rawValue(dir, 'h:plain');
      expect(plain?.readDoubleLE(0)).toBe(0);
      expect([...(plain ?? Buffer.alloc(0)).subarray(LMDB_HEADER_BYTES)]).toEqual([1, 2, 3]);
      const withTtl = await rawValue(dir, 'h:ttl');
      expect(withTtl?.readDoubleLE(0)).toBe(clock.now() + 5_000);
      expect(withTtl?.length).toBe(LMDB_HEADER_BYTES + 1);
    });
  });

  it('expires a value exactly at its TTL on the injected clock', async () => {
    const clock = new FakeClock();
    await withStore({ clock }, async (store) => {
      await store.putMany([{ key: 'e:1', value: encoder.encode('v'), ttlMs: 1_000 }]);
      clock.advance(999);
      expect(text(await store.get('e:1'))).toBe('v');
      clock.advance(1);
      expect(await store.get('e:1')).toBeNull();
      expect(await store.getMany(['e:1'])).toEqual([null]);
    });
  });

  it('sweeps only expired values, across more than one sweep page, and not one rewritten since', async () => {
    const clock = new FakeClock();
    await withStore({ clock }, async (store, dir) => {
      const expiring = Array.from({ length: 10_050 }, (_, i) => ({
        key: `s:old:${i}`,
        value: encoder.encode(String(i)),
        ttlMs: 100,
      }));
      await store.putMany(expiring);
      await store.putMany([
        { key: 's:keep', value: encoder.encode('keep') },
        { key: 's:later', value: encoder.encode('later'), ttlMs: 10_000 },
      ]);
      clock.advance(200);
      // Written again after expiring: the sweep must leave it.
      await store.putMany([{ key: 's:old:7', value: encoder.encode('new') }]);
      expect(await store.sweepExpired()).toBe(10_049);
      expect(await rawValue(dir, 's:old:8')).toBeUndefined();
      expect(text(await store.get('s:old:7'))).toBe('new');
      expect((await store.getMany(['s:keep', 's:later'])).map(text)).toEqual(['keep', 'later']);
      expect(await store.sweepExpired()).toBe(0);
      clock.advance(10_000);
      expect(await store.sweepExpired()).toBe(1);
    });
  });

  it('copies values out of the reused read buffer, whatever their sizes and order', async () => {
    await withStore({}, async (store) => {
      const sizes = [5, 70_000, 0, 300, 2_000_000, 17, 16_384, 16_385];
      const entries = sizes.map((n, i) => ({ key: `b:${i}`, value: new Uint8Array(n).fill(i + 1) }));
      await store.putMany(entries);
      const got = await store.getMany([...entries.map((e) => e.key), ...entries.map((e) => e.key).reverse()]);
      const twice = [...sizes, ...[...sizes].reverse()];
      got.forEach((value, j) => {
        const n = twice[j] as number;
        const fill = sizes.indexOf(n) + 1;
        expect(value?.length, `value ${j}`).toBe(n);
        expect(
          value?.every((b) => b === fill),
          `value ${j}`,
        ).toBe(true);
        expect((value?.byteOffset ?? 1) % 8, `value ${j}`).toBe(0);
      });
    });
  });

  it('keeps each key namespace in its own sub-database, and scans and sweeps across them', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    await withStore({ clock }, async (store, dir) => {
      const keys = [
        'plain',
        'one:colon',
        'ends:at:',
        'fv:a:v1:x',
        'fv:a:v1:y',
        'fv:a:v2:x',
        'fv:b:v1:x',
        'fva:z:q',
        'sv:seen:id:with:colons',
      ];
      await store.putMany(keys.map((key, i) => ({ key, value: Uint8Array.of(i) })));
      await store.putMany([{ key: 'fv:b:v1:gone', value: Uint8Array.of(9), ttlMs: 10 }]);
      expect(lmdbLocation('fv:a:v1:x')).toEqual({ db: 'fv:a:', key: 'v1:x' });
      expect(lmdbLocation('sv:seen:id:with:colons')).toEqual({ db: 'sv:seen:', key: 'id:with:colons' });
      expect(lmdbLocation('one:colon')).toEqual({ db: 'kv', key: 'one:colon' });
      expect(lmdbLocation('ends:at:')).toEqual({ db: 'kv', key: 'ends:at:' });
      expect((await rawValue(dir, 'fv:a:v1:y'))?.[LMDB_HEADER_BYTES]).toBe(4);
      const got = await store.getMany([...keys].reverse());
      expect(got.map((v) => v?.[0])).toEqual(keys.map((_, i) => i).reverse());
      const scan = async (prefix: string) => {
        const out: string[] = [];
        for await (const e of store.scanPrefix(prefix)) out.push(e.key);
        return out.sort();
      };
      expect(await scan('fv:')).toEqual(['fv:a:v1:x', 'fv:a:v1:y', 'fv:a:v2:x', 'fv:b:v1:gone', 'fv:b:v1:x']);
      expect(await scan('fv:a:v1:')).toEqual(['fv:a:v1:x', 'fv:a:v1:y']);
      expect(await scan('fv:a:v1:y')).toEqual(['fv:a:v1:y']);
      expect(await scan('fv:a')).toEqual(['fv:a:v1:x', 'fv:a:v1:y', 'fv:a:v2:x']);
      expect(await scan('e')).toEqual(['ends:at:']);
      expect(await scan('sv:seen:id:')).toEqual(['sv:seen:id:with:colons']);
      expect(await scan('fv:a:v1')).toEqual(['fv:a:v1:x', 'fv:a:v1:y']);
      expect(await scan('')).toHaveLength(keys.length + 1);
      clock.advance(11);
      expect(await store.sweepExpired()).toBe(1);
      expect(await scan('fv:b')).toEqual(['fv:b:v1:x']);
      await store.deleteMany(['fv:a:v1:x', 'plain']);
      expect((await store.getMany(['fv:a:v1:x', 'plain', 'fv:a:v1:y'])).map((v) => v?.[0] ?? null)).toEqual([
        null,
        null,
        4,
      ]);
    });
  });

  it(`refuses a key namespace past the ${MAX_NAMESPACES}th with FY_INVALID_ARGUMENT, and keeps what it had`, async () => {
    await withStore({}, async (store) => {
      const first = Array.from({ length: MAX_NAMESPACES }, (_, n) => ({
        key: `ns${n}:x:k`,
        value: Uint8Array.of(1),
      }));
      await store.putMany(first);
      const message = await failureOf(
        store.putMany([{ key: 'one-more:x:k', value: Uint8Array.of(2) }]),
        'FY_INVALID_ARGUMENT',
      );
      expect(message).toContain('one-more:x:');
      expect((await store.get('ns0:x:k'))?.[0]).toBe(1);
      expect((await store.get('plain-key-still-works')) ?? null).toBeNull();
    });
  });

  it('refuses a value shorter than the header (a database Foryou did not write) with FY_IO_FAILED', async () => {
    await withStore({}, async (store, dir) => {
      const root = open({ path: dir });
      await root
        .openDB<Buffer, string>({ name: 'kv', encoding: 'binary' })
        .put('foreign', Buffer.from([1, 2]));
      await root.close();
      const message = await failureOf(store.get('foreign'), 'FY_IO_FAILED');
      expect(message).toContain('foreign');
    });
  });

  it('fails to open with FY_IO_FAILED where no folder can be made', async () => {
    const dir = tempDir('foryou-kv-');
    writeFileSync(join(dir, 'a-file'), 'x');
    const message = await failureOf(LmdbKeyValueStore.open(join(dir, 'a-file', 'store')), 'FY_IO_FAILED');
    expect(message).toContain('a-file');
    mkdirSync(join(dir, 'ok'));
    await (await LmdbKeyValueStore.open(join(dir, 'ok'))).close();
  });
});
