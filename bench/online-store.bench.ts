/**
 * The key-value port (src/store) on the feature store's hot read: getMany of 1,000 random keys with
 * 256-byte values (64 float32 features), per-call latency p50/p99.
 *
 * - LMDB: LmdbKeyValueStore.getMany against the bare lmdb calls it wraps (a `getBinaryFast` loop that
 *   touches each value but copies nothing), on the same database in the same run. The read paths it did
 *   not choose are measured beside them (lmdb's own `getMany`, a `get` loop, a fresh array per value).
 * - Redis (when one answers at REDIS_URL, default redis://127.0.0.1:6379): RedisKeyValueStore.getMany
 *   against one raw ioredis `mgetBuffer` of the same Redis keys on its own connection.
 *
 * Calls are interleaved round-robin (measureEach), one call per sample, every function reading the same
 * sequence of key sets.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { open } from 'lmdb';
import { Rng } from '../src/core/rng.js';
import { LMDB_HEADER_BYTES, LmdbKeyValueStore, lmdbLocation } from '../src/store/lmdb-store.js';
import type { KeyValueStore, PutEntry } from '../src/store/port.js';
import { redisKeyOf } from '../src/store/redis-key-layout.js';
import { RedisKeyValueStore } from '../src/store/redis-store.js';
import { benchArgs, keySetReaders, type Measurement, measureEach, report } from './harness/index.js';

const { size } = benchArgs();
const ENTITIES = size(100_000, 5_000);
const KEYS_PER_CALL = 1_000;
const VALUE_BYTES = 256;
const KEY_SETS = 64;
const options = { warmupMs: size(1_000, 50), runs: size(1_500, 30), minTimeMs: size(3_000, 100) };
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const rng = new Rng('online-store-bench');
const keyOf = (i: number) => `fv:item_stats:v3:i${i}`;
const keySets = Array.from({ length: KEY_SETS }, () =>
  Array.from({ length: KEYS_PER_CALL }, () => keyOf(rng.int(ENTITIES))),
);

function entries(from: number, to: number): PutEntry[] {
  const out: PutEntry[] = [];
  for (let i = from; i < to; i++) {
    const value = new Uint8Array(VALUE_BYTES);
    for (let b = 0; b < VALUE_BYTES; b++) value[b] = (i * 31 + b) & 0xff;
    out.push({ key: keyOf(i), value });
  }
  return out;
}

async function load(store: KeyValueStore): Promise<void> {
  for (let from = 0; from < ENTITIES; from += 5_000)
    await store.putMany(entries(from, Math.min(ENTITIES, from + 5_000)));
}

const rotating = keySetReaders(keySets);

const ms = (m: Measurement, p: 'median' | 'p99') => m.stats[p] / 1e6;
const params = { entities: ENTITIES, keysPerCall: KEYS_PER_CALL, valueBytes: VALUE_BYTES };

function reportPair(
  name: string,
  figure: Measurement,
  baseline: Measurement,
  baselineName: string,
  notes: string,
) {
  for (const p of ['median', 'p99'] as const)
    report({
      name: `${name}.${p === 'median' ? 'p50' : 'p99'}`,
      unit: 'ms',
      value: ms(figure, p),
      baseline: ms(baseline, p),
      baselineName,
      better: 'lower',
      params,
      notes: `per getMany of ${KEYS_PER_CALL} keys, ${figure.runs} calls; ${notes}`,
    });
}

async function benchLmdb(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-kv-'));
  const store = await LmdbKeyValueStore.open(dir);
  const root = open({ path: dir, maxDbs: 8 });
  try {
    await load(store);
    // The bare loop reads the adapter's own layout directly: the namespace's sub-database, the short keys.
    const raw = root.openDB<Buffer, string>({ name: lmdbLocation(keyOf(0)).db, encoding: 'binary' });
    const rawKeySets = keySets.map((keys) => keys.map((key) => lmdbLocation(key).key));
    const bareFast = rotating((keys) => {
      let sum = 0;
      for (const key of keys) {
        const value = raw.getBinaryFast(key);
        if (value !== undefined) sum += value[LMDB_HEADER_BYTES] as number;
      }
      return sum;
    }, rawKeySets);
    // Figure and baseline first, on their own: the alternatives allocate per value, and their garbage
    // collections would land in the figure's tail.
    const m = await measureEach({ adapter: rotating((keys) => store.getMany(keys)), bareFast }, options);
    const alt = await measureEach(
      {
        perValueCopy: rotating((keys) => {
          raw.resetReadTxn();
          return keys.map((key) => {
            const value = raw.getBinaryFast(key);
            return value === undefined
              ? null
              : Uint8Array.prototype.slice.call(value, LMDB_HEADER_BYTES, value.length);
          });
        }, rawKeySets),
        lmdbGetMany: rotating((keys) => raw.getMany(keys), rawKeySets),
        getLoop: rotating((keys) => keys.map((key) => raw.get(key) ?? null), rawKeySets),
      },
      { ...options, runs: size(500, 10), minTimeMs: size(1_000, 50) },
    );
    const p50p99 = (x: Measurement) => `${ms(x, 'median').toFixed(2)}/${ms(x, 'p99').toFixed(2)}`;
    const alternatives =
      `read paths not chosen, measured after, p50/p99 ms: lmdb getMany ${p50p99(alt.lmdbGetMany)}, ` +
      `get loop ${p50p99(alt.getLoop)}, getBinaryFast + one array per value ${p50p99(alt.perValueCopy)}`;
    reportPair(
      'store.lmdb.get-many',
      m.adapter,
      m.bareFast,
      'bare lmdb getBinaryFast loop (no copy, no checks)',
      `the adapter adds key checks, a fresh read snapshot, expiry checks and a copy of each value; ${alternatives}`,
    );
  } finally {
    await store.close();
    await root.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchRedis(): Promise<void> {
  const prefix = `fybench:${randomBytes(4).toString('hex')}:`;
  let store: RedisKeyValueStore;
  try {
    store = await RedisKeyValueStore.connect(REDIS_URL, { keyPrefix: prefix });
  } catch (error) {
    console.error(
      `online-store: no Redis figures, no usable server at ${REDIS_URL}: ${(error as Error).message}`,
    );
    return;
  }
  const raw = new Redis(REDIS_URL, { lazyConnect: true });
  try {
    await raw.connect();
    await load(store);
    const redisKeySets = keySets.map((keys) => keys.map((key) => redisKeyOf(prefix, key)));
    let n = 0;
    const m = await measureEach(
      {
        adapter: rotating((keys) => store.getMany(keys)),
        rawMget: () => raw.mgetBuffer(redisKeySets[n++ % KEY_SETS] as string[]),
      },
      options,
    );
    reportPair(
      'store.redis.get-many',
      m.adapter,
      m.rawMget,
      'one raw ioredis mgetBuffer of the same keys',
      `loopback Redis ${(await raw.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?'}; the adapter adds key checks, ` +
        'the Redis key layout and an aligned copy of each value',
    );
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
      cursor = next;
      if (found.length > 0) await raw.unlink(...found);
    } while (cursor !== '0');
    await store.close();
    raw.disconnect();
  }
}

await benchLmdb();
await benchRedis();
