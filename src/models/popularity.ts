import type { InteractionMatrix } from './interactions.js';
import type { FitOptions, Recommender } from './recommender.js';

/**
 * Most interacted-with items first, optionally with time decay (half-life from the newest interaction):
 * the baseline every model must beat by a wide margin.
 */
export class PopularityRecommender implements Recommender {
  readonly name: string;
  private scores = new Float32Array(0);

  constructor(private readonly options: { halfLifeMs?: number } = {}) {
    this.name = options.halfLifeMs ? 'trending' : 'popularity';
  }

  async fit(train: InteractionMatrix, _options: FitOptions = {}): Promise<void> {
    this.scores = new Float32Array(train.items);
    const half = this.options.halfLifeMs;
    let newest = 0;
    if (half) for (let k = 0; k < train.nnz; k++) if (train.userTs[k]! > newest) newest = train.userTs[k]!;
    for (let k = 0; k < train.nnz; k++)
      this.scores[train.userItems[k]!]! += half ? 2 ** (-(newest - train.userTs[k]!) / half) : 1;
  }

  scoreUser(_u: number, out: Float32Array): void {
    out.set(this.scores);
  }
}
