/**
 * The ids of the most recent `capacity` records of a topic and their offsets, so a repeated id is answered
 * with the original offset instead of being stored twice.
 *
 * Ids are remembered by a 64-bit hash in an open-addressing table (linear probing, backward-shift
 * deletion), with a ring of the hashes in arrival order for eviction. A slot is 16 bytes of one buffer (two
 * 32-bit hash halves, then the offset as a float64), so a probe touches one cache line, not three. Compared with a
 * `Map<string, number>` this keeps no strings alive, touches one or two cache lines per lookup and gives
 * the garbage collector nothing to trace, which made appends markedly faster. The price is that two
 * different ids could share a hash: with the default window of a million ids, the chance that a new id is
 * mistaken for a recent one is about 5e-14 per append (n / 2^64).
 */
export class DedupWindow {
  private readonly mask: number;
  /** Slot `s`: hash halves at [4s] and [4s + 1]. */
  private readonly hashes: Int32Array;
  /** Slot `s`: offset + 1 at [2s + 1]; 0 marks an empty slot. */
  private readonly offsets: Float64Array;
  private readonly ringA: Int32Array;
  private readonly ringB: Int32Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    const table = new ArrayBuffer(size * 16);
    this.hashes = new Int32Array(table);
    this.offsets = new Float64Array(table);
    this.ringA = new Int32Array(capacity);
    this.ringB = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get(id: string): number | undefined {
    this.hash(id);
    const slot = this.find(H[0]!, H[1]!);
    return slot < 0 ? undefined : this.offsets[2 * slot + 1]! - 1;
  }

  /** Remembers a new id (the caller checked it is not already known), evicting the oldest when full. */
  add(id: string, offset: number): void {
    this.hash(id);
    const a = H[0]!;
    const b = H[1]!;
    if (this.count === this.capacity) this.remove(this.ringA[this.next]!, this.ringB[this.next]!);
    this.ringA[this.next] = a;
    this.ringB[this.next] = b;
    this.next = (this.next + 1) % this.capacity;
    const { hashes, offsets, mask } = this;
    let slot = a & mask;
    while (offsets[2 * slot + 1] !== 0) {
      if (hashes[4 * slot] === a && hashes[4 * slot + 1] === b) {
        offsets[2 * slot + 1] = offset + 1;
        return;
      }
      slot = (slot + 1) & mask;
    }
    hashes[4 * slot] = a;
    hashes[4 * slot + 1] = b;
    offsets[2 * slot + 1] = offset + 1;
    this.count++;
  }

  /** Hashes `id` into H, unless it is the id hashed last (append calls `get` then `add` for each new id). */
  private lastId: string | null = null;
  private hash(id: string): void {
    if (id === this.lastId) return;
    hashId(id);
    this.lastId = id;
  }

  private find(a: number, b: number): number {
    const { hashes, offsets, mask } = this;
    let slot = a & mask;
    while (offsets[2 * slot + 1] !== 0) {
      if (hashes[4 * slot] === a && hashes[4 * slot + 1] === b) return slot;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /** Deletes a hash and shifts back the entries of its probe run so lookups stay correct. */
  private remove(a: number, b: number): void {
    let hole = this.find(a, b);
    if (hole < 0) return;
    this.count--;
    const { hashes, offsets, mask } = this;
    let slot = hole;
    for (;;) {
      slot = (slot + 1) & mask;
      if (offsets[2 * slot + 1] === 0) break;
      const home = hashes[4 * slot]! & mask;
      // The entry may move into the hole if its home is not cyclically within (hole, slot].
      const between = hole <= slot ? home > hole && home <= slot : home > hole || home <= slot;
      if (between) continue;
      hashes[4 * hole] = hashes[4 * slot]!;
      hashes[4 * hole + 1] = hashes[4 * slot + 1]!;
      offsets[2 * hole + 1] = offsets[2 * slot + 1]!;
      hole = slot;
    }
    offsets[2 * hole + 1] = 0;
  }
}

const H = new Int32Array(2);

/** Two independent 32-bit hashes of a string (FNV-1a and a multiply-rotate hash), into `H`. */
function hashId(id: string): void {
  let a = 0x811c9dc5 | 0;
  let b = 0x9e3779b9 | 0;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b + c, 0x85ebca6b);
    b = (b << 13) | (b >>> 19);
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x7feb352d);
  a ^= a >>> 15;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 13;
  H[0] = a;
  H[1] = b ^ id.length;
}
