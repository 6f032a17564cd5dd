import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import { PART, partition, requireNonEmpty, type Split, shuffledCellsOf } from './split.js';

export interface RecboleOptions {
  /** Interactions with a value below this are dropped first (default 3: ratings 3 to 5 stay). */
  minRating?: number;
  /** Every user and item must keep at least this many interactions (default 10). */
  core?: number;
  /** Train, validation and test shares of each user's interactions (default 0.8, 0.1, 0.1). */
  ratios?: readonly [number, number, number];
}

/**
 * Keeps the cells of `m` that belong to its k-core: repeatedly drops every interaction whose user or item
 * has fewer than `core` interactions left, until a pass drops nothing. The k-core is unique, so the order of
 * removal does not matter. Returns a mask over `m`'s cells.
 */
export function kCoreMask(m: InteractionMatrix, core: number): Uint8Array {
  const alive = new Uint8Array(m.nnz).fill(1);
  const userDeg = new Int32Array(m.users);
  const itemDeg = new Int32Array(m.items);
  for (let u = 0; u < m.users; u++) userDeg[u] = m.userPtr[u + 1]! - m.userPtr[u]!;
  for (let i = 0; i < m.items; i++) itemDeg[i] = m.itemPtr[i + 1]! - m.itemPtr[i]!;
  for (let changed = true; changed; ) {
    changed = false;
    const drop: number[] = [];
    for (let u = 0; u < m.users; u++)
      for (let k = m.userPtr[u]!; k < m.userPtr[u + 1]!; k++)
        if (alive[k] && (userDeg[u]! < core || itemDeg[m.userItems[k]!]! < core)) drop.push(k, u);
    for (let j = 0; j < drop.length; j += 2) {
      const k = drop[j]!;
      alive[k] = 0;
      userDeg[drop[j + 1]!]!--;
      itemDeg[m.userItems[k]!]!--;
      changed = true;
    }
  }
  return alive;
}

/**
 * RecBole's per-group split sizes (`_calcu_split_ids`): validation and test get `floor(ratio x n)` each,
 * train the rest; a part whose exact share is between 0 and 1 gets one interaction taken from train while
 * train keeps more than one (never needed after a 10-core filter, where n >= 10).
 */
export function recboleCounts(
  n: number,
  ratios: readonly [number, number, number],
): [number, number, number] {
  const counts: [number, number, number] = [0, Math.floor(ratios[1] * n), Math.floor(ratios[2] * n)];
  counts[0] = n - counts[1] - counts[2];
  for (const part of [2, 1] as const) {
    if (counts[0] <= 1) break;
    const exact = ratios[part] * n;
    if (exact > 0 && exact < 1) {
      counts[part]++;
      counts[0]--;
    }
  }
  return counts;
}

/**
 * The "RecBole-style" protocol (RecBole's defaults for general recommendation, as in its ml-1m tables):
 *
 * 1. Interactions with a value below `minRating` (3) are dropped; repeated (user, item) pairs are merged.
 * 2. 10-core filtering: users and items with fewer than `core` (10) interactions are removed, repeatedly,
 *    until every remaining user and item has at least `core` (`kCoreMask`).
 * 3. Each user's interactions are ordered by item id, shuffled with the user's stream of the seed, and cut
 *    into train, validation and test by `recboleCounts` (80/10/10: validation and test `floor(0.1 n)` each).
 * 4. The universe is the filtered dataset. At test time the ranking is over the items of the training set
 *    with the user's training and validation items removed (RecBole masks both); models train on train
 *    only (validation is for tuning).
 */
export function recboleSplit(
  interactions: readonly RawInteraction[],
  seed: number,
  options: RecboleOptions = {},
): Split {
  const minRating = options.minRating ?? 3;
  const core = options.core ?? 10;
  const ratios = options.ratios ?? ([0.8, 0.1, 0.1] as const);
  if (!(core >= 1) || !Number.isInteger(core))
    throw new ForyouError('FY_INVALID_ARGUMENT', `core must be a whole number >= 1, got ${core}`);
  if (ratios.some((r) => !(r >= 0 && r < 1)) || Math.abs(ratios[0] + ratios[1] + ratios[2] - 1) > 1e-9)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `ratios must be three shares summing to 1, got ${ratios.join(', ')}`,
    );
  const rated = InteractionMatrix.from(interactions.filter((x) => x.value >= minRating));
  const alive = kCoreMask(rated, core);
  const kept: RawInteraction[] = [];
  for (let u = 0; u < rated.users; u++)
    for (let k = rated.userPtr[u]!; k < rated.userPtr[u + 1]!; k++)
      if (alive[k])
        kept.push({
          user: rated.userIds[u]!,
          item: rated.itemIds[rated.userItems[k]!]!,
          value: rated.userValues[k]!,
          ts: rated.userTs[k]!,
        });
  const all = InteractionMatrix.from(kept);
  const parts = new Uint8Array(all.nnz);
  const root = new Rng(seed);
  for (let u = 0; u < all.users; u++) {
    const cells = shuffledCellsOf(all, u, root);
    const [nTrain, nValid] = recboleCounts(cells.length, ratios);
    cells.forEach((k, j) => {
      parts[k] = j < nTrain ? PART.train : j < nTrain + nValid ? PART.validation : PART.test;
    });
  }
  const { train, test, validation } = partition(all, parts);
  const split: Split = {
    protocol: 'recbole',
    servedAt: 'user',
    params: { seed, minRating, core, ratios: ratios.join('/') },
    train,
    test,
    validation,
    alsoExcludeAtTest: [validation],
  };
  requireNonEmpty('recbole', split);
  return split;
}
