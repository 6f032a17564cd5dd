import { notPositiveDefinite } from './spd-reference.js';

/**
 * Blocked kernels for inverting a symmetric positive-definite matrix, shared by the in-process path and the
 * worker threads of `spd-inverse.ts`. The matrix `m` is `size` x `size`, row-major, `size` a multiple of the
 * block size (the caller pads with an identity block, which leaves the inverse of the real part unchanged).
 *
 * 1. Right-looking blocked Cholesky in the lower triangle: factor the diagonal block, solve the panel below
 *    it, subtract the panel's outer product from the trailing lower triangle (the O(n³/3) part).
 * 2. Mirror: copy L into the strict upper triangle, so Lᵀ rows are contiguous too.
 * 3. One job per block column J of the inverse: forward solve L Y = E_J, back solve Lᵀ X = Y (rows at or
 *    below J's first row only, as the inverse is symmetric), write X into the output and its transpose.
 *
 * Every heavy loop is the 4 x 4 register tile of `mulSubTransposed`, reading rows of contiguous doubles.
 * Work units (block rows, block columns) are claimed through an atomic counter, so one thread or many run
 * the same code, and no unit is done twice.
 */
export interface SpdWorkspace {
  /** Real order of the matrix. */
  n: number;
  /** Padded order, a multiple of `block`. */
  size: number;
  block: number;
  m: Float64Array;
  /** The inverse, n x n row-major (Float32 halves its memory; its values are only read as scores). */
  out: Float32Array | Float64Array;
  /** counter[0]: the next work unit to claim. */
  counter: Int32Array;
}

export type SpdTask =
  | { op: 'panel'; k: number }
  | { op: 'trailing'; k: number }
  | { op: 'mirror' }
  | { op: 'solve' };

/** Depth of one pass over the inner dimension: A and B chunks stay in L2 while every tile uses them. */
const DEPTH_CHUNK = 256;

/**
 * C[i][j] -= Σ_p A[i][p] B[j][p] for i < rows, j < cols (both multiples of 4), p < depth; A[i][p] is
 * a[aOff + i * lda + p], likewise B and C. With `lower`, only tiles on or below the diagonal (j <= i) are
 * done, for a symmetric C whose rows and columns are the same indices.
 */
export function mulSubTransposed(
  a: Float64Array,
  aOff: number,
  lda: number,
  b: Float64Array,
  bOff: number,
  ldb: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  rows: number,
  cols: number,
  depth: number,
  lower: boolean,
): void {
  for (let p0 = 0; p0 < depth; p0 += DEPTH_CHUNK) {
    const len = Math.min(DEPTH_CHUNK, depth - p0);
    for (let j = 0; j < cols; j += 4) {
      const b0 = bOff + j * ldb + p0;
      const b1 = b0 + ldb;
      const b2 = b1 + ldb;
      const b3 = b2 + ldb;
      for (let i = lower ? j : 0; i < rows; i += 4) {
        const a0 = aOff + i * lda + p0;
        const a1 = a0 + lda;
        const a2 = a1 + lda;
        const a3 = a2 + lda;
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0,
          c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0;
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0,
          c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0;
        for (let p = 0; p < len; p++) {
          const x0 = a[a0 + p]!;
          const x1 = a[a1 + p]!;
          const x2 = a[a2 + p]!;
          const x3 = a[a3 + p]!;
          const y0 = b[b0 + p]!;
          const y1 = b[b1 + p]!;
          const y2 = b[b2 + p]!;
          const y3 = b[b3 + p]!;
          c00 += x0 * y0;
          c01 += x0 * y1;
          c02 += x0 * y2;
          c03 += x0 * y3;
          c10 += x1 * y0;
          c11 += x1 * y1;
          c12 += x1 * y2;
          c13 += x1 * y3;
          c20 += x2 * y0;
          c21 += x2 * y1;
          c22 += x2 * y2;
          c23 += x2 * y3;
          c30 += x3 * y0;
          c31 += x3 * y1;
          c32 += x3 * y2;
          c33 += x3 * y3;
        }
        let o = cOff + i * ldc + j;
        c[o]! -= c00;
        c[o + 1]! -= c01;
        c[o + 2]! -= c02;
        c[o + 3]! -= c03;
        o += ldc;
        c[o]! -= c10;
        c[o + 1]! -= c11;
        c[o + 2]! -= c12;
        c[o + 3]! -= c13;
        o += ldc;
        c[o]! -= c20;
        c[o + 1]! -= c21;
        c[o + 2]! -= c22;
        c[o + 3]! -= c23;
        o += ldc;
        c[o]! -= c30;
        c[o + 1]! -= c31;
        c[o + 2]! -= c32;
        c[o + 3]! -= c33;
      }
    }
  }
}

/** Unblocked Cholesky of the diagonal block starting at (k0, k0), in place (lower triangle). */
export function factorDiagonalBlock(m: Float64Array, size: number, k0: number, nb: number): void {
  for (let i = k0; i < k0 + nb; i++) {
    const ri = i * size;
    for (let j = k0; j <= i; j++) {
      const rj = j * size;
      let s = m[ri + j]!;
      for (let k = k0; k < j; k++) s -= m[ri + k]! * m[rj + k]!;
      if (i === j) {
        if (!(s > 0)) throw notPositiveDefinite(i, s);
        m[ri + i] = Math.sqrt(s);
      } else m[ri + j] = s / m[rj + j]!;
    }
  }
}

/** Rows [r0, r1) of the panel below diagonal block k0: L[r][k0..] = A[r][k0..] L_kk⁻ᵀ. */
export function solvePanelRows(
  m: Float64Array,
  size: number,
  k0: number,
  nb: number,
  r0: number,
  r1: number,
): void {
  for (let r = r0; r < r1; r++) {
    const rr = r * size + k0;
    for (let c = 0; c < nb; c++) {
      const rc = (k0 + c) * size + k0;
      let s = m[rr + c]!;
      for (let q = 0; q < c; q++) s -= m[rr + q]! * m[rc + q]!;
      m[rr + c] = s / m[rc + c]!;
    }
  }
}

/** Claims the next work unit, or returns -1 when all `units` are taken. */
function claim(counter: Int32Array, units: number): number {
  const next = Atomics.add(counter, 0, 1);
  return next < units ? next : -1;
}

/** Runs one phase's share of work units until none are left; any number of threads may call it at once. */
export function runSpdTask(ws: SpdWorkspace, task: SpdTask, scratch: Float64Array): void {
  const { m, size, block: nb, counter } = ws;
  const blocks = size / nb;
  if (task.op === 'panel') {
    const k0 = task.k * nb;
    for (let q = claim(counter, blocks - task.k - 1); q >= 0; q = claim(counter, blocks - task.k - 1)) {
      const r0 = (task.k + 1 + q) * nb;
      solvePanelRows(m, size, k0, nb, r0, r0 + nb);
    }
  } else if (task.op === 'trailing') {
    const k0 = task.k * nb;
    const k1 = k0 + nb;
    // Largest block rows first, so the last units to be claimed are the short ones.
    for (let q = claim(counter, blocks - task.k - 1); q >= 0; q = claim(counter, blocks - task.k - 1)) {
      const r0 = (blocks - 1 - q) * nb;
      const lead = m;
      mulSubTransposed(
        lead,
        r0 * size + k0,
        size,
        lead,
        k1 * size + k0,
        size,
        lead,
        r0 * size + k1,
        size,
        nb,
        r0 - k1,
        nb,
        false,
      );
      mulSubTransposed(
        lead,
        r0 * size + k0,
        size,
        lead,
        r0 * size + k0,
        size,
        lead,
        r0 * size + r0,
        size,
        nb,
        nb,
        nb,
        true,
      );
    }
  } else if (task.op === 'mirror') {
    for (let q = claim(counter, blocks); q >= 0; q = claim(counter, blocks))
      mirrorBlockRow(m, size, q * nb, nb);
  } else {
    for (let q = claim(counter, blocks); q >= 0; q = claim(counter, blocks)) solveBlockColumn(ws, q, scratch);
  }
}

/** Copies rows [r0, r0 + nb) of the strict lower triangle into the upper one, one square tile at a time. */
function mirrorBlockRow(m: Float64Array, size: number, r0: number, nb: number): void {
  for (let c0 = 0; c0 <= r0; c0 += nb)
    for (let i = r0; i < r0 + nb; i++) {
      const end = Math.min(c0 + nb, i);
      for (let j = c0; j < end; j++) m[j * size + i] = m[i * size + j]!;
    }
}

/**
 * Block column `jb` of the inverse, rows from its first row down: Y = L⁻¹ E_J by blocks, then X = L⁻ᵀ Y
 * from the bottom block up. `scratch` (block x size doubles) holds Yᵀ: column c of Y is row c of scratch.
 */
function solveBlockColumn(ws: SpdWorkspace, jb: number, y: Float64Array): void {
  const { m, size, block: nb, n, out } = ws;
  const blocks = size / nb;
  const j0 = jb * nb;
  for (let ib = jb; ib < blocks; ib++) {
    const r0 = ib * nb;
    for (let c = 0; c < nb; c++) {
      const row = c * size;
      for (let r = r0; r < r0 + nb; r++) y[row + r] = ib === jb && r - r0 === c ? 1 : 0;
    }
    if (ib > jb) mulSubTransposed(y, j0, size, m, r0 * size + j0, size, y, r0, size, nb, nb, r0 - j0, false);
    forwardSolveDiagonal(m, size, y, r0, nb);
  }
  for (let ib = blocks - 1; ib >= jb; ib--) {
    const r0 = ib * nb;
    const r1 = r0 + nb;
    if (r1 < size)
      mulSubTransposed(y, r1, size, m, r0 * size + r1, size, y, r0, size, nb, nb, size - r1, false);
    backSolveDiagonal(m, size, y, r0, nb);
  }
  const cols = Math.min(nb, n - j0);
  for (let c = 0; c < cols; c++) {
    const row = c * size;
    const j = j0 + c;
    for (let r = j0; r < n; r++) out[j * n + r] = y[row + r]!;
  }
  for (let r = j0; r < n; r++) {
    const o = r * n + j0;
    for (let c = 0; c < cols; c++) out[o + c] = y[c * size + r]!;
  }
}

/**
 * Y[r0..r0+nb) = L_dd⁻¹ Y[r0..r0+nb) for the diagonal block at r0, on every column of Yᵀ (rows of `y`), four
 * columns at a time so each element of L is loaded once for four independent sums.
 */
function forwardSolveDiagonal(m: Float64Array, size: number, y: Float64Array, r0: number, nb: number): void {
  for (let c = 0; c < nb; c += 4) {
    const y0 = c * size;
    const y1 = y0 + size;
    const y2 = y1 + size;
    const y3 = y2 + size;
    for (let r = r0; r < r0 + nb; r++) {
      const lr = r * size;
      let s0 = y[y0 + r]!;
      let s1 = y[y1 + r]!;
      let s2 = y[y2 + r]!;
      let s3 = y[y3 + r]!;
      for (let q = r0; q < r; q++) {
        const l = m[lr + q]!;
        s0 -= l * y[y0 + q]!;
        s1 -= l * y[y1 + q]!;
        s2 -= l * y[y2 + q]!;
        s3 -= l * y[y3 + q]!;
      }
      const d = 1 / m[lr + r]!;
      y[y0 + r] = s0 * d;
      y[y1 + r] = s1 * d;
      y[y2 + r] = s2 * d;
      y[y3 + r] = s3 * d;
    }
  }
}

/** X[r0..r0+nb) = U_dd⁻¹ X[r0..r0+nb) with U = Lᵀ read from the mirrored upper triangle, bottom row first. */
function backSolveDiagonal(m: Float64Array, size: number, y: Float64Array, r0: number, nb: number): void {
  const r1 = r0 + nb;
  for (let c = 0; c < nb; c += 4) {
    const y0 = c * size;
    const y1 = y0 + size;
    const y2 = y1 + size;
    const y3 = y2 + size;
    for (let r = r1 - 1; r >= r0; r--) {
      const ur = r * size;
      let s0 = y[y0 + r]!;
      let s1 = y[y1 + r]!;
      let s2 = y[y2 + r]!;
      let s3 = y[y3 + r]!;
      for (let q = r + 1; q < r1; q++) {
        const u = m[ur + q]!;
        s0 -= u * y[y0 + q]!;
        s1 -= u * y[y1 + q]!;
        s2 -= u * y[y2 + q]!;
        s3 -= u * y[y3 + q]!;
      }
      const d = 1 / m[ur + r]!;
      y[y0 + r] = s0 * d;
      y[y1 + r] = s1 * d;
      y[y2 + r] = s2 * d;
      y[y3 + r] = s3 * d;
    }
  }
}
