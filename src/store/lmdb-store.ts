/**
 * The embedded key-value adapter: one LMDB environment (a folder with data.mdb and lock.mdb) that any
 * number of processes on one machine open at once. Readers never block and never take a lock; writers
 * take turns through LMDB's own lock in lock.mdb, so a putMany from any process is one transaction.
 *
 * Stored value = an 8-byte header (little-endian float64: expiry in epoch ms, 0 for never) + the caller's
 * bytes, in the sub-database "kv". Expired values read as absent until `sweepExpired` removes them.
 *
 * Read path, chosen by measurement (docs/online-store.md): a synchronous `getBinaryFast` loop in one read
 * snapshot, copying each value into a ValueArena. lmdb's own `getMany` (prefetch on a worker thread, then
 * `get`) was 2-3x slower for 1,000 cached values, and `get`/`getBinary` allocate per value.
 */
import { mkdirSync } from 'node:fs';
import { type Database, open, type RootDatabase } from 'lmdb';
import { type Clock, systemClock } from '../core/clock.js';
import { ForyouError } from '../core/errors.js';
import { checkEntries, checkKey, checkKeys, checkPrefix, scanLimit } from './keys.js';
import type { KeyValueEntry, KeyValueStore, PutEntry, ScanOptions } from './port.js';
import { ValueArena } from './value-arena.js';

export const LMDB_HEADER_BYTES = 8;
const NEVER = 0;
const DB_NAME = 'kv';
const SCAN_PAGE = 256;
const SWEEP_PAGE = 10_000;

export interface LmdbKeyValueStoreOptions {
  /** Time for TTLs: when a value written with `ttlMs` expires, and whether it has. Default: the system clock. */
  clock?: Clock;
}

/** A value read from LMDB, header included; `length` is its true size (see `readMany`). */
type RawValue = Uint8Array;

/** Header bytes are copied here to be read: lmdb may hand out a plain Uint8Array (no Buffer methods). */
const headerBytes = new Uint8Array(LMDB_HEADER_BYTES);
const headerView = new DataView(headerBytes.buffer);

function expiryOf(raw: RawValue, key: string): number {
  if (raw.length < LMDB_HEADER_BYTES)
    throw new ForyouError(
      'FY_IO_FAILED',
      `value of key ${JSON.stringify(key)} is ${raw.length} bytes, shorter than the ${LMDB_HEADER_BYTES}-byte header: ` +
        'this LMDB database was not written by Foryou',
      { details: { key } },
    );
  for (let b = 0; b < LMDB_HEADER_BYTES; b++) headerBytes[b] = raw[b] as number;
  return headerView.getFloat64(0, true);
}

function isLive(expiresAtMs: number, nowMs: number): boolean {
  return expiresAtMs === NEVER || expiresAtMs > nowMs;
}

function encode(entry: PutEntry, nowMs: number): Buffer {
  const out = Buffer.allocUnsafe(LMDB_HEADER_BYTES + entry.value.length);
  out.writeDoubleLE(entry.ttlMs === undefined ? NEVER : nowMs + entry.ttlMs, 0);
  out.set(entry.value, LMDB_HEADER_BYTES);
  return out;
}

export class LmdbKeyValueStore implements KeyValueStore {
  readonly kind = 'lmdb';
  private closed = false;

  private constructor(
    /** The environment's folder. */
    readonly path: string,
    private readonly root: RootDatabase,
    private readonly db: Database<RawValue, string>,
    private readonly clock: Clock,
  ) {}

  /** Opens (creating when needed) the environment in folder `path`. */
  static async open(path: string, options: LmdbKeyValueStoreOptions = {}): Promise<LmdbKeyValueStore> {
    let root: RootDatabase | undefined;
    try {
      mkdirSync(path, { recursive: true });
      root = open({ path });
      const db = root.openDB<RawValue, string>({ name: DB_NAME, encoding: 'binary' });
      return new LmdbKeyValueStore(path, root, db, options.clock ?? systemClock);
    } catch (cause) {
      await root?.close().catch(() => {});
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot open the LMDB store at ${path}: ${(cause as Error).message}`,
        {
          cause,
          details: { path },
        },
      );
    }
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]> {
    this.ensureOpen();
    checkKeys(keys);
    return this.readMany(keys);
  }

  async get(key: string): Promise<Uint8Array | null> {
    this.ensureOpen();
    checkKey(key);
    return this.readMany([key])[0] as Uint8Array | null;
  }

  async visitMany(
    keys: readonly string[],
    visit: (index: number, value: Uint8Array) => void,
  ): Promise<number> {
    this.ensureOpen();
    checkKeys(keys);
    const now = this.clock.now();
    const db = this.db;
    let found = 0;
    let i = 0;
    try {
      this.freshSnapshot();
      for (; i < keys.length; i++) {
        const key = keys[i] as string;
        const raw = db.getBinaryFast(key);
        if (raw === undefined || !isLive(expiryOf(raw, key), now)) continue;
        // A view of the reused read buffer, bounded explicitly (see readMany): valid until the next read.
        visit(
          i,
          new Uint8Array(raw.buffer, raw.byteOffset + LMDB_HEADER_BYTES, raw.length - LMDB_HEADER_BYTES),
        );
        found++;
      }
    } catch (cause) {
      throw this.failure(cause, `read key ${JSON.stringify(keys[i])}`);
    }
    return found;
  }

  /**
   * All reads of one call run synchronously in one fresh read snapshot: they see every commit made before
   * the call, by any process, and nothing committed during it.
   */
  private readMany(keys: readonly string[]): (Uint8Array | null)[] {
    const out: (Uint8Array | null)[] = new Array(keys.length);
    const now = this.clock.now();
    const arena = new ValueArena();
    const db = this.db;
    let i = 0;
    try {
      this.freshSnapshot();
      for (; i < keys.length; i++) {
        const key = keys[i] as string;
        // getBinaryFast returns one reused buffer, overwritten by the next read: copy out before it. Its
        // `length` is a plain property holding this value's size; the typed array underneath is the whole
        // shared buffer (16 MiB), so every read of it goes through explicit bounds.
        const raw = db.getBinaryFast(key);
        if (raw === undefined || !isLive(expiryOf(raw, key), now)) {
          out[i] = null;
          continue;
        }
        out[i] = arena.copy(raw, LMDB_HEADER_BYTES, raw.length - LMDB_HEADER_BYTES);
      }
    } catch (cause) {
      throw this.failure(cause, `read key ${JSON.stringify(keys[i])}`);
    }
    return out;
  }

  async putMany(entries: readonly PutEntry[]): Promise<void> {
    this.ensureOpen();
    checkEntries(entries);
    if (entries.length === 0) return;
    const now = this.clock.now();
    const encoded = entries.map((entry) => encode(entry, now));
    const db = this.db;
    try {
      // One batch is one write transaction: all of it commits or none of it.
      await db.batch(() => {
        for (let i = 0; i < entries.length; i++)
          void db.put((entries[i] as PutEntry).key, encoded[i] as Buffer);
      });
    } catch (cause) {
      throw this.failure(cause, `write ${entries.length} entries`);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    this.ensureOpen();
    checkKeys(keys);
    if (keys.length === 0) return;
    const db = this.db;
    try {
      await db.batch(() => {
        for (const key of keys) void db.remove(key);
      });
    } catch (cause) {
      throw this.failure(cause, `delete ${keys.length} keys`);
    }
  }

  async *scanPrefix(prefix: string, options: ScanOptions = {}): AsyncIterable<KeyValueEntry> {
    this.ensureOpen();
    checkPrefix(prefix);
    const limit = scanLimit(options.limit);
    let after: string | undefined;
    let left = limit;
    while (left > 0) {
      // Pages are read synchronously and copied, so no cursor or snapshot is held while the caller awaits.
      const page = this.scanPage(prefix, after);
      for (const entry of page.entries.slice(0, left)) yield entry;
      left -= page.entries.length;
      if (page.last === undefined) return;
      after = page.last;
    }
  }

  private scanPage(prefix: string, after: string | undefined): { entries: KeyValueEntry[]; last?: string } {
    this.ensureOpen();
    const now = this.clock.now();
    const entries: KeyValueEntry[] = [];
    const arena = new ValueArena();
    let seen = 0;
    let last: string | undefined;
    try {
      this.freshSnapshot();
      const range = this.db.getRange({
        ...(after !== undefined ? { start: after, exclusiveStart: true } : prefix ? { start: prefix } : {}),
        limit: SCAN_PAGE,
      });
      for (const { key, value } of range) {
        if (!key.startsWith(prefix)) return { entries };
        seen++;
        last = key;
        if (isLive(expiryOf(value, key), now))
          entries.push({
            key,
            value: arena.copy(value, LMDB_HEADER_BYTES, value.length - LMDB_HEADER_BYTES),
          });
      }
    } catch (cause) {
      throw this.failure(cause, `scan prefix ${JSON.stringify(prefix)}`);
    }
    return seen < SCAN_PAGE ? { entries } : { entries, ...(last !== undefined ? { last } : {}) };
  }

  /**
   * Removes expired values in transactions of up to 10,000 keys, checking each again inside the write
   * transaction so a value rewritten since the scan survives. Any process may run it; several at once
   * only repeat each other's work. Nothing runs it on a timer: the caller (the jobs module) schedules it.
   */
  async sweepExpired(): Promise<number> {
    this.ensureOpen();
    let removed = 0;
    let after: string | undefined;
    for (;;) {
      const now = this.clock.now();
      const expired: string[] = [];
      let seen = 0;
      try {
        this.freshSnapshot();
        for (const { key, value } of this.db.getRange({
          ...(after !== undefined ? { start: after, exclusiveStart: true } : {}),
          limit: SWEEP_PAGE,
        })) {
          seen++;
          after = key;
          if (!isLive(expiryOf(value, key), now)) expired.push(key);
        }
        if (expired.length > 0) removed += await this.removeIfExpired(expired, now);
      } catch (cause) {
        throw this.failure(cause, 'sweep expired values');
      }
      if (seen < SWEEP_PAGE) return removed;
    }
  }

  private removeIfExpired(keys: readonly string[], now: number): Promise<number> {
    const db = this.db;
    return db.transaction(() => {
      let n = 0;
      for (const key of keys) {
        const raw = db.getBinaryFast(key);
        if (raw !== undefined && !isLive(expiryOf(raw, key), now)) {
          void db.remove(key);
          n++;
        }
      }
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.root.close();
    } catch (cause) {
      throw this.failure(cause, 'close');
    }
  }

  /**
   * lmdb keeps reusing its read snapshot and does not notice commits from other processes at once: in
   * lmdb-two-processes.test.ts most reads right after another process's putMany resolved missed it until
   * the snapshot was reset. Resetting costs a few µs per call (docs/online-store.md).
   */
  private freshSnapshot(): void {
    this.db.resetReadTxn();
  }

  private ensureOpen(): void {
    if (this.closed)
      throw new ForyouError('FY_STORE_UNAVAILABLE', `the LMDB store at ${this.path} is closed`, {
        details: { path: this.path },
      });
  }

  private failure(cause: unknown, action: string): ForyouError {
    if (cause instanceof ForyouError) return cause;
    return new ForyouError(
      'FY_IO_FAILED',
      `LMDB store at ${this.path}: cannot ${action}: ${(cause as Error).message}`,
      {
        cause,
        details: { path: this.path },
      },
    );
  }
}
