import { Rng } from '../core/rng.js';
import { InteractionMatrix, type RawInteraction } from './interactions.js';
import { type Recommender, topK } from './recommender.js';

/**
 * A tiny data set with a planted structure for model tests: users and items fall into groups, each user
 * interacts only with items of their own group (a random subset, in one or two sessions), and a few of each
 * user's items are held out. A model that learns the structure ranks the held-out items among the user's
 * unseen own-group items, above every item of the other groups.
 */
export interface PlantedData {
  train: InteractionMatrix;
  /** Held-out items of each user (indices of `train`'s items), ascending. */
  heldOut: Int32Array[];
  /** Unseen items of the user's own group, held-out ones included: the cutoff that needs perfect separation. */
  ownUnseen: number;
}

export interface PlantedOptions {
  groups?: number;
  usersPerGroup?: number;
  itemsPerGroup?: number;
  itemsPerUser?: number;
  heldOutPerUser?: number;
  seed?: number;
}

export function plantedGroups(options: PlantedOptions = {}): PlantedData {
  const groups = options.groups ?? 2;
  const usersPerGroup = options.usersPerGroup ?? 30;
  const itemsPerGroup = options.itemsPerGroup ?? 20;
  const itemsPerUser = options.itemsPerUser ?? 14;
  const heldOutPerUser = options.heldOutPerUser ?? 3;
  const rng = new Rng(options.seed ?? 7);
  const itemIds = Array.from({ length: groups * itemsPerGroup }, (_, i) => `item-${i}`);
  const userIds = Array.from({ length: groups * usersPerGroup }, (_, u) => `user-${u}`);
  const train: RawInteraction[] = [];
  const held: string[][] = [];
  for (let u = 0; u < userIds.length; u++) {
    const g = Math.floor(u / usersPerGroup);
    const own = Array.from({ length: itemsPerGroup }, (_, k) => g * itemsPerGroup + k);
    const chosen = rng.shuffle(own).slice(0, itemsPerUser);
    const start = 1_600_000_000_000 + rng.int(1_000_000) * 60_000;
    held.push(chosen.slice(0, heldOutPerUser).map((i) => itemIds[i]!));
    chosen.slice(heldOutPerUser).forEach((i, k) => {
      // Two sessions a week apart, a minute between items.
      const ts = start + (k % 2) * 7 * 86_400_000 + k * 60_000;
      train.push({ user: userIds[u]!, item: itemIds[i]!, value: 1 + rng.int(5), ts });
    });
  }
  const matrix = InteractionMatrix.from(train, { userIds, itemIds });
  const index = new Map(itemIds.map((id, i) => [id, i]));
  return {
    train: matrix,
    heldOut: held.map((ids) => Int32Array.from(ids, (id) => index.get(id)!).sort()),
    ownUnseen: itemsPerGroup - itemsPerUser + heldOutPerUser,
  };
}

/**
 * Mean recall of the held-out items in each user's top k (training items removed). At k = `ownUnseen` it is
 * 1 exactly when every held-out item outranks every item of the other groups.
 */
export function plantedRecall(
  model: Pick<Recommender, 'scoreUser'>,
  data: PlantedData,
  k = data.ownUnseen,
): number {
  const scores = new Float32Array(data.train.items);
  let total = 0;
  for (let u = 0; u < data.train.users; u++) {
    model.scoreUser(u, scores);
    const top = new Set(topK(scores, k, data.train.itemsOf(u)));
    const held = data.heldOut[u]!;
    let hits = 0;
    for (const i of held) if (top.has(i)) hits++;
    total += hits / held.length;
  }
  return total / data.train.users;
}

/** A random symmetric positive-definite n x n matrix (full, row-major): ZᵀZ + shift·I with Z of rank `rank`. */
export function randomSpd(n: number, seed: number, rank = Math.max(1, n >> 1), shift = 0.5): Float64Array {
  const rng = new Rng(seed);
  const z = Float64Array.from({ length: rank * n }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = i === j ? shift : 0;
      for (let r = 0; r < rank; r++) s += z[r * n + i]! * z[r * n + j]!;
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  return a;
}
