import { ForyouError } from '../core/errors.js';

/** One observed user-item interaction, with the dataset's ids. */
export interface RawInteraction {
  user: string;
  item: string;
  /** Rating, play count or 1. */
  value: number;
  /** Epoch ms (0 when unknown). */
  ts: number;
}

/**
 * A user x item interaction matrix in compressed sparse rows (by user) and columns (by item), with the
 * id of every row and column. Models and the evaluation harness share it; indices are dense 0..n-1.
 * Repeated (user, item) pairs are merged: values summed, the newest time kept.
 */
export class InteractionMatrix {
  private constructor(
    readonly userIds: readonly string[],
    readonly itemIds: readonly string[],
    /** Row pointers: the interactions of user u are at [userPtr[u], userPtr[u + 1]). */
    readonly userPtr: Int32Array,
    readonly userItems: Int32Array,
    readonly userValues: Float32Array,
    readonly userTs: Float64Array,
    /** Column pointers: the users of item i are at [itemPtr[i], itemPtr[i + 1]). */
    readonly itemPtr: Int32Array,
    readonly itemUsers: Int32Array,
    readonly itemValues: Float32Array,
  ) {}

  get users(): number {
    return this.userIds.length;
  }

  get items(): number {
    return this.itemIds.length;
  }

  get nnz(): number {
    return this.userItems.length;
  }

  /**
   * Builds the matrix. `universe` fixes the id lists (and their order) when several matrices must share
   * indices, e.g. a train and a test split; ids outside it are an error.
   */
  static from(
    interactions: readonly RawInteraction[],
    universe?: { userIds: readonly string[]; itemIds: readonly string[] },
  ): InteractionMatrix {
    const userIndex = new Map<string, number>();
    const itemIndex = new Map<string, number>();
    const userIds: string[] = universe ? [...universe.userIds] : [];
    const itemIds: string[] = universe ? [...universe.itemIds] : [];
    for (const [i, id] of userIds.entries()) userIndex.set(id, i);
    for (const [i, id] of itemIds.entries()) itemIndex.set(id, i);
    const indexOf = (map: Map<string, number>, ids: string[], id: string, kind: string): number => {
      let i = map.get(id);
      if (i === undefined) {
        if (universe)
          throw new ForyouError('FY_INVALID_ARGUMENT', `${kind} ${id} is not in the matrix's universe`);
        i = ids.length;
        ids.push(id);
        map.set(id, i);
      }
      return i;
    };
    // Merge duplicates per (user, item).
    const merged = new Map<number, { u: number; i: number; value: number; ts: number }>();
    for (const x of interactions) {
      const u = indexOf(userIndex, userIds, x.user, 'user');
      const i = indexOf(itemIndex, itemIds, x.item, 'item');
      const key = u * 2 ** 24 + i;
      const found = merged.get(key);
      if (found) {
        found.value += x.value;
        if (x.ts > found.ts) found.ts = x.ts;
      } else merged.set(key, { u, i, value: x.value, ts: x.ts });
    }
    if (itemIds.length >= 2 ** 24)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'more than 16.7 million items');
    const cells = [...merged.values()].sort((a, b) => a.u - b.u || a.i - b.i);
    const nnz = cells.length;
    const userPtr = new Int32Array(userIds.length + 1);
    const userItems = new Int32Array(nnz);
    const userValues = new Float32Array(nnz);
    const userTs = new Float64Array(nnz);
    cells.forEach((c, k) => {
      userPtr[c.u + 1]!++;
      userItems[k] = c.i;
      userValues[k] = c.value;
      userTs[k] = c.ts;
    });
    for (let u = 0; u < userIds.length; u++) userPtr[u + 1]! += userPtr[u]!;
    const itemPtr = new Int32Array(itemIds.length + 1);
    for (const c of cells) itemPtr[c.i + 1]!++;
    for (let i = 0; i < itemIds.length; i++) itemPtr[i + 1]! += itemPtr[i]!;
    const cursor = itemPtr.slice(0, itemIds.length);
    const itemUsers = new Int32Array(nnz);
    const itemValues = new Float32Array(nnz);
    for (const c of cells) {
      const at = cursor[c.i]!++;
      itemUsers[at] = c.u;
      itemValues[at] = c.value;
    }
    return new InteractionMatrix(
      userIds,
      itemIds,
      userPtr,
      userItems,
      userValues,
      userTs,
      itemPtr,
      itemUsers,
      itemValues,
    );
  }

  /** Items of user `u` (indices into itemIds), ascending. */
  itemsOf(u: number): Int32Array {
    return this.userItems.subarray(this.userPtr[u]!, this.userPtr[u + 1]!);
  }

  valuesOf(u: number): Float32Array {
    return this.userValues.subarray(this.userPtr[u]!, this.userPtr[u + 1]!);
  }

  /** The newest timestamp among user `u`'s interactions (-Infinity for a user without any). */
  newestOf(u: number): number {
    let newest = Number.NEGATIVE_INFINITY;
    for (let k = this.userPtr[u]!; k < this.userPtr[u + 1]!; k++)
      if (this.userTs[k]! > newest) newest = this.userTs[k]!;
    return newest;
  }

  usersOf(i: number): Int32Array {
    return this.itemUsers.subarray(this.itemPtr[i]!, this.itemPtr[i + 1]!);
  }

  /** Number of interactions of each item (its popularity in this matrix). */
  itemCounts(): Int32Array {
    const counts = new Int32Array(this.items);
    for (let i = 0; i < this.items; i++) counts[i] = this.itemPtr[i + 1]! - this.itemPtr[i]!;
    return counts;
  }
}
