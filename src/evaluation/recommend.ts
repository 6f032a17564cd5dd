import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ForyouError } from '../core/errors.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import { type Recommender, topK } from '../models/recommender.js';

/** One line of `foryou recommend`'s output: a user and its recommended items, best first, with file ids. */
export interface UserRecommendations {
  user: string;
  items: string[];
}

/**
 * The top `k` items of every user of a trained model's matrix, in the matrix's user order, with the items
 * the user already has removed (so a list is shorter than k only when fewer unseen items exist).
 */
export function* recommendForAll(
  model: Recommender,
  matrix: InteractionMatrix,
  k: number,
): Generator<UserRecommendations> {
  const scores = new Float32Array(matrix.items);
  for (let u = 0; u < matrix.users; u++) {
    scores.fill(0);
    model.scoreUser(u, scores);
    const ranked = topK(scores, k, matrix.itemsOf(u));
    yield { user: matrix.userIds[u]!, items: Array.from(ranked, (i) => matrix.itemIds[i]!) };
  }
}

/**
 * Trains `model` on every interaction (ids as given) and writes one JSON line per user,
 * `{"user": ..., "items": [...]}`, to `outPath`. An existing file is kept (`FY_OUTPUT_EXISTS`) unless
 * `force`. Returns how many users and lines were written.
 */
export async function writeRecommendations(
  model: Recommender,
  interactions: readonly RawInteraction[],
  k: number,
  outPath: string,
  options: { seed?: number; force?: boolean } = {},
): Promise<{ users: number; items: number }> {
  const exists = await stat(outPath).then(
    () => true,
    () => false,
  );
  if (exists && !options.force)
    throw new ForyouError('FY_OUTPUT_EXISTS', `${outPath} already exists`, { details: { path: outPath } });
  const matrix = InteractionMatrix.from(interactions);
  await model.fit(matrix, { seed: options.seed ?? 42 });
  const out = createWriteStream(outPath);
  out.on('error', () => {}); // errors surface through `errored`, 'drain' and `finished` below
  try {
    for (const line of recommendForAll(model, matrix, k)) {
      if (out.errored) throw out.errored;
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  } catch (error) {
    const ioError = error === out.errored;
    out.destroy();
    if (!ioError) throw error;
    throw new ForyouError('FY_IO_FAILED', `cannot write ${outPath}: ${(error as Error).message}`, {
      cause: error,
      details: { path: outPath },
    });
  }
  return { users: matrix.users, items: matrix.items };
}
