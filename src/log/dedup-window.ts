/**
 * The ids of the most recent `capacity` records of a topic and their offsets, so a repeated id is answered
 * with the original offset instead of being stored twice. Eviction order comes from a ring of the ids in
 * arrival order: evicting through the Map's own iteration order would be O(deleted entries) in V8, which
 * made every append of a full window slow.
 */
export class DedupWindow {
  private readonly offsets = new Map<string, number>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  get(id: string): number | undefined {
    return this.offsets.get(id);
  }

  /** Remembers a new id (the caller checked it is not already known), evicting the oldest when full. */
  add(id: string, offset: number): void {
    const evicted = this.ring[this.next];
    if (evicted !== undefined) this.offsets.delete(evicted);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.offsets.set(id, offset);
  }

  get size(): number {
    return this.offsets.size;
  }
}
