import type { InteractionMatrix } from './interactions.js';
import type { ModelState } from './model-file.js';

export interface FitOptions {
  seed?: number;
  /** Worker threads a model may use for heavy kernels (default: one per core). */
  threads?: number;
  onProgress?: (message: string) => void;
  /**
   * When the users the model is fitted for will be served, for models that depend on time: `user`, each
   * as of their own newest training interaction (an offline random split, whose test interactions lie
   * among the training ones in time); `log` (the default), after the whole training log, as a live feed
   * or a batch run serves everyone now.
   */
  servedAt?: ServedAt;
}

export type ServedAt = 'user' | 'log';

/**
 * A retrieval model: trained on an interaction matrix, it scores every item for a user. The evaluation
 * harness and `foryou recommend` rank by these scores with the user's training items removed.
 */
export interface Recommender {
  /** Stable kebab-case id used in reports and the CLI (`ease`, `als`, `item-knn`). */
  readonly name: string;
  fit(train: InteractionMatrix, options?: FitOptions): Promise<void>;
  /** Scores of every item for user `u` (an index of the training matrix) into `out` (length = items). */
  scoreUser(u: number, out: Float32Array): void;
}

/**
 * A retrieval model serving can use: it scores items for anyone from a list of items (a user's recent
 * history, an anonymous session), not only for the users it was trained on, and it saves its learned state
 * (`model-file.ts`; `persist.ts` loads it back by kind).
 */
export interface ServableRecommender extends Recommender {
  /** Item and user ids the indices stand for (the training matrix's). */
  readonly itemIds: readonly string[];
  readonly userIds: readonly string[];
  /**
   * Scores of every item for someone whose history is `items` (item indices, any order, newest last);
   * an empty history gives the model's non-personalised scores where it has them, else zeros.
   */
  scoreHistory(items: ArrayLike<number>, out: Float32Array): void;
  toState(): ModelState;
}

/**
 * The `k` best items of `scores`, best first, skipping `exclude` (sorted ascending, e.g. the user's training
 * items). Ties go to the lower index, so rankings are deterministic.
 */
export function topK(scores: Float32Array, k: number, exclude: Int32Array = new Int32Array(0)): Int32Array {
  const n = scores.length;
  const size = Math.min(k, n - exclude.length);
  if (size <= 0) return new Int32Array(0);
  // A min-heap of the best `size` (score, index), then sorted.
  const heapIdx = new Int32Array(size);
  const heapScore = new Float64Array(size);
  let filled = 0;
  let e = 0;
  const worse = (sa: number, ia: number, sb: number, ib: number) => sa < sb || (sa === sb && ia > ib);
  for (let i = 0; i < n; i++) {
    while (e < exclude.length && exclude[e]! < i) e++;
    if (e < exclude.length && exclude[e] === i) continue;
    const s = scores[i]!;
    if (filled < size) {
      let c = filled++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!worse(s, i, heapScore[p]!, heapIdx[p]!)) break;
        heapScore[c] = heapScore[p]!;
        heapIdx[c] = heapIdx[p]!;
        c = p;
      }
      heapScore[c] = s;
      heapIdx[c] = i;
    } else if (worse(heapScore[0]!, heapIdx[0]!, s, i)) {
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= size) break;
        const r = l + 1;
        const m = r < size && worse(heapScore[r]!, heapIdx[r]!, heapScore[l]!, heapIdx[l]!) ? r : l;
        if (!worse(heapScore[m]!, heapIdx[m]!, s, i)) break;
        heapScore[c] = heapScore[m]!;
        heapIdx[c] = heapIdx[m]!;
        c = m;
      }
      heapScore[c] = s;
      heapIdx[c] = i;
    }
  }
  const order = Array.from({ length: filled }, (_, j) => j).sort(
    (a, b) => heapScore[b]! - heapScore[a]! || heapIdx[a]! - heapIdx[b]!,
  );
  return Int32Array.from(order, (j) => heapIdx[j]!);
}
