import { ForyouError } from '../core/errors.js';
import { type GbdtModel, HEAD_COUNT, tasksFromHeads } from './ranker-gbdt.js';
import { signedLog1p } from './ranker-linear.js';
import { RANKING_TASKS, type RankingTask, TASK_COUNT } from './ranking-samples.js';

/** Weight of each task in the fused score: score = sum of weight x task output (probability or fraction). */
export type FusionWeights = Readonly<Record<RankingTask, number>>;

/**
 * Default fusion: a long watch is the unit; a like is worth two, a share and a follow (rarer, and what
 * grows the platform) six each; the expected watch fraction adds a smooth watch-time term.
 */
export const DEFAULT_FUSION_WEIGHTS: FusionWeights = {
  long_watch: 1,
  like: 2,
  share: 6,
  follow: 6,
  watch_fraction: 0.5,
};

export function fusionVector(weights: FusionWeights): Float64Array {
  return Float64Array.from(RANKING_TASKS, (task) => {
    const w = weights[task];
    if (!Number.isFinite(w))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `fusion weight of ${task} is ${w}; expected a finite number`,
      );
    return w;
  });
}

/**
 * The ranker on the serving path: one user's feature vector and N candidates' feature vectors (row-major
 * Float32Array) in, fused scores (and, when asked, the per-task outputs) out, into the caller's arrays.
 * Nothing is allocated per call. The tree levels that test user features, and the linear base's user
 * part, are resolved once per request (the same for every candidate); per candidate only the
 * candidate-feature levels are compared and the candidate features' linear part added.
 */
export class RankerScorer {
  readonly userWidth: number;
  readonly candidateWidth: number;
  private readonly trees: number;
  private readonly leafStride: number;
  private readonly leaves: Float32Array;
  private readonly base: Float32Array;
  private readonly fusion: Float64Array;
  // Levels on user features, per tree [userStart[t], userStart[t + 1]).
  private readonly userStart: Int32Array;
  private readonly userFeature: Int32Array;
  private readonly userThreshold: Float32Array;
  private readonly userShift: Int32Array;
  // Levels on candidate features (index into the candidate row), per tree.
  private readonly candStart: Int32Array;
  private readonly candFeature: Int32Array;
  private readonly candThreshold: Float32Array;
  private readonly candShift: Int32Array;
  /** Per-request scratch: each tree's leaf bits from its user levels. */
  private readonly treeBits: Int32Array;
  private readonly heads = new Float64Array(HEAD_COUNT);
  /** Linear base on candidate features, transposed: feature f, head k at f * HEAD_COUNT + k. */
  private readonly candLinear: Float32Array;
  private readonly candMean: Float32Array;
  private readonly hasLinear: boolean;
  /** Per request: base + the user features' linear part, per head. */
  private readonly requestBase = new Float64Array(HEAD_COUNT);
  private readonly model: GbdtModel;
  private readonly tasks = new Float64Array(TASK_COUNT);

  constructor(model: GbdtModel, userWidth: number, weights: FusionWeights = DEFAULT_FUSION_WEIGHTS) {
    if (!(userWidth >= 0 && userWidth <= model.inputWidth))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `user width ${userWidth} does not fit the model's input width ${model.inputWidth}`,
      );
    this.userWidth = userWidth;
    this.candidateWidth = model.inputWidth - userWidth;
    this.trees = model.trees;
    this.leafStride = (1 << model.depth) * HEAD_COUNT;
    this.leaves = model.leaves;
    this.base = model.base;
    this.fusion = fusionVector(weights);
    const user: number[][] = [];
    const cand: number[][] = [];
    const userStart = [0];
    const candStart = [0];
    for (let t = 0; t < model.trees; t++) {
      for (let l = 0; l < model.depth; l++) {
        const at = t * model.depth + l;
        const f = model.feature[at]!;
        const thr = model.threshold[at]!;
        if (thr === Number.POSITIVE_INFINITY) continue; // a level that splits nothing
        if (f < userWidth) user.push([f, thr, l]);
        else cand.push([f - userWidth, thr, l]);
      }
      userStart.push(user.length);
      candStart.push(cand.length);
    }
    this.userStart = Int32Array.from(userStart);
    this.userFeature = Int32Array.from(user, (x) => x[0]!);
    this.userThreshold = Float32Array.from(user, (x) => x[1]!);
    this.userShift = Int32Array.from(user, (x) => x[2]!);
    this.candStart = Int32Array.from(candStart);
    this.candFeature = Int32Array.from(cand, (x) => x[0]!);
    this.candThreshold = Float32Array.from(cand, (x) => x[1]!);
    this.candShift = Int32Array.from(cand, (x) => x[2]!);
    this.treeBits = new Int32Array(model.trees);
    this.model = model;
    const W = model.inputWidth;
    this.candLinear = new Float32Array(this.candidateWidth * HEAD_COUNT);
    for (let f = 0; f < this.candidateWidth; f++)
      for (let k = 0; k < HEAD_COUNT; k++)
        this.candLinear[f * HEAD_COUNT + k] = model.linear[k * W + userWidth + f]!;
    this.candMean = model.linearMean.slice(userWidth);
    this.hasLinear = model.linear.some((w) => w !== 0);
  }

  /**
   * Scores `candidates` (count x candidateWidth) for `user` (userWidth values): the fused score of candidate
   * j into `scores[j]`, and its task outputs into `taskOut[j * 5 + k]` (RANKING_TASKS order) when given.
   * Returns the number of candidates.
   */
  score(user: Float32Array, candidates: Float32Array, scores: Float32Array, taskOut?: Float32Array): number {
    const count = scoreCallCount(
      'ranker',
      user,
      this.userWidth,
      candidates,
      this.candidateWidth,
      scores,
      taskOut,
    );
    const trees = this.trees;
    const bits = this.treeBits;
    for (let t = 0; t < trees; t++) {
      let b = 0;
      for (let j = this.userStart[t]!; j < this.userStart[t + 1]!; j++)
        if (user[this.userFeature[j]!]! > this.userThreshold[j]!) b |= 1 << this.userShift[j]!;
      bits[t] = b;
    }
    const C = this.candidateWidth;
    const leaves = this.leaves;
    const stride = this.leafStride;
    const candStart = this.candStart;
    const candFeature = this.candFeature;
    const candThreshold = this.candThreshold;
    const candShift = this.candShift;
    const heads = this.heads;
    const tasks = this.tasks;
    const fusion = this.fusion;
    const base = this.requestBase;
    const W = this.model.inputWidth;
    const linear = this.model.linear;
    const linearMean = this.model.linearMean;
    for (let k = 0; k < HEAD_COUNT; k++) {
      let b = this.base[k]!;
      for (let f = 0; f < this.userWidth; f++) {
        const v = user[f]!;
        b += linear[k * W + f]! * (Number.isNaN(v) ? linearMean[f]! : signedLog1p(v));
      }
      base[k] = b;
    }
    const hasLinear = this.hasLinear;
    const candLinear = this.candLinear;
    const candMean = this.candMean;
    for (let n = 0; n < count; n++) {
      const row = n * C;
      let h0 = base[0]!;
      let h1 = base[1]!;
      let h2 = base[2]!;
      let h3 = base[3]!;
      let h4 = base[4]!;
      let h5 = base[5]!;
      if (hasLinear)
        for (let f = 0; f < C; f++) {
          const v = candidates[row + f]!;
          const t = Number.isNaN(v) ? candMean[f]! : signedLog1p(v);
          const at = f * HEAD_COUNT;
          h0 += candLinear[at]! * t;
          h1 += candLinear[at + 1]! * t;
          h2 += candLinear[at + 2]! * t;
          h3 += candLinear[at + 3]! * t;
          h4 += candLinear[at + 4]! * t;
          h5 += candLinear[at + 5]! * t;
        }
      for (let t = 0; t < trees; t++) {
        let leaf = bits[t]!;
        const end = candStart[t + 1]!;
        // Branch-free: the comparisons' outcomes are unpredictable, a mispredicted branch costs more.
        for (let j = candStart[t]!; j < end; j++)
          leaf |= +(candidates[row + candFeature[j]!]! > candThreshold[j]!) << candShift[j]!;
        const at = t * stride + leaf * HEAD_COUNT;
        h0 += leaves[at]!;
        h1 += leaves[at + 1]!;
        h2 += leaves[at + 2]!;
        h3 += leaves[at + 3]!;
        h4 += leaves[at + 4]!;
        h5 += leaves[at + 5]!;
      }
      heads[0] = h0;
      heads[1] = h1;
      heads[2] = h2;
      heads[3] = h3;
      heads[4] = h4;
      heads[5] = h5;
      tasksFromHeads(heads, 0, tasks, 0);
      let s = 0;
      for (let k = 0; k < TASK_COUNT; k++) s += fusion[k]! * tasks[k]!;
      scores[n] = s;
      if (taskOut) for (let k = 0; k < TASK_COUNT; k++) taskOut[n * TASK_COUNT + k] = tasks[k]!;
    }
    return count;
  }
}

/**
 * The candidate count of a scorer call (`score(user, candidates, scores, taskOut)`), after checking every
 * array's shape; `model` names the scorer in the messages. Shared by the tree and network scorers.
 */
export function scoreCallCount(
  model: string,
  user: Float32Array,
  userWidth: number,
  candidates: Float32Array,
  candidateWidth: number,
  scores: Float32Array,
  taskOut: Float32Array | undefined,
): number {
  if (user.length !== userWidth)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `user feature vector has ${user.length} values; the ${model} expects ${userWidth}`,
    );
  const count = candidateWidth === 0 ? 0 : candidates.length / candidateWidth;
  if (!Number.isInteger(count))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `candidate features hold ${candidates.length} values, not a whole number of rows of the ${model}'s candidate width ${candidateWidth}`,
    );
  if (scores.length < count)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `scores array holds ${scores.length} values for ${count} candidates`,
    );
  if (taskOut && taskOut.length < count * TASK_COUNT)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `task output array holds ${taskOut.length} values; ${count} candidates need ${count * TASK_COUNT}`,
    );
  return count;
}
