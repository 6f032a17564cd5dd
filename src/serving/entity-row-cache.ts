/**
 * Feature rows of shared entities (items, creators) kept in this process for a short, bounded time, keyed by
 * the bundle's dense entity index. Every feed request hydrates the few hundred items its pre-ranker kept,
 * and the same popular items and creators come back request after request; each miss is a point read in
 * the online store, which at a million items costs 2-5 us (a B-tree walk to a leaf page that is rarely in
 * the CPU's caches). A hit is an index lookup and a row copy.
 *
 * Rows are at most `maxAgeMs` old when served: item and creator aggregates (counts and rates over hours and
 * days) barely move in a second, while user features, which a request's own engagement changes, are never
 * cached. The cache holds `capacity` rows and overwrites them in the order they were first stored; it starts over when the bundle
 * (and so the index space) or the row width changes.
 */
export class EntityRowCache {
  private owner: object | null = null;
  /** Entity index -> slot + 1 (0: not cached). */
  private slotOf = new Int32Array(0);
  /** Slot -> entity index (-1: free). */
  private entityOf: Int32Array;
  private fetchedAt: Float64Array;
  private values = new Float64Array(0);
  private width = 0;
  private next = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly capacity: number,
    readonly maxAgeMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a whole number >= 1, not ${capacity}`);
    if (!(maxAgeMs >= 0)) throw new RangeError(`maxAgeMs must be >= 0, not ${maxAgeMs}`);
    this.entityOf = new Int32Array(capacity).fill(-1);
    this.fetchedAt = new Float64Array(capacity);
  }

  /**
   * Readies the cache for rows of `width` numbers about `entities` entities of `owner` (the bundle whose
   * indices key it); anything cached for another owner or width is dropped.
   */
  prepare(owner: object, entities: number, width: number): void {
    if (owner === this.owner && width === this.width && entities <= this.slotOf.length) return;
    this.owner = owner;
    this.width = width;
    this.slotOf = new Int32Array(entities);
    this.entityOf.fill(-1);
    this.values = new Float64Array(this.capacity * width);
    this.next = 0;
  }

  /** The row width cached for `owner`, 0 when nothing is. */
  widthFor(owner: object): number {
    return owner === this.owner ? this.width : 0;
  }

  /**
   * Copies `entity`'s row to `to[base..]` when one fetched no earlier than `now - maxAgeMs` is cached;
   * says whether it did. Call `widthFor` first: `to` must have room for a row of that width.
   */
  copyOut(entity: number, now: number, to: Float64Array, base: number): boolean {
    const slot = this.slotOf[entity]! - 1;
    if (slot < 0 || now - this.fetchedAt[slot]! > this.maxAgeMs) {
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

  /** Keeps `entity`'s row, `from[at..at + width]`, read at `now`, in place of the oldest row. */
  put(entity: number, now: number, from: Float64Array, at: number): void {
    const w = this.width;
    let slot = this.slotOf[entity]! - 1;
    if (slot < 0) {
      slot = this.next;
      this.next = (slot + 1) % this.capacity;
      const evicted = this.entityOf[slot]!;
      if (evicted >= 0) this.slotOf[evicted] = 0;
      this.entityOf[slot] = entity;
      this.slotOf[entity] = slot + 1;
    }
    this.fetchedAt[slot] = now;
    const to = this.values;
    const base = slot * w;
    for (let k = 0; k < w; k++) to[base + k] = from[at + k]!;
  }
}
