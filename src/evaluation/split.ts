import { ForyouError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from '../models/interactions.js';
import type { ServedAt } from '../models/recommender.js';

export const PROTOCOL_NAMES = ['recommenders', 'recbole', 'temporal'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/**
 * The result of an evaluation protocol: train, test and (for some protocols) validation matrices that share
 * one universe of user and item ids, so index `u` or `i` means the same thing in all of them.
 */
export interface Split {
  protocol: ProtocolName;
  /** The settings the split was made with (seed, ratios, thresholds, cut time), copied into reports. */
  params: Readonly<Record<string, number | string>>;
  train: InteractionMatrix;
  test: InteractionMatrix;
  validation: InteractionMatrix | null;
  /**
   * Besides the user's training items, the matrices whose items are removed from that user's test ranking
   * (recbole: the validation items, as RecBole masks everything the user was seen with before the test).
   */
  alsoExcludeAtTest: readonly InteractionMatrix[];
  /**
   * When a test user is served, for models that depend on time (`trending`): `user` when the test
   * interactions are drawn from the same years as the training ones (a random split), so the moment of a
   * user's newest training interaction; `log` after the whole training log (a time cut).
   */
  servedAt: ServedAt;
}

/** Which part of a split a cell of the full matrix goes to. */
export const PART = { train: 0, test: 1, validation: 2, dropped: 3 } as const;
export type Part = (typeof PART)[keyof typeof PART];

/**
 * Python's `round()` (round half to even), which the Microsoft Recommenders splitters use on
 * `ratio * n`: 0.75 x 2 = 1.5 rounds to 2, 0.75 x 6 = 4.5 rounds to 4, 0.75 x 10 = 7.5 rounds to 8.
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The cells (indices into `all.userItems`) of user `u`, put in a canonical order (by item id, so the
 * result does not depend on the order of the input file) and then shuffled with the user's own random
 * stream: `Rng(seed).fork("user/<id>")`. One stream per user means a user's split depends only on the seed
 * and that user's interactions, never on the other users.
 */
export function shuffledCellsOf(all: InteractionMatrix, u: number, root: Rng): number[] {
  const cells: number[] = [];
  for (let k = all.userPtr[u]!; k < all.userPtr[u + 1]!; k++) cells.push(k);
  const ids = all.itemIds;
  cells.sort((a, b) => {
    const x = ids[all.userItems[a]!]!;
    const y = ids[all.userItems[b]!]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return root.fork(`user/${all.userIds[u]}`).shuffle(cells);
}

function cellOf(all: InteractionMatrix, u: number, k: number): RawInteraction {
  return {
    user: all.userIds[u]!,
    item: all.itemIds[all.userItems[k]!]!,
    value: all.userValues[k]!,
    ts: all.userTs[k]!,
  };
}

/**
 * Builds the train, test and validation matrices from the cells of `all` and the part each cell goes to.
 * The universe is every user and item of `all`, in `all`'s order.
 */
export function partition(
  all: InteractionMatrix,
  parts: Uint8Array,
): { train: InteractionMatrix; test: InteractionMatrix; validation: InteractionMatrix } {
  const lists: RawInteraction[][] = [[], [], []];
  for (let u = 0; u < all.users; u++)
    for (let k = all.userPtr[u]!; k < all.userPtr[u + 1]!; k++) {
      const part = parts[k]!;
      if (part !== PART.dropped) lists[part]!.push(cellOf(all, u, k));
    }
  const universe = { userIds: all.userIds, itemIds: all.itemIds };
  return {
    train: InteractionMatrix.from(lists[PART.train]!, universe),
    test: InteractionMatrix.from(lists[PART.test]!, universe),
    validation: InteractionMatrix.from(lists[PART.validation]!, universe),
  };
}

/** Fails with a message naming the protocol when a split leaves nothing to train on or to test. */
export function requireNonEmpty(protocol: ProtocolName, split: Pick<Split, 'train' | 'test'>): void {
  if (split.train.nnz === 0 || split.test.nnz === 0)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `the ${protocol} protocol left ${split.train.nnz} training and ${split.test.nnz} test interactions; the dataset is too small or does not fit this protocol`,
      { details: { protocol, train: split.train.nnz, test: split.test.nnz } },
    );
}

/** Checks a ratio option is a number strictly between 0 and 1. */
export function requireFraction(name: string, value: number): void {
  if (!(value > 0 && value < 1))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${name} must be between 0 and 1 (exclusive), got ${value}`,
      {
        details: { option: name, value },
      },
    );
}
