import { MS_PER_DAY } from '../core/clock.js';
import type { KeyValueStore } from '../store/port.js';

export interface SeenStoreOptions {
  /** Most recent served items remembered per user (default 2,000). */
  capacity?: number;
  /** How long a user's history lives after its last write (default 14 days). */
  ttlMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Impression history per user in the online store: the ids of the items served to them, newest first,
 * under `sv:seen:<user>`, written when a feed page is served and read by the already-seen filter. A
 * read-modify-write: two pages served to one user at the same instant from two processes can lose one
 * page's ids (the next page may then repeat an item), which a feed tolerates.
 */
export class SeenStore {
  private readonly capacity: number;
  private readonly ttlMs: number;
  /** Ids added in this process whose write has not committed yet, by user. */
  private readonly pending = new Map<string, { ids: string[]; writes: number }>();
  /** Writes that failed (their ids are forgotten). */
  failedWrites = 0;

  constructor(
    private readonly store: KeyValueStore,
    options: SeenStoreOptions = {},
  ) {
    this.capacity = options.capacity ?? 2000;
    this.ttlMs = options.ttlMs ?? 14 * MS_PER_DAY;
  }

  static keyOf(userId: string): string {
    return `sv:seen:${userId}`;
  }

  /** Served item ids, newest first: the stored history with this process's uncommitted additions. */
  async read(userId: string): Promise<string[]> {
    const bytes = await this.store.get(SeenStore.keyOf(userId));
    const stored = !bytes || bytes.length === 0 ? [] : decoder.decode(bytes).split('\n');
    const pending = this.pending.get(userId);
    return pending ? merge(pending.ids, stored, this.capacity) : stored;
  }

  /**
   * Adds `itemIds` (in page order) in front of the history. Resolves once the write has committed; the
   * ids are visible to `read` in this process at once, before the commit (which waits for the disk), so a
   * caller may answer without waiting for it. Another process sees them after the commit.
   */
  add(userId: string, itemIds: readonly string[]): Promise<void> {
    if (itemIds.length === 0) return Promise.resolve();
    const newest = [...itemIds].reverse();
    const pending = this.pending.get(userId) ?? { ids: [], writes: 0 };
    pending.ids = merge(newest, pending.ids, this.capacity);
    pending.writes++;
    this.pending.set(userId, pending);
    return (async () => {
      try {
        const merged = await this.read(userId);
        await this.store.putMany([
          { key: SeenStore.keyOf(userId), value: encoder.encode(merged.join('\n')), ttlMs: this.ttlMs },
        ]);
      } catch (error) {
        this.failedWrites++;
        throw error;
      } finally {
        if (--pending.writes === 0 && this.pending.get(userId) === pending) this.pending.delete(userId);
      }
    })();
  }
}

/** `first` then the ids of `rest` not in it, at most `capacity`. */
function merge(first: readonly string[], rest: readonly string[], capacity: number): string[] {
  const have = new Set(first);
  const out = [...first];
  for (const id of rest) {
    if (out.length >= capacity) break;
    if (!have.has(id)) out.push(id);
  }
  return out.slice(0, capacity);
}
