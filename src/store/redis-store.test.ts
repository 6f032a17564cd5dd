/**
 * The Redis adapter against a live server (REDIS_URL, default redis://127.0.0.1:6379): the shared
 * conformance suite, then what only this adapter has (the key layout on the wire, PX expiry, prefixes,
 * driver errors). Every store uses a fresh key prefix and its keys are removed afterwards. Without a
 * reachable server the suite is skipped with the reason, except under CI=true, where it fails.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../test/helpers/index.js';
import { describeKeyValueConformance, type KeyValueStorage } from './key-value.conformance.js';
import { RedisKeyValueStore, type RedisKeyValueStoreOptions, redactUrl } from './redis-store.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const encoder = new TextEncoder();

/** Null when Redis answers at `url`, else why not. */
async function serverProblem(): Promise<string | null> {
  try {
    const store = await RedisKeyValueStore.connect(url, {
      keyPrefix: 'fytest:probe:',
      connectTimeoutMs: 1_500,
    });
    await store.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const problem = await serverProblem();

function uniquePrefix(): string {
  return `fytest:${randomBytes(5).toString('hex')}:`;
}

/** Runs `fn` with a plain ioredis client, to look at what the adapter wrote. */
async function withRaw<T>(fn: (raw: Redis) => Promise<T>): Promise<T> {
  const raw = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await raw.connect();
  try {
    return await fn(raw);
  } finally {
    raw.disconnect();
  }
}

/** Removes every key under `prefix`. */
async function deleteKeys(prefix: string): Promise<void> {
  await withRaw(async (raw) => {
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await raw.unlink(...keys);
    } while (cursor !== '0');
  });
}

function storage(options: RedisKeyValueStoreOptions = {}): KeyValueStorage & { prefix: string } {
  const prefix = options.keyPrefix ?? uniquePrefix();
  return {
    prefix,
    open: () => RedisKeyValueStore.connect(url, { ...options, keyPrefix: prefix }),
    destroy: () => deleteKeys(prefix),
  };
}

async function withStore(
  options: RedisKeyValueStoreOptions,
  fn: (store: RedisKeyValueStore, prefix: string) => Promise<void>,
): Promise<void> {
  const s = storage(options);
  const store = (await s.open()) as RedisKeyValueStore;
  try {
    await fn(store, s.prefix);
  } finally {
    await store.close();
    await s.destroy();
  }
}

describe('RedisKeyValueStore without a server', () => {
  it('fails fast with FY_STORE_UNAVAILABLE naming the URL, and the driver error as cause', async () => {
    const started = Date.now();
    const error = await RedisKeyValueStore.connect('redis://127.0.0.1:1', { connectTimeoutMs: 1_000 }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect((error as { code?: string })?.code).toBe('FY_STORE_UNAVAILABLE');
    expect(error?.message).toContain('redis://127.0.0.1:1');
    expect(error?.cause).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses a key prefix with braces or control characters before connecting', async () => {
    await failureOf(RedisKeyValueStore.connect(url, { keyPrefix: 'a{b}:' }), 'FY_INVALID_ARGUMENT');
    await failureOf(RedisKeyValueStore.connect(url, { keyPrefix: 'a\n' }), 'FY_INVALID_ARGUMENT');
  });

  it('hides the password of a URL in messages', () => {
    expect(redactUrl('redis://user:secret@host:6379/2')).toBe('redis://user:***@host:6379/2');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});

if (problem === null) {
  describeKeyValueConformance('redis', async () => storage());

  describe('RedisKeyValueStore on a server', () => {
    it('writes the cluster-ready layout: <prefix><view...>:{<entity>}', async () => {
      await withStore({}, async (store, prefix) => {
        await store.putMany([
          { key: 'fv:user_stats:v3:u123', value: Uint8Array.of(1, 2, 3) },
          { key: 'u9', value: Uint8Array.of(4) },
        ]);
        await withRaw(async (raw) => {
          expect([...((await raw.getBuffer(`${prefix}fv:user_stats:v3:{u123}`)) ?? [])]).toEqual([1, 2, 3]);
          expect([...((await raw.getBuffer(`${prefix}{u9}`)) ?? [])]).toEqual([4]);
          expect((await raw.keys(`${prefix}*`)).sort()).toEqual([
            `${prefix}fv:user_stats:v3:{u123}`,
            `${prefix}{u9}`,
          ]);
        });
      });
    });

    it('sets the TTL in the same command as the value (SET ... PX)', async () => {
      await withStore({}, async (store, prefix) => {
        await store.putMany([
          { key: 'x:1', value: encoder.encode('a'), ttlMs: 60_000 },
          { key: 'x:2', value: encoder.encode('b') },
        ]);
        await withRaw(async (raw) => {
          const ttl = await raw.pttl(`${prefix}x:{1}`);
          expect(ttl).toBeGreaterThan(50_000);
          expect(ttl).toBeLessThanOrEqual(60_000);
          expect(await raw.pttl(`${prefix}x:{2}`)).toBe(-1);
        });
        await store.putMany([{ key: 'x:1', value: encoder.encode('a') }]);
        await withRaw(async (raw) => expect(await raw.pttl(`${prefix}x:{1}`)).toBe(-1));
      });
    });

    it('keeps stores with different prefixes apart', async () => {
      await withStore({}, async (a) => {
        await withStore({}, async (b) => {
          await a.putMany([{ key: 'shared:k', value: encoder.encode('from a') }]);
          expect(await b.get('shared:k')).toBeNull();
          const scanned: string[] = [];
          for await (const e of b.scanPrefix('')) scanned.push(e.key);
          expect(scanned).toEqual([]);
        });
      });
    });

    it('turns a driver failure (a command timeout) into FY_STORE_UNAVAILABLE with the cause', async () => {
      await withStore({ commandTimeoutMs: 100 }, async (store) => {
        await store.putMany([{ key: 'slow:1', value: encoder.encode('v') }]);
        await withRaw((raw) => raw.call('CLIENT', 'PAUSE', '400', 'ALL'));
        const error = await store.getMany(['slow:1']).then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect((error as { code?: string })?.code).toBe('FY_STORE_UNAVAILABLE');
        expect(error?.message).toMatch(/MGET 1 keys failed: .*timed out/i);
        expect(error?.cause).toBeInstanceOf(Error);
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(new TextDecoder().decode((await store.get('slow:1')) ?? undefined)).toBe('v');
      });
    });
  });
} else if (process.env.CI === 'true') {
  describe('RedisKeyValueStore on a server', () => {
    it(`needs a Redis server at ${url}`, () => {
      throw new Error(
        `no usable Redis server at ${url} (CI=true, so this fails instead of skipping): ${problem}`,
      );
    });
  });
} else {
  console.warn(`redis-store.test.ts: skipping the Redis tests, no usable server at ${url}: ${problem}`);
  describe.skip(`RedisKeyValueStore on a server (skipped: no usable Redis server at ${url}: ${problem})`, () => {
    it('needs a Redis server', () => {});
  });
}
