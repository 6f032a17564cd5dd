import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { lmdbUrlPath, openKeyValueStore } from './open.js';

describe('openKeyValueStore', () => {
  it('reads lmdb:// paths as absolute (lmdb:///...) or relative to the working folder', () => {
    expect(lmdbUrlPath('lmdb:///var/lib/foryou/store')).toBe('/var/lib/foryou/store');
    expect(lmdbUrlPath('lmdb:///tmp/with%20space')).toBe('/tmp/with space');
    expect(lmdbUrlPath('lmdb://.foryou/store')).toBe(resolve('.foryou/store'));
  });

  it('opens the LMDB adapter for lmdb://, creating the folder relative to the working folder', async () => {
    const dir = tempDir('foryou-kv-open-');
    const before = process.cwd();
    process.chdir(dir);
    try {
      const store = await openKeyValueStore('lmdb://data/store');
      expect(store.kind).toBe('lmdb');
      await store.putMany([{ key: 'a', value: Uint8Array.of(1) }]);
      await store.close();
    } finally {
      process.chdir(before);
    }
    expect(existsSync(join(dir, 'data', 'store', 'data.mdb'))).toBe(true);
    const again = await openKeyValueStore(`lmdb://${join(dir, 'data', 'store')}`);
    expect([...((await again.get('a')) ?? [])]).toEqual([1]);
    await again.close();
  });

  it('chooses the Redis adapter for redis:// (failing with FY_STORE_UNAVAILABLE when nothing listens)', async () => {
    const message = await failureOf(
      openKeyValueStore('redis://127.0.0.1:1/0', { redis: { connectTimeoutMs: 1_000 } }),
      'FY_STORE_UNAVAILABLE',
    );
    expect(message).toContain('redis://127.0.0.1:1/0');
  });

  it('refuses other schemes and an empty path with FY_CONFIG_INVALID, naming the accepted ones', async () => {
    for (const url of ['file:///tmp/store', 'rediss://host:6380', 'nats://x', '/tmp/store', 'lmdb://']) {
      const message = await failureOf(openKeyValueStore(url), 'FY_CONFIG_INVALID');
      expect(message, url).toMatch(/lmdb:\/\//);
    }
  });
});
