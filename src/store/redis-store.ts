/**
 * The distributed key-value adapter: Redis through ioredis, one connection per store. Reads are one MGET
 * (measured 2.5x faster than a pipeline of GETs for 1,000 keys, /work/shared/design/MEASUREMENTS.md);
 * writes are one MULTI/EXEC of `SET key value [PX ttl]`, so a putMany is atomic and its TTLs are set in
 * the same command as the value. Keys follow the cluster-ready layout of redis-key-layout.ts under a
 * configurable prefix. Every driver error becomes FY_STORE_UNAVAILABLE with the driver error as cause.
 *
 * Standalone Redis only for now: under Redis Cluster, MGET and MULTI need all their keys in one slot;
 * docs/online-store.md says what a cluster adapter must do instead.
 */
import { Redis } from 'ioredis';
import { ForyouError } from '../core/errors.js';
import { checkEntries, checkKey, checkKeys, checkPrefix, keyProblem, scanLimit } from './keys.js';
import type { KeyValueEntry, KeyValueStore, PutEntry, ScanOptions, VisitValue } from './port.js';
import { keyOfRedisKey, redisKeyOf, scanPatterns } from './redis-key-layout.js';
import { ValueArena } from './value-arena.js';

export const DEFAULT_REDIS_KEY_PREFIX = 'fy:';
const SCAN_COUNT = 1000;

export interface RedisKeyValueStoreOptions {
  /**
   * Put before every key (default "fy:"), so several stores or test runs share one Redis database. The
   * prefixes of two stores on one database must not be prefixes of each other. Same rules as keys.
   */
  keyPrefix?: string;
  /** Give up connecting after this long (default 2,000). */
  connectTimeoutMs?: number;
  /** Fail a command with no reply after this long (default 2,000). */
  commandTimeoutMs?: number;
}

/** The URL with its password hidden, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A view of `value` as a Buffer over the same memory (ioredis sends Buffers as bytes, other arrays as text). */
function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export class RedisKeyValueStore implements KeyValueStore {
  readonly kind = 'redis';
  private closed = false;
  /** The latest connection error ioredis reported; it becomes the cause when a command then fails. */
  private lastConnectionError: Error | null = null;

  private constructor(
    private readonly client: Redis,
    private readonly url: string,
    readonly keyPrefix: string,
  ) {
    client.on('error', (error: Error) => {
      this.lastConnectionError = error;
    });
    client.on('ready', () => {
      this.lastConnectionError = null;
    });
  }

  /** Connects to `url` (`redis://[user:password@]host:port[/db]`) and resolves once Redis answers. */
  static async connect(url: string, options: RedisKeyValueStoreOptions = {}): Promise<RedisKeyValueStore> {
    const keyPrefix = options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX;
    const problem = keyProblem(keyPrefix, true);
    if (problem !== null)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `Redis key prefix ${JSON.stringify(keyPrefix)} ${problem}`,
        {
          details: { keyPrefix },
        },
      );
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      commandTimeout: options.commandTimeoutMs ?? 2000,
      // A command waits through at most one reconnection, then fails instead of queueing forever.
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    });
    const store = new RedisKeyValueStore(client, url, keyPrefix);
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      client.disconnect();
      // ioredis rejects with "Connection is closed"; the socket error it reported first says why.
      const cause = store.lastConnectionError ?? error;
      throw new ForyouError(
        'FY_STORE_UNAVAILABLE',
        `cannot connect to Redis at ${redactUrl(url)}: ${(cause as Error).message}`,
        { cause, details: { url: redactUrl(url) } },
      );
    }
    return store;
  }

  private redisKeys(keys: readonly string[]): string[] {
    const out = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = redisKeyOf(this.keyPrefix, keys[i] as string);
    return out;
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    this.ensureOpen();
    checkKeys(keys);
    if (keys.length === 0) return [];
    return this.read(this.redisKeys(keys));
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.ensureOpen();
    checkKey(key);
    return (await this.read([redisKeyOf(this.keyPrefix, key)]))[0] as Uint8Array | null;
  }

  async visitMany(keys: readonly string[], visit: VisitValue, prefix = ''): Promise<number> {
    this.ensureOpen();
    checkKeys(keys, prefix);
    if (keys.length === 0) return 0;
    let raw: (Buffer | null)[];
    try {
      raw = await this.client.mgetBuffer(this.redisKeys(prefix === '' ? keys : keys.map((k) => prefix + k)));
    } catch (cause) {
      throw this.failure(cause, `MGET ${keys.length} keys`);
    }
    let found = 0;
    for (let i = 0; i < raw.length; i++) {
      const value = raw[i];
      if (value === null || value === undefined) continue;
      visit(i, value, 0, value.length);
      found++;
    }
    return found;
  }

  /**
   * One MGET; values are copied into 8-byte-aligned arrays (the parser hands out views at any offset into
   * its socket buffers), which keeps the port's promise that typed-array views need no copy.
   */
  private async read(redisKeys: string[]): Promise<(Uint8Array | null)[]> {
    let raw: (Buffer | null)[];
    try {
      raw = await this.client.mgetBuffer(redisKeys);
    } catch (cause) {
      throw this.failure(cause, `MGET ${redisKeys.length} keys`);
    }
    const arena = new ValueArena();
    const out: (Uint8Array | null)[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const value = raw[i];
      out[i] = value == null ? null : arena.copy(value, 0, value.length);
    }
    return out;
  }

  async putMany(entries: readonly PutEntry[]): Promise<void> {
    this.ensureOpen();
    checkEntries(entries);
    if (entries.length === 0) return;
    const tx = this.client.multi();
    for (const entry of entries) {
      const key = redisKeyOf(this.keyPrefix, entry.key);
      const value = asBuffer(entry.value);
      if (entry.ttlMs === undefined) tx.set(key, value);
      else tx.set(key, value, 'PX', entry.ttlMs);
    }
    await this.exec(tx, `SET ${entries.length} keys`);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    this.ensureOpen();
    checkKeys(keys);
    if (keys.length === 0) return;
    try {
      // UNLINK frees the memory off the main thread of Redis; one command, so atomic like DEL.
      await this.client.unlink(...this.redisKeys(keys));
    } catch (cause) {
      throw this.failure(cause, `UNLINK ${keys.length} keys`);
    }
  }

  async *scanPrefix(prefix: string, options: ScanOptions = {}): AsyncIterable<KeyValueEntry> {
    this.ensureOpen();
    checkPrefix(prefix);
    let left = scanLimit(options.limit);
    // SCAN may return a key more than once; remember what was yielded.
    const seen = new Set<string>();
    for (const pattern of scanPatterns(this.keyPrefix, prefix)) {
      let cursor = '0';
      do {
        let found: string[];
        try {
          [cursor, found] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
        } catch (cause) {
          throw this.failure(cause, `SCAN ${pattern}`);
        }
        const batch: { redisKey: string; key: string }[] = [];
        for (const redisKey of found) {
          const key = keyOfRedisKey(this.keyPrefix, redisKey);
          if (key === null || !key.startsWith(prefix) || seen.has(redisKey)) continue;
          seen.add(redisKey);
          batch.push({ redisKey, key });
        }
        if (batch.length === 0) continue;
        const values = await this.read(batch.map((b) => b.redisKey));
        for (let i = 0; i < batch.length; i++) {
          const value = values[i];
          // Gone (deleted or expired) between SCAN and MGET.
          if (value == null) continue;
          yield { key: (batch[i] as { key: string }).key, value };
          if (--left === 0) return;
        }
      } while (cursor !== '0');
    }
  }

  /** Redis expires keys itself (lazily on access and by its active expiry cycle). */
  async sweepExpired(): Promise<number> {
    this.ensureOpen();
    return 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.quit();
    } catch {
      // quit fails only when the connection is already gone; make sure no reconnection is pending.
      this.client.disconnect();
    }
  }

  private async exec(tx: ReturnType<Redis['multi']>, action: string): Promise<void> {
    let results: [Error | null, unknown][] | null;
    try {
      results = await tx.exec();
    } catch (cause) {
      throw this.failure(cause, action);
    }
    if (results === null) throw this.failure(new Error('transaction aborted'), action);
    for (const [error] of results) if (error) throw this.failure(error, action);
  }

  private ensureOpen(): void {
    if (this.closed)
      throw new ForyouError('FY_STORE_UNAVAILABLE', `the Redis store at ${redactUrl(this.url)} is closed`, {
        details: { url: redactUrl(this.url) },
      });
  }

  private failure(cause: unknown, action: string): ForyouError {
    const error = cause instanceof Error ? cause : new Error(String(cause));
    const connection = this.lastConnectionError;
    const why = connection && connection !== error ? ` (connection: ${connection.message})` : '';
    return new ForyouError(
      'FY_STORE_UNAVAILABLE',
      `Redis at ${redactUrl(this.url)}: ${action} failed: ${error.message}${why}`,
      { cause: error, details: { url: redactUrl(this.url), action } },
    );
  }
}
