import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import {
  PART,
  partition,
  requireFraction,
  requireNonEmpty,
  roundHalfEven,
  type Split,
  shuffledCellsOf,
} from './split.js';

export interface RecommendersOptions {
  /** Share of each user's interactions that goes to training (default 0.75). */
  ratio?: number;
}

/**
 * The "Recommenders-style" protocol (Microsoft Recommenders' `python_stratified_split` by user):
 *
 * 1. Repeated (user, item) pairs are merged first (values summed, newest time kept), so a pair is never on
 *    both sides of the split.
 * 2. Every interaction is a positive: no rating threshold, the value is kept for models that weigh it.
 * 3. Each user's interactions are ordered by item id, shuffled with the user's own stream of the seed
 *    (`shuffledCellsOf`), and the first `round(ratio x n)` go to train, the rest to test. `round` is
 *    Python's round-half-to-even on `ratio x n`, as in Recommenders' `split_pandas_data_with_ratios`
 *    (n = 2 gives 2 train and 0 test; n = 6 gives 4 and 2; n = 10 gives 8 and 2).
 * 4. A user whose split leaves no test interaction (n = 1 or 2) keeps all of them in train and is not
 *    evaluated; the runner evaluates users with at least 1 train and 1 test interaction.
 * 5. Test interactions on items that are not in train stay in the test set (they count in recall's and
 *    NDCG's denominators, as in Recommenders) but can never be recommended: the ranking is over the items
 *    of the training set, with the user's training items removed.
 */
export function recommendersSplit(
  interactions: readonly RawInteraction[],
  seed: number,
  options: RecommendersOptions = {},
): Split {
  const ratio = options.ratio ?? 0.75;
  requireFraction('ratio', ratio);
  const all = InteractionMatrix.from(interactions);
  const parts = new Uint8Array(all.nnz);
  const root = new Rng(seed);
  for (let u = 0; u < all.users; u++) {
    const cells = shuffledCellsOf(all, u, root);
    const nTrain = roundHalfEven(ratio * cells.length);
    cells.forEach((k, j) => {
      parts[k] = j < nTrain ? PART.train : PART.test;
    });
  }
  const { train, test } = partition(all, parts);
  const split: Split = {
    protocol: 'recommenders',
    servedAt: 'user',
    params: { seed, ratio },
    train,
    test,
    validation: null,
    alsoExcludeAtTest: [],
  };
  requireNonEmpty('recommenders', split);
  return split;
}
