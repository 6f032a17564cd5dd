/**
 * The ids of the most recent `capacity` records of a topic and their offsets, so a repeated id is answered
 * with the original offset instead of being stored twice. Map iteration order is insertion order, which
 * makes evicting the oldest id O(1).
 */
export class DedupWindow {
  private readonly offsets = new Map<string, number>();

  constructor(readonly capacity: number) {}

  get(id: string): number | undefined {
    return this.offsets.get(id);
  }

  add(id: string, offset: number): void {
    this.offsets.set(id, offset);
    if (this.offsets.size > this.capacity) {
      const oldest = this.offsets.keys().next();
      if (!oldest.done) this.offsets.delete(oldest.value);
    }
  }

  get size(): number {
    return this.offsets.size;
  }
}
