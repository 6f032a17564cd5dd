import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { TASK_COUNT, WATCH_FRACTION_TASK } from './ranking-samples.js';

/**
 * Linear models over the ranker's features: the per-task logistic-regression baseline (linear regression
 * for the watch fraction) and the pre-ranker's scorer. Inputs go through `signedLog1p` (the features are
 * counts and sums with heavy tails), then are standardised with the training mean and deviation; NaN
 * (missing) becomes the mean, i.e. 0 after standardising.
 */
export interface LinearOptions {
  /** Passes over the rows: default 10 at a constant rate, 30 with `decay`. */
  epochs?: number;
  batch?: number;
  /** Adam's step size (the starting one with `decay`). Default 0.01. */
  learningRate?: number;
  /** L2 penalty per row. */
  l2?: number;
  seed?: number;
  /**
   * Opt-in schedule: the step size falls from `learningRate` at the first step to `learningRate * decayTo`
   * at the last, linearly or by half a cosine. Without it the rate is constant, and where the fit stops
   * depends on its last batches (and so on the seed). The served models do not set it.
   */
  decay?: 'linear' | 'cosine';
  /** The last step's rate as a fraction of the first, with `decay`. Default 0.01. */
  decayTo?: number;
  /**
   * Iterate averaging (Polyak and Juditsky 1992): the fit returns the mean of the weights after each step
   * of the last `average` fraction of the steps, instead of the last step's weights. The mean does not
   * depend on where the last batches happened to leave the fit. Default 0 (the last step's weights).
   */
  average?: number;
}

export interface Standardizer {
  mean: Float32Array;
  /** 1 / standard deviation (0 for a constant feature). */
  invStd: Float32Array;
}

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/**
 * ln(1 + |v|) with the sign of v, to about 2e-4 (read from the float32 bits: exponent plus a quartic in the
 * mantissa). It is the models' definition of the transform, in training and serving alike, and four times
 * cheaper than Math.log1p, which dominated the pre-ranker's time.
 */
export function signedLog1p(v: number): number {
  const negative = v < 0;
  f32[0] = 1 + (negative ? -v : v);
  const bits = i32[0]!;
  const m = (bits & 0x7fffff) * (1 / 8388608);
  const log2 = (bits >> 23) - 127 + m * (1.43854537 + m * (-0.67807154 + m * (0.32361048 - m * 0.08427316)));
  return negative ? -log2 * Math.LN2 : log2 * Math.LN2;
}

export function fitStandardizer(x: Float32Array, width: number): Standardizer {
  const rows = x.length / width;
  const mean = new Float32Array(width);
  const invStd = new Float32Array(width);
  for (let f = 0; f < width; f++) {
    let n = 0;
    let sum = 0;
    let sq = 0;
    for (let r = 0; r < rows; r++) {
      const v = x[r * width + f]!;
      if (Number.isNaN(v)) continue;
      const z = signedLog1p(v);
      n++;
      sum += z;
      sq += z * z;
    }
    const m = n > 0 ? sum / n : 0;
    const variance = n > 0 ? sq / n - m * m : 0;
    mean[f] = m;
    invStd[f] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  }
  return { mean, invStd };
}

/** The standardised copy of `x` (NaN to 0). */
export function standardize(s: Standardizer, x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const f = i % width;
    const v = x[i]!;
    out[i] = Number.isNaN(v) ? 0 : (signedLog1p(v) - s.mean[f]!) * s.invStd[f]!;
  }
  return out;
}

/**
 * Fits w, b of `z = w.x + b` on standardised rows by mini-batch Adam: logistic loss when `logistic`, else
 * squared error. Returns weights then the bias (width + 1 values).
 */
export function fitLinear(
  z: Float32Array,
  width: number,
  target: (row: number) => number,
  logistic: boolean,
  options: LinearOptions = {},
): Float32Array {
  const rows = z.length / width;
  const decay = options.decay;
  const epochs = options.epochs ?? (decay ? 30 : 10);
  const batch = options.batch ?? 256;
  const lr = options.learningRate ?? 0.01;
  const l2 = options.l2 ?? 1e-4;
  const decayTo = options.decayTo ?? 0.01;
  if (decay !== undefined && decay !== 'linear' && decay !== 'cosine')
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `learning-rate decay ${String(decay)} is not 'linear' or 'cosine'`,
    );
  if (!(decayTo >= 0 && decayTo <= 1))
    throw new ForyouError('FY_INVALID_ARGUMENT', `decayTo ${decayTo} is not a fraction in [0, 1]`);
  const average = options.average ?? 0;
  if (!(average >= 0 && average <= 1))
    throw new ForyouError('FY_INVALID_ARGUMENT', `average ${average} is not a fraction in [0, 1]`);
  const steps = epochs * Math.ceil(rows / batch);
  const lastStep = Math.max(1, steps - 1);
  // Steps from `firstAveraged` on (1-based) are averaged; none when `average` is 0.
  const firstAveraged = average > 0 ? Math.max(1, steps - Math.max(1, Math.round(average * steps)) + 1) : 0;
  const mean = new Float64Array(firstAveraged > 0 ? width + 1 : 0);
  let averaged = 0;
  const rng = new Rng(options.seed ?? 3);
  const p = width + 1;
  const w = new Float64Array(p);
  const m = new Float64Array(p);
  const v = new Float64Array(p);
  const g = new Float64Array(p);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    rng.shuffle(order);
    for (let start = 0; start < rows; start += batch) {
      const end = Math.min(rows, start + batch);
      g.fill(0);
      for (let s = start; s < end; s++) {
        const r = order[s]!;
        let a = w[width]!;
        for (let f = 0; f < width; f++) a += w[f]! * z[r * width + f]!;
        const err = (logistic ? 1 / (1 + Math.exp(-a)) : a) - target(r);
        for (let f = 0; f < width; f++) g[f]! += err * z[r * width + f]!;
        g[width]! += err;
      }
      step++;
      const size = end - start;
      const c1 = 1 - 0.9 ** step;
      const c2 = 1 - 0.999 ** step;
      // Progress through the schedule: 0 at the first step, 1 at the last.
      const t = Math.min(1, (step - 1) / lastStep);
      const rate =
        decay === 'linear'
          ? lr * (1 - (1 - decayTo) * t)
          : decay === 'cosine'
            ? lr * (decayTo + ((1 - decayTo) * (1 + Math.cos(Math.PI * t))) / 2)
            : lr;
      for (let f = 0; f < p; f++) {
        const grad = g[f]! / size + (f < width ? l2 * w[f]! : 0);
        m[f] = 0.9 * m[f]! + 0.1 * grad;
        v[f] = 0.999 * v[f]! + 0.001 * grad * grad;
        w[f]! -= (rate * (m[f]! / c1)) / (Math.sqrt(v[f]! / c2) + 1e-8);
      }
      if (firstAveraged > 0 && step >= firstAveraged) {
        averaged++;
        for (let f = 0; f < p; f++) mean[f]! += (w[f]! - mean[f]!) / averaged;
      }
    }
  }
  return Float32Array.from(averaged > 0 ? mean : w);
}

/**
 * The objective `fitLinear` minimises, at weights `w` (weights then bias): the mean logistic loss (natural
 * log) when `logistic`, else half the mean squared error, plus `l2` / 2 times the squared weights (not the
 * bias). For checking convergence.
 */
export function linearObjective(
  z: Float32Array,
  width: number,
  target: (row: number) => number,
  logistic: boolean,
  w: Float32Array,
  l2 = 1e-4,
): number {
  if (w.length !== width + 1)
    throw new ForyouError('FY_INVALID_ARGUMENT', `${w.length} weights do not fit width ${width} plus a bias`);
  const rows = z.length / width;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    let a = w[width]!;
    for (let f = 0; f < width; f++) a += w[f]! * z[r * width + f]!;
    const y = target(r);
    // log(1 + e^a) - y a, computed without overflow.
    loss += logistic ? Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))) - y * a : 0.5 * (a - y) ** 2;
  }
  let penalty = 0;
  for (let f = 0; f < width; f++) penalty += w[f]! * w[f]!;
  return loss / Math.max(1, rows) + 0.5 * l2 * penalty;
}

/** The per-task baseline: one linear model per task on standardised features. */
export interface LogisticRankerModel {
  inputWidth: number;
  standardizer: Standardizer;
  /** TASK_COUNT x (inputWidth + 1): weights then bias, per task. */
  weights: Float32Array;
}

export function trainLogisticRanker(
  x: Float32Array,
  width: number,
  labels: Float32Array,
  options: LinearOptions = {},
): LogisticRankerModel {
  if (x.length % width !== 0 || x.length / width !== labels.length / TASK_COUNT)
    throw new ForyouError('FY_INVALID_ARGUMENT', `training matrix width ${width} does not fit the labels`);
  const standardizer = fitStandardizer(x, width);
  const z = standardize(standardizer, x, width);
  const weights = new Float32Array(TASK_COUNT * (width + 1));
  for (let k = 0; k < TASK_COUNT; k++)
    weights.set(
      fitLinear(z, width, (r) => labels[r * TASK_COUNT + k]!, k !== WATCH_FRACTION_TASK, {
        ...options,
        seed: (options.seed ?? 3) + k,
      }),
      k * (width + 1),
    );
  return { inputWidth: width, standardizer, weights };
}

/** Task outputs (rows x TASK_COUNT): probabilities, and the watch fraction (at least 0). */
export function predictLogisticRanker(model: LogisticRankerModel, x: Float32Array): Float64Array {
  const width = model.inputWidth;
  const z = standardize(model.standardizer, x, width);
  const rows = x.length / width;
  const out = new Float64Array(rows * TASK_COUNT);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < TASK_COUNT; k++) {
      const w = k * (width + 1);
      let a = model.weights[w + width]!;
      for (let f = 0; f < width; f++) a += model.weights[w + f]! * z[r * width + f]!;
      out[r * TASK_COUNT + k] = k === WATCH_FRACTION_TASK ? Math.max(0, a) : 1 / (1 + Math.exp(-a));
    }
  return out;
}
