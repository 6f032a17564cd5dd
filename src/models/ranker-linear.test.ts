import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { fitLinear, linearObjective } from './ranker-linear.js';

/**
 * Standardised-looking rows (normal features) and a target drawn from a known linear model: a 0/1 label
 * from the logistic of it when `logistic`, else the value plus normal noise.
 */
function planted(rows: number, width: number, logistic: boolean, seed: string) {
  const rng = new Rng(seed);
  const truth = Float64Array.from({ length: width }, () => rng.normal(0, 0.5));
  const z = new Float32Array(rows * width);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let a = -1;
    for (let f = 0; f < width; f++) {
      const v = rng.normal(0, 1);
      z[r * width + f] = v;
      a += truth[f]! * v;
    }
    y[r] = logistic ? (rng.chance(1 / (1 + Math.exp(-a))) ? 1 : 0) : a + rng.normal(0, 1);
  }
  return { z, y, target: (r: number) => y[r]! };
}

/**
 * The exact minimum of `linearObjective` by Newton's method in float64 (the objective is convex; a few
 * iterations reach it to rounding), as the reference a converged fit should approach.
 */
function newtonMinimum(
  z: Float32Array,
  width: number,
  y: Float64Array,
  logistic: boolean,
  l2: number,
): Float32Array {
  const p = width + 1;
  const w = new Float64Array(p);
  const rows = y.length;
  for (let iteration = 0; iteration < 25; iteration++) {
    const g = new Float64Array(p);
    const h = new Float64Array(p * p);
    for (let r = 0; r < rows; r++) {
      let a = w[width]!;
      for (let f = 0; f < width; f++) a += w[f]! * z[r * width + f]!;
      const q = logistic ? 1 / (1 + Math.exp(-a)) : a;
      const curvature = logistic ? q * (1 - q) : 1;
      for (let i = 0; i < p; i++) {
        const xi = i < width ? z[r * width + i]! : 1;
        g[i]! += ((q - y[r]!) * xi) / rows;
        for (let j = 0; j < p; j++)
          h[i * p + j]! += (curvature * xi * (j < width ? z[r * width + j]! : 1)) / rows;
      }
    }
    for (let i = 0; i < width; i++) {
      g[i]! += l2 * w[i]!;
      h[i * p + i]! += l2;
    }
    // Solve h d = g by Gaussian elimination with partial pivoting, then step w -= d.
    const a = Float64Array.from(h);
    const d = Float64Array.from(g);
    for (let c = 0; c < p; c++) {
      let pivot = c;
      for (let r = c + 1; r < p; r++) if (Math.abs(a[r * p + c]!) > Math.abs(a[pivot * p + c]!)) pivot = r;
      for (let j = 0; j < p; j++) [a[c * p + j], a[pivot * p + j]] = [a[pivot * p + j]!, a[c * p + j]!];
      [d[c], d[pivot]] = [d[pivot]!, d[c]!];
      for (let r = c + 1; r < p; r++) {
        const factor = a[r * p + c]! / a[c * p + c]!;
        for (let j = c; j < p; j++) a[r * p + j]! -= factor * a[c * p + j]!;
        d[r]! -= factor * d[c]!;
      }
    }
    for (let c = p - 1; c >= 0; c--) {
      let s = d[c]!;
      for (let j = c + 1; j < p; j++) s -= a[c * p + j]! * d[j]!;
      d[c] = s / a[c * p + c]!;
    }
    for (let i = 0; i < p; i++) w[i]! -= d[i]!;
  }
  return Float32Array.from(w);
}

/** The objective at its exact minimum: what a converged fit's objective is measured against. */
function minimumObjective(
  z: Float32Array,
  width: number,
  y: Float64Array,
  target: (row: number) => number,
  logistic: boolean,
  l2: number,
): number {
  return linearObjective(z, width, target, logistic, newtonMinimum(z, width, y, logistic, l2), l2);
}

describe('fitLinear learning-rate decay', () => {
  // Small batches on 4,000 rows: 3,750 steps in 30 epochs, enough for the constant rate to reach the
  // minimum's neighbourhood and then wander in it by its batches' noise (the regime of the ranker's data).
  const width = 6;
  const l2 = 1e-4;
  const batch = 32;

  for (const logistic of [true, false]) {
    const kind = logistic ? 'logistic loss' : 'squared error';
    it(`reaches a lower training objective than the constant rate, near the exact minimum (${kind})`, () => {
      const { z, y, target } = planted(4000, width, logistic, `decay-${kind}`);
      const optimum = minimumObjective(z, width, y, target, logistic, l2);
      for (const seed of [3, 4, 5]) {
        const constant = fitLinear(z, width, target, logistic, { epochs: 30, batch, seed, l2 });
        const cosine = fitLinear(z, width, target, logistic, {
          epochs: 30,
          batch,
          seed,
          l2,
          decay: 'cosine',
        });
        const linear = fitLinear(z, width, target, logistic, {
          epochs: 30,
          batch,
          seed,
          l2,
          decay: 'linear',
        });
        const gapConstant = linearObjective(z, width, target, logistic, constant, l2) - optimum;
        const gapCosine = linearObjective(z, width, target, logistic, cosine, l2) - optimum;
        const gapLinear = linearObjective(z, width, target, logistic, linear, l2) - optimum;
        expect(gapCosine).toBeGreaterThanOrEqual(-1e-6);
        expect(gapCosine * 10).toBeLessThan(gapConstant);
        expect(gapLinear * 10).toBeLessThan(gapConstant);
        expect(gapCosine).toBeLessThan(GAP_LIMIT);
        expect(gapLinear).toBeLessThan(GAP_LIMIT);
      }
    });
  }

  it('gives nearly the same weights from different seeds', () => {
    const { z, target } = planted(4000, width, true, 'decay-seeds');
    const spread = (decay: 'cosine' | undefined) => {
      const fits = [3, 4, 5].map((seed) =>
        fitLinear(z, width, target, true, { epochs: 30, seed, l2, decay }),
      );
      let largest = 0;
      for (const other of fits.slice(1))
        for (let i = 0; i <= width; i++) largest = Math.max(largest, Math.abs(other[i]! - fits[0]![i]!));
      return largest;
    };
    const withDecay = spread('cosine');
    expect(withDecay * 5).toBeLessThan(spread(undefined));
    expect(withDecay).toBeLessThan(SEED_SPREAD_LIMIT);
  });

  it('with iterate averaging at a constant rate, lands nearer the minimum than the last step does', () => {
    for (const logistic of [true, false]) {
      const { z, y, target } = planted(4000, width, logistic, `average-${logistic}`);
      const optimum = minimumObjective(z, width, y, target, logistic, l2);
      for (const seed of [3, 4, 5]) {
        const last = fitLinear(z, width, target, logistic, { epochs: 10, batch, seed, l2 });
        const mean = fitLinear(z, width, target, logistic, { epochs: 10, batch, seed, l2, average: 0.5 });
        const gapLast = linearObjective(z, width, target, logistic, last, l2) - optimum;
        const gapMean = linearObjective(z, width, target, logistic, mean, l2) - optimum;
        expect(gapMean).toBeGreaterThanOrEqual(-1e-6);
        expect(gapMean * 5).toBeLessThan(gapLast);
      }
    }
  });

  it('averaging the last step alone is the plain fit', () => {
    const { z, target } = planted(256, width, true, 'average-steps');
    // 256 rows in batches of 32: 8 steps an epoch, 16 in two epochs.
    const plain = fitLinear(z, width, target, true, { epochs: 2, batch, seed: 3, l2 });
    expect(fitLinear(z, width, target, true, { epochs: 2, batch, seed: 3, l2, average: 1 / 16 })).toEqual(
      plain,
    );
    // Two steps averaged is another answer than the last step alone.
    const two = fitLinear(z, width, target, true, { epochs: 2, batch, seed: 3, l2, average: 2 / 16 });
    for (let i = 0; i <= width; i++) expect(two[i]).not.toBe(plain[i]);
  });

  it('rejects an unknown schedule and a final fraction outside [0, 1]', () => {
    const { z, target } = planted(100, width, true, 'decay-invalid');
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return isForyouError(error) ? error.code : String(error);
      }
      return 'no error';
    };
    const step = 'step' as unknown as 'linear';
    expect(codeOf(() => fitLinear(z, width, target, true, { decay: step }))).toBe('FY_INVALID_ARGUMENT');
    expect(codeOf(() => fitLinear(z, width, target, true, { decay: 'cosine', decayTo: 2 }))).toBe(
      'FY_INVALID_ARGUMENT',
    );
    expect(codeOf(() => fitLinear(z, width, target, true, { average: 1.5 }))).toBe('FY_INVALID_ARGUMENT');
    expect(codeOf(() => fitLinear(z, width, target, true, { average: -0.1 }))).toBe('FY_INVALID_ARGUMENT');
  });
});

const GAP_LIMIT = 2e-5;
const SEED_SPREAD_LIMIT = 0.005;
