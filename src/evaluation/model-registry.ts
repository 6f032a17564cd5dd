import { ForyouError } from '../core/errors.js';
import { AlsRecommender } from '../models/als.js';
import { BprRecommender } from '../models/bpr.js';
import { EaseRecommender } from '../models/ease.js';
import { ItemKnnRecommender, SAR_DEFAULTS } from '../models/item-knn.js';
import { PopularityRecommender } from '../models/popularity.js';
import type { Recommender } from '../models/recommender.js';
import { TwoTowerRecommender } from '../models/two-tower.js';

/** Makes a fresh, untrained model. Settings live in the factory; the seed comes through `fit`. */
export type ModelFactory = () => Recommender;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Every model `foryou eval` and `foryou recommend` can run, by the name used on the command line and in
 * reports. Adding a model is one line: import its class from `../models/` and map a kebab-case name to a
 * factory, e.g. `ease: () => new EaseRecommender({ lambda: 300 })`. A variant with other settings is
 * another line under another name (as `trending` is popularity with a half-life).
 */
export const MODELS: Readonly<Record<string, ModelFactory>> = {
  popularity: () => new PopularityRecommender(),
  // Scored as of when the protocol serves each user (`Split.servedAt`); the half-life is chosen across the
  // three protocols on ml-latest-small (docs/models.md, "The half-life of trending").
  trending: () => new PopularityRecommender({ halfLifeMs: 365 * DAY_MS }),
  'item-knn': () => new ItemKnnRecommender(),
  sar: () => new ItemKnnRecommender(SAR_DEFAULTS, 'sar'),
  als: () => new AlsRecommender(),
  bpr: () => new BprRecommender(),
  ease: () => new EaseRecommender(),
  'ease-plain': () => new EaseRecommender({ sessionWeight: 0 }, 'ease-plain'),
  'two-tower': () => new TwoTowerRecommender(),
};

export function modelNames(): string[] {
  return Object.keys(MODELS);
}

/** A fresh model by name; an unknown name fails with the list of known ones. */
export function createModel(name: string): Recommender {
  const factory = Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
  if (!factory)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `unknown model "${name}"; expected one of ${modelNames().join(', ')}`,
      { details: { model: name, known: modelNames() } },
    );
  return factory();
}

/** Parses a comma-separated model list (`popularity,trending`), checking every name. */
export function parseModelList(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', `expected a comma-separated list of models, got "${value}"`);
  for (const name of names) createModel(name);
  return [...new Set(names)];
}
