import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender } from './recommender.js';

export interface PopularityOptions {
  /** Time decay: an interaction counts 2^(-age / halfLife), age measured from the newest one (default: none). */
  halfLifeMs?: number;
}

/**
 * Most interacted-with items first, optionally with time decay (half-life from the newest interaction):
 * the baseline every model must beat by a wide margin, and the non-personalised fallback of serving.
 */
export class PopularityRecommender implements ServableRecommender {
  readonly name: string;
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];
  private scores: Float32Array = new Float32Array(0);

  constructor(private readonly options: PopularityOptions = {}) {
    this.name = options.halfLifeMs ? 'trending' : 'popularity';
  }

  static fromState(state: ModelState): PopularityRecommender {
    const model = new PopularityRecommender(state.params as PopularityOptions);
    model.scores = stateArray(state, 'scores', Float32Array, state.itemIds.length);
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    return model;
  }

  async fit(train: InteractionMatrix, _options: FitOptions = {}): Promise<void> {
    this.scores = new Float32Array(train.items);
    const half = this.options.halfLifeMs;
    let newest = 0;
    if (half) for (let k = 0; k < train.nnz; k++) if (train.userTs[k]! > newest) newest = train.userTs[k]!;
    for (let k = 0; k < train.nnz; k++)
      this.scores[train.userItems[k]!]! += half ? 2 ** (-(newest - train.userTs[k]!) / half) : 1;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
  }

  scoreUser(_u: number, out: Float32Array): void {
    out.set(this.scores);
  }

  scoreHistory(_items: ArrayLike<number>, out: Float32Array): void {
    out.set(this.scores);
  }

  toState(): ModelState {
    return {
      kind: 'popularity',
      name: this.name,
      params: { ...this.options },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: { scores: this.scores },
    };
  }
}
