import { ForyouError } from '../core/errors.js';
import type { Interaction } from '../datasets/interaction.js';
import { readLastfmInteractions } from '../datasets/lastfm-files.js';
import type { MovieLensLayout } from '../datasets/movielens-layout.js';
import { readMovieLensInteractions } from '../datasets/movielens-ratings.js';
import type { RawInteraction } from '../models/interactions.js';
import type { EvaluationDataset } from './runner.js';

/** The datasets `foryou eval` knows by name, and the MovieLens layout each one uses. */
export const EVALUATION_DATASETS = {
  'ml-latest-small': { layout: 'latest-small' },
  'ml-100k': { layout: '100k' },
  'ml-1m': { layout: '1m' },
  lastfm: { layout: null },
} as const satisfies Record<string, { layout: MovieLensLayout | null }>;

export type EvaluationDatasetName = keyof typeof EVALUATION_DATASETS;

export function evaluationDatasetName(value: string): EvaluationDatasetName {
  if (Object.hasOwn(EVALUATION_DATASETS, value)) return value as EvaluationDatasetName;
  throw new ForyouError(
    'FY_INVALID_ARGUMENT',
    `unknown dataset "${value}"; expected ${Object.keys(EVALUATION_DATASETS).join(', ')}`,
    { details: { dataset: value } },
  );
}

/**
 * Reads a named dataset with the `datasets` readers: MovieLens ratings (value = stars, ts = rating time) or
 * Last.fm play counts (value = plays, one fixed time for all). Ids are Foryou's (`ml-u1`, `lfm-a51`).
 */
export async function loadEvaluationDataset(name: string, path: string): Promise<EvaluationDataset> {
  const { layout } = EVALUATION_DATASETS[evaluationDatasetName(name)];
  const source: AsyncIterable<Interaction> =
    layout === null ? readLastfmInteractions(path) : readMovieLensInteractions(path, { layout });
  const interactions: RawInteraction[] = [];
  for await (const x of source) interactions.push({ user: x.user, item: x.item, value: x.value, ts: x.ts });
  return { name, interactions };
}
