/**
 * The key-value port behind the online feature store: opaque binary values under string keys, read many
 * at a time. Two adapters implement it (LMDB embedded, Redis distributed) and one conformance suite
 * (`key-value.conformance.ts`) holds both to the same behaviour. `openKeyValueStore` picks the adapter by
 * URL scheme (`lmdb://`, `redis://`).
 *
 * Keys (checked by every method; a bad key fails with FY_INVALID_ARGUMENT):
 * - 1 to MAX_KEY_BYTES bytes of UTF-8, well-formed Unicode (no lone surrogates, which UTF-8 cannot carry);
 * - no control characters (U+0000 to U+001F) and no `{` or `}`: braces are reserved for the Redis hash tag.
 * - By convention `:`-separated segments: the first two name the namespace (`fv:user_stats:`), the rest
 *   the version and entity (`fv:user_stats:v3:u123`); ids may hold colons of their own;
 *   the Redis adapter keeps all keys of one entity in one cluster slot (docs/online-store.md).
 */

/** Longest key in UTF-8 bytes: LMDB's classic compile-time limit, so keys stay portable across builds. */
export const MAX_KEY_BYTES = 511;

export interface PutEntry {
  key: string;
  /** Stored as given; an empty array is a value (not a deletion). */
  value: Uint8Array;
  /**
   * Time to live in whole milliseconds (>= 1). After it the key reads as absent. Without it the value never
   * expires, and overwriting a key without it removes an earlier expiry.
   */
  ttlMs?: number;
}

export interface KeyValueEntry {
  key: string;
  value: Uint8Array;
}

export interface ScanOptions {
  /** Most entries returned (default 1,000). Scans are for admin and debugging, not for serving. */
  limit?: number;
}

/** Receives one value of `visitMany`: `bytes[start, end)`, valid only during the call. */
export type VisitValue = (index: number, bytes: Uint8Array, start: number, end: number) => void;

/** Receives one entry of `visitPrefix`: the key after the prefix, and the value as in `VisitValue`. */
export type VisitEntry = (rest: string, bytes: Uint8Array, start: number, end: number) => void;

export interface KeyValueStore {
  /** Adapter name for logs and stats ("lmdb", "redis"). */
  readonly kind: string;

  /**
   * Values of `keys` in key order, `null` for absent or expired keys; one round trip to the backend (one
   * read snapshot on LMDB, one MGET on Redis). A key may appear more than once. Returned arrays belong to
   * the caller and stay valid after later calls.
   */
  getMany(keys: readonly string[]): Promise<(Uint8Array | null)[]>;

  /**
   * The zero-copy form of `getMany` for hot reads that decode at once: calls `visit(index, bytes, start,
   * end)` for each present key, in key order, inside the same single round trip or snapshot; the value is
   * `bytes[start, end)`. `bytes` may be a larger buffer the store reuses (LMDB's read buffer, the Redis
   * parser's socket buffer), so nothing is allocated per value: it is only valid during the call, and only
   * between `start` and `end`. Decode or copy it there. Resolves to how many keys were present.
   *
   * With `prefix`, the keys read are `prefix + keys[i]`: a caller whose keys share a namespace (a feature
   * view) passes it once instead of building every full key; LMDB then reads the namespace's
   * sub-database with the short keys as they are.
   */
  visitMany(keys: readonly string[], visit: VisitValue, prefix?: string): Promise<number>;
  /**
   * A hot-path range read, on stores that keep keys in order (LMDB): visits the live entries whose keys
   * start with `prefix` (which must hold a whole namespace), in key byte order, as `visitMany` does (zero
   * copy, valid during the call), within one snapshot. Resolves to how many it visited, or to -1 as soon as
   * more than `limit` keys match, so a caller can fall back to point reads instead of walking a long range.
   * Absent where a prefix read would walk the whole keyspace (Redis): callers then use `visitMany`.
   *
   * With `after`, only keys after `prefix + after` in byte order are visited (and counted against `limit`):
   * a reader that remembers the last key it saw reads only what came after it.
   */
  visitPrefix?(prefix: string, visit: VisitEntry, limit: number, after?: string): Promise<number>;

  /** One value, or null. */
  get(key: string): Promise<Uint8Array | null>;

  /**
   * Writes all entries as one atomic unit: a concurrent reader sees either none or all of them (LMDB: one
   * write transaction; Redis: one MULTI/EXEC). A key given twice keeps its last value. Resolves once the
   * write is visible to every reader, in every process.
   */
  putMany(entries: readonly PutEntry[]): Promise<void>;

  /** Removes the keys (absent ones are ignored), atomically like `putMany`. */
  deleteMany(keys: readonly string[]): Promise<void>;

  /**
   * Live entries whose key starts with `prefix` ("" for all), at most `limit`. LMDB yields them grouped
   * by namespace (a key's first two `:`-separated segments), in key byte order within one; Redis in no
   * particular order. For admin and debugging: it walks the keyspace.
   */
  scanPrefix(prefix: string, options?: ScanOptions): AsyncIterable<KeyValueEntry>;

  /**
   * Removes values whose TTL has passed and resolves to how many it removed. LMDB keeps expired values
   * (unreadable) until this runs; Redis expires keys itself, so there it resolves to 0.
   */
  sweepExpired(): Promise<number>;

  /** Releases the connection or the environment; later calls fail with FY_STORE_UNAVAILABLE. */
  close(): Promise<void>;
}
