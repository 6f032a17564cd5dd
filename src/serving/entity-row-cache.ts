import type { IdDictionary } from '../core/id-dictionary.js';

/** How many rows an `EntityRowCache` may hold, and for how long. */
export interface EntityRowCacheLimits {
  /** Most rows (default: no limit but `maxBytes`). */
  rows?: number;
  /** Most bytes of row values (default 256 MiB): the rows held are at most `maxBytes / (8 x width)`. */
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
  /** Entity index -> slot + 1 (0: not cached). */
  private slotOf = new Int32Array(0);
  /** Slot -> entity index (-1: free). */
  private entityOf = new Int32Array(0);
  /** Slot -> the last ms its row may be served. */
  private validUntil = new Float64Array(0);
  private values = new Float64Array(0);
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
    return this.entityOf.length;
  }

  /**
   * Readies the cache for rows of `width` numbers in `layout` (which columns, in which order) about the
   * entities of `ids` in `owner` (the bundle whose indices key it); anything cached for another owner,
   * layout or width is dropped.
   */
  prepare(owner: object, layout: object, ids: IdDictionary, width: number): void {
    if (owner === this.owner && layout === this.layout && width === this.width) return;
    const byBytes = Math.floor((this.limits.maxBytes ?? ROW_CACHE_MAX_BYTES) / (8 * Math.max(1, width)));
    const rows = Math.max(1, Math.min(this.limits.rows ?? Number.POSITIVE_INFINITY, ids.size, byBytes));
    this.owner = owner;
    this.layout = layout;
    this.ids = ids;
    this.width = width;
    this.slotOf = new Int32Array(ids.size);
    this.entityOf = new Int32Array(rows).fill(-1);
    this.validUntil = new Float64Array(rows);
    this.values = new Float64Array(rows * width);
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
    const slot = this.slotOf[entity]! - 1;
    if (slot < 0 || now > this.validUntil[slot]!) {
      this.misses++;
      return false;
    }
    this.hits++;
    const w = this.width;
    const from = this.values;
    const at = slot * w;
    for (let k = 0; k < w; k++) to[base + k] = from[at + k]!;
    return true;
  }

  /**
   * Keeps `entity`'s row, read at `now` (the values `from[at[k]]`, or `from[start + k]` without `at`), in
   * place of the oldest row, until `maxAgeMs` from now or `expiresAt`, whichever comes first.
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
    let slot = this.slotOf[entity]! - 1;
    if (slot < 0) {
      slot = this.next;
      this.next = (slot + 1) % this.entityOf.length;
      const evicted = this.entityOf[slot]!;
      if (evicted >= 0) this.slotOf[evicted] = 0;
      this.entityOf[slot] = entity;
      this.slotOf[entity] = slot + 1;
    }
    this.validUntil[slot] = Math.min(now + this.maxAgeMs, expiresAt);
    const to = this.values;
    const base = slot * w;
    if (at === null) for (let k = 0; k < w; k++) to[base + k] = from[start + k]!;
    else for (let k = 0; k < w; k++) to[base + k] = from[start + at[k]!]!;
  }

  /** Stops serving the rows of the entities with these ids (ids the cache's bundle lacks are ignored). */
  invalidate(ids: readonly string[]): void {
    if (this.ids === null) return;
    for (const id of ids) {
      const entity: number = this.ids.indexOf(id);
      if (entity < 0) continue;
      const slot = this.slotOf[entity]! - 1;
      if (slot < 0) continue;
      this.slotOf[entity] = 0;
      this.entityOf[slot] = -1;
    }
  }

  /** Stops serving every row. */
  invalidateAll(): void {
    this.slotOf.fill(0);
    this.entityOf.fill(-1);
  }
}
