/**
 * The "recommenders" protocol of issue #5 for tuning and benchmarking the models: the evaluation module's
 * split (per-user stratified random 75/25, seeded, the same split `foryou eval` makes), every rating a
 * positive, each user's training items and every item without training data removed from the ranking, full
 * ranking, NDCG@k with binary relevance (ideal DCG = min(k, test items) hits). A lean pass of its own
 * (accuracy only) so a tuning grid costs the models' time, not beyond-accuracy metrics.
 */
import { loadEvaluationDataset } from '../src/evaluation/dataset-loader.js';
import { recommendersSplit } from '../src/evaluation/recommenders-protocol.js';
import type { InteractionMatrix, RawInteraction } from '../src/models/interactions.js';
import { type Recommender, topK } from '../src/models/recommender.js';

export const ML_LATEST_SMALL = new URL('../../shared/datasets/ml-latest-small', import.meta.url).pathname;

export async function loadRatings(
  path = ML_LATEST_SMALL,
  dataset = 'ml-latest-small',
): Promise<RawInteraction[]> {
  return (await loadEvaluationDataset(dataset, path)).interactions as RawInteraction[];
}

export interface TrainTest {
  train: InteractionMatrix;
  test: InteractionMatrix;
}

export function splitRecommenders(rows: readonly RawInteraction[], seed = 42): TrainTest {
  const { train, test } = recommendersSplit(rows, seed);
  return { train, test };
}

export interface RankingQuality {
  ndcg: number;
  precision: number;
  recall: number;
  users: number;
}

/** NDCG, precision and recall at `k`, averaged over users with training and test interactions. */
export function rankingQuality(
  model: Pick<Recommender, 'scoreUser'>,
  split: TrainTest,
  k = 10,
): RankingQuality {
  const { train, test } = split;
  const counts = train.itemCounts();
  const scores = new Float32Array(train.items);
  const discount = Float64Array.from({ length: k }, (_, r) => 1 / Math.log2(r + 2));
  const exclude: number[] = [];
  let ndcg = 0;
  let precision = 0;
  let recall = 0;
  let users = 0;
  for (let u = 0; u < test.users; u++) {
    const relevant = test.itemsOf(u);
    const seen = train.itemsOf(u);
    if (relevant.length === 0 || seen.length === 0) continue;
    model.scoreUser(u, scores);
    exclude.length = 0;
    let s = 0;
    for (let i = 0; i < train.items; i++) {
      if (counts[i] === 0) exclude.push(i);
      else if (s < seen.length && seen[s] === i) {
        exclude.push(i);
        s++;
      }
    }
    const ranked = topK(scores, k, Int32Array.from(exclude));
    const wanted = new Set(relevant);
    let dcg = 0;
    let hits = 0;
    for (let r = 0; r < ranked.length; r++)
      if (wanted.has(ranked[r]!)) {
        dcg += discount[r]!;
        hits++;
      }
    let ideal = 0;
    for (let r = 0; r < Math.min(k, relevant.length); r++) ideal += discount[r]!;
    ndcg += dcg / ideal;
    precision += hits / k;
    recall += hits / relevant.length;
    users++;
  }
  return { ndcg: ndcg / users, precision: precision / users, recall: recall / users, users };
}
