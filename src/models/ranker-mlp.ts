import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { fitStandardizer, type Standardizer, signedLog1p, standardize } from './ranker-linear.js';
import { DEFAULT_FUSION_WEIGHTS, type FusionWeights, fusionVector, scoreCallCount } from './ranker-scorer.js';
import { MAX_WATCH_FRACTION, TASK_COUNT, WATCH_FRACTION_TASK } from './ranking-samples.js';

/**
 * A shared-bottom multi-task network for the ranker's five tasks: the same inputs as the trees (user then
 * candidate features), `signedLog1p` then standardised as the linear models do (NaN, missing, becomes the
 * mean: 0), a stack of fully connected ReLU layers every task shares, and one linear head per task on the
 * last of them, plus (by default) a linear part of each head on the inputs themselves, the "wide" part: a
 * sigmoid with the logistic loss for long watch, like, share and follow, the identity with squared error
 * for the watch fraction (served as max(0, output), as the baseline is). Trained by mini-batch Adam from a
 * seeded initialisation, the rate falling linearly. docs/ranker.md has the measurements against the trees
 * and the per-task logistic regression (without the wide part the network lost follow and share to it).
 *
 * Parameters live in one Float32Array (`mlpLayout` gives each block's offset): per bottom layer l, its
 * weights (out x in, row-major) then its biases; then the heads' weights (TASK_COUNT x last width) and
 * biases; then, with the wide part, its weights (TASK_COUNT x input width). The kernels below allocate nothing per batch or per call; `mlpLossReference` and
 * `predictMlpReference` are the plain definitions they are tested against.
 */
export interface MlpOptions {
  /** Widths of the shared bottom's layers. Default [64, 32]. */
  hidden?: readonly number[];
  epochs?: number;
  batch?: number;
  learningRate?: number;
  /** The learning rate falls linearly to this share of itself by the last step. Default 0.1. */
  finalRateShare?: number;
  /** L2 penalty on weights (not biases), added to the gradient. */
  l2?: number;
  /**
   * Give each head a linear ("wide") part on the standardised inputs beside the shared bottom, as the trees
   * start from a linear base. Default true.
   */
  wide?: boolean;
  /** Weight of each task's loss, RANKING_TASKS order. Default 1 each. */
  taskWeights?: readonly number[];
  seed?: number;
}

export interface MlpModel {
  inputWidth: number;
  /** Layer widths: the input, then each bottom layer. */
  widths: Int32Array;
  /** Whether the heads have a linear part on the inputs (`MlpLayout.wide`). */
  wide: boolean;
  standardizer: Standardizer;
  params: Float32Array;
}

export interface MlpLayout {
  /** Offset of bottom layer l's weights (out x in) and biases. */
  weight: Int32Array;
  bias: Int32Array;
  headWeight: number;
  headBias: number;
  /** Offset of the heads' linear parts on the inputs (TASK_COUNT x input width), -1 without them. */
  wide: number;
  size: number;
}

export function mlpLayout(widths: ArrayLike<number>, wide = false): MlpLayout {
  const layers = widths.length - 1;
  const weight = new Int32Array(layers);
  const bias = new Int32Array(layers);
  let at = 0;
  for (let l = 0; l < layers; l++) {
    weight[l] = at;
    at += widths[l]! * widths[l + 1]!;
    bias[l] = at;
    at += widths[l + 1]!;
  }
  const headWeight = at;
  at += TASK_COUNT * widths[layers]!;
  const headBias = at;
  at += TASK_COUNT;
  const wideAt = wide ? at : -1;
  if (wide) at += TASK_COUNT * widths[0]!;
  return { weight, bias, headWeight, headBias, wide: wideAt, size: at };
}

function checkWidths(widths: readonly number[]): void {
  if (widths.length < 1 || widths.some((w) => !Number.isInteger(w) || w < 1))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `MLP layer widths [${widths.join(', ')}]; expected whole numbers >= 1`,
    );
}

/**
 * He-initialised parameters (normal, variance 2 / fan-in) for ReLU layers; the heads start small (variance
 * 0.1 / fan-in) with biases at each task's base rate (its log-odds; the mean for the watch fraction), so
 * training starts from the constant model.
 */
export function initMlpParams(
  widths: readonly number[],
  baseRates: ArrayLike<number>,
  seed: number,
  wide = false,
): Float32Array {
  checkWidths(widths);
  const layout = mlpLayout(widths, wide);
  const params = new Float32Array(layout.size);
  const rng = new Rng(`ranker-mlp-${seed}`);
  const layers = widths.length - 1;
  for (let l = 0; l < layers; l++) {
    const sd = Math.sqrt(2 / widths[l]!);
    for (let i = 0; i < widths[l]! * widths[l + 1]!; i++) params[layout.weight[l]! + i] = rng.normal(0, sd);
  }
  const last = widths[layers]!;
  const sd = Math.sqrt(0.1 / last);
  for (let i = 0; i < TASK_COUNT * last; i++) params[layout.headWeight + i] = rng.normal(0, sd);
  for (let k = 0; k < TASK_COUNT; k++) {
    const rate = baseRates[k]!;
    params[layout.headBias + k] =
      k === WATCH_FRACTION_TASK ? rate : Math.log(Math.max(1e-6, rate) / Math.max(1e-6, 1 - rate));
  }
  return params;
}

/** Buffers for one batch of up to `capacity` rows: every layer's activations, the outputs and the deltas. */
export class MlpWorkspace {
  readonly capacity: number;
  /** acts[0] is the input (capacity x widths[0]); acts[l + 1] is bottom layer l after the ReLU. */
  readonly acts: Float32Array[];
  readonly deltas: Float32Array[];
  /** Head outputs before the link (capacity x TASK_COUNT), then their loss gradients in training. */
  readonly out: Float32Array;
  readonly widths: Int32Array;
  readonly layout: MlpLayout;

  constructor(widths: ArrayLike<number>, capacity: number, wide = false) {
    this.widths = Int32Array.from(widths);
    this.capacity = capacity;
    this.layout = mlpLayout(widths, wide);
    this.acts = Array.from(this.widths, (w) => new Float32Array(capacity * w));
    this.deltas = Array.from(this.widths, (w) => new Float32Array(capacity * w));
    this.out = new Float32Array(capacity * TASK_COUNT);
  }
}

/**
 * The forward pass of `rows` rows already in `ws.acts[0]` (standardised), head outputs (before the link)
 * into `ws.out`.
 */
export function mlpForward(params: Float32Array, ws: MlpWorkspace, rows: number): void {
  const widths = ws.widths;
  const layout = ws.layout;
  const layers = widths.length - 1;
  for (let l = 0; l < layers; l++) {
    const nIn = widths[l]!;
    const nOut = widths[l + 1]!;
    const input = ws.acts[l]!;
    const output = ws.acts[l + 1]!;
    const w0 = layout.weight[l]!;
    const b0 = layout.bias[l]!;
    for (let r = 0; r < rows; r++) {
      const ri = r * nIn;
      const ro = r * nOut;
      for (let j = 0; j < nOut; j++) {
        let s = params[b0 + j]!;
        const wj = w0 + j * nIn;
        for (let i = 0; i < nIn; i++) s += params[wj + i]! * input[ri + i]!;
        output[ro + j] = Math.max(s, 0);
      }
    }
  }
  const last = widths[layers]!;
  const top = ws.acts[layers]!;
  const out = ws.out;
  const hw = layout.headWeight;
  const hb = layout.headBias;
  const wide = layout.wide;
  const nIn = widths[0]!;
  const input = ws.acts[0]!;
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < TASK_COUNT; k++) {
      let s = params[hb + k]!;
      const wk = hw + k * last;
      for (let i = 0; i < last; i++) s += params[wk + i]! * top[r * last + i]!;
      if (wide >= 0) {
        const vk = wide + k * nIn;
        for (let i = 0; i < nIn; i++) s += params[vk + i]! * input[r * nIn + i]!;
      }
      out[r * TASK_COUNT + k] = s;
    }
}

/**
 * One batch's loss (mean over rows of the task-weighted sum of per-task losses) and its gradient, added to
 * `grad` (same layout as the parameters; the caller zeroes it). Inputs are in `ws.acts[0]`, targets
 * (rows x TASK_COUNT) in `targets` from `targetAt`.
 */
export function mlpLossAndGradient(
  params: Float32Array,
  ws: MlpWorkspace,
  rows: number,
  targets: Float32Array,
  targetAt: number,
  taskWeights: ArrayLike<number>,
  grad: Float32Array,
): number {
  mlpForward(params, ws, rows);
  const widths = ws.widths;
  const layout = ws.layout;
  const layers = widths.length - 1;
  const out = ws.out;
  const inv = 1 / rows;
  let loss = 0;
  // Output deltas: d loss / d head output, in place of the outputs.
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < TASK_COUNT; k++) {
      const o = r * TASK_COUNT + k;
      const z = out[o]!;
      const y = targets[targetAt + o]!;
      const w = taskWeights[k]!;
      if (k === WATCH_FRACTION_TASK) {
        loss += w * 0.5 * (z - y) * (z - y);
        out[o] = w * (z - y) * inv;
      } else {
        // log(1 + e^z) - y z, computed without overflow.
        loss += w * ((z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y * z);
        out[o] = w * (1 / (1 + Math.exp(-z)) - y) * inv;
      }
    }
  // Heads.
  const last = widths[layers]!;
  const top = ws.acts[layers]!;
  const topDelta = ws.deltas[layers]!;
  const hw = layout.headWeight;
  const hb = layout.headBias;
  const wide = layout.wide;
  const nInput = widths[0]!;
  const input0 = ws.acts[0]!;
  topDelta.fill(0, 0, rows * last);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < TASK_COUNT; k++) {
      const g = out[r * TASK_COUNT + k]!;
      if (g === 0) continue;
      grad[hb + k]! += g;
      if (wide >= 0) {
        const vk = wide + k * nInput;
        const ri = r * nInput;
        for (let i = 0; i < nInput; i++) grad[vk + i]! += g * input0[ri + i]!;
      }
      const wk = hw + k * last;
      const rt = r * last;
      for (let i = 0; i < last; i++) {
        grad[wk + i]! += g * top[rt + i]!;
        topDelta[rt + i]! += g * params[wk + i]!;
      }
    }
  // Bottom layers, last to first: the delta of a layer's output times its ReLU's derivative (output > 0).
  for (let l = layers - 1; l >= 0; l--) {
    const nIn = widths[l]!;
    const nOut = widths[l + 1]!;
    const input = ws.acts[l]!;
    const output = ws.acts[l + 1]!;
    const delta = ws.deltas[l + 1]!;
    const below = ws.deltas[l]!;
    const w0 = layout.weight[l]!;
    const b0 = layout.bias[l]!;
    const propagate = l > 0;
    if (propagate) below.fill(0, 0, rows * nIn);
    for (let r = 0; r < rows; r++) {
      const ri = r * nIn;
      const ro = r * nOut;
      for (let j = 0; j < nOut; j++) {
        if (output[ro + j]! <= 0) continue;
        const d = delta[ro + j]!;
        if (d === 0) continue;
        grad[b0 + j]! += d;
        const wj = w0 + j * nIn;
        for (let i = 0; i < nIn; i++) grad[wj + i]! += d * input[ri + i]!;
        if (propagate) for (let i = 0; i < nIn; i++) below[ri + i]! += d * params[wj + i]!;
      }
    }
  }
  return loss * inv;
}

/**
 * The plain definition of the loss `mlpLossAndGradient` computes, in float64 over nested arrays: the
 * reference the kernel's gradient is checked against (numerically, by central differences).
 */
export function mlpLossReference(
  params: ArrayLike<number>,
  widths: readonly number[],
  inputs: readonly (readonly number[])[],
  targets: readonly (readonly number[])[],
  taskWeights: ArrayLike<number>,
  wide = false,
): number {
  let loss = 0;
  for (let r = 0; r < inputs.length; r++) {
    const z = mlpOutputsReference(params, widths, inputs[r]!, wide);
    for (let k = 0; k < TASK_COUNT; k++) {
      const y = targets[r]![k]!;
      const p = 1 / (1 + Math.exp(-z[k]!));
      loss +=
        taskWeights[k]! *
        (k === WATCH_FRACTION_TASK ? 0.5 * (z[k]! - y) ** 2 : -(y * Math.log(p) + (1 - y) * Math.log(1 - p)));
    }
  }
  return loss / inputs.length;
}

/** Head outputs (before the link) of one standardised input, layer by layer as the definition reads. */
export function mlpOutputsReference(
  params: ArrayLike<number>,
  widths: readonly number[],
  input: readonly number[],
  wide = false,
): number[] {
  const layout = mlpLayout(widths, wide);
  let a = input.slice();
  for (let l = 0; l < widths.length - 1; l++) {
    const next: number[] = [];
    for (let j = 0; j < widths[l + 1]!; j++) {
      let s = params[layout.bias[l]! + j]!;
      for (let i = 0; i < widths[l]!; i++) s += params[layout.weight[l]! + j * widths[l]! + i]! * a[i]!;
      next.push(Math.max(0, s));
    }
    a = next;
  }
  const out: number[] = [];
  for (let k = 0; k < TASK_COUNT; k++) {
    let s = params[layout.headBias + k]!;
    for (let i = 0; i < a.length; i++) s += params[layout.headWeight + k * a.length + i]! * a[i]!;
    if (wide)
      for (let i = 0; i < input.length; i++) s += params[layout.wide + k * input.length + i]! * input[i]!;
    out.push(s);
  }
  return out;
}

/** Task outputs of head outputs: sigmoid for the binary tasks, max(0, z) for the watch fraction. */
function taskOutput(k: number, z: number): number {
  return k === WATCH_FRACTION_TASK ? Math.max(z, 0) : 1 / (1 + Math.exp(-z));
}

/**
 * Trains the network on `x` (rows x width, row-major, NaN for missing) and `labels` (rows x TASK_COUNT,
 * RANKING_TASKS order; the watch fraction is capped at MAX_WATCH_FRACTION).
 */
export function trainMlpRanker(
  x: Float32Array,
  width: number,
  labels: Float32Array,
  options: MlpOptions = {},
): MlpModel {
  const rows = labels.length / TASK_COUNT;
  if (!Number.isInteger(rows) || x.length !== rows * width)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `training matrix has ${x.length} values for ${labels.length / TASK_COUNT} label rows; expected rows x width ${width}`,
    );
  if (rows === 0) throw new ForyouError('FY_INVALID_ARGUMENT', 'no training rows for the MLP ranker');
  const hidden = options.hidden ?? [64, 32];
  if (hidden.length === 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', 'the MLP ranker needs at least one hidden layer');
  const widths = [width, ...hidden];
  checkWidths(widths);
  const epochs = options.epochs ?? 8;
  const batch = options.batch ?? 256;
  const lr = options.learningRate ?? 0.002;
  const finalShare = options.finalRateShare ?? 0.1;
  const l2 = options.l2 ?? 1e-5;
  const seed = options.seed ?? 5;
  const wide = options.wide ?? true;
  const taskWeights = Float64Array.from({ length: TASK_COUNT }, (_, k) => options.taskWeights?.[k] ?? 1);
  if (taskWeights.some((w) => !(w >= 0)))
    throw new ForyouError('FY_INVALID_ARGUMENT', `task weights [${[...taskWeights]}]; expected numbers >= 0`);

  const standardizer = fitStandardizer(x, width);
  const z = standardize(standardizer, x, width);
  const targets = new Float32Array(labels.length);
  const baseRates = new Float64Array(TASK_COUNT);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < TASK_COUNT; k++) {
      const v = labels[r * TASK_COUNT + k]!;
      const t = k === WATCH_FRACTION_TASK ? Math.min(MAX_WATCH_FRACTION, v) : v;
      targets[r * TASK_COUNT + k] = t;
      baseRates[k]! += t / rows;
    }
  const params = initMlpParams(widths, baseRates, seed, wide);
  const layout = mlpLayout(widths, wide);
  const isWeight = new Uint8Array(layout.size);
  for (let l = 0; l < widths.length - 1; l++)
    isWeight.fill(1, layout.weight[l]!, layout.weight[l]! + widths[l]! * widths[l + 1]!);
  isWeight.fill(1, layout.headWeight, layout.headBias);
  if (wide) isWeight.fill(1, layout.wide, layout.size);
  const grad = new Float32Array(layout.size);
  const m = new Float32Array(layout.size);
  const v = new Float32Array(layout.size);
  const ws = new MlpWorkspace(widths, batch, wide);
  const batchTargets = new Float32Array(batch * TASK_COUNT);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const rng = new Rng(`ranker-mlp-order-${seed}`);
  const stepsPerEpoch = Math.ceil(rows / batch);
  const totalSteps = epochs * stepsPerEpoch;
  const input = ws.acts[0]!;
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    rng.shuffle(order);
    for (let start = 0; start < rows; start += batch) {
      const size = Math.min(batch, rows - start);
      for (let s = 0; s < size; s++) {
        const r = order[start + s]!;
        input.set(z.subarray(r * width, (r + 1) * width), s * width);
        batchTargets.set(targets.subarray(r * TASK_COUNT, (r + 1) * TASK_COUNT), s * TASK_COUNT);
      }
      grad.fill(0);
      mlpLossAndGradient(params, ws, size, batchTargets, 0, taskWeights, grad);
      step++;
      const rate = lr * (1 - (1 - finalShare) * ((step - 1) / Math.max(1, totalSteps - 1)));
      const c1 = 1 / (1 - 0.9 ** step);
      const c2 = 1 / (1 - 0.999 ** step);
      for (let p = 0; p < layout.size; p++) {
        const g = grad[p]! + (isWeight[p] === 1 ? l2 * params[p]! : 0);
        const mp = 0.9 * m[p]! + 0.1 * g;
        const vp = 0.999 * v[p]! + 0.001 * g * g;
        m[p] = mp;
        v[p] = vp;
        params[p]! -= (rate * mp * c1) / (Math.sqrt(vp * c2) + 1e-8);
      }
    }
  }
  return { inputWidth: width, widths: Int32Array.from(widths), wide, standardizer, params };
}

/** Task outputs (rows x TASK_COUNT) of `x` (rows x inputWidth, raw features), through the batch kernel. */
export function predictMlpTasks(model: MlpModel, x: Float32Array): Float64Array {
  const width = model.inputWidth;
  const rows = x.length / width;
  if (!Number.isInteger(rows))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `input holds ${x.length} values, not a whole number of rows of width ${width}`,
    );
  const capacity = 1024;
  const ws = new MlpWorkspace(model.widths, capacity, model.wide);
  const out = new Float64Array(rows * TASK_COUNT);
  const input = ws.acts[0]!;
  const { mean, invStd } = model.standardizer;
  for (let start = 0; start < rows; start += capacity) {
    const size = Math.min(capacity, rows - start);
    for (let i = 0; i < size * width; i++) {
      const v = x[start * width + i]!;
      const f = i % width;
      input[i] = Number.isNaN(v) ? 0 : (signedLog1p(v) - mean[f]!) * invStd[f]!;
    }
    mlpForward(model.params, ws, size);
    for (let i = 0; i < size * TASK_COUNT; i++)
      out[start * TASK_COUNT + i] = taskOutput(i % TASK_COUNT, ws.out[i]!);
  }
  return out;
}

/** The reference prediction: task outputs of `x`, row by row through `mlpOutputsReference`. */
export function predictMlpReference(model: MlpModel, x: Float32Array): Float64Array {
  const width = model.inputWidth;
  const rows = x.length / width;
  const z = standardize(model.standardizer, x, width);
  const widths = Array.from(model.widths);
  const out = new Float64Array(rows * TASK_COUNT);
  for (let r = 0; r < rows; r++) {
    const heads = mlpOutputsReference(
      model.params,
      widths,
      Array.from(z.subarray(r * width, (r + 1) * width)),
      model.wide,
    );
    for (let k = 0; k < TASK_COUNT; k++) out[r * TASK_COUNT + k] = taskOutput(k, heads[k]!);
  }
  return out;
}

/**
 * `out[j] = base[baseAt + j] + sum_i w[j * nIn + i] * x[i]` for j < nOut (then max(0, .) when `relu`),
 * four outputs at a time: four independent sums keep the floating-point adder busy where one sum would
 * wait on its own previous addition, and each input is read once per four outputs. `base` may be `out`.
 */
function dense(
  w: Float64Array,
  nIn: number,
  x: Float64Array,
  base: Float64Array,
  baseAt: number,
  out: Float64Array,
  nOut: number,
  relu: boolean,
): void {
  let j = 0;
  for (; j + 4 <= nOut; j += 4) {
    const r0 = j * nIn;
    const r1 = r0 + nIn;
    const r2 = r1 + nIn;
    const r3 = r2 + nIn;
    let s0 = base[baseAt + j]!;
    let s1 = base[baseAt + j + 1]!;
    let s2 = base[baseAt + j + 2]!;
    let s3 = base[baseAt + j + 3]!;
    for (let i = 0; i < nIn; i++) {
      const v = x[i]!;
      s0 += w[r0 + i]! * v;
      s1 += w[r1 + i]! * v;
      s2 += w[r2 + i]! * v;
      s3 += w[r3 + i]! * v;
    }
    if (relu) {
      out[j] = Math.max(s0, 0);
      out[j + 1] = Math.max(s1, 0);
      out[j + 2] = Math.max(s2, 0);
      out[j + 3] = Math.max(s3, 0);
    } else {
      out[j] = s0;
      out[j + 1] = s1;
      out[j + 2] = s2;
      out[j + 3] = s3;
    }
  }
  for (; j < nOut; j++) {
    let s = base[baseAt + j]!;
    const r = j * nIn;
    for (let i = 0; i < nIn; i++) s += w[r + i]! * x[i]!;
    out[j] = relu && s < 0 ? 0 : s;
  }
}

/** Rows `[0, rows)`, columns `[from, from + cols)` of a row-major block of `params` at `at` with `stride` columns. */
function block(params: Float32Array, at: number, rows: number, stride: number, from: number, cols: number) {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = params[at + r * stride + from + c]!;
  return out;
}

/**
 * The network on the serving path, like `RankerScorer`: one user's features and N candidates' (row-major
 * Float32Array, NaN for missing) in, fused scores and optionally task outputs out, into the caller's arrays;
 * nothing is allocated per call. The user features' part of the first layer and of the heads' linear part
 * (with their biases) is the same for every candidate of a request, so it is computed once; per candidate
 * only the candidate columns, the rest of the bottom and the heads. The weights are copied at construction
 * into float64 blocks, one per layer and input side, each row contiguous (`dense`).
 */
export class MlpScorer {
  readonly userWidth: number;
  readonly candidateWidth: number;
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  private readonly fusion: Float64Array;
  private readonly widths: Int32Array;
  /** First layer: bias, user columns, candidate columns. */
  private readonly firstBias: Float64Array;
  private readonly firstUser: Float64Array;
  private readonly firstCandidate: Float64Array;
  /** Layers after the first: weights and biases. */
  private readonly weights: Float64Array[];
  private readonly biases: Float64Array[];
  /** Heads: bias, weights on the last layer, linear part's user and candidate columns (empty without). */
  private readonly headBias: Float64Array;
  private readonly headTop: Float64Array;
  private readonly wideUser: Float64Array;
  private readonly wideCandidate: Float64Array;
  private readonly wide: boolean;
  /** Per request: the user's standardised features; the first layer's and the heads' request bases. */
  private readonly zu: Float64Array;
  private readonly firstBase: Float64Array;
  private readonly headBase = new Float64Array(TASK_COUNT);
  /** Per candidate: standardised candidate features, each layer's activations, the head outputs. */
  private readonly zc: Float64Array;
  private readonly acts: Float64Array[];
  private readonly heads = new Float64Array(TASK_COUNT);

  constructor(model: MlpModel, userWidth: number, weights: FusionWeights = DEFAULT_FUSION_WEIGHTS) {
    if (!(Number.isInteger(userWidth) && userWidth >= 0 && userWidth <= model.inputWidth))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `user width ${userWidth} does not fit the model's input width ${model.inputWidth}`,
      );
    if (model.widths.length < 2)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'the MLP ranker model has no hidden layer');
    const U = userWidth;
    const W = model.inputWidth;
    const C = W - U;
    const widths = model.widths;
    const layout = mlpLayout(widths, model.wide);
    const p = model.params;
    const layers = widths.length - 1;
    const h1 = widths[1]!;
    const last = widths[layers]!;
    this.userWidth = U;
    this.candidateWidth = C;
    this.mean = model.standardizer.mean;
    this.invStd = model.standardizer.invStd;
    this.fusion = fusionVector(weights);
    this.widths = widths;
    this.firstBias = block(p, layout.bias[0]!, 1, h1, 0, h1);
    this.firstUser = block(p, layout.weight[0]!, h1, W, 0, U);
    this.firstCandidate = block(p, layout.weight[0]!, h1, W, U, C);
    this.weights = [];
    this.biases = [];
    for (let l = 1; l < layers; l++) {
      this.weights.push(block(p, layout.weight[l]!, widths[l + 1]!, widths[l]!, 0, widths[l]!));
      this.biases.push(block(p, layout.bias[l]!, 1, widths[l + 1]!, 0, widths[l + 1]!));
    }
    this.headBias = block(p, layout.headBias, 1, TASK_COUNT, 0, TASK_COUNT);
    this.headTop = block(p, layout.headWeight, TASK_COUNT, last, 0, last);
    this.wide = model.wide;
    this.wideUser = model.wide ? block(p, layout.wide, TASK_COUNT, W, 0, U) : new Float64Array(0);
    this.wideCandidate = model.wide ? block(p, layout.wide, TASK_COUNT, W, U, C) : new Float64Array(0);
    this.zu = new Float64Array(U);
    this.firstBase = new Float64Array(h1);
    this.zc = new Float64Array(C);
    this.acts = Array.from(widths.subarray(1), (w) => new Float64Array(w));
  }

  /**
   * Scores `candidates` (count x candidateWidth) for `user` (userWidth values): the fused score of candidate
   * j into `scores[j]`, its task outputs into `taskOut[j * 5 + k]` when given. Returns the count.
   */
  score(user: Float32Array, candidates: Float32Array, scores: Float32Array, taskOut?: Float32Array): number {
    const U = this.userWidth;
    const C = this.candidateWidth;
    const count = scoreCallCount('MLP ranker', user, U, candidates, C, scores, taskOut);
    const { mean, invStd, widths, zu, zc, acts, heads, fusion } = this;
    const layers = widths.length - 1;
    const h1 = widths[1]!;
    const last = widths[layers]!;
    for (let f = 0; f < U; f++) {
      const v = user[f]!;
      zu[f] = Number.isNaN(v) ? 0 : (signedLog1p(v) - mean[f]!) * invStd[f]!;
    }
    dense(this.firstUser, U, zu, this.firstBias, 0, this.firstBase, h1, false);
    if (this.wide) dense(this.wideUser, U, zu, this.headBias, 0, this.headBase, TASK_COUNT, false);
    else this.headBase.set(this.headBias);
    const top = acts[layers - 1]!;
    for (let n = 0; n < count; n++) {
      const row = n * C;
      for (let f = 0; f < C; f++) {
        const v = candidates[row + f]!;
        zc[f] = Number.isNaN(v) ? 0 : (signedLog1p(v) - mean[U + f]!) * invStd[U + f]!;
      }
      dense(this.firstCandidate, C, zc, this.firstBase, 0, acts[0]!, h1, true);
      for (let l = 1; l < layers; l++)
        dense(
          this.weights[l - 1]!,
          widths[l]!,
          acts[l - 1]!,
          this.biases[l - 1]!,
          0,
          acts[l]!,
          widths[l + 1]!,
          true,
        );
      dense(this.headTop, last, top, this.headBase, 0, heads, TASK_COUNT, false);
      if (this.wide) dense(this.wideCandidate, C, zc, heads, 0, heads, TASK_COUNT, false);
      let fused = 0;
      for (let k = 0; k < TASK_COUNT; k++) {
        const t = taskOutput(k, heads[k]!);
        fused += fusion[k]! * t;
        if (taskOut) taskOut[n * TASK_COUNT + k] = t;
      }
      scores[n] = fused;
    }
    return count;
  }
}
