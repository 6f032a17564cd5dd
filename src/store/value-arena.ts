/**
 * Where a batch read copies its values: one 64 KiB chunk holds hundreds of small values, so a getMany of
 * 1,000 values makes a handful of allocations instead of 1,000. Measured on 1,000 values of 256 bytes:
 * about 80 µs per call against 500-750 µs for one new array per value (GC included), and 1.26 ms against
 * 1.51 ms p50 for a whole LMDB read (docs/online-store.md). Every value starts at a multiple of 8 bytes,
 * so a Float32Array or Float64Array view over it needs no copy.
 *
 * The price: values of one call share chunks, so keeping one small value alive keeps its chunk (64 KiB)
 * alive. Values larger than a quarter chunk get an allocation of their own.
 */
const CHUNK_BYTES = 64 * 1024;
const OWN_ALLOCATION_BYTES = CHUNK_BYTES / 4;
const ALIGN = 8;

export class ValueArena {
  private chunk: Uint8Array | null = null;
  private used = 0;

  /**
   * A fresh array of `length` bytes filled with `source[start, start + length)`. `source` is read only
   * through these bounds (LMDB's reused read buffer is far longer than the value it holds).
   */
  copy(source: Uint8Array, start: number, length: number): Uint8Array {
    // Plain Uint8Array views (not Buffer.subarray): cheaper to make, and bounded by explicit offsets.
    const from = new Uint8Array(source.buffer, source.byteOffset + start, length);
    if (length > OWN_ALLOCATION_BYTES) {
      const own = new Uint8Array(length);
      own.set(from);
      return own;
    }
    let chunk = this.chunk;
    if (chunk === null || this.used + length > chunk.length) {
      chunk = this.chunk = new Uint8Array(CHUNK_BYTES);
      this.used = 0;
    }
    const at = this.used;
    chunk.set(from, at);
    this.used = (at + length + ALIGN - 1) & ~(ALIGN - 1);
    return new Uint8Array(chunk.buffer, at, length);
  }
}
