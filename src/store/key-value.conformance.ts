/**
 * The behaviour every KeyValueStore adapter must have. Each adapter's test file calls
 * `describeKeyValueConformance` with a factory for fresh, isolated storage.
 */
import { describe, expect, it } from 'vitest';
import { type ErrorCode, isForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type KeyValueEntry, type KeyValueStore, MAX_KEY_BYTES, type PutEntry } from './port.js';

export interface KeyValueStorage {
  /** A new handle on this storage: a new connection, or the environment opened again. */
  open(): Promise<KeyValueStore>;
  /** Removes everything the storage holds. */
  destroy(): Promise<void>;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function text(value: Uint8Array | null): string | null {
  return value === null ? null : new TextDecoder().decode(value);
}

/** Byte-for-byte equality as plain numbers (adapters may return Uint8Array subclasses or views). */
function sameBytes(actual: Uint8Array | null | undefined, expected: Uint8Array): boolean {
  if (!actual || actual.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) return false;
  return true;
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(256);
  return out;
}

function entry(key: string, value: string, ttlMs?: number): PutEntry {
  return ttlMs === undefined
    ? { key, value: encoder.encode(value) }
    : { key, value: encoder.encode(value), ttlMs };
}

async function scanAll(store: KeyValueStore, prefix: string, limit?: number): Promise<KeyValueEntry[]> {
  const out: KeyValueEntry[] = [];
  for await (const e of store.scanPrefix(prefix, limit === undefined ? {} : { limit })) out.push(e);
  return out;
}

async function scannedKeys(store: KeyValueStore, prefix: string, limit?: number): Promise<string[]> {
  return (await scanAll(store, prefix, limit)).map((e) => e.key).sort();
}

async function rejects(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isForyouError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

async function withStore(
  makeStorage: () => Promise<KeyValueStorage>,
  fn: (store: KeyValueStore, storage: KeyValueStorage) => Promise<void>,
): Promise<void> {
  const storage = await makeStorage();
  const store = await storage.open();
  try {
    await fn(store, storage);
  } finally {
    await store.close().catch(() => {});
    await storage.destroy();
  }
}

export function describeKeyValueConformance(
  adapter: string,
  makeStorage: () => Promise<KeyValueStorage>,
  /** `orderedKeys`: the adapter keeps keys in order and offers `visitPrefix`. */
  options: { orderedKeys?: boolean } = {},
): void {
  describe(`KeyValueStore conformance: ${adapter}`, () => {
    it('round-trips binary values: every byte value, empty, and 1 MB', async () => {
      await withStore(makeStorage, async (store) => {
        const rng = new Rng('kv-binary');
        const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
        const big = randomBytes(rng, 1024 * 1024);
        await store.putMany([
          { key: 'fv:bytes:v1:all', value: everyByte },
          { key: 'fv:bytes:v1:empty', value: new Uint8Array(0) },
          { key: 'fv:bytes:v1:big', value: big },
        ]);
        expect(sameBytes(await store.get('fv:bytes:v1:all'), everyByte)).toBe(true);
        const empty = await store.get('fv:bytes:v1:empty');
        expect(empty).toBeInstanceOf(Uint8Array);
        expect(empty?.length).toBe(0);
        const many = await store.getMany(['fv:bytes:v1:big', 'fv:bytes:v1:all', 'fv:bytes:v1:empty']);
        expect(sameBytes(many[0], big)).toBe(true);
        expect(sameBytes(many[1], everyByte)).toBe(true);
        expect(many[2]?.length).toBe(0);
      });
    });

    it('answers null for missing keys, in key order, repeats included', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('a:1', 'one'), entry('a:3', 'three')]);
        expect(await store.get('a:2')).toBeNull();
        const got = await store.getMany(['a:2', 'a:3', 'missing', 'a:1', 'a:3']);
        expect(got.map(text)).toEqual([null, 'three', null, 'one', 'three']);
        expect(await store.getMany([])).toEqual([]);
      });
    });

    it('reads 1,000 keys in one getMany, some missing, each value at its own position', async () => {
      await withStore(makeStorage, async (store) => {
        const keys = Array.from({ length: 1000 }, (_, i) => `fv:item_stats:v3:i${i}`);
        const present = (i: number) => i % 7 !== 3;
        const values = keys.map((_, i) => Float32Array.from({ length: 64 }, (_, f) => i * 1000 + f));
        await store.putMany(
          keys.flatMap((key, i) =>
            present(i) ? [{ key, value: new Uint8Array((values[i] as Float32Array).buffer) }] : [],
          ),
        );
        const got = await store.getMany(keys);
        expect(got).toHaveLength(1000);
        for (let i = 0; i < keys.length; i++) {
          const value = got[i];
          if (!present(i)) {
            expect(value, keys[i]).toBeNull();
            continue;
          }
          // The promise of the port: 8-byte aligned, so a Float32Array view needs no copy.
          expect(value?.byteOffset ?? -1, keys[i]).toSatisfy((offset: number) => offset % 8 === 0);
          const floats = new Float32Array(value!.buffer, value!.byteOffset, value!.byteLength / 4);
          expect(floats[0], keys[i]).toBe(i * 1000);
          expect(floats[63], keys[i]).toBe(i * 1000 + 63);
        }
      });
    });

    it('visits present keys in key order with the same bytes getMany returns, and counts them', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('v:a', 'alpha'), entry('v:c', 'gamma'), entry('v:e', 'expired', 1)]);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const seen: [number, string][] = [];
        const found = await store.visitMany(
          ['v:a', 'v:b', 'v:c', 'v:a', 'v:e'],
          (index, bytes, start, end) => {
            seen.push([index, text(bytes.slice(start, end))!]);
          },
        );
        expect(found).toBe(3);
        expect(seen).toEqual([
          [0, 'alpha'],
          [2, 'gamma'],
          [3, 'alpha'],
        ]);
        await rejects(
          store.visitMany([''], () => {}),
          'FY_INVALID_ARGUMENT',
        );
      });
    });

    it('range-reads a prefix in key order when the adapter can (visitPrefix), and gives up past the limit', async () => {
      await withStore(makeStorage, async (store) => {
        // An optional capability: only adapters with ordered keys have it (Redis does not).
        expect(store.visitPrefix !== undefined).toBe(options.orderedKeys ?? false);
        if (!store.visitPrefix) return;
        await store.putMany([
          entry('fv:pairs:u1|c2', 'two'),
          entry('fv:pairs:u1|c1', 'one'),
          entry('fv:pairs:u1|c3', 'gone', 1),
          entry('fv:pairs:u10|c1', 'other user'),
          entry('fv:pairs:u2|c1', 'other user'),
          entry('fv:other:u1|c1', 'other namespace'),
        ]);
        await sleep(20);
        const seen: [string, string][] = [];
        const visit = (rest: string, bytes: Uint8Array, start: number, end: number) => {
          seen.push([rest, text(bytes.slice(start, end))!]);
        };
        expect(await store.visitPrefix('fv:pairs:u1|', visit, 10)).toBe(2);
        expect(seen).toEqual([
          ['c1', 'one'],
          ['c2', 'two'],
        ]);
        // Three keys match (the expired one counts toward the limit): more than 2 is a refusal.
        expect(await store.visitPrefix('fv:pairs:u1|', () => {}, 2)).toBe(-1);
        expect(await store.visitPrefix('fv:pairs:nobody|', visit, 10)).toBe(0);
        expect(await store.visitPrefix('fv:empty:', visit, 10)).toBe(0);
        await rejects(store.visitPrefix('fv', visit, 10), 'FY_INVALID_ARGUMENT');
        await rejects(store.visitPrefix('fv:pairs:', visit, -1), 'FY_INVALID_ARGUMENT');
        // After a key: only the keys past it, whether or not it exists itself.
        seen.length = 0;
        // (In byte order "u10|" comes before "u1|": '0' < '|'.)
        expect(await store.visitPrefix('fv:pairs:', visit, 10, 'u1|c1')).toBe(2);
        expect(seen.map(([rest]) => rest)).toEqual(['u1|c2', 'u2|c1']);
        seen.length = 0;
        expect(await store.visitPrefix('fv:pairs:u1', visit, 10, '0|c0')).toBe(3);
        expect(seen.map(([rest]) => rest)).toEqual(['0|c1', '|c1', '|c2']);
        // The limit counts only keys after it: four match the prefix, two follow "|c1".
        expect(await store.visitPrefix('fv:pairs:u1', () => {}, 2, '|c1')).toBe(1);
        expect(await store.visitPrefix('fv:pairs:', visit, 10, 'u3')).toBe(0);
        await rejects(store.visitPrefix('fv:pairs:', visit, 10, 'bad{key}'), 'FY_INVALID_ARGUMENT');
      });
    });

    it('returns values that stay valid after later reads and writes', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('k:a', 'alpha'), entry('k:b', 'bravo-bravo'), entry('k:c', 'c')]);
        const first = await store.getMany(['k:a', 'k:b']);
        const single = await store.get('k:c');
        await store.getMany(['k:b', 'k:a', 'k:c']);
        await store.putMany([entry('k:a', 'changed')]);
        await store.get('k:a');
        expect(first.map(text)).toEqual(['alpha', 'bravo-bravo']);
        expect(text(single)).toBe('c');
        // Changing a returned array changes nothing stored.
        first[0]?.fill(0);
        expect(text(await store.get('k:b'))).toBe('bravo-bravo');
      });
    });

    it('overwrites: the last write wins, also for a key given twice in one call', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('o:1', 'first')]);
        await store.putMany([entry('o:1', 'second')]);
        expect(text(await store.get('o:1'))).toBe('second');
        await store.putMany([entry('o:2', 'x'), entry('o:2', 'y'), entry('o:2', 'z')]);
        expect(text(await store.get('o:2'))).toBe('z');
        await store.putMany([entry('o:2', 'a much longer value than before'), entry('o:1', '')]);
        expect((await store.getMany(['o:1', 'o:2'])).map(text)).toEqual([
          '',
          'a much longer value than before',
        ]);
      });
    });

    it('deletes keys and ignores absent ones', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('d:1', '1'), entry('d:2', '2'), entry('d:3', '3')]);
        await store.deleteMany(['d:1', 'd:3', 'never-written']);
        expect((await store.getMany(['d:1', 'd:2', 'd:3'])).map(text)).toEqual([null, '2', null]);
        await store.deleteMany([]);
        await store.deleteMany(['d:2']);
        expect(await store.get('d:2')).toBeNull();
        expect(await scanAll(store, 'd:')).toEqual([]);
      });
    });

    it('expires values after their TTL; a write without TTL makes a value permanent', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([
          entry('t:short', 'gone soon', 400),
          entry('t:long', 'stays', 60_000),
          entry('t:forever', 'stays'),
          entry('t:renewed', 'was short', 400),
        ]);
        await store.putMany([entry('t:renewed', 'now permanent')]);
        expect(text(await store.get('t:short'))).toBe('gone soon');
        // Wide margins: a busy machine must not turn this into a timing test.
        await sleep(900);
        expect(await store.get('t:short')).toBeNull();
        expect((await store.getMany(['t:short', 't:long', 't:forever', 't:renewed'])).map(text)).toEqual([
          null,
          'stays',
          'stays',
          'now permanent',
        ]);
        expect(await scannedKeys(store, 't:')).toEqual(['t:forever', 't:long', 't:renewed']);
        expect(await store.sweepExpired()).toBeGreaterThanOrEqual(0);
        expect(await store.get('t:short')).toBeNull();
        expect(text(await store.get('t:long'))).toBe('stays');
        // A key that expired can be written again.
        await store.putMany([entry('t:short', 'back')]);
        expect(text(await store.get('t:short'))).toBe('back');
      });
    });

    it('scans by prefix, including a prefix that ends inside the entity segment, up to a limit', async () => {
      await withStore(makeStorage, async (store) => {
        const keys = [
          'fv:user_stats:v3:u1',
          'fv:user_stats:v3:u12',
          'fv:user_stats:v3:u2',
          'fv:user_stats:v4:u1',
          'fv:user_embedding:v1:u1',
          'fv:item_stats:v1:i1',
          'u1',
          'other:thing',
        ];
        await store.putMany(keys.map((key) => entry(key, `value of ${key}`)));
        expect(await scannedKeys(store, 'fv:user_stats:v3:')).toEqual([
          'fv:user_stats:v3:u1',
          'fv:user_stats:v3:u12',
          'fv:user_stats:v3:u2',
        ]);
        expect(await scannedKeys(store, 'fv:user_stats:v3:u1')).toEqual([
          'fv:user_stats:v3:u1',
          'fv:user_stats:v3:u12',
        ]);
        expect(await scannedKeys(store, 'fv:user_')).toHaveLength(5);
        expect(await scannedKeys(store, 'u')).toEqual(['u1']);
        expect(await scannedKeys(store, '')).toEqual([...keys].sort());
        expect(await scannedKeys(store, 'nothing:')).toEqual([]);
        for (const e of await scanAll(store, 'fv:')) expect(text(e.value)).toBe(`value of ${e.key}`);
        const limited = await scannedKeys(store, 'fv:', 3);
        expect(limited).toHaveLength(3);
        for (const key of limited) expect(key.startsWith('fv:')).toBe(true);
      });
    });

    it('scans past one page of results', async () => {
      await withStore(makeStorage, async (store) => {
        const keys = Array.from({ length: 700 }, (_, i) => `p:v1:e${String(i).padStart(4, '0')}`);
        await store.putMany([...keys.map((key) => entry(key, key)), entry('q:v1:e1', 'q')]);
        expect(await scannedKeys(store, 'p:', 5000)).toEqual(keys);
        expect(await scannedKeys(store, 'p:', 300)).toHaveLength(300);
      });
    });

    it('stores unicode keys as distinct keys and scans them by a unicode prefix', async () => {
      await withStore(makeStorage, async (store) => {
        const keys = [
          'fv:用户:v1:ユーザー1',
          'fv:用户:v1:ユーザー2',
          'fv:x:v1:😀',
          'fv:x:v1:😁',
          'fv:x:v1:e\u0301',
          'fv:x:v1:é',
        ];
        await store.putMany(keys.map((key, i) => entry(key, `v${i}`)));
        expect((await store.getMany(keys)).map(text)).toEqual(keys.map((_, i) => `v${i}`));
        expect(await scannedKeys(store, 'fv:用户:')).toEqual([
          'fv:用户:v1:ユーザー1',
          'fv:用户:v1:ユーザー2',
        ]);
        expect(await scannedKeys(store, 'fv:x:v1:😀')).toEqual(['fv:x:v1:😀']);
      });
    });

    it('runs concurrent putMany and getMany calls, and shows each putMany whole or not at all', async () => {
      await withStore(makeStorage, async (store) => {
        const writers = Array.from({ length: 20 }, (_, w) =>
          store.putMany(Array.from({ length: 50 }, (_, k) => entry(`c:w${w}:k${k}`, `${w}/${k}`))),
        );
        const readers = Array.from({ length: 20 }, (_, w) => store.getMany([`c:w${w}:k0`, `c:w${w}:k49`]));
        await Promise.all([...writers, ...readers]);
        for (const pair of await Promise.all(readers)) expect(pair[0] === null).toBe(pair[1] === null);
        const all = await store.getMany(
          Array.from({ length: 1000 }, (_, i) => `c:w${i % 20}:k${Math.floor(i / 20)}`),
        );
        expect(all.map(text)).toEqual(
          Array.from({ length: 1000 }, (_, i) => `${i % 20}/${Math.floor(i / 20)}`),
        );

        // Atomicity: a reader racing a writer of pairs never sees the two halves of a pair differ.
        let writing = true;
        const writer = (async () => {
          for (let version = 0; version < 100; version++)
            await store.putMany([entry('pair:a', String(version)), entry('pair:b', String(version))]);
          writing = false;
        })();
        while (writing) {
          const [a, b] = (await store.getMany(['pair:a', 'pair:b'])).map(text);
          expect(a).toBe(b);
          // An embedded store answers without I/O: let the event loop run so the writer's commits land.
          await new Promise((resolve) => setImmediate(resolve));
        }
        await writer;
      });
    });

    it('keeps data for a second handle and across a close and reopen', async () => {
      await withStore(makeStorage, async (store, storage) => {
        await store.putMany([entry('r:1', 'kept'), entry('r:2', 'also kept')]);
        const second = await storage.open();
        try {
          expect((await second.getMany(['r:1', 'r:2'])).map(text)).toEqual(['kept', 'also kept']);
          await second.putMany([entry('r:3', 'from the second handle')]);
          expect(text(await store.get('r:3'))).toBe('from the second handle');
        } finally {
          await second.close();
        }
        await store.close();
        const reopened = await storage.open();
        try {
          expect((await reopened.getMany(['r:1', 'r:2', 'r:3'])).map(text)).toEqual([
            'kept',
            'also kept',
            'from the second handle',
          ]);
        } finally {
          await reopened.close();
        }
      });
    });

    it('refuses invalid keys, prefixes, values, TTLs and limits with FY_INVALID_ARGUMENT', async () => {
      await withStore(makeStorage, async (store) => {
        const longest = 'é'.repeat(Math.floor(MAX_KEY_BYTES / 2)) + 'x'.repeat(MAX_KEY_BYTES % 2);
        await store.putMany([entry(longest, 'fits')]);
        expect(text(await store.get(longest))).toBe('fits');
        const bad = [
          '',
          `${longest}x`,
          'fv:{u1}',
          'fv:u1}',
          'tab\tkey',
          'nul\u0000',
          'lone\ud800surrogate',
          'x\udc00',
        ];
        for (const key of bad) {
          await rejects(store.get(key), 'FY_INVALID_ARGUMENT');
          await rejects(store.getMany(['ok', key]), 'FY_INVALID_ARGUMENT');
          await rejects(store.putMany([entry('ok', 'v'), entry(key, 'v')]), 'FY_INVALID_ARGUMENT');
          await rejects(store.deleteMany([key]), 'FY_INVALID_ARGUMENT');
        }
        // A refused batch writes nothing.
        expect(await store.get('ok')).toBeNull();
        await rejects(scanAll(store, 'fv:{'), 'FY_INVALID_ARGUMENT');
        await rejects(scanAll(store, 'fv:', 0), 'FY_INVALID_ARGUMENT');
        for (const ttlMs of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
          await rejects(store.putMany([entry('t', 'v', ttlMs)]), 'FY_INVALID_ARGUMENT');
        const notBytes = { key: 'v', value: 'text' } as unknown as PutEntry;
        await rejects(store.putMany([notBytes]), 'FY_INVALID_ARGUMENT');
      });
    });

    it('fails with FY_STORE_UNAVAILABLE once closed, and closes twice without error', async () => {
      await withStore(makeStorage, async (store) => {
        await store.putMany([entry('z:1', '1')]);
        await store.close();
        await store.close();
        await rejects(store.get('z:1'), 'FY_STORE_UNAVAILABLE');
        await rejects(store.getMany(['z:1']), 'FY_STORE_UNAVAILABLE');
        await rejects(store.putMany([entry('z:2', '2')]), 'FY_STORE_UNAVAILABLE');
        await rejects(store.deleteMany(['z:1']), 'FY_STORE_UNAVAILABLE');
        await rejects(scanAll(store, 'z:'), 'FY_STORE_UNAVAILABLE');
        await rejects(store.sweepExpired(), 'FY_STORE_UNAVAILABLE');
      });
    });
  });
}
