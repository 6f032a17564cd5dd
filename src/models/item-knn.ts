import { ForyouError } from '../core/errors.js';
import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender } from './recommender.js';
import { type SessionWeight, type SessionWeightOptions, sessionWeighting } from './session-weight.js';

export const SIMILARITIES = ['cosine', 'jaccard', 'lift', 'cooccurrence'] as const;
export type Similarity = (typeof SIMILARITIES)[number];

export interface ItemKnnOptions extends SessionWeightOptions {
  /** How co-occurrence becomes similarity (default cosine). */
  similarity?: Similarity;
  /** Neighbours kept per item: its most similar items (default 50; 0 keeps every co-occurring item). */
  neighbours?: number;
  /** Pairs co-occurring less than this (weighted count) are dropped (default 1). */
  minCooccurrence?: number;
  /** Time decay of each interaction in the user's profile: half-life in days before the newest one (default: none). */
  halfLifeDays?: number;
  /** Weigh each interaction by its value (rating, play count) in the user's profile (default false: 1). */
  useValues?: boolean;
}

export const ITEM_KNN_DEFAULTS = {
  similarity: 'cosine',
  neighbours: 50,
  minCooccurrence: 1,
  sessionWeight: 2,
  sessionHalfLifeSec: 600,
} as const;

/**
 * SAR's usual settings: Jaccard similarity, every neighbour, a 30-day decay of the user's affinities; with
 * the session weighting of `item-knn` (docs/models.md says why).
 */
export const SAR_DEFAULTS: ItemKnnOptions = {
  similarity: 'jaccard',
  neighbours: 0,
  halfLifeDays: 30,
};

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Item-to-item neighbourhood model (item-kNN; SAR with the SAR settings). Co-occurrence C_ij counts users
 * with both items (each pair optionally session-weighted); similarity is cosine C_ij / √(C_ii C_jj),
 * Jaccard C_ij / (C_ii + C_jj - C_ij), lift C_ij / (C_ii C_jj) or C_ij itself. Each item j keeps its
 * `neighbours` most similar items; a user's score for j is Σ a_ui S_ij over the user's items i among j's
 * neighbours, with affinity a_ui = (value or 1) x 2^(-(newest - t_ui) / halfLife).
 *
 * Fitting is one pass per item over its users' items, O(Σ_u |I_u|²) time, O(items x neighbours) memory.
 */
export class ItemKnnRecommender implements ServableRecommender {
  readonly name: string;
  private readonly similarity: Similarity;
  private readonly neighbours: number;
  private readonly minCooccurrence: number;
  private readonly session: SessionWeight;
  private readonly options: ItemKnnOptions;
  /** Sparse S by source item: the targets j whose neighbourhood holds i, with S_ij. */
  private ptr: Int32Array = new Int32Array(1);
  private targets: Int32Array = new Int32Array(0);
  private sims: Float32Array = new Float32Array(0);
  /** The training users' items (CSR) and the affinity of each, for `scoreUser`. */
  private userPtr: Int32Array = new Int32Array(0);
  private userItems: Int32Array = new Int32Array(0);
  private affinity: Float32Array = new Float32Array(0);
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];

  constructor(options: ItemKnnOptions = {}, name = 'item-knn') {
    this.name = name;
    this.options = options;
    this.similarity = options.similarity ?? ITEM_KNN_DEFAULTS.similarity;
    this.neighbours = options.neighbours ?? ITEM_KNN_DEFAULTS.neighbours;
    this.minCooccurrence = options.minCooccurrence ?? ITEM_KNN_DEFAULTS.minCooccurrence;
    this.session = sessionWeighting(options, ITEM_KNN_DEFAULTS);
    if (!SIMILARITIES.includes(this.similarity))
      throw new ForyouError('FY_INVALID_ARGUMENT', `similarity must be one of ${SIMILARITIES.join(', ')}`);
    if (!Number.isInteger(this.neighbours) || this.neighbours < 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `neighbours must be a whole number >= 0, got ${this.neighbours}`,
      );
    const half = options.halfLifeDays;
    if (half !== undefined && !(half > 0))
      throw new ForyouError('FY_INVALID_ARGUMENT', `halfLifeDays must be > 0, got ${half}`);
  }

  async fit(train: InteractionMatrix, _options: FitOptions = {}): Promise<void> {
    const n = train.items;
    const counts = new Float64Array(n);
    for (let i = 0; i < n; i++) counts[i] = train.itemPtr[i + 1]! - train.itemPtr[i]!;
    const acc = new Float64Array(n);
    const touched = new Int32Array(n);
    const keep = this.neighbours > 0 ? this.neighbours : n;
    const heapIdx = new Int32Array(keep);
    const heapSim = new Float64Array(keep);
    // Neighbourhoods by target j, then transposed to lists by source i for scoring.
    const byTarget = {
      ptr: new Int32Array(n + 1),
      src: new Int32Array(n * Math.min(keep, 64)),
      sim: new Float32Array(n * Math.min(keep, 64)),
    };
    let total = 0;
    for (let j = 0; j < n; j++) {
      const found = this.cooccurrenceRow(train, j, acc, touched);
      let size = 0;
      for (let t = 0; t < found; t++) {
        const i = touched[t]!;
        const c = acc[i]!;
        acc[i] = 0;
        if (i === j || c < this.minCooccurrence) continue;
        const s = similarityOf(this.similarity, c, counts[i]!, counts[j]!);
        size = pushBest(heapIdx, heapSim, size, keep, i, s);
      }
      if (total + size > byTarget.src.length) {
        const grown = Math.max(2 * byTarget.src.length, total + size);
        byTarget.src = grow(byTarget.src, new Int32Array(grown));
        byTarget.sim = grow(byTarget.sim, new Float32Array(grown));
      }
      byTarget.src.set(heapIdx.subarray(0, size), total);
      for (let h = 0; h < size; h++) byTarget.sim[total + h] = heapSim[h]!;
      total += size;
      byTarget.ptr[j + 1] = total;
    }
    this.transpose(n, byTarget);
    this.affinity = userAffinity(train, this.options);
    this.userPtr = train.userPtr;
    this.userItems = train.userItems;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
  }

  static fromState(state: ModelState): ItemKnnRecommender {
    const model = new ItemKnnRecommender(state.params as ItemKnnOptions, state.name);
    const items = state.itemIds.length;
    model.ptr = stateArray(state, 'ptr', Int32Array, items + 1);
    model.targets = stateArray(state, 'targets', Int32Array, model.ptr[items]);
    model.sims = stateArray(state, 'sims', Float32Array, model.ptr[items]);
    model.userPtr = stateArray(state, 'userPtr', Int32Array, state.userIds.length + 1);
    const nnz = model.userPtr[state.userIds.length];
    model.userItems = stateArray(state, 'userItems', Int32Array, nnz);
    model.affinity = stateArray(state, 'affinity', Float32Array, nnz);
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    return model;
  }

  toState(): ModelState {
    return {
      kind: 'item-knn',
      name: this.name,
      params: { ...this.options },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: {
        ptr: this.ptr,
        targets: this.targets,
        sims: this.sims,
        userPtr: this.userPtr,
        userItems: this.userItems,
        affinity: this.affinity,
      },
    };
  }

  scoreUser(u: number, out: Float32Array): void {
    if (this.userPtr.length === 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `${this.name}: scoreUser before fit`);
    out.fill(0);
    for (let k = this.userPtr[u]!; k < this.userPtr[u + 1]!; k++)
      this.addNeighbours(this.userItems[k]!, this.affinity[k]!, out);
  }

  /** Every history item counts fully (a serving-time history has no ratings; its times are its order). */
  scoreHistory(items: ArrayLike<number>, out: Float32Array): void {
    out.fill(0);
    for (let k = 0; k < items.length; k++) this.addNeighbours(items[k]!, 1, out);
  }

  private addNeighbours(i: number, a: number, out: Float32Array): void {
    const { ptr, targets, sims } = this;
    for (let e = ptr[i]!; e < ptr[i + 1]!; e++) out[targets[e]!]! += a * sims[e]!;
  }

  /** Accumulates row j of the co-occurrence into `acc`; returns how many entries of `touched` it set. */
  private cooccurrenceRow(
    train: InteractionMatrix,
    j: number,
    acc: Float64Array,
    touched: Int32Array,
  ): number {
    const { userPtr, userItems, userTs, itemPtr, itemUsers } = train;
    let found = 0;
    for (let e = itemPtr[j]!; e < itemPtr[j + 1]!; e++) {
      const u = itemUsers[e]!;
      const start = userPtr[u]!;
      const end = userPtr[u + 1]!;
      const tj = this.session.off ? 0 : userTs[positionOf(userItems, start, end, j)]!;
      for (let k = start; k < end; k++) {
        const i = userItems[k]!;
        if (acc[i] === 0) touched[found++] = i;
        acc[i]! += this.session.off ? 1 : this.session.weight(tj - userTs[k]!);
      }
    }
    return found;
  }

  private transpose(n: number, byTarget: { ptr: Int32Array; src: Int32Array; sim: Float32Array }): void {
    const total = byTarget.ptr[n]!;
    const ptr = new Int32Array(n + 1);
    for (let e = 0; e < total; e++) ptr[byTarget.src[e]! + 1]!++;
    for (let i = 0; i < n; i++) ptr[i + 1]! += ptr[i]!;
    const cursor = ptr.slice(0, n);
    const targets = new Int32Array(total);
    const sims = new Float32Array(total);
    for (let j = 0; j < n; j++)
      for (let e = byTarget.ptr[j]!; e < byTarget.ptr[j + 1]!; e++) {
        const at = cursor[byTarget.src[e]!]!++;
        targets[at] = j;
        sims[at] = byTarget.sim[e]!;
      }
    this.ptr = ptr;
    this.targets = targets;
    this.sims = sims;
  }
}

function grow<T extends Int32Array | Float32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

/** SAR: Jaccard similarity over all co-occurring items, affinities decayed with a 30-day half-life. */
export class SarRecommender extends ItemKnnRecommender {
  constructor(options: ItemKnnOptions = {}) {
    super({ ...SAR_DEFAULTS, ...options }, 'sar');
  }
}

export function similarityOf(kind: Similarity, c: number, ci: number, cj: number): number {
  if (kind === 'cosine') return c / Math.sqrt(ci * cj);
  if (kind === 'jaccard') return c / (ci + cj - c);
  if (kind === 'lift') return c / (ci * cj);
  return c;
}

/** Binary search of item j in the sorted slice [start, end) of `items`. */
function positionOf(items: Int32Array, start: number, end: number, j: number): number {
  let lo = start;
  let hi = end - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]! < j) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Offers (i, s) to a min-heap of the `keep` most similar items (ties to the lower index); returns the new
 * heap size. The heap root is the weakest kept neighbour.
 */
function pushBest(
  idx: Int32Array,
  sim: Float64Array,
  size: number,
  keep: number,
  i: number,
  s: number,
): number {
  const weaker = (sa: number, ia: number, sb: number, ib: number) => sa < sb || (sa === sb && ia > ib);
  if (size < keep) {
    let c = size;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (!weaker(s, i, sim[p]!, idx[p]!)) break;
      sim[c] = sim[p]!;
      idx[c] = idx[p]!;
      c = p;
    }
    sim[c] = s;
    idx[c] = i;
    return size + 1;
  }
  if (!weaker(sim[0]!, idx[0]!, s, i)) return size;
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    const m = r < size && weaker(sim[r]!, idx[r]!, sim[l]!, idx[l]!) ? r : l;
    if (!weaker(sim[m]!, idx[m]!, s, i)) break;
    sim[c] = sim[m]!;
    idx[c] = idx[m]!;
    c = m;
  }
  sim[c] = s;
  idx[c] = i;
  return size;
}

/**
 * Per training interaction (CSR order): (value or 1) x 2^(-(newest - t) / halfLife). `newest` is the user's
 * own newest interaction: the same ranking as decaying from the data's newest time (a user's scores all
 * scale by one factor), without underflow for users active years before it.
 */
export function userAffinity(
  train: InteractionMatrix,
  options: Pick<ItemKnnOptions, 'halfLifeDays' | 'useValues'>,
): Float32Array {
  const a = new Float32Array(train.nnz);
  const halfMs = options.halfLifeDays === undefined ? 0 : options.halfLifeDays * DAY_MS;
  for (let u = 0; u < train.users; u++) {
    const start = train.userPtr[u]!;
    const end = train.userPtr[u + 1]!;
    const newest = train.newestOf(u);
    for (let k = start; k < end; k++) {
      const base = options.useValues ? train.userValues[k]! : 1;
      a[k] = halfMs > 0 ? base * 2 ** (-(newest - train.userTs[k]!) / halfMs) : base;
    }
  }
  return a;
}
