import { ForyouError } from '../core/errors.js';
import type { InteractionMatrix } from './interactions.js';
import { topK } from './recommender.js';

/**
 * Mean recall@k of `test`'s positives over the users who have at least one test positive among the
 * candidate items: each user's scores are ranked over the candidates (`candidate[i] = 1`), the user's
 * training items left out, and recall is the share of the user's candidate test positives in the top k.
 * With candidates = the items uploaded after a training cut, this is cold-start recall. `users`, when
 * given, restricts the mean to the users it flags (a sample).
 */
export function candidateRecall(
  scoreUser: (u: number, out: Float32Array) => void,
  train: InteractionMatrix,
  test: InteractionMatrix,
  candidate: Uint8Array,
  k: number,
  users?: Uint8Array,
): { recall: number; users: number } {
  if (train.users !== test.users || train.items !== test.items || candidate.length !== train.items)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      'train, test and candidates must share the same users and items (build both matrices over one universe)',
    );
  const scores = new Float32Array(train.items);
  let total = 0;
  let counted = 0;
  const excluded: number[] = [];
  for (let i = 0; i < train.items; i++) if (candidate[i] === 0) excluded.push(i);
  for (let u = 0; u < test.users; u++) {
    const relevant = Array.from(test.itemsOf(u)).filter((i) => candidate[i] === 1);
    if (relevant.length === 0 || (users && users[u] === 0)) continue;
    scoreUser(u, scores);
    const exclude = Int32Array.from(new Set([...excluded, ...train.itemsOf(u)])).sort();
    const top = new Set(topK(scores, k, exclude));
    let hits = 0;
    for (const i of relevant) if (top.has(i)) hits++;
    total += hits / relevant.length;
    counted++;
  }
  return { recall: counted === 0 ? 0 : total / counted, users: counted };
}

/**
 * Baseline scores for items without history: each item scores its creator's number of training positives
 * (summed over all of the creator's items). Items without a creator score 0.
 */
export function creatorPopularityScores(
  train: InteractionMatrix,
  creatorOf: readonly (string | undefined)[],
): Float32Array {
  const counts = train.itemCounts();
  const byCreator = new Map<string, number>();
  creatorOf.forEach((c, i) => {
    if (c !== undefined) byCreator.set(c, (byCreator.get(c) ?? 0) + counts[i]!);
  });
  return Float32Array.from(creatorOf, (c) => (c === undefined ? 0 : (byCreator.get(c) ?? 0)));
}
