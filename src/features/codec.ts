import { ForyouError } from '../core/errors.js';
import type { Scalar } from './expr.js';
import type { FeatureRow } from './row.js';

/**
 * Packed bytes of a feature row in the online store (little endian):
 *
 *   u8 format (1) | u8 reserved | u16 numeric count | u16 list count | u16 reserved | f64 eventTs
 *   f64 x numeric count (NaN = null)
 *   per list: u16 length, then per value: u8 tag (0 string, 1 number, 2 null), u16 bytes + UTF-8 | f64
 *
 * Numbers stay f64 so an online value equals the offline one bit for bit.
 */
const FORMAT = 1;
const HEAD = 16;

export function encodeRow(row: FeatureRow): Uint8Array {
  let size = HEAD + row.values.length * 8;
  const encoded: (Buffer | number | null)[][] = row.lists.map((list) =>
    list.map((v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : typeof v === 'number' ? v : null)),
  );
  for (const list of encoded) {
    size += 2;
    for (const v of list) size += 1 + (v instanceof Buffer ? 2 + v.length : v === null ? 0 : 8);
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt8(FORMAT, 0);
  out.writeUInt8(0, 1);
  out.writeUInt16LE(row.values.length, 2);
  out.writeUInt16LE(row.lists.length, 4);
  out.writeUInt16LE(0, 6);
  out.writeDoubleLE(row.eventTs, 8);
  let at = HEAD;
  for (const v of row.values) {
    out.writeDoubleLE(v ?? Number.NaN, at);
    at += 8;
  }
  for (const list of encoded) {
    out.writeUInt16LE(list.length, at);
    at += 2;
    for (const v of list) {
      if (v instanceof Buffer) {
        out.writeUInt8(0, at);
        out.writeUInt16LE(v.length, at + 1);
        v.copy(out, at + 3);
        at += 3 + v.length;
      } else if (v === null) {
        out.writeUInt8(2, at++);
      } else {
        out.writeUInt8(1, at);
        out.writeDoubleLE(v as number, at + 1);
        at += 9;
      }
    }
  }
  return out;
}

function view(bytes: Uint8Array): DataView {
  if (bytes.length < HEAD || bytes[0] !== FORMAT)
    throw new ForyouError(
      'FY_INTERNAL',
      `a stored feature row has format ${bytes[0]} (expected ${FORMAT}) or is truncated`,
    );
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Event time of a packed row, without decoding the rest (TTL checks). */
export function rowEventTs(bytes: Uint8Array): number {
  return view(bytes).getFloat64(8, true);
}

/**
 * Decodes the numeric values of the packed row at `bytes[start, end)` straight into `out` at `at` (NaN for
 * null), for reads that fill one matrix for many entities; returns the row's event time. Allocates nothing
 * per row: the doubles are read through one view of the whole underlying buffer, cached while reads keep
 * coming from the same buffer (a store's reused read buffer, a socket buffer).
 */
export function decodeNumericInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  at: number,
  count: number,
): number {
  if (end - start < HEAD || bytes[start] !== FORMAT) view(bytes.subarray(start, end));
  const n = Math.min(count, bytes[start + 2]! | (bytes[start + 3]! << 8), (end - start - HEAD) >> 3);
  const first = bytes.byteOffset + start + HEAD;
  let ts: number;
  if (LITTLE_ENDIAN && (first & 7) === 0) {
    const f64 = doublesOf(bytes.buffer);
    const base = first >> 3;
    for (let k = 0; k < n; k++) out[at + k] = f64[base + k]!;
    ts = f64[base - 1]!;
  } else {
    const dv = dataViewOf(bytes.buffer);
    for (let k = 0; k < n; k++) out[at + k] = dv.getFloat64(first + k * 8, true);
    ts = dv.getFloat64(first - 8, true);
  }
  for (let k = n; k < count; k++) out[at + k] = Number.NaN;
  return ts;
}

let lastBuffer: ArrayBufferLike | null = null;
let lastDoubles: Float64Array<ArrayBufferLike> = new Float64Array(0);
let lastView: DataView | null = null;

function doublesOf(buffer: ArrayBufferLike): Float64Array {
  if (buffer !== lastBuffer) cacheViews(buffer);
  return lastDoubles;
}

function dataViewOf(buffer: ArrayBufferLike): DataView {
  if (buffer !== lastBuffer) cacheViews(buffer);
  return lastView!;
}

function cacheViews(buffer: ArrayBufferLike): void {
  lastBuffer = buffer;
  lastDoubles = new Float64Array(buffer, 0, buffer.byteLength >> 3);
  lastView = new DataView(buffer);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function decodeRow(bytes: Uint8Array): FeatureRow {
  const dv = view(bytes);
  const numeric = dv.getUint16(2, true);
  const listCount = dv.getUint16(4, true);
  const values: (number | null)[] = [];
  let at = HEAD;
  for (let k = 0; k < numeric; k++, at += 8) {
    const v = dv.getFloat64(at, true);
    values.push(Number.isNaN(v) ? null : v);
  }
  const lists: Scalar[][] = [];
  const text = new TextDecoder();
  for (let l = 0; l < listCount; l++) {
    const length = dv.getUint16(at, true);
    at += 2;
    const list: Scalar[] = [];
    for (let k = 0; k < length; k++) {
      const tag = dv.getUint8(at++);
      if (tag === 0) {
        const n = dv.getUint16(at, true);
        list.push(text.decode(bytes.subarray(at + 2, at + 2 + n)));
        at += 2 + n;
      } else if (tag === 1) {
        list.push(dv.getFloat64(at, true));
        at += 8;
      } else list.push(null);
    }
    lists.push(list);
  }
  return { eventTs: dv.getFloat64(8, true), values, lists };
}
