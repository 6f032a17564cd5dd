import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import {
  type AlsShared,
  type AlsSide,
  type AlsTask,
  alsScratch,
  gramian,
  runAlsTask,
  solveRow,
} from './als-kernel.js';
import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender } from './recommender.js';
import { threadCount, WorkerPool } from './worker-pool.js';

export interface AlsOptions {
  /** Latent dimensions (default 64). */
  factors?: number;
  /** Alternating passes, users then items (default 15). */
  iterations?: number;
  /** L2 regularisation λ of every factor vector (default 5). */
  lambda?: number;
  /** Confidence slope α (default 2). */
  alpha?: number;
  /** `linear`: c = 1 + α r; `log`: c = 1 + α ln(1 + r / ε) (default linear). */
  confidence?: 'linear' | 'log';
  /** ε of the log confidence (default 1). */
  epsilon?: number;
  /** r is the interaction's value (rating, play count) instead of 1 (default false). */
  useValues?: boolean;
  /** Standard deviation of the initial factors (default 0.1). */
  initScale?: number;
  /** Conjugate-gradient steps per row and half-iteration, warm-started; 0 solves exactly by Cholesky (default 3). */
  cgSteps?: number;
}

export const ALS_DEFAULTS = {
  factors: 64,
  iterations: 15,
  lambda: 5,
  alpha: 2,
  confidence: 'linear',
  epsilon: 1,
  useValues: false,
  initScale: 0.1,
  cgSteps: 3,
} as const;

/**
 * Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and Volinsky 2008): every
 * observed pair has preference 1 and confidence c > 1, every other pair preference 0 and confidence 1;
 * each half-iteration solves all users (then all items) exactly, with the Gramian trick (`als-kernel.ts`).
 * Rows are spread over worker threads; results do not depend on the thread count. Scores are x_u · y_i.
 */
export class AlsRecommender implements ServableRecommender {
  readonly name: string;
  private readonly o: Required<AlsOptions>;
  private users: Float64Array = new Float64Array(0);
  private items: Float64Array = new Float64Array(0);
  /** YᵀY of the item factors, for folding in a user who was not trained on. */
  private itemGram: Float64Array = new Float64Array(0);
  private foldIn = { user: new Float64Array(0), scratch: alsScratch(1) };
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];

  constructor(options: AlsOptions = {}, name = 'als') {
    this.name = name;
    this.o = { ...ALS_DEFAULTS, ...options };
    const { factors, iterations, lambda, alpha, epsilon, confidence, cgSteps } = this.o;
    if (!Number.isInteger(cgSteps) || cgSteps < 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `als cgSteps must be a whole number >= 0, got ${cgSteps}`);
    if (!Number.isInteger(factors) || factors < 1)
      throw new ForyouError('FY_INVALID_ARGUMENT', `als factors must be a whole number >= 1, got ${factors}`);
    if (!Number.isInteger(iterations) || iterations < 1)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `als iterations must be a whole number >= 1, got ${iterations}`,
      );
    if (!(lambda > 0) || !(alpha >= 0) || !(epsilon > 0))
      throw new ForyouError('FY_INVALID_ARGUMENT', 'als needs lambda > 0, alpha >= 0 and epsilon > 0');
    if (confidence !== 'linear' && confidence !== 'log')
      throw new ForyouError('FY_INVALID_ARGUMENT', `als confidence must be linear or log, got ${confidence}`);
  }

  async fit(train: InteractionMatrix, options: FitOptions = {}): Promise<void> {
    const f = this.o.factors;
    const threads = Math.min(threadCount(options.threads), Math.max(1, Math.ceil(train.users / 32)));
    const shared: AlsShared = {
      factors: f,
      lambda: this.o.lambda,
      users: this.side(train.userPtr, train.userItems, train.userValues),
      items: this.side(train.itemPtr, train.itemUsers, train.itemValues),
      userFactors: new Float64Array(new SharedArrayBuffer(train.users * f * 8)),
      itemFactors: new Float64Array(new SharedArrayBuffer(train.items * f * 8)),
      gram: new Float64Array(new SharedArrayBuffer(f * f * 8)),
      counter: new Int32Array(new SharedArrayBuffer(4)),
    };
    const rng = new Rng(options.seed ?? 42).fork('als');
    for (let k = 0; k < shared.itemFactors.length; k++)
      shared.itemFactors[k] = rng.normal(0, this.o.initScale);
    const pool =
      threads > 1 ? await WorkerPool.start<AlsTask>(import.meta.url, 'als-worker', threads, shared) : null;
    const scratch = pool ? null : alsScratch(f);
    const half = async (task: AlsTask) => {
      const fixed = task.solve === 'users' ? shared.itemFactors : shared.userFactors;
      gramian(fixed, fixed.length / f, f, shared.gram);
      Atomics.store(shared.counter, 0, 0);
      if (pool) await pool.run(task);
      else runAlsTask(shared, task, scratch!);
    };
    try {
      for (let it = 0; it < this.o.iterations; it++) {
        await half({ solve: 'users', cgSteps: this.o.cgSteps });
        await half({ solve: 'items', cgSteps: this.o.cgSteps });
        options.onProgress?.(`als: iteration ${it + 1}/${this.o.iterations}`);
      }
    } finally {
      await pool?.close();
    }
    this.users = shared.userFactors;
    this.items = shared.itemFactors;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    this.prepareFoldIn();
  }

  static fromState(state: ModelState): AlsRecommender {
    const model = new AlsRecommender(state.params as AlsOptions, state.name);
    const f = model.o.factors;
    model.users = stateArray(state, 'userFactors', Float64Array, state.userIds.length * f);
    model.items = stateArray(state, 'itemFactors', Float64Array, state.itemIds.length * f);
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    model.prepareFoldIn();
    return model;
  }

  toState(): ModelState {
    return {
      kind: 'als',
      name: this.name,
      params: { ...this.o },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: { userFactors: this.users, itemFactors: this.items },
    };
  }

  /** Factors (rows of `factors()` values): users x f and items x f, row-major. Read-only views. */
  get userFactors(): Float64Array {
    return this.users;
  }

  get itemFactors(): Float64Array {
    return this.items;
  }

  get factors(): number {
    return this.o.factors;
  }

  /**
   * The factor vector of someone with these items, solved exactly as a training half-iteration would
   * (each item a positive of confidence 1 + α): ALS's fold-in, about f³/3 + |items| f² operations.
   */
  foldInUser(items: ArrayLike<number>): Float64Array {
    const f = this.o.factors;
    const side: AlsSide = this.side(
      Int32Array.of(0, items.length),
      Int32Array.from(items),
      new Float32Array(items.length).fill(1),
    );
    const { user, scratch } = this.foldIn;
    if (items.length === 0) user.fill(0);
    else solveRow(this.itemGram, this.items, f, this.o.lambda, side, 0, user, scratch);
    return user;
  }

  scoreHistory(items: ArrayLike<number>, out: Float32Array): void {
    const x = this.foldInUser(items);
    this.scoreVector(x, 0, out);
  }

  private prepareFoldIn(): void {
    const f = this.o.factors;
    this.itemGram = new Float64Array(f * f);
    gramian(this.items, this.items.length / f, f, this.itemGram);
    this.foldIn = { user: new Float64Array(f), scratch: alsScratch(f) };
  }

  scoreUser(u: number, out: Float32Array): void {
    const f = this.o.factors;
    const x = this.users;
    if (x.length === 0) throw new ForyouError('FY_INVALID_ARGUMENT', `${this.name}: scoreUser before fit`);
    this.scoreVector(x, u * f, out);
  }

  private scoreVector(x: Float64Array, xo: number, out: Float32Array): void {
    const f = this.o.factors;
    const y = this.items;
    for (let i = 0; i < out.length; i++) {
      const yo = i * f;
      let s = 0;
      for (let p = 0; p < f; p++) s += x[xo + p]! * y[yo + p]!;
      out[i] = s;
    }
  }

  /** The confidence of every entry of one side's CSR. */
  private side(ptr: Int32Array, idx: Int32Array, values: Float32Array): AlsSide {
    const { alpha, confidence, epsilon, useValues } = this.o;
    const conf = new Float32Array(values.length);
    for (let e = 0; e < values.length; e++) {
      const r = useValues ? values[e]! : 1;
      conf[e] = confidence === 'log' ? 1 + alpha * Math.log1p(r / epsilon) : 1 + alpha * r;
    }
    return { ptr, idx, conf };
  }
}
