import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { fitLinear, fitStandardizer, type LinearOptions, signedLog1p, standardize } from './ranker-linear.js';
import { MAX_WATCH_FRACTION, TASK_COUNT, WATCH_FRACTION_TASK } from './ranking-samples.js';

/**
 * The multi-task ranker: gradient-boosted oblivious trees (every node of a level splits on the same feature
 * and threshold, as in CatBoost) whose leaves hold one value per task. One tree serves all five tasks, so
 * inference walks `trees` trees, not five times as many; an oblivious tree's leaf index is the bits of its
 * `depth` comparisons, with no branches to mispredict, and the comparisons on user features are the same
 * for every candidate of a request, so serving computes them once (ranker-scorer.ts).
 *
 * Training is histogram-based: each feature is cut into at most `bins` quantile bins (bin 0 holds NaN, the
 * "missing" bin, which always goes left, as NaN > threshold is false at inference). Binary tasks use the
 * logistic loss, the watch fraction squared error; a split's gain is the sum over heads of the usual
 * second-order gain. Each head starts from a linear model of the log-scaled features (the baseline's form),
 * and the trees boost its residuals: rare tasks keep the linear model's smooth additive signal and gain the
 * interactions where the data supports them (docs/ranker.md has the measurements behind every choice).
 */
export interface GbdtOptions {
  trees?: number;
  depth?: number;
  learningRate?: number;
  bins?: number;
  /**
   * L2 penalty on leaf values, in hessian units (about "positives" for a rare binary head). Large on
   * purpose: a rare head's leaves (share, follow) stay close to the linear base unless many positives
   * agree, while a common head's (thousands of rows per leaf) are barely shrunk.
   */
  lambda?: number;
  /**
   * Start every head from a linear model of signedLog1p features (fitted first, per head, on the head's
   * rows) instead of a constant; the trees then boost its residuals. Default true. Options of that fit:
   * `linear`, by default `LINEAR_BASE_FIT` (fitted to convergence, so the base does not depend on where a
   * constant rate's last batches left it).
   */
  linearBase?: boolean;
  linear?: LinearOptions;
  /**
   * Evidence a binary head needs before the trees may move it at full rate: its leaf steps are scaled by
   * min(1, positives / evidencePositives), so with few positives it stays near its linear base
   * (0: off).
   */
  evidencePositives?: number;
  /** Every `balanceEvery`-th tree weighs each head's gain by 1 / its total hessian (0: never). */
  balanceEvery?: number;
  /** Share of rows that build each tree's histograms (leaf values use them too). */
  rowSample?: number;
  /** Weigh each head's gain by 1 / its total hessian (default false: measured worse, see docs/ranker.md). */
  balanceTasks?: boolean;
  seed?: number;
}

/**
 * The trees' outputs ("heads"): one per task (long watch, like, share, follow: logistic; watch fraction:
 * squared error) plus an auxiliary head, held (the play lasted at least `HELD_FRACTION` of the video),
 * which only shapes the shared splits. Heads can be conditional (`HEAD_WHERE`: a head learns only from
 * rows where another head's target is 1, as in ESMM); that variant (tasks as P(held) x P(task | held))
 * was measured and lost to plain heads, see docs/ranker.md, so every head learns from every row.
 */
export const HELD_FRACTION = 0.3;
export const HEAD_COUNT = 6;
const HELD_HEAD = 0;
const FRACTION_HEAD = 5;
/** Head h's rows: all (-1) or only those where head `HEAD_WHERE[h]`'s target is 1. */
const HEAD_WHERE = [-1, -1, -1, -1, -1, -1];

/**
 * How the linear base is fitted unless `linear` says otherwise: Adam with a cosine decay over 30 epochs,
 * which ends within 2e-5 of the exact minimum and moves per-user AUC by under 0.003 with its seed. At a
 * constant rate over 10 epochs (the default until 2026-11-27) the base's share and follow moved by 0.01-0.05
 * with the seed alone; docs/ranker.md has both measured on 50,000-user worlds.
 */
export const LINEAR_BASE_FIT: LinearOptions = { decay: 'cosine', epochs: 30 };

/** Head targets (rows x HEAD_COUNT) from task labels (rows x TASK_COUNT). */
export function headTargets(labels: Float32Array): Float32Array {
  const rows = labels.length / TASK_COUNT;
  const out = new Float32Array(rows * HEAD_COUNT);
  for (let r = 0; r < rows; r++) {
    const l = r * TASK_COUNT;
    const o = r * HEAD_COUNT;
    const fraction = labels[l + WATCH_FRACTION_TASK]!;
    out[o + HELD_HEAD] = fraction >= HELD_FRACTION ? 1 : 0;
    for (let k = 0; k < 4; k++) out[o + 1 + k] = labels[l + k]!;
    out[o + FRACTION_HEAD] = Math.min(MAX_WATCH_FRACTION, fraction);
  }
  return out;
}

/** The five task outputs of one row's head raw scores (`raw` at `at`), written to `out` at `outAt`. */
export function tasksFromHeads(
  raw: ArrayLike<number>,
  at: number,
  out: Float32Array | Float64Array,
  outAt: number,
): void {
  for (let k = 0; k < 4; k++) out[outAt + k] = 1 / (1 + Math.exp(-raw[at + 1 + k]!));
  const fraction = raw[at + FRACTION_HEAD]!;
  out[outAt + WATCH_FRACTION_TASK] = Math.max(0, fraction);
}

/** A trained ensemble. Arrays are flat: tree t, level l at t * depth + l; leaf j, head k at (t * 2^depth + j) * HEAD_COUNT + k. */
export interface GbdtModel {
  inputWidth: number;
  depth: number;
  trees: number;
  /** Feature index of each tree level (into the concatenated user | candidate vector). */
  feature: Int32Array;
  /** Threshold of each tree level: right (bit 1) when x > threshold. */
  threshold: Float32Array;
  leaves: Float32Array;
  /** Raw score every prediction starts from, per head. */
  base: Float32Array;
  /**
   * The linear part of each head's raw score, folded with its standardisation: head k adds
   * sum_f linear[k * inputWidth + f] * signedLog1p(x_f), a missing x_f counting as linearMean[f].
   * All zero without a linear base.
   */
  linear: Float32Array;
  linearMean: Float32Array;
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Quantile cut points of one feature's finite values (at most bins - 2 of them: bin 0 is NaN). */
export function cutPoints(values: Float32Array, bins: number): Float32Array {
  const finite = values.filter((v) => !Number.isNaN(v)).sort();
  const cuts: number[] = [];
  const wanted = bins - 2;
  for (let q = 1; q <= wanted; q++) {
    const v = finite[Math.floor((q * finite.length) / (wanted + 1))];
    if (v !== undefined && (cuts.length === 0 || v > cuts[cuts.length - 1]!)) cuts.push(v);
  }
  // The largest value never separates anything.
  if (cuts.length > 0 && cuts[cuts.length - 1] === finite[finite.length - 1]) cuts.pop();
  return Float32Array.from(cuts);
}

/** 0 for NaN, else 1 + the number of cut points below x: bin > b exactly when x > cuts[b - 1]. */
export function binOf(cuts: Float32Array, x: number): number {
  if (Number.isNaN(x)) return 0;
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cuts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return 1 + lo;
}

/**
 * Trains the ensemble on `x` (rows x width, row-major, NaN for missing) and `labels` (rows x TASK_COUNT).
 */
export function trainGbdt(
  x: Float32Array,
  width: number,
  labels: Float32Array,
  options: GbdtOptions = {},
): GbdtModel {
  const trees = options.trees ?? 60;
  const depth = options.depth ?? 5;
  const lr = options.learningRate ?? 0.15;
  if (labels.length % TASK_COUNT !== 0)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `labels hold ${labels.length} values; expected rows x ${TASK_COUNT}`,
    );
  const bins = Math.min(255, options.bins ?? 32);
  const lambda = options.lambda ?? 30;
  const balanceEvery = options.balanceEvery ?? 0;
  const rowSample = options.rowSample ?? 0.6;
  const K = HEAD_COUNT;
  const targets = headTargets(labels);
  const rows = labels.length / TASK_COUNT;
  if (!Number.isInteger(rows) || x.length !== rows * width)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `training matrix has ${x.length} values for ${rows} label rows; expected rows x width ${width}`,
    );
  if (depth < 1 || depth > 10)
    throw new ForyouError('FY_INVALID_ARGUMENT', `tree depth ${depth}; expected 1 to 10`);
  const rng = new Rng(options.seed ?? 1);

  // Bin every feature.
  const cuts: Float32Array[] = [];
  const binned = new Uint8Array(rows * width);
  const column = new Float32Array(rows);
  for (let f = 0; f < width; f++) {
    for (let r = 0; r < rows; r++) column[r] = x[r * width + f]!;
    const c = cutPoints(column, bins);
    cuts.push(c);
    for (let r = 0; r < rows; r++) binned[r * width + f] = binOf(c, column[r]!);
  }

  // A row counts for a head when it has no condition or its condition's target is 1.
  const weight = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < K; k++) {
      const where = HEAD_WHERE[k]!;
      weight[r * K + k] = where < 0 || targets[r * K + where] === 1 ? 1 : 0;
    }
  const base = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let sum = 0;
    let count = 0;
    for (let r = 0; r < rows; r++) {
      sum += weight[r * K + k]! * targets[r * K + k]!;
      count += weight[r * K + k]!;
    }
    const mean = sum / Math.max(1, count);
    base[k] = k === FRACTION_HEAD ? mean : Math.log(Math.max(1e-6, mean) / Math.max(1e-6, 1 - mean));
  }
  const linear = new Float32Array(K * width);
  let linearMean: Float32Array = new Float32Array(width);
  if (options.linearBase !== false) {
    const standardizer = fitStandardizer(x, width);
    linearMean = standardizer.mean;
    const z = standardize(standardizer, x, width);
    for (let k = 0; k < K; k++) {
      const chosen: number[] = [];
      for (let r = 0; r < rows; r++) if (weight[r * K + k] === 1) chosen.push(r);
      const zk = new Float32Array(chosen.length * width);
      chosen.forEach((r, i) => {
        zk.set(z.subarray(r * width, (r + 1) * width), i * width);
      });
      const w = fitLinear(zk, width, (i) => targets[chosen[i]! * K + k]!, k !== FRACTION_HEAD, {
        ...LINEAR_BASE_FIT,
        seed: 17 + k,
        ...options.linear,
      });
      // Fold the standardisation in: w.(t - mean) * invStd + b = (w * invStd).t + (b - sum w * invStd * mean).
      let bias = w[width]!;
      for (let f = 0; f < width; f++) {
        const folded = w[f]! * standardizer.invStd[f]!;
        linear[k * width + f] = folded;
        bias -= folded * standardizer.mean[f]!;
      }
      base[k] = bias;
    }
  }
  const raw = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < K; k++)
      raw[r * K + k] = base[k]! + linearPart(linear, linearMean, width, k, x, r * width);

  const leavesPerTree = 1 << depth;
  const feature = new Int32Array(trees * depth);
  const threshold = new Float32Array(trees * depth);
  const leaves = new Float32Array(trees * leavesPerTree * K);
  const grad = new Float64Array(rows * K);
  const hess = new Float64Array(rows * K);
  const node = new Int32Array(rows);
  const sampled = new Int32Array(rows);
  const maxNodes = leavesPerTree >> 1;
  const stride = 2 * K;
  const hist = new Float64Array(maxNodes * width * bins * stride);
  const parentHist = new Float64Array((maxNodes >> 1) * width * bins * stride || 1);
  const gh = new Float64Array(rows * stride);
  const taskWeight = new Float64Array(K);
  const headLambda = new Float64Array(K).fill(lambda);
  const headRate = new Float64Array(K).fill(lr);
  const evidence = options.evidencePositives ?? 0;
  if (evidence > 0)
    for (let k = 0; k < K; k++) {
      if (k === FRACTION_HEAD) continue;
      let positives = 0;
      for (let r = 0; r < rows; r++) positives += targets[r * K + k]!;
      headRate[k] = lr * Math.min(1, positives / evidence);
    }
  const leafSum = new Float64Array(leavesPerTree * stride);

  for (let t = 0; t < trees; t++) {
    // Gradients and hessians of each task's loss at the current raw scores.
    for (let i = 0; i < rows * K; i++) {
      const k = i % K;
      const w = weight[i]!;
      if (k === FRACTION_HEAD) {
        grad[i] = w * (raw[i]! - targets[i]!);
        hess[i] = w;
      } else {
        const p = sigmoid(raw[i]!);
        grad[i] = w * (p - targets[i]!);
        hess[i] = w * Math.max(1e-6, p * (1 - p));
      }
    }
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < K; k++) {
        gh[r * stride + k] = grad[r * K + k]!;
        gh[r * stride + K + k] = hess[r * K + k]!;
      }
    let n = 0;
    for (let r = 0; r < rows; r++) if (rowSample >= 1 || rng.float() < rowSample) sampled[n++] = r;
    taskWeight.fill(0);
    for (let s = 0; s < n; s++) for (let k = 0; k < K; k++) taskWeight[k]! += hess[sampled[s]! * K + k]!;
    const balance =
      options.balanceTasks === true || (balanceEvery > 0 && t % balanceEvery === balanceEvery - 1);
    for (let k = 0; k < K; k++) taskWeight[k] = balance ? 1 / Math.max(1e-9, taskWeight[k]!) : 1;
    node.fill(0);
    for (let level = 0; level < depth; level++) {
      const nodes = 1 << level;
      const size = nodes * width * bins * stride;
      if (level === 0) {
        hist.fill(0, 0, size);
        accumulateHistograms(hist, gh, binned, node, sampled, n, width, bins, stride, -1);
      } else {
        // Subtraction: histograms only for the children with the new bit set (the rows that went right),
        // the others are the parent's minus those.
        const half = 1 << (level - 1);
        const parentSize = half * width * bins * stride;
        parentHist.set(hist.subarray(0, parentSize));
        hist.fill(0, 0, size);
        accumulateHistograms(hist, gh, binned, node, sampled, n, width, bins, stride, level - 1);
        const block = width * bins * stride;
        for (let p = 0; p < half; p++) {
          const right = (p | half) * block;
          const leftAt = p * block;
          const parentAt = p * block;
          for (let j = 0; j < block; j++) hist[leftAt + j] = parentHist[parentAt + j]! - hist[right + j]!;
        }
      }
      // Best (feature, bin) over all nodes of the level: right when bin > b.
      let bestGain = 0;
      let bestFeature = -1;
      let bestBin = 0;
      const totals = new Float64Array(stride);
      const left = new Float64Array(stride);
      for (let f = 0; f < width; f++) {
        const gains = new Float64Array(bins);
        for (let nd = 0; nd < nodes; nd++) {
          const h0 = (nd * width + f) * bins * stride;
          totals.fill(0);
          for (let b = 0; b < bins; b++)
            for (let j = 0; j < stride; j++) totals[j]! += hist[h0 + b * stride + j]!;
          let parent = 0;
          for (let k = 0; k < K; k++)
            parent += (taskWeight[k]! * totals[k]! ** 2) / (totals[K + k]! + headLambda[k]!);
          left.fill(0);
          for (let b = 0; b < bins - 1; b++) {
            for (let j = 0; j < stride; j++) left[j]! += hist[h0 + b * stride + j]!;
            let gain = -parent;
            for (let k = 0; k < K; k++) {
              const gl = left[k]!;
              const hl = left[K + k]!;
              const gr = totals[k]! - gl;
              const hr = totals[K + k]! - hl;
              gain +=
                taskWeight[k]! * ((gl * gl) / (hl + headLambda[k]!) + (gr * gr) / (hr + headLambda[k]!));
            }
            gains[b]! += gain;
          }
        }
        for (let b = 0; b < Math.min(bins - 1, cuts[f]!.length + 1); b++)
          if (gains[b]! > bestGain) {
            bestGain = gains[b]!;
            bestFeature = f;
            bestBin = b;
          }
      }
      const at = t * depth + level;
      if (bestFeature < 0) {
        // Nothing helps: a split every row takes the same way keeps the tree shape fixed.
        feature[at] = 0;
        threshold[at] = Number.POSITIVE_INFINITY;
        continue;
      }
      feature[at] = bestFeature;
      threshold[at] = bestBin === 0 ? Number.NEGATIVE_INFINITY : cuts[bestFeature]![bestBin - 1]!;
      for (let r = 0; r < rows; r++)
        if (binned[r * width + bestFeature]! > bestBin) node[r] = node[r]! | (1 << level);
    }

    // Leaf values from the sampled rows, then every row's raw scores move by its leaf.
    leafSum.fill(0);
    for (let s = 0; s < n; s++) {
      const r = sampled[s]!;
      const at = node[r]! * stride;
      for (let k = 0; k < K; k++) {
        leafSum[at + k]! += grad[r * K + k]!;
        leafSum[at + K + k]! += hess[r * K + k]!;
      }
    }
    const leafBase = t * leavesPerTree * K;
    for (let j = 0; j < leavesPerTree; j++)
      for (let k = 0; k < K; k++)
        leaves[leafBase + j * K + k] =
          (-headRate[k]! * leafSum[j * stride + k]!) / (leafSum[j * stride + K + k]! + headLambda[k]!);
    for (let r = 0; r < rows; r++) {
      const at = leafBase + node[r]! * K;
      for (let k = 0; k < K; k++) raw[r * K + k]! += leaves[at + k]!;
    }
  }
  return { inputWidth: width, depth, trees, feature, threshold, leaves, base, linear, linearMean };
}

/** Head k's linear part of the row of `x` at `at`. */
function linearPart(
  linear: Float32Array,
  mean: Float32Array,
  width: number,
  k: number,
  x: ArrayLike<number>,
  at: number,
): number {
  let s = 0;
  for (let f = 0; f < width; f++) {
    const v = x[at + f]!;
    s += linear[k * width + f]! * (Number.isNaN(v) ? mean[f]! : signedLog1p(v));
  }
  return s;
}

/**
 * Adds each sampled row's gradients and hessians (`gh`, rows x 2K) to the histogram of its node, feature and
 * bin; with `bit` >= 0 only the rows whose node has that bit set.
 */
export function accumulateHistograms(
  into: Float64Array,
  gh: Float64Array,
  binned: Uint8Array,
  node: Int32Array,
  sampled: Int32Array,
  n: number,
  width: number,
  bins: number,
  stride: number,
  bit: number,
): void {
  for (let s = 0; s < n; s++) {
    const r = sampled[s]!;
    const nd = node[r]!;
    if (bit >= 0 && ((nd >> bit) & 1) === 0) continue;
    const rowBase = nd * width;
    const g = r * stride;
    const rb = r * width;
    for (let f = 0; f < width; f++) {
      const at = ((rowBase + f) * bins + binned[rb + f]!) * stride;
      for (let j = 0; j < stride; j++) into[at + j]! += gh[g + j]!;
    }
  }
}

/**
 * The reference prediction: head raw scores (rows x HEAD_COUNT) of `x` (rows x inputWidth), tree by tree,
 * level by level, as the definition reads. The serving kernel (ranker-scorer.ts) is held to it.
 */
export function predictGbdtReference(model: GbdtModel, x: Float32Array): Float64Array {
  const K = HEAD_COUNT;
  const width = model.inputWidth;
  const rows = x.length / width;
  const out = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++)
      out[r * K + k] = model.base[k]! + linearPart(model.linear, model.linearMean, width, k, x, r * width);
    for (let t = 0; t < model.trees; t++) {
      let leaf = 0;
      for (let l = 0; l < model.depth; l++) {
        const v = x[r * width + model.feature[t * model.depth + l]!]!;
        if (v > model.threshold[t * model.depth + l]!) leaf += 2 ** l;
      }
      for (let k = 0; k < K; k++) out[r * K + k]! += model.leaves[(t * 2 ** model.depth + leaf) * K + k]!;
    }
  }
  return out;
}

/** Task outputs (rows x TASK_COUNT) of `x` through the reference prediction. */
export function predictGbdtTasks(model: GbdtModel, x: Float32Array): Float64Array {
  const raw = predictGbdtReference(model, x);
  const rows = raw.length / HEAD_COUNT;
  const out = new Float64Array(rows * TASK_COUNT);
  for (let r = 0; r < rows; r++) tasksFromHeads(raw, r * HEAD_COUNT, out, r * TASK_COUNT);
  return out;
}
