import { ForyouError } from '../core/errors.js';
import { selectTop } from '../core/sorted.js';
import { fitLinear, fitStandardizer, type LinearOptions, signedLog1p, standardize } from './ranker-linear.js';
import { type FusionWeights, fusionVector } from './ranker-scorer.js';
import { RANKING_TASKS, TASK_COUNT } from './ranking-samples.js';

/**
 * The pre-ranker: a linear model of the fused label (the fusion weights applied to the labels) over the
 * candidate features only, since the user's own features add the same amount to every candidate of a
 * request and cannot change its order. It scores a thousand candidates in well under a millisecond (one
 * multiply-add and one cheap logarithm per feature) and cuts them to the few hundred the ranker scores.
 */
export interface PrerankModel {
  candidateWidth: number;
  mean: Float32Array;
  invStd: Float32Array;
  /** Per-feature weight folded with 1 / std, then the bias folded with the means. */
  weights: Float32Array;
  bias: number;
}

export function trainPreranker(
  candidates: Float32Array,
  candidateWidth: number,
  labels: Float32Array,
  weights: FusionWeights,
  options: LinearOptions = {},
): PrerankModel {
  const rows = labels.length / TASK_COUNT;
  if (candidates.length !== rows * candidateWidth)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `candidate matrix has ${candidates.length} values for ${rows} label rows of width ${candidateWidth}`,
    );
  const fusion = fusionVector(weights);
  const standardizer = fitStandardizer(candidates, candidateWidth);
  const z = standardize(standardizer, candidates, candidateWidth);
  const target = (r: number) => {
    let s = 0;
    for (let k = 0; k < RANKING_TASKS.length; k++) s += fusion[k]! * labels[r * TASK_COUNT + k]!;
    return s;
  };
  const w = fitLinear(z, candidateWidth, target, false, { epochs: 4, ...options });
  // Fold the standardisation into the weights: w.(log - mean) * invStd + b = (w * invStd).log + b'.
  const folded = new Float32Array(candidateWidth);
  let bias = w[candidateWidth]!;
  for (let f = 0; f < candidateWidth; f++) {
    folded[f] = w[f]! * standardizer.invStd[f]!;
    bias -= folded[f]! * standardizer.mean[f]!;
  }
  return { candidateWidth, mean: standardizer.mean, invStd: standardizer.invStd, weights: folded, bias };
}

/** Serving side of the pre-ranker: scores and the cut, into preallocated arrays. */
export class Preranker {
  readonly candidateWidth: number;
  private readonly weights: Float32Array;
  private readonly mean: Float32Array;
  private readonly bias: number;
  private scratch: Float32Array;
  private order: Int32Array;

  constructor(
    readonly model: PrerankModel,
    capacity = 2048,
  ) {
    this.candidateWidth = model.candidateWidth;
    this.weights = model.weights;
    this.mean = model.mean;
    this.bias = model.bias;
    this.scratch = new Float32Array(capacity);
    this.order = new Int32Array(capacity);
  }

  /** Scores `candidates` (count x candidateWidth) into `scores`; a missing value (NaN) counts as the mean. */
  score(candidates: Float32Array, scores: Float32Array): number {
    const C = this.candidateWidth;
    const count = candidates.length / C;
    if (!Number.isInteger(count))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `candidate features hold ${candidates.length} values, not a whole number of rows of the pre-ranker's candidate width ${C}`,
      );
    if (scores.length < count)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `scores array holds ${scores.length} values for ${count} candidates`,
      );
    const w = this.weights;
    const mean = this.mean;
    for (let n = 0; n < count; n++) {
      let s = this.bias;
      const row = n * C;
      for (let f = 0; f < C; f++) {
        const v = candidates[row + f]!;
        // The weights were fitted on signedLog1p of each value.
        s += w[f]! * (Number.isNaN(v) ? mean[f]! : signedLog1p(v));
      }
      scores[n] = s;
    }
    return count;
  }

  /**
   * Scores `candidates` and writes the indices of the `keep` best into `out` (in no particular order); returns how many
   * were written (fewer when there are fewer candidates). Grows its scratch only past its capacity.
   */
  cut(candidates: Float32Array, keep: number, out: Int32Array): number {
    const count = candidates.length / this.candidateWidth;
    if (Number.isInteger(count) && count > this.scratch.length) {
      this.scratch = new Float32Array(count);
      this.order = new Int32Array(count);
    }
    this.score(candidates, this.scratch);
    const k = Math.min(keep, count);
    if (out.length < k)
      throw new ForyouError('FY_INVALID_ARGUMENT', `cut output holds ${out.length} slots; ${k} needed`);
    return topK(this.scratch, count, k, this.order, out);
  }
}

/**
 * The indices of the `k` largest of `scores[0..count)` into `out`, in no particular order (ties go to the
 * lower index), using `order` (at least `count` slots) as scratch: `selectTop` until the k best fill the front.
 */
export function topK(
  scores: Float32Array,
  count: number,
  k: number,
  order: Int32Array,
  out: Int32Array,
): number {
  const n = Math.min(k, count);
  if (n <= 0) return 0;
  for (let i = 0; i < count; i++) order[i] = i;
  selectTop(scores, order, 0, count - 1, n - 1);
  for (let i = 0; i < n; i++) out[i] = order[i]!;
  return n;
}

/** The reference of `topK`: a full sort. */
export function topKReference(scores: ArrayLike<number>, count: number, k: number): number[] {
  return Array.from({ length: count }, (_, i) => i)
    .sort((a, b) => scores[b]! - scores[a]! || a - b)
    .slice(0, k);
}

/** Reference pre-ranker score of one candidate row, from the unfolded definition. */
export function prerankReference(model: PrerankModel, row: ArrayLike<number>): number {
  let s = model.bias;
  for (let f = 0; f < model.candidateWidth; f++) {
    const v = row[f]!;
    s += model.weights[f]! * (Number.isNaN(v) ? model.mean[f]! : signedLog1p(v));
  }
  return s;
}
