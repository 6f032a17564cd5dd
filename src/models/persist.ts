import { ForyouError } from '../core/errors.js';
import { AlsRecommender } from './als.js';
import { BprRecommender } from './bpr.js';
import { EaseRecommender } from './ease.js';
import { ItemKnnRecommender } from './item-knn.js';
import { type ModelState, readModelFile, writeModelFile } from './model-file.js';
import { PopularityRecommender } from './popularity.js';
import type { Recommender, ServableRecommender } from './recommender.js';

const LOADERS: Readonly<Record<string, (state: ModelState) => ServableRecommender>> = {
  popularity: (s) => PopularityRecommender.fromState(s),
  'item-knn': (s) => ItemKnnRecommender.fromState(s),
  als: (s) => AlsRecommender.fromState(s),
  bpr: (s) => BprRecommender.fromState(s),
  ease: (s) => EaseRecommender.fromState(s),
};

/** Whether a model can be saved and served (every retrieval model of `src/models` is). */
export function isServable(model: Recommender): model is ServableRecommender {
  const m = model as Partial<ServableRecommender>;
  return typeof m.toState === 'function' && typeof m.scoreHistory === 'function';
}

/** Saves a trained model into `dir` (an artifact's folder). */
export async function saveRecommender(model: Recommender, dir: string): Promise<void> {
  if (!isServable(model))
    throw new ForyouError('FY_INVALID_ARGUMENT', `model ${model.name} cannot be saved: it is not servable`);
  await writeModelFile(dir, model.toState());
}

/** Loads a model saved by `saveRecommender`, ready to score. */
export async function loadRecommender(dir: string): Promise<ServableRecommender> {
  const state = await readModelFile(dir);
  const load = Object.hasOwn(LOADERS, state.kind) ? LOADERS[state.kind] : undefined;
  if (!load)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${dir} holds a model of kind "${state.kind}"; known kinds: ${Object.keys(LOADERS).join(', ')}`,
    );
  return load(state);
}
