/**
 * The embedded key-value adapter: one LMDB environment (a folder with data.mdb and lock.mdb) that any
 * number of processes on one machine open at once. Readers never block and never take a lock; writers
 * take turns through LMDB's own lock in lock.mdb, so a putMany from any process is one transaction.
 *
 * Stored value = an 8-byte header (little-endian float64: expiry in epoch ms, 0 for never) + the caller's
 * bytes. Expired values read as absent until `sweepExpired` removes them.
 *
 * Layout: one sub-database per key namespace. A key's namespace is its first two `:`-separated segments
 * with their colons (`fv:item_stats:` for `fv:item_stats:v1:v42`), and the sub-database of that name stores
 * the rest (`v1:v42`); keys with fewer than two colons, or nothing after the second, live whole in the
 * sub-database "kv". Ids may contain colons themselves, so the namespace never reaches into the entity
 * part. Short keys in a tree of one namespace make a lookup about a quarter cheaper than long keys in one
 * shared tree (docs/online-store.md).
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
import type { KeyValueEntry, KeyValueStore, PutEntry, ScanOptions, VisitEntry, VisitValue } from './port.js';
import { ValueArena } from './value-arena.js';

export const LMDB_HEADER_BYTES = 8;
const NEVER = 0;
/** Sub-database of keys without a namespace. Namespace names end with ':', so none is called this. */
const PLAIN_DB = 'kv';
/** Most namespaces one store holds (LMDB's `maxDbs`: fixed when the environment opens). */
export const MAX_NAMESPACES = 256;
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

/** Where a key is stored: the sub-database of its namespace, and the key within it. */
export function lmdbLocation(key: string): { db: string; key: string } {
  const cut = namespaceEnd(key);
  return cut === 0 ? { db: PLAIN_DB, key } : { db: key.slice(0, cut), key: key.slice(cut) };
}

/** Length of the namespace `prefix` holds whole (through its second ':'), or 0. */
function prefixNamespaceEnd(prefix: string): number {
  const first = prefix.indexOf(':');
  if (first < 0) return 0;
  return prefix.indexOf(':', first + 1) + 1;
}

/** Length of `key`'s namespace (through its second ':'), or 0 when it has none or nothing follows it. */
function namespaceEnd(key: string): number {
  const end = prefixNamespaceEnd(key);
  return end === key.length ? 0 : end;
}

/** The full key of `rest` stored in sub-database `db`. */
function fullKey(db: string, rest: string): string {
  return db === PLAIN_DB ? rest : db + rest;
}

/** Deletes those of `keys` still expired inside one write transaction; resolves to how many. */
function removeIfExpired(
  db: Database<RawValue, string>,
  keys: readonly string[],
  now: number,
): Promise<number> {
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

export class LmdbKeyValueStore implements KeyValueStore {
  readonly kind = 'lmdb';
  private closed = false;
  private readonly dbs = new Map<string, Database<RawValue, string>>();
  /** The namespace of the key located last, and its database: a batch of one view's keys locates once. */
  private lastNamespace = '';
  private lastDb: Database<RawValue, string> | null = null;
  /** The key within its sub-database of the key located last. */
  private located = '';

  private constructor(
    /** The environment's folder. */
    readonly path: string,
    private readonly root: RootDatabase,
    private readonly clock: Clock,
  ) {}

  /** Opens (creating when needed) the environment in folder `path`. */
  static async open(path: string, options: LmdbKeyValueStoreOptions = {}): Promise<LmdbKeyValueStore> {
    let root: RootDatabase | undefined;
    try {
      mkdirSync(path, { recursive: true });
      root = open({ path, maxDbs: MAX_NAMESPACES + 1 });
      return new LmdbKeyValueStore(path, root, options.clock ?? systemClock);
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

  async visitMany(keys: readonly string[], visit: VisitValue, prefix = ''): Promise<number> {
    this.ensureOpen();
    checkKeys(keys, prefix);
    const now = this.clock.now();
    let found = 0;
    let i = 0;
    try {
      // A prefix holding a whole namespace fixes the sub-database; what follows it is part of every key.
      const cut = prefixNamespaceEnd(prefix);
      const db = cut > 0 ? this.dbOf(prefix.slice(0, cut)) : null;
      const within = prefix.slice(cut);
      this.freshSnapshot();
      for (; i < keys.length; i++) {
        const key = keys[i] as string;
        const raw =
          db !== null
            ? db.getBinaryFast(within === '' ? key : within + key)
            : this.locate(prefix + key).getBinaryFast(this.located);
        if (raw === undefined || !isLive(expiryOf(raw, key), now)) continue;
        // The reused read buffer itself, bounded explicitly (see readMany): valid until the next read.
        visit(i, raw, LMDB_HEADER_BYTES, raw.length);
        found++;
      }
    } catch (cause) {
      throw this.failure(cause, `read key ${JSON.stringify(prefix + keys[i])}`);
    }
    return found;
  }

  async visitPrefix(prefix: string, visit: VisitEntry, limit: number, after = ''): Promise<number> {
    this.ensureOpen();
    checkPrefix(prefix);
    if (after !== '') checkPrefix(prefix + after);
    const cut = prefixNamespaceEnd(prefix);
    if (cut === 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `visitPrefix needs a prefix that holds a whole namespace (two ':'-separated segments), not ${JSON.stringify(prefix)}`,
      );
    if (!Number.isInteger(limit) || limit < 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `visitPrefix limit must be a whole number >= 0, not ${limit}`,
      );
    const now = this.clock.now();
    const within = prefix.slice(cut);
    let matched = 0;
    let visited = 0;
    try {
      const db = this.dbOf(prefix.slice(0, cut));
      this.freshSnapshot();
      const start = within + after;
      for (const key of db.getKeys(start === '' ? {} : { start })) {
        if (!key.startsWith(within)) break;
        if (after !== '' && key === start) continue;
        if (++matched > limit) return -1;
        const raw = db.getBinaryFast(key);
        if (raw === undefined || !isLive(expiryOf(raw, key), now)) continue;
        visit(key.slice(within.length), raw, LMDB_HEADER_BYTES, raw.length);
        visited++;
      }
    } catch (cause) {
      throw this.failure(cause, `read the keys under ${JSON.stringify(prefix)}`);
    }
    return visited;
  }

  /**
   * All reads of one call run synchronously in one fresh read snapshot: they see every commit made before
   * the call, by any process, and nothing committed during it.
   */
  private readMany(keys: readonly string[]): (Uint8Array | null)[] {
    const out: (Uint8Array | null)[] = new Array(keys.length);
    const now = this.clock.now();
    const arena = new ValueArena();
    let i = 0;
    try {
      this.freshSnapshot();
      for (; i < keys.length; i++) {
        const key = keys[i] as string;
        // getBinaryFast returns one reused buffer, overwritten by the next read: copy out before it. Its
        // `length` is a plain property holding this value's size; the typed array underneath is the whole
        // shared buffer (16 MiB), so every read of it goes through explicit bounds.
        const raw = this.locate(key).getBinaryFast(this.located);
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
    try {
      // Databases are opened (perhaps created) before the batch; the batch only writes.
      const places = entries.map((entry) => this.place(entry.key));
      // One batch is one write transaction, over every sub-database: all of it commits or none of it.
      await this.root.batch(() => {
        for (let i = 0; i < entries.length; i++) {
          const [db, key] = places[i]!;
          void db.put(key, encoded[i] as Buffer);
        }
      });
    } catch (cause) {
      throw this.failure(cause, `write ${entries.length} entries`);
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    this.ensureOpen();
    checkKeys(keys);
    if (keys.length === 0) return;
    try {
      const places = keys.map((key) => this.place(key));
      await this.root.batch(() => {
        for (const [db, key] of places) void db.remove(key);
      });
    } catch (cause) {
      throw this.failure(cause, `delete ${keys.length} keys`);
    }
  }

  /**
   * Scans namespace by namespace (in name order), each in key byte order. Only the sub-databases whose
   * keys can start with `prefix` are read.
   */
  async *scanPrefix(prefix: string, options: ScanOptions = {}): AsyncIterable<KeyValueEntry> {
    this.ensureOpen();
    checkPrefix(prefix);
    let left = scanLimit(options.limit);
    for (const name of this.namespaces()) {
      // Within this sub-database, the stored keys must start with `within`; null: none can match.
      const within =
        name === PLAIN_DB
          ? prefix
          : name.startsWith(prefix)
            ? ''
            : prefix.startsWith(name)
              ? prefix.slice(name.length)
              : null;
      if (within === null) continue;
      let after: string | undefined;
      while (left > 0) {
        // Pages are read synchronously and copied, so no cursor or snapshot is held while the caller awaits.
        const page = this.scanPage(name, within, after);
        for (const entry of page.entries.slice(0, left)) yield entry;
        left -= page.entries.length;
        if (page.last === undefined) break;
        after = page.last;
      }
      if (left <= 0) return;
    }
  }

  private scanPage(
    name: string,
    prefix: string,
    after: string | undefined,
  ): { entries: KeyValueEntry[]; last?: string } {
    this.ensureOpen();
    const now = this.clock.now();
    const entries: KeyValueEntry[] = [];
    const arena = new ValueArena();
    let seen = 0;
    let last: string | undefined;
    try {
      this.freshSnapshot();
      const range = this.dbOf(name).getRange({
        ...(after !== undefined ? { start: after, exclusiveStart: true } : prefix ? { start: prefix } : {}),
        limit: SCAN_PAGE,
      });
      for (const { key, value } of range) {
        if (!key.startsWith(prefix)) return { entries };
        seen++;
        last = key;
        if (isLive(expiryOf(value, key), now))
          entries.push({
            key: fullKey(name, key),
            value: arena.copy(value, LMDB_HEADER_BYTES, value.length - LMDB_HEADER_BYTES),
          });
      }
    } catch (cause) {
      throw this.failure(cause, `scan prefix ${JSON.stringify(prefix)} of ${JSON.stringify(name)}`);
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
    for (const name of this.namespaces()) {
      const db = this.dbOf(name);
      let after: string | undefined;
      for (;;) {
        const now = this.clock.now();
        const expired: string[] = [];
        let seen = 0;
        try {
          this.freshSnapshot();
          for (const { key, value } of db.getRange({
            ...(after !== undefined ? { start: after, exclusiveStart: true } : {}),
            limit: SWEEP_PAGE,
          })) {
            seen++;
            after = key;
            if (!isLive(expiryOf(value, key), now)) expired.push(key);
          }
          if (expired.length > 0) removed += await removeIfExpired(db, expired, now);
        } catch (cause) {
          throw this.failure(cause, 'sweep expired values');
        }
        if (seen < SWEEP_PAGE) break;
      }
    }
    return removed;
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
    this.root.resetReadTxn();
  }

  /** The sub-database of `name`, opened (and created, the first time anywhere) on first use. */
  private dbOf(name: string): Database<RawValue, string> {
    let db = this.dbs.get(name);
    if (db === undefined) {
      if (name !== PLAIN_DB && this.dbs.size - (this.dbs.has(PLAIN_DB) ? 1 : 0) >= MAX_NAMESPACES)
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `the LMDB store at ${this.path} holds at most ${MAX_NAMESPACES} key namespaces (a key's first two ':'-separated segments); ${JSON.stringify(name)} would be one more`,
          { details: { path: this.path, namespace: name } },
        );
      db = this.root.openDB<RawValue, string>({ name, encoding: 'binary' });
      this.dbs.set(name, db);
    }
    return db;
  }

  /** The database of `key`, with the key within it left in `this.located` (no allocation per key). */
  private locate(key: string): Database<RawValue, string> {
    const cut = namespaceEnd(key);
    if (cut === 0) {
      this.located = key;
      return this.dbOf(PLAIN_DB);
    }
    this.located = key.slice(cut);
    if (this.lastDb === null || cut !== this.lastNamespace.length || !key.startsWith(this.lastNamespace)) {
      this.lastNamespace = key.slice(0, cut);
      this.lastDb = this.dbOf(this.lastNamespace);
    }
    return this.lastDb;
  }

  private place(key: string): [Database<RawValue, string>, string] {
    const db = this.locate(key);
    return [db, this.located];
  }

  /** Every sub-database in the environment, written by any process, in name order. */
  private namespaces(): string[] {
    const names: string[] = [];
    for (const name of this.root.getKeys()) if (typeof name === 'string') names.push(name);
    return names.sort();
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
