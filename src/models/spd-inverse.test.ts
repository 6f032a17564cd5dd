import { describe, expect, it } from 'vitest';
import { invertSpd, SpdMatrix } from './spd-inverse.js';
import { mulSubTransposed } from './spd-kernels.js';
import { choleskyReference, spdInverseReference } from './spd-reference.js';
import { randomSpd } from './testing.js';

function blockedInverse(a: Float64Array, n: number, block: number, threads: number, shared = true) {
  const m = new SpdMatrix(n, block);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m.add(i, j, a[i * n + j]!);
  const out = new Float64Array(shared ? new SharedArrayBuffer(n * n * 8) : new ArrayBuffer(n * n * 8));
  return invertSpd(m, out, { threads }).then(() => out);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
  return worst;
}

describe('spd reference', () => {
  it('factors A = L Lᵀ and inverts: A · A⁻¹ = I', () => {
    const n = 12;
    const a = randomSpd(n, 1);
    const l = Float64Array.from(a);
    choleskyReference(l, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k <= j; k++) s += l[i * n + k]! * l[j * n + k]!;
        expect(s).toBeCloseTo(a[i * n + j]!, 10);
      }
    const inverse = spdInverseReference(a, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inverse[k * n + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => choleskyReference(Float64Array.from([1, 2, 2, 1]), 2)).toThrow('not positive definite');
  });
});

describe('mulSubTransposed', () => {
  it('matches the triple loop, full and lower-triangle', () => {
    const rows = 8;
    const depth = 300; // crosses a depth chunk
    const a = Float64Array.from({ length: rows * depth }, (_, k) => Math.sin(k));
    const b = Float64Array.from({ length: rows * depth }, (_, k) => Math.cos(3 * k));
    for (const lower of [false, true]) {
      const c = Float64Array.from({ length: rows * rows }, (_, k) => k);
      mulSubTransposed(a, 0, depth, b, 0, depth, c, 0, rows, rows, rows, depth, lower);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < rows; j++) {
          if (lower && Math.floor(j / 4) > Math.floor(i / 4)) {
            expect(c[i * rows + j]).toBe(i * rows + j);
            continue;
          }
          let s = i * rows + j;
          for (let p = 0; p < depth; p++) s -= a[i * depth + p]! * b[j * depth + p]!;
          expect(c[i * rows + j]).toBeCloseTo(s, 9);
        }
    }
  });
});

describe('invertSpd (blocked) against the reference', () => {
  it.each([
    [1, 4],
    [7, 4],
    [33, 8],
    [64, 16],
    [101, 16],
    [150, 128],
  ])('n = %i, block %i, one thread', async (n, block) => {
    const a = randomSpd(n, n);
    const out = await blockedInverse(a, n, block, 1, false);
    expect(maxDifference(out, spdInverseReference(a, n))).toBeLessThan(1e-9);
  });

  it('gives the same inverse on two worker threads', async () => {
    const n = 203;
    const a = randomSpd(n, 5, 150, 1);
    const reference = spdInverseReference(a, n);
    const two = await blockedInverse(a, n, 16, 2);
    expect(maxDifference(two, reference)).toBeLessThan(1e-9);
  });

  it('writes Float32 output, and refuses a wrong output length or a non-shared output with threads', async () => {
    const n = 20;
    const a = randomSpd(n, 3);
    const m = new SpdMatrix(n, 8);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) m.add(i, j, a[i * n + j]!);
    const out = new Float32Array(n * n);
    await invertSpd(m, out, { threads: 1 });
    expect(maxDifference(out, spdInverseReference(a, n))).toBeLessThan(1e-5);
    await expect(invertSpd(new SpdMatrix(n, 8), new Float32Array(3), { threads: 1 })).rejects.toThrow(
      'expected 400',
    );
    await expect(invertSpd(new SpdMatrix(40, 8), new Float32Array(1600), { threads: 2 })).rejects.toThrow(
      'SharedArrayBuffer',
    );
  });

  it('refuses a matrix that is not positive definite, on any thread count', async () => {
    for (const threads of [1, 2]) {
      const m = new SpdMatrix(40, 8);
      for (let i = 0; i < 40; i++) m.add(i, i, i === 30 ? -1 : 1);
      await expect(
        invertSpd(m, new Float64Array(new SharedArrayBuffer(40 * 40 * 8)), { threads }),
      ).rejects.toThrow('not positive definite (pivot 30');
    }
  });
});
