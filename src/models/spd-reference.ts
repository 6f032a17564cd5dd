import { ForyouError } from '../core/errors.js';

/**
 * The reference dense kernels for symmetric positive-definite matrices: plain loops, written to be obviously
 * right, kept beside the blocked, multi-threaded ones in `spd-kernels.ts` and `spd-inverse.ts`, which are
 * tested against them. Matrices are n x n, row-major, in a Float64Array.
 */

export function notPositiveDefinite(pivot: number, value: number): ForyouError {
  return new ForyouError(
    'FY_INVALID_ARGUMENT',
    `the matrix is not positive definite (pivot ${pivot} is ${value}); raise the regularisation (lambda)`,
    { details: { pivot, value } },
  );
}

/**
 * Cholesky-Banachiewicz, row by row: the lower triangle (diagonal included) of `a` becomes L with
 * A = L Lᵀ. Only the lower triangle is read; the strict upper triangle is left as it was.
 */
export function choleskyReference(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= a[i * n + k]! * a[j * n + k]!;
      if (i === j) {
        if (!(s > 0)) throw notPositiveDefinite(i, s);
        a[i * n + i] = Math.sqrt(s);
      } else a[i * n + j] = s / a[j * n + j]!;
    }
  }
}

/**
 * The inverse of a symmetric positive-definite matrix (only its lower triangle is read): Cholesky, then for
 * each column j the two triangular solves L y = e_j and Lᵀ x = y. Returns a new full n x n matrix.
 */
export function spdInverseReference(a: Float64Array, n: number): Float64Array {
  const l = Float64Array.from(a);
  choleskyReference(l, n);
  const inverse = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
      y[i] = s / l[i * n + i]!;
    }
    // Back substitution in place: when row i is solved, y[k] for k > i already holds x[k].
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * y[k]!;
      y[i] = s / l[i * n + i]!;
    }
    for (let i = 0; i < n; i++) inverse[i * n + j] = y[i]!;
  }
  return inverse;
}
