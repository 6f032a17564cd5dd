import { totalmem } from 'node:os';
import { ForyouError } from '../core/errors.js';
import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender } from './recommender.js';
import { type SessionWeightOptions, sessionWeighting } from './session-weight.js';
import { invertSpd, SpdMatrix } from './spd-inverse.js';
import { threadCount } from './worker-pool.js';

export interface EaseOptions extends SessionWeightOptions {
  /** L2 regularisation λ added to the Gram matrix's diagonal (default 200). */
  lambda?: number;
  /**
   * Only items with at least this many training interactions are modelled (default 1: every item with
   * training data). The others score -Infinity: never recommended. Time and memory grow with the square
   * and cube of the modelled items, so this is the knob for large catalogues.
   */
  minItemCount?: number;
  /**
   * At most this many items are modelled, the most interacted-with ones (ties to the lower index); the
   * others score -Infinity (default 10,000). The inverse costs O(n³): about 2.5 minutes for 8,742 items on
   * this project's 2-core machine, so 10,000 bounds a fit to a few minutes whatever the catalogue.
   */
  maxItems?: number;
  /** Refuse to fit when the dense matrices would need more (default: half the machine's memory). */
  maxMemoryBytes?: number;
}

export const EASE_DEFAULTS = {
  lambda: 200,
  minItemCount: 1,
  maxItems: 10_000,
  // 0 gives Steck's EASE; the session weighting is what lifts it on MovieLens (docs/models.md).
  sessionWeight: 2,
  sessionHalfLifeSec: 600,
} as const;

/**
 * EASE (Steck 2019), the closed-form linear item-item autoencoder: with G = XᵀX (items x items) and
 * P = (G + λI)⁻¹, the weights are B = I - P · diag(1 / diag(P)), i.e. B_ij = -P_ij / P_jj and B_jj = 0, and a
 * user's scores are x_u B. Here G may weight each co-occurrence by how close in time the two interactions
 * were (`session-weight.ts`); with `sessionWeight: 0` this is exactly EASE.
 *
 * The inverse is a blocked Cholesky factorisation and blocked triangular solves on Float64 over shared
 * memory, split across worker threads (`spd-inverse.ts`); B is kept as Float32 (items² x 4 bytes).
 */
export class EaseRecommender implements ServableRecommender {
  readonly name: string;
  private readonly lambda: number;
  private readonly minItemCount: number;
  private readonly maxItems: number;
  private readonly maxMemoryBytes: number;
  private readonly options: EaseOptions;
  private weights: Float32Array = new Float32Array(0);
  /** Modelled items: dense index of each training item, or -1. */
  private denseOf: Int32Array = new Int32Array(0);
  private itemOf: Int32Array = new Int32Array(0);
  /** The training users' items (CSR), for `scoreUser`. */
  private userPtr: Int32Array = new Int32Array(0);
  private userItems: Int32Array = new Int32Array(0);
  private row = new Float32Array(0);
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];

  constructor(options: EaseOptions = {}, name = 'ease') {
    this.name = name;
    this.options = options;
    this.lambda = options.lambda ?? EASE_DEFAULTS.lambda;
    this.minItemCount = options.minItemCount ?? EASE_DEFAULTS.minItemCount;
    this.maxItems = options.maxItems ?? EASE_DEFAULTS.maxItems;
    if (!Number.isInteger(this.maxItems) || this.maxItems < 1)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `ease maxItems must be a whole number >= 1, got ${this.maxItems}`,
      );
    this.maxMemoryBytes = options.maxMemoryBytes ?? totalmem() / 2;
    if (!(this.lambda > 0) || !Number.isFinite(this.lambda))
      throw new ForyouError('FY_INVALID_ARGUMENT', `ease lambda must be a number > 0, got ${this.lambda}`);
    if (!Number.isInteger(this.minItemCount) || this.minItemCount < 1)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `minItemCount must be a whole number >= 1, got ${this.minItemCount}`,
      );
    sessionWeighting(options, EASE_DEFAULTS);
  }

  /** Bytes a fit over `items` modelled items allocates: the Float64 work matrix and the Float32 weights. */
  static bytesFor(items: number): number {
    return SpdMatrix.bytesFor(items) + items * items * 4;
  }

  async fit(train: InteractionMatrix, options: FitOptions = {}): Promise<void> {
    const threads = threadCount(options.threads);
    const counts = train.itemCounts();
    const denseOf = new Int32Array(train.items).fill(-1);
    const itemOf = modelledItems(counts, this.minItemCount, this.maxItems);
    for (let d = 0; d < itemOf.length; d++) denseOf[itemOf[d]!] = d;
    const n = itemOf.length;
    const bytes = EaseRecommender.bytesFor(n);
    if (bytes > this.maxMemoryBytes) throw this.tooLarge(n, bytes, counts);
    const gram = new SpdMatrix(n);
    fillGram(train, denseOf, gram, this.options);
    for (let i = 0; i < n; i++) gram.add(i, i, this.lambda);
    options.onProgress?.(`ease: inverting ${n} x ${n} on ${threads} thread(s)`);
    const weights = new Float32Array(new SharedArrayBuffer(n * n * 4));
    await invertSpd(gram, weights, { threads, onProgress: options.onProgress });
    toEaseWeights(weights, n);
    this.weights = weights;
    this.denseOf = denseOf;
    this.itemOf = itemOf;
    this.userPtr = train.userPtr;
    this.userItems = train.userItems;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    this.row = new Float32Array(n);
  }

  static fromState(state: ModelState): EaseRecommender {
    const model = new EaseRecommender(state.params as EaseOptions, state.name);
    const items = state.itemIds.length;
    model.itemOf = stateArray(state, 'itemOf', Int32Array);
    const n = model.itemOf.length;
    model.weights = stateArray(state, 'weights', Float32Array, n * n);
    model.denseOf = new Int32Array(items).fill(-1);
    for (let d = 0; d < n; d++) model.denseOf[model.itemOf[d]!] = d;
    model.userPtr = stateArray(state, 'userPtr', Int32Array, state.userIds.length + 1);
    model.userItems = stateArray(state, 'userItems', Int32Array, model.userPtr[state.userIds.length]);
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    model.row = new Float32Array(n);
    return model;
  }

  toState(): ModelState {
    return {
      kind: 'ease',
      name: this.name,
      params: { ...this.options },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: {
        itemOf: this.itemOf,
        weights: this.weights,
        userPtr: this.userPtr,
        userItems: this.userItems,
      },
    };
  }

  scoreUser(u: number, out: Float32Array): void {
    if (this.userPtr.length === 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `${this.name}: scoreUser before fit`);
    this.scoreHistory(this.userItems.subarray(this.userPtr[u]!, this.userPtr[u + 1]!), out);
  }

  scoreHistory(items: ArrayLike<number>, out: Float32Array): void {
    const n = this.itemOf.length;
    const row = this.row;
    row.fill(0);
    for (let k = 0; k < items.length; k++) {
      const d = this.denseOf[items[k]!]!;
      if (d < 0) continue;
      const w = this.weights;
      const o = d * n;
      for (let j = 0; j < n; j++) row[j]! += w[o + j]!;
    }
    out.fill(Number.NEGATIVE_INFINITY);
    for (let j = 0; j < n; j++) out[this.itemOf[j]!] = row[j]!;
  }

  private tooLarge(n: number, bytes: number, counts: Int32Array): ForyouError {
    // The smallest minItemCount that fits: keep only items more popular than the first one that does not.
    let fits = 0;
    while (EaseRecommender.bytesFor(fits + 1) <= this.maxMemoryBytes) fits++;
    const descending = Int32Array.from(counts).sort().reverse();
    const suggested = Math.max(this.minItemCount, descending[fits] ?? 0) + 1;
    const gib = (b: number) => (b / 2 ** 30).toFixed(1);
    return new ForyouError(
      'FY_INVALID_ARGUMENT',
      `ease over ${n} items needs ${gib(bytes)} GiB, more than maxMemoryBytes (${gib(this.maxMemoryBytes)} GiB); ` +
        `keep fewer items with minItemCount (about ${suggested} fits) or raise maxMemoryBytes`,
      { details: { items: n, bytes, maxMemoryBytes: this.maxMemoryBytes, suggestedMinItemCount: suggested } },
    );
  }
}

/**
 * The items EASE models, ascending: those with at least `minCount` interactions, and of those at most
 * `maxItems`, the most interacted-with (ties to the lower index).
 */
export function modelledItems(counts: Int32Array, minCount: number, maxItems: number): Int32Array {
  const eligible: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! >= minCount) eligible.push(i);
  if (eligible.length <= maxItems) return Int32Array.from(eligible);
  eligible.sort((a, b) => counts[b]! - counts[a]! || a - b);
  return Int32Array.from(eligible.slice(0, maxItems)).sort();
}

/**
 * The (session-weighted) Gram matrix of the modelled items into the lower triangle of `gram`: for every user
 * and every pair of the user's items, the pair's weight. A user's items are in ascending index order, so
 * the later item of a pair is the row.
 */
export function fillGram(
  train: InteractionMatrix,
  denseOf: Int32Array,
  gram: SpdMatrix,
  options: SessionWeightOptions = {},
): void {
  const session = sessionWeighting(options, EASE_DEFAULTS);
  const { data, size } = gram;
  const { userPtr, userItems, userTs } = train;
  for (let u = 0; u < train.users; u++) {
    const start = userPtr[u]!;
    const end = userPtr[u + 1]!;
    for (let a = start; a < end; a++) {
      const i = denseOf[userItems[a]!]!;
      if (i < 0) continue;
      const row = i * size;
      data[row + i]! += 1;
      const ta = userTs[a]!;
      for (let b = start; b < a; b++) {
        const j = denseOf[userItems[b]!]!;
        if (j < 0) continue;
        data[row + j]! += session.off ? 1 : session.weight(ta - userTs[b]!);
      }
    }
  }
}

/** P (the inverse) into B in place: B_ij = -P_ij / P_jj, B_jj = 0. */
function toEaseWeights(p: Float32Array, n: number): void {
  const inverseDiagonal = new Float64Array(n);
  for (let j = 0; j < n; j++) inverseDiagonal[j] = -1 / p[j * n + j]!;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) p[o + j] = p[o + j]! * inverseDiagonal[j]!;
    p[o + i] = 0;
  }
}
