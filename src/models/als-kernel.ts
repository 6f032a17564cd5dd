import { notPositiveDefinite, spdInverseReference } from './spd-reference.js';

/**
 * The kernels of implicit-feedback ALS (Hu, Koren and Volinsky 2008), shared by the calling thread and the
 * worker threads of `als.ts`. One half-iteration solves, for every row r of one side (users or items),
 *
 *   (YᵀY + Σ_{i ∈ r} (c_ri - 1) y_i y_iᵀ + λI) x_r = Σ_{i ∈ r} c_ri y_i
 *
 * with Y the other side's factors: YᵀY is computed once per half-iteration (the Gramian trick), so a row
 * costs O(|r| f² + f³) instead of O(items x f²). Rows are independent and claimed in chunks through an
 * atomic counter, so the result does not depend on how many threads run.
 */
export interface AlsSide {
  /** CSR of this side: row r's entries are [ptr[r], ptr[r + 1]). */
  ptr: Int32Array;
  /** Column of each entry (an index of the other side). */
  idx: Int32Array;
  /** Confidence c of each entry. */
  conf: Float32Array;
}

export interface AlsShared {
  factors: number;
  lambda: number;
  users: AlsSide;
  items: AlsSide;
  /** users x factors and items x factors, row-major, on SharedArrayBuffers. */
  userFactors: Float64Array;
  itemFactors: Float64Array;
  /** factors x factors: the Gramian of the side being held fixed. */
  gram: Float64Array;
  counter: Int32Array;
}

/** `cgSteps` 0: exact solve by Cholesky; otherwise that many conjugate-gradient steps from the current row. */
export type AlsTask = { solve: 'users' | 'items'; cgSteps: number };

const CHUNK = 32;

/** Per-thread buffers, allocated once. */
export interface AlsScratch {
  a: Float64Array;
  b: Float64Array;
  /** Conjugate-gradient vectors: residual, direction, A times direction. */
  r: Float64Array;
  p: Float64Array;
  ap: Float64Array;
}

export function alsScratch(factors: number): AlsScratch {
  const vector = () => new Float64Array(factors);
  return { a: new Float64Array(factors * factors), b: vector(), r: vector(), p: vector(), ap: vector() };
}

/** Solves this thread's share of the rows of one side, with `shared.gram` already holding YᵀY. */
export function runAlsTask(shared: AlsShared, task: AlsTask, scratch: AlsScratch): void {
  const side = task.solve === 'users' ? shared.users : shared.items;
  const out = task.solve === 'users' ? shared.userFactors : shared.itemFactors;
  const other = task.solve === 'users' ? shared.itemFactors : shared.userFactors;
  const rows = side.ptr.length - 1;
  for (
    let r0 = Atomics.add(shared.counter, 0, CHUNK);
    r0 < rows;
    r0 = Atomics.add(shared.counter, 0, CHUNK)
  ) {
    const r1 = Math.min(rows, r0 + CHUNK);
    for (let r = r0; r < r1; r++)
      if (task.cgSteps > 0)
        solveRowCg(shared.gram, other, shared.factors, shared.lambda, side, r, out, scratch, task.cgSteps);
      else solveRow(shared.gram, other, shared.factors, shared.lambda, side, r, out, scratch);
  }
}

/** Lower triangle of YᵀY (mirrored to the upper) into `gram`. */
export function gramian(y: Float64Array, rows: number, f: number, gram: Float64Array): void {
  gram.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * f;
    for (let p = 0; p < f; p++) {
      const v = y[o + p]!;
      if (v === 0) continue;
      const g = p * f;
      for (let q = 0; q <= p; q++) gram[g + q]! += v * y[o + q]!;
    }
  }
  for (let p = 0; p < f; p++) for (let q = 0; q < p; q++) gram[q * f + p] = gram[p * f + q]!;
}

/** One row's normal equations, built on the Gramian, solved by Cholesky into out[r]. */
export function solveRow(
  gram: Float64Array,
  other: Float64Array,
  f: number,
  lambda: number,
  side: AlsSide,
  r: number,
  out: Float64Array,
  scratch: AlsScratch,
): void {
  const { a, b } = scratch;
  for (let p = 0; p < f * f; p++) a[p] = gram[p]!;
  for (let p = 0; p < f; p++) {
    a[p * f + p]! += lambda;
    b[p] = 0;
  }
  const { ptr, idx, conf } = side;
  for (let e = ptr[r]!; e < ptr[r + 1]!; e++) {
    const o = idx[e]! * f;
    const c = conf[e]!;
    const extra = c - 1;
    for (let p = 0; p < f; p++) {
      const v = other[o + p]!;
      b[p]! += c * v;
      const w = extra * v;
      const g = p * f;
      for (let q = 0; q <= p; q++) a[g + q]! += w * other[o + q]!;
    }
  }
  choleskySolveInPlace(a, b, f);
  const o = r * f;
  for (let p = 0; p < f; p++) out[o + p] = b[p]!;
}

/**
 * The same normal equations solved approximately by `steps` conjugate-gradient steps, warm-started from the
 * row's current value (as in Takács et al. 2011): each step costs O(f² + |r| f) instead of O(|r| f² + f³),
 * and A is never formed: A v = (YᵀY + λI) v + Σ (c - 1) y (y · v).
 */
export function solveRowCg(
  gram: Float64Array,
  other: Float64Array,
  f: number,
  lambda: number,
  side: AlsSide,
  row: number,
  out: Float64Array,
  scratch: AlsScratch,
  steps: number,
): void {
  const { r, p, ap } = scratch;
  const xo = row * f;
  const start = side.ptr[row]!;
  const end = side.ptr[row + 1]!;
  // r = b - A x
  applyNormal(gram, other, f, lambda, side.idx, side.conf, start, end, out, xo, r);
  for (let k = 0; k < f; k++) r[k] = -r[k]!;
  for (let e = start; e < end; e++) {
    const o = side.idx[e]! * f;
    const c = side.conf[e]!;
    for (let k = 0; k < f; k++) r[k]! += c * other[o + k]!;
  }
  let rr = 0;
  for (let k = 0; k < f; k++) {
    p[k] = r[k]!;
    rr += r[k]! * r[k]!;
  }
  for (let step = 0; step < steps && rr > 1e-20; step++) {
    applyNormal(gram, other, f, lambda, side.idx, side.conf, start, end, p, 0, ap);
    let pap = 0;
    for (let k = 0; k < f; k++) pap += p[k]! * ap[k]!;
    const alpha = rr / pap;
    let next = 0;
    for (let k = 0; k < f; k++) {
      out[xo + k]! += alpha * p[k]!;
      r[k]! -= alpha * ap[k]!;
      next += r[k]! * r[k]!;
    }
    const beta = next / rr;
    for (let k = 0; k < f; k++) p[k] = r[k]! + beta * p[k]!;
    rr = next;
  }
}

/** into = A v for row entries [start, end): (G + λI) v + Σ (c - 1) y (y · v); v is v[vo .. vo + f). */
function applyNormal(
  gram: Float64Array,
  other: Float64Array,
  f: number,
  lambda: number,
  idx: Int32Array,
  conf: Float32Array,
  start: number,
  end: number,
  v: Float64Array,
  vo: number,
  into: Float64Array,
): void {
  for (let i = 0; i < f; i++) {
    const g = i * f;
    let s = lambda * v[vo + i]!;
    for (let k = 0; k < f; k++) s += gram[g + k]! * v[vo + k]!;
    into[i] = s;
  }
  for (let e = start; e < end; e++) {
    const o = idx[e]! * f;
    let dot = 0;
    for (let k = 0; k < f; k++) dot += other[o + k]! * v[vo + k]!;
    const w = (conf[e]! - 1) * dot;
    for (let k = 0; k < f; k++) into[k]! += w * other[o + k]!;
  }
}

/** Solves A x = b for SPD A (lower triangle read and overwritten by L); x replaces b. */
export function choleskySolveInPlace(a: Float64Array, b: Float64Array, f: number): void {
  for (let i = 0; i < f; i++) {
    const ri = i * f;
    for (let j = 0; j <= i; j++) {
      const rj = j * f;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      if (i === j) {
        if (!(s > 0)) throw notPositiveDefinite(i, s);
        a[ri + i] = Math.sqrt(s);
      } else a[ri + j] = s / a[rj + j]!;
    }
  }
  for (let i = 0; i < f; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= a[i * f + k]! * b[k]!;
    b[i] = s / a[i * f + i]!;
  }
  for (let i = f - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let k = i + 1; k < f; k++) s -= a[k * f + i]! * b[k]!;
    b[i] = s / a[i * f + i]!;
  }
}

/**
 * Reference for one row, straight from the definition: Yᵀ C_r Y + λI summed over every column of the other
 * side (c = 1 where the row has no entry) and Yᵀ C_r p_r, solved through the reference inverse. O(n f²).
 */
export function solveRowReference(
  other: Float64Array,
  otherRows: number,
  f: number,
  lambda: number,
  side: AlsSide,
  r: number,
): Float64Array {
  const c = new Float64Array(otherRows).fill(1);
  const p = new Float64Array(otherRows);
  for (let e = side.ptr[r]!; e < side.ptr[r + 1]!; e++) {
    c[side.idx[e]!] = side.conf[e]!;
    p[side.idx[e]!] = 1;
  }
  const a = new Float64Array(f * f);
  const b = new Float64Array(f);
  for (let i = 0; i < otherRows; i++)
    for (let x = 0; x < f; x++) {
      b[x]! += c[i]! * p[i]! * other[i * f + x]!;
      for (let y = 0; y < f; y++) a[x * f + y]! += c[i]! * other[i * f + x]! * other[i * f + y]!;
    }
  for (let x = 0; x < f; x++) a[x * f + x]! += lambda;
  const inverse = spdInverseReference(a, f);
  const solution = new Float64Array(f);
  for (let x = 0; x < f; x++) for (let y = 0; y < f; y++) solution[x]! += inverse[x * f + y]! * b[y]!;
  return solution;
}
