import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { type BprShared, type BprTask, runBprTask } from './bpr-kernel.js';
import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender } from './recommender.js';
import { threadCount, WorkerPool } from './worker-pool.js';

export interface BprOptions {
  /** Latent dimensions (default 64). */
  factors?: number;
  /** Passes; one pass draws as many triples as there are training interactions (default 60). */
  epochs?: number;
  /** SGD step size (default 0.05). */
  learningRate?: number;
  /** L2 regularisation of the factors (default 0.005). */
  regularization?: number;
  /** L2 regularisation of the item biases (default 0.005). */
  biasRegularization?: number;
  /** Negatives drawn with probability ∝ popularity^e: 0 uniform (default), 1 popularity-proportional. */
  negativeExponent?: number;
  /** Standard deviation of the initial factors (default 0.1). */
  initScale?: number;
  /**
   * Run the epochs Hogwild-style on `threads` workers writing the same shared factors without locks
   * (default false: one thread, deterministic under the seed; Hogwild results vary from run to run).
   */
  hogwild?: boolean;
}

export const BPR_DEFAULTS = {
  factors: 64,
  epochs: 60,
  learningRate: 0.05,
  regularization: 0.005,
  biasRegularization: 0.005,
  negativeExponent: 0,
  initScale: 0.1,
  hogwild: false,
} as const;

/**
 * Bayesian personalised ranking (Rendle et al. 2009) on a matrix factorisation with item biases, trained by
 * SGD on (user, positive, negative) triples (`bpr-kernel.ts`); scores are b_i + p_u · q_i. Items without
 * training interactions score -Infinity.
 */
export class BprRecommender implements ServableRecommender {
  readonly name: string;
  private readonly o: Required<BprOptions>;
  private shared: BprShared | null = null;
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];
  private history = new Float32Array(0);

  constructor(options: BprOptions = {}, name = 'bpr') {
    this.name = name;
    this.o = { ...BPR_DEFAULTS, ...options };
    const { factors, epochs, learningRate, regularization, biasRegularization, negativeExponent } = this.o;
    if (!Number.isInteger(factors) || factors < 1 || !Number.isInteger(epochs) || epochs < 1)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'bpr factors and epochs must be whole numbers >= 1');
    if (
      !(learningRate > 0) ||
      !(regularization >= 0) ||
      !(biasRegularization >= 0) ||
      !(negativeExponent >= 0)
    )
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        'bpr needs learningRate > 0 and regularization, biasRegularization, negativeExponent >= 0',
      );
  }

  async fit(train: InteractionMatrix, options: FitOptions = {}): Promise<void> {
    const f = this.o.factors;
    const seed = options.seed ?? 42;
    const shared: BprShared = {
      factors: f,
      learningRate: this.o.learningRate,
      regularization: this.o.regularization,
      biasRegularization: this.o.biasRegularization,
      negativeExponent: this.o.negativeExponent,
      users: train.users,
      items: train.items,
      userPtr: train.userPtr,
      userItems: train.userItems,
      userOf: new Int32Array(train.nnz),
      itemCounts: train.itemCounts(),
      p: new Float32Array(new SharedArrayBuffer(train.users * f * 4)),
      q: new Float32Array(new SharedArrayBuffer(train.items * f * 4)),
      bias: new Float32Array(new SharedArrayBuffer(train.items * 4)),
    };
    for (let u = 0; u < train.users; u++) shared.userOf.fill(u, train.userPtr[u]!, train.userPtr[u + 1]!);
    const rng = new Rng(seed).fork('bpr/init');
    for (let k = 0; k < shared.p.length; k++) shared.p[k] = rng.normal(0, this.o.initScale);
    for (let k = 0; k < shared.q.length; k++) shared.q[k] = rng.normal(0, this.o.initScale);
    this.shared = shared;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    this.history = new Float32Array(f);
    if (train.nnz === 0) return;
    const threads = this.o.hogwild ? threadCount(options.threads) : 1;
    const pool =
      threads > 1 ? await WorkerPool.start<BprTask>(import.meta.url, 'bpr-worker', threads, shared) : null;
    try {
      for (let epoch = 0; epoch < this.o.epochs; epoch++) {
        const tasks = Array.from({ length: threads }, (_, t) => ({
          seed: `${seed}/bpr/epoch/${epoch}/thread/${t}`,
          samples: Math.ceil(train.nnz / threads),
        }));
        if (pool) await pool.runEach(tasks);
        else runBprTask(shared, tasks[0]!);
        if ((epoch + 1) % 10 === 0) options.onProgress?.(`bpr: epoch ${epoch + 1}/${this.o.epochs}`);
      }
    } finally {
      await pool?.close();
    }
  }

  static fromState(state: ModelState): BprRecommender {
    const model = new BprRecommender(state.params as BprOptions, state.name);
    const f = model.o.factors;
    const users = state.userIds.length;
    const items = state.itemIds.length;
    // The training-only parts (the interactions, for sampling) are not kept.
    model.shared = {
      factors: f,
      learningRate: model.o.learningRate,
      regularization: model.o.regularization,
      biasRegularization: model.o.biasRegularization,
      negativeExponent: model.o.negativeExponent,
      users,
      items,
      userPtr: new Int32Array(1),
      userItems: new Int32Array(0),
      userOf: new Int32Array(0),
      p: stateArray(state, 'p', Float32Array, users * f),
      q: stateArray(state, 'q', Float32Array, items * f),
      bias: stateArray(state, 'bias', Float32Array, items),
      itemCounts: stateArray(state, 'itemCounts', Int32Array, items),
    };
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    model.history = new Float32Array(f);
    return model;
  }

  toState(): ModelState {
    const s = this.fitted();
    return {
      kind: 'bpr',
      name: this.name,
      params: { ...this.o },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: { p: s.p, q: s.q, bias: s.bias, itemCounts: s.itemCounts },
    };
  }

  scoreUser(u: number, out: Float32Array): void {
    const s = this.fitted();
    this.scoreVector(s.p, u * s.factors, out);
  }

  /** BPR has no closed-form fold-in: the user vector is the mean of the history's item factors. */
  scoreHistory(items: ArrayLike<number>, out: Float32Array): void {
    const { q, factors: f } = this.fitted();
    const x = this.history;
    x.fill(0);
    for (let k = 0; k < items.length; k++) {
      const o = items[k]! * f;
      for (let d = 0; d < f; d++) x[d]! += q[o + d]! / items.length;
    }
    this.scoreVector(x, 0, out);
  }

  private fitted(): BprShared {
    if (!this.shared) throw new ForyouError('FY_INVALID_ARGUMENT', `${this.name}: used before fit`);
    return this.shared;
  }

  private scoreVector(p: Float32Array, po: number, out: Float32Array): void {
    const { q, bias, factors: f, itemCounts } = this.fitted();
    for (let i = 0; i < out.length; i++) {
      if (itemCounts[i] === 0) {
        out[i] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const qo = i * f;
      let x = bias[i]!;
      for (let k = 0; k < f; k++) x += p[po + k]! * q[qo + k]!;
      out[i] = x;
    }
  }
}
