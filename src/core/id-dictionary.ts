import { ForyouError } from './errors.js';

/** Decoders every Node.js `Buffer` has (`buffer.latin1Slice` and `ucs2Slice`), left out of its types. */
interface Decoders {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

/** FNV-1a over UTF-16 code units: `indexOf` hashes a string, `hashAt` the stored units, alike. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const HAS_DECODERS =
  typeof (Buffer.prototype as unknown as Partial<Decoders>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as unknown as Partial<Decoders>).ucs2Slice === 'function';

/**
 * A fixed list of distinct string ids and its reverse lookup, held outside the JavaScript heap: the ids'
 * characters in one buffer, their starts in an `Int32Array`, and an open-addressing hash table of dense
 * indices. A million ids as strings in an array plus a `Map` are two million heap objects that every full
 * garbage collection marks and may move (measured on the serving bundle: about 64 of its 80 MB of live
 * heap, and 30-50 ms pauses); here they are three typed arrays the collector never looks into.
 *
 * Lookups (`indexOf`) hash the string's code units and compare in place, without allocating. `id(i)`
 * decodes a new string each call, so hot paths keep dense indices and decode only what they emit.
 */
export class IdDictionary implements Iterable<string> {
  /**
   * Characters of every id, back to back: one byte each when every id is Latin-1, else UTF-16 units in the
   * machine's byte order (as every array of a saved bundle is), decoded as little-endian.
   */
  private readonly chars: Buffer;
  private readonly units: Uint8Array | Uint16Array;
  private readonly wide: boolean;
  /** Id `i` is `units[starts[i]..starts[i + 1])`. */
  private readonly starts: Int32Array;
  /** Slot -> index + 1 (0: empty); the table is a power of two at least twice the ids. */
  private readonly slots: Int32Array;
  private readonly mask: number;

  private constructor(chars: Buffer, wide: boolean, starts: Int32Array) {
    this.chars = chars;
    this.wide = wide;
    this.units = wide
      ? new Uint16Array(chars.buffer, chars.byteOffset, chars.byteLength >> 1)
      : new Uint8Array(chars.buffer, chars.byteOffset, chars.byteLength);
    this.starts = starts;
    let size = 16;
    while (size < this.size * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size);
    for (let i = 0; i < this.size; i++) {
      let slot = this.hashAt(i) & this.mask;
      while (this.slots[slot] !== 0) {
        if (this.sameAs(this.slots[slot]! - 1, i))
          throw new ForyouError('FY_INVALID_ARGUMENT', `id "${this.id(i)}" appears twice in an id list`);
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = i + 1;
    }
  }

  /** A dictionary of `ids` in their order; FY_INVALID_ARGUMENT when one appears twice. */
  static of(ids: readonly string[]): IdDictionary {
    let total = 0;
    let wide = false;
    for (const id of ids) {
      total += id.length;
      if (!wide) for (let k = 0; k < id.length; k++) if (id.charCodeAt(k) > 0xff) wide = true;
    }
    const chars = Buffer.alloc(wide ? total * 2 : total);
    const units = wide ? new Uint16Array(chars.buffer, chars.byteOffset, total) : chars;
    const starts = new Int32Array(ids.length + 1);
    let at = 0;
    for (const [i, id] of ids.entries()) {
      starts[i] = at;
      for (let k = 0; k < id.length; k++) units[at++] = id.charCodeAt(k);
    }
    starts[ids.length] = at;
    return new IdDictionary(chars, wide, starts);
  }

  /**
   * A dictionary from its two arrays as written by `toArrays` (a saved bundle's files); the table is
   * rebuilt, which also checks that the ids are distinct.
   */
  static fromArrays(chars: Uint8Array, starts: Int32Array, wide: boolean): IdDictionary {
    const total = starts[starts.length - 1] ?? 0;
    const ok =
      starts.length >= 1 &&
      starts[0] === 0 &&
      chars.byteLength === (wide ? total * 2 : total) &&
      starts.every((s, i) => i === 0 || s >= starts[i - 1]!);
    if (!ok)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        'id list arrays are inconsistent (truncated or corrupt file?)',
      );
    return new IdDictionary(Buffer.from(chars.buffer, chars.byteOffset, chars.byteLength), wide, starts);
  }

  /** The arrays `fromArrays` takes back. */
  toArrays(): { chars: Uint8Array; starts: Int32Array; wide: boolean } {
    return { chars: this.chars, starts: this.starts, wide: this.wide };
  }

  get size(): number {
    return this.starts.length - 1;
  }

  /** Id number `i` (a new string each call); FY_INTERNAL when out of range (a caller's bug, not input). */
  id(i: number): string {
    if (!(i >= 0 && i < this.size))
      throw new ForyouError('FY_INTERNAL', `id index ${i} is outside 0..${this.size - 1}`);
    const a = this.starts[i]!;
    const b = this.starts[i + 1]!;
    // Buffer's own decoders, without `toString`'s argument handling (a third of the cost of a short id).
    const chars = this.chars as unknown as Decoders;
    if (!HAS_DECODERS)
      return this.wide ? this.chars.toString('utf16le', 2 * a, 2 * b) : this.chars.toString('latin1', a, b);
    return this.wide ? chars.ucs2Slice(2 * a, 2 * b) : chars.latin1Slice(a, b);
  }

  /** The index of `id`, or -1 when it is not in the list. */
  indexOf(id: string): number {
    let h = FNV_OFFSET;
    for (let k = 0; k < id.length; k++) h = Math.imul(h ^ id.charCodeAt(k), FNV_PRIME);
    let slot = h & this.mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      if (this.equals(entry - 1, id)) return entry - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  has(id: string): boolean {
    return this.indexOf(id) >= 0;
  }

  /** Every id as a string array (allocates them all: tests, small lists, export). */
  toArray(): string[] {
    return Array.from({ length: this.size }, (_, i) => this.id(i));
  }

  *[Symbol.iterator](): Iterator<string> {
    for (let i = 0; i < this.size; i++) yield this.id(i);
  }

  private hashAt(i: number): number {
    let h = FNV_OFFSET;
    for (let k = this.starts[i]!; k < this.starts[i + 1]!; k++) h = Math.imul(h ^ this.units[k]!, FNV_PRIME);
    return h;
  }

  private equals(i: number, id: string): boolean {
    const a = this.starts[i]!;
    if (this.starts[i + 1]! - a !== id.length) return false;
    for (let k = 0; k < id.length; k++) if (this.units[a + k] !== id.charCodeAt(k)) return false;
    return true;
  }

  private sameAs(i: number, j: number): boolean {
    const a = this.starts[i]!;
    const b = this.starts[j]!;
    const length = this.starts[i + 1]! - a;
    if (this.starts[j + 1]! - b !== length) return false;
    for (let k = 0; k < length; k++) if (this.units[a + k] !== this.units[b + k]) return false;
    return true;
  }
}
