import { ForyouError } from '../core/errors.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import { requireFraction, type Split } from './split.js';

export interface TemporalOptions {
  /** Where to cut, as a quantile of all interaction times (default 0.8). Ignored when `cutMs` is set. */
  quantile?: number;
  /** The cut as an epoch-millisecond time. */
  cutMs?: number;
}

/**
 * The time of the cut: `cutMs` when given, else the timestamp at position `floor(quantile x n)` of the
 * sorted timestamps (0-based, clamped to the last one). With distinct timestamps, exactly
 * `floor(quantile x n)` interactions are before it.
 */
export function temporalCut(interactions: readonly RawInteraction[], options: TemporalOptions = {}): number {
  if (options.cutMs !== undefined) return options.cutMs;
  const quantile = options.quantile ?? 0.8;
  requireFraction('quantile', quantile);
  const times = Float64Array.from(interactions, (x) => x.ts).sort();
  if (times.length === 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', 'the temporal protocol needs interactions');
  return times[Math.min(times.length - 1, Math.floor(quantile * times.length))]!;
}

/**
 * The "temporal" protocol: one global time cut, no randomness.
 *
 * 1. Train is every interaction strictly before the cut, test every interaction at or after it.
 * 2. The universe is the training set: test interactions of users or items never seen in training are
 *    dropped (a model cannot know them), and so are test pairs the user already had in training (repeats:
 *    those items are removed from the ranking, so they could never be hits).
 * 3. Repeated pairs within train (or within test) are merged, values summed, newest time kept.
 * 4. The seed is recorded but not used. A dataset whose timestamps are all equal (Last.fm HetRec has none)
 *    cannot be cut and fails with `FY_INVALID_ARGUMENT`.
 */
export function temporalSplit(
  interactions: readonly RawInteraction[],
  seed: number,
  options: TemporalOptions = {},
): Split {
  const cut = temporalCut(interactions, options);
  const train = InteractionMatrix.from(interactions.filter((x) => x.ts < cut));
  const users = new Map(train.userIds.map((id, u) => [id, u]));
  const items = new Map(train.itemIds.map((id, i) => [id, i]));
  const seen = new Set<number>();
  for (let u = 0; u < train.users; u++) for (const i of train.itemsOf(u)) seen.add(u * train.items + i);
  const later = interactions.filter((x) => {
    if (x.ts < cut) return false;
    const u = users.get(x.user);
    const i = items.get(x.item);
    return u !== undefined && i !== undefined && !seen.has(u * train.items + i);
  });
  const test = InteractionMatrix.from(later, train);
  const split: Split = {
    protocol: 'temporal',
    servedAt: 'log',
    params: {
      seed,
      cutMs: cut,
      cut: new Date(cut).toISOString(),
      ...(options.cutMs === undefined ? { quantile: options.quantile ?? 0.8 } : {}),
    },
    train,
    test,
    validation: null,
    alsoExcludeAtTest: [],
  };
  if (train.nnz === 0 || test.nnz === 0)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `the temporal cut at ${new Date(cut).toISOString()} leaves ${train.nnz} training and ${test.nnz} test interactions; the dataset needs distinct timestamps (Last.fm HetRec has none) and a cut inside its time range`,
      { details: { protocol: 'temporal', cutMs: cut, train: train.nnz, test: test.nnz } },
    );
  return split;
}
