/**
 * A small HyperLogLog for approximate distinct counts: 2^p one-byte registers, FNV-1a hashing of the
 * value's string form (32 bits: p for the register, the rest for the rank). Standard error about
 * 1.04 / sqrt(2^p): 9% at p = 7, 3.3% at p = 10. Registers merge by element-wise max, which is how a
 * window's tiles combine.
 */
export function hllHash(value: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so nearby strings spread over registers.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Adds a value to the registers `regs[base .. base + 2^p)`; true when a register changed. */
export function hllAdd(regs: Uint8Array, base: number, precision: number, value: string): boolean {
  return hllAddHash(regs, base, precision, hllHash(value));
}

/** `hllAdd` of a value already hashed with `hllHash` (one hash serves several register sets). */
export function hllAddHash(regs: Uint8Array, base: number, precision: number, h: number): boolean {
  const index = h >>> (32 - precision);
  const rest = (h << precision) >>> 0;
  const rank = rest === 0 ? 32 - precision + 1 : Math.clz32(rest) + 1;
  if (rank <= regs[base + index]!) return false;
  regs[base + index] = rank;
  return true;
}

/** 2^-r for every possible register value (ranks stay below 34). */
const INVERSE_POWERS = Float64Array.from({ length: 64 }, (_, r) => 2 ** -r);

/** Estimates the distinct count of merged registers (`merged` holds the element-wise max). */
export function hllEstimate(merged: Uint8Array, precision: number): number {
  return hllEstimateAt(merged, 0, precision);
}

/** `hllEstimate` of the merged registers `regs[base .. base + 2^p)`, without a subarray. */
export function hllEstimateAt(regs: Uint8Array, base: number, precision: number): number {
  const m = 1 << precision;
  let sum = 0;
  let zeros = 0;
  for (let i = base; i < base + m; i++) {
    const r = regs[i]!;
    sum += INVERSE_POWERS[r]!;
    if (r === 0) zeros++;
  }
  const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
  const raw = (alpha * m * m) / sum;
  // Linear counting is more accurate while many registers are still empty.
  if (raw <= 2.5 * m && zeros > 0) return m * Math.log(m / zeros);
  return raw;
}
