import type { IdDictionary } from '../core/id-dictionary.js';

/** How many rows an `EntityRowCache` may hold, and for how long. */
export interface EntityRowCacheLimits {
  /** Most rows (default: no limit but `maxBytes`). */
  rows?: number;
  /** Most bytes of rows (default 256 MiB): the rows held are at most `maxBytes / (8 x (width + 1))`. */
  maxBytes?: number;
  /** Oldest row served, in ms, whether or not anyone wrote it since. */
  maxAgeMs: number;
}

export const ROW_CACHE_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Feature rows of shared entities (items, creators) kept in this process, keyed by the bundle's dense entity
 * index. Every feed request hydrates the few hundred items its pre-ranker kept; each miss is a point read
 * in the online store, which at a million items costs 2-5 us (a B-tree walk to a leaf page that is rarely
 * in the CPU's caches). A hit is an index lookup and a row copy.
 *
 * A row is served until the first of: `maxAgeMs` after it was read, its expiry (its event time plus its
 * view's TTL, given by the caller), or `invalidate` (the caller follows the store's change feed and
 * names the rows written since). The cache holds as many rows as its limits allow at the row width, and
 * once full overwrites them in the order they were first stored; it starts over when the bundle (and so
 * the index space) or the row layout changes.
 */
export class EntityRowCache {
  private owner: object | null = null;
  private layout: object | null = null;
  private ids: IdDictionary | null = null;
  /**
   * True when every entity has a slot of its own (slot = entity index): no index lookup, nothing
   * overwritten. Otherwise slots are handed out in a ring through `slotOf` and `entityOf`.
   */
  private direct = false;
  /** Entity index -> slot + 1 (0: not cached); ring only. */
  private slotOf = new Int32Array(0);
  /** Slot -> entity index (-1: free); ring only. */
  private entityOf = new Int32Array(0);
  /**
   * A slot's record: the last ms its row may be served (-Infinity: none), then the row. Both in one
   * record, so that a lookup touches one place in memory.
   */
  private records = new Float64Array(0);
  private slots = 0;
  private width = 0;
  private next = 0;
  readonly maxAgeMs: number;
  hits = 0;
  misses = 0;

  constructor(private readonly limits: EntityRowCacheLimits) {
    const { rows, maxBytes, maxAgeMs } = limits;
    if (rows !== undefined && (!Number.isInteger(rows) || rows < 1))
      throw new RangeError(`rows must be a whole number >= 1, not ${rows}`);
    if (maxBytes !== undefined && !(maxBytes >= 8))
      throw new RangeError(`maxBytes must be at least 8, not ${maxBytes}`);
    if (!(maxAgeMs >= 0)) throw new RangeError(`maxAgeMs must be >= 0, not ${maxAgeMs}`);
    this.maxAgeMs = maxAgeMs;
  }

  /** Rows the cache holds now (0 before `prepare`). */
  get capacity(): number {
    return this.slots;
  }

  /**
   * Readies the cache for rows of `width` numbers in `layout` (which columns, in which order) about the
   * entities of `ids` in `owner` (the bundle whose indices key it); anything cached for another owner,
   * layout or width is dropped.
   */
  prepare(owner: object, layout: object, ids: IdDictionary, width: number): void {
    if (owner === this.owner && layout === this.layout && width === this.width) return;
    const byBytes = Math.floor((this.limits.maxBytes ?? ROW_CACHE_MAX_BYTES) / (8 * (width + 1)));
    const rows = Math.max(1, Math.min(this.limits.rows ?? Number.POSITIVE_INFINITY, ids.size, byBytes));
    this.owner = owner;
    this.layout = layout;
    this.ids = ids;
    this.width = width;
    this.slots = rows;
    this.direct = rows === ids.size;
    this.slotOf = new Int32Array(this.direct ? 0 : ids.size);
    this.entityOf = new Int32Array(this.direct ? 0 : rows).fill(-1);
    this.records = new Float64Array(rows * (width + 1));
    this.invalidateAll();
    this.next = 0;
  }

  /** The row width cached for `owner` in `layout`, 0 when nothing is. */
  widthFor(owner: object, layout: object): number {
    return owner === this.owner && layout === this.layout ? this.width : 0;
  }

  /**
   * Copies `entity`'s row to `to[base..]` when one still valid at `now` is cached; says whether it did.
   * Call `widthFor` first: `to` must have room for a row of that width.
   */
  copyOut(entity: number, now: number, to: Float64Array, base: number): boolean {
    const slot = this.direct ? entity : this.slotOf[entity]! - 1;
    const w = this.width;
    const at = slot * (w + 1);
    if (slot < 0 || now > this.records[at]!) {
      this.misses++;
      return false;
    }
    this.hits++;
    copyColumns(this.records, at + 1, null, w, to, base);
    return true;
  }

  /**
   * Keeps `entity`'s row, read at `now` (the values `from[start + at[k]]`, or `from[start + k]` without
   * `at`), until `maxAgeMs` from now or `expiresAt`, whichever comes first; in a full ring, in place of
   * the row stored longest ago.
   */
  put(
    entity: number,
    now: number,
    from: Float64Array,
    start: number,
    at: Int32Array | null,
    expiresAt = Number.POSITIVE_INFINITY,
  ): void {
    const w = this.width;
    let slot = entity;
    if (!this.direct) {
      slot = this.slotOf[entity]! - 1;
      if (slot < 0) {
        slot = this.next;
        this.next = (slot + 1) % this.slots;
        const evicted = this.entityOf[slot]!;
        if (evicted >= 0) this.slotOf[evicted] = 0;
        this.entityOf[slot] = entity;
        this.slotOf[entity] = slot + 1;
      }
    }
    const base = slot * (w + 1);
    this.records[base] = Math.min(now + this.maxAgeMs, expiresAt);
    copyColumns(from, start, at, w, this.records, base + 1);
  }

  /** Stops serving the rows of the entities with these ids (ids the cache's bundle lacks are ignored). */
  invalidate(ids: readonly string[]): void {
    if (this.ids === null) return;
    for (const id of ids) {
      const entity: number = this.ids.indexOf(id);
      if (entity < 0) continue;
      const slot = this.direct ? entity : this.slotOf[entity]! - 1;
      if (slot >= 0) this.records[slot * (this.width + 1)] = Number.NEGATIVE_INFINITY;
    }
  }

  /** Stops serving every row. */
  invalidateAll(): void {
    const stride = this.width + 1;
    for (let slot = 0; slot < this.slots; slot++) this.records[slot * stride] = Number.NEGATIVE_INFINITY;
  }
}

/**
 * Copies a row of `width` values to `to[base..]`: `from[start + at[k]]` (the columns `at` picks), or
 * `from[start..start + width]` without `at`. A loop: a subarray view per row is an allocation.
 */
export function copyColumns(
  from: Float64Array,
  start: number,
  at: Int32Array | null,
  width: number,
  to: Float64Array,
  base: number,
): void {
  if (at === null) for (let k = 0; k < width; k++) to[base + k] = from[start + k]!;
  else for (let k = 0; k < width; k++) to[base + k] = from[start + at[k]!]!;
}
