/**
 * The online store's change feed: which entities of a feature view were written, and when. Every
 * `OnlineFeatureStore.writeRows` that stores rows of a view also stores, in the same atomic write, one
 * change record naming their entity keys; a serving process that keeps rows in memory follows the records
 * and drops the rows they name, so it can keep a row for as long as nobody writes it instead of re-reading
 * it every second.
 *
 * A record's key is `fc:<view>@v<version>:<stamp>:<writer>:<n>`: `stamp` is the writer's clock when the
 * write began (16 digits of epoch ms, so byte order is time order), `writer` a random id of the writing
 * store object and `n` its count of writes. Its value is the entity keys joined by a line feed (which
 * keys cannot hold). The writers delete records older than `CHANGE_RETENTION_MS` as they go
 * (`ChangeRecorder.trim`): records carry no store TTL, since a store may keep expired values it no longer
 * shows (LMDB, until a sweep), and a writer can only find what it can read.
 *
 * Records need a store that range-reads keys in order (`KeyValueStore.visitPrefix`, LMDB); on one that
 * cannot (Redis), no record is written and `FeatureChangeFollower.poll` resolves to null.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { KeyValueStore, PutEntry } from '../store/port.js';
import type { FeatureViewDef } from './definition.js';

/** How long change records are kept: a follower that falls further behind starts over (`poll`: 'all'). */
export const CHANGE_RETENTION_MS = 10 * 60_000;
/**
 * How far behind its last look a follower reads again. A record is stamped when its write begins and
 * becomes visible when the write commits; a write that takes longer than this to commit could be missed
 * (a follower's keeper then still re-reads every row after its maximum age).
 */
export const CHANGE_LAG_MS = 5_000;
/** Most records read in one poll; more means the follower drops everything instead. */
const POLL_LIMIT = 20_000;
/** How often a writer looks for its views' records past the retention, and how many it reads at a time. */
const TRIM_EVERY_MS = 1_000;
const TRIM_BATCH = 200;
const STAMP_DIGITS = 16;
const SEPARATOR = '\n';

/** The namespace of `view`'s change records (a store namespace: two segments). */
export function changePrefix(view: FeatureViewDef): string {
  return `fc:${view.name}@v${view.version}:`;
}

function stampOf(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(STAMP_DIGITS, '0');
}

/** Writes the change records of the rows one `writeRows` call stores (see the module comment). */
export class ChangeRecorder {
  private readonly writer = randomBytes(6).toString('hex');
  private writes = 0;
  private lastTrim = Number.NEGATIVE_INFINITY;

  /** One record per view of `written` (entity keys per view), stamped `now`. */
  entries(written: ReadonlyMap<FeatureViewDef, string[]>, now: number): PutEntry[] {
    const out: PutEntry[] = [];
    const n = String(this.writes++).padStart(10, '0');
    for (const [view, keys] of written)
      out.push({
        key: `${changePrefix(view)}${stampOf(now)}:${this.writer}:${n}`,
        value: Buffer.from(keys.join(SEPARATOR), 'utf8'),
      });
    return out;
  }

  /**
   * Deletes the records of `views` stamped more than `CHANGE_RETENTION_MS` before `now`, any writer's, at
   * most once a second and up to `TRIM_BATCH` per view per call (records are in time order, so the old
   * ones are the first read). Resolves to how many it deleted.
   */
  async trim(store: KeyValueStore, views: Iterable<FeatureViewDef>, now: number): Promise<number> {
    if (!store.visitPrefix || now - this.lastTrim < TRIM_EVERY_MS) return 0;
    this.lastTrim = now;
    const cutoff = stampOf(now - CHANGE_RETENTION_MS);
    const old: string[] = [];
    for (const view of views) {
      const prefix = changePrefix(view);
      await store.visitPrefix(
        prefix,
        (rest) => {
          if (rest.slice(0, STAMP_DIGITS) < cutoff) old.push(prefix + rest);
        },
        TRIM_BATCH,
      );
    }
    if (old.length > 0) await store.deleteMany(old);
    return old.length;
  }
}

/** What one poll found for a view: the entity keys written since the last poll, or 'all' (start over). */
export type ViewChanges = string[] | 'all';

/**
 * Follows the change records of some views. Each `poll` resolves to the entity keys written to each view
 * since the previous poll (the first poll: since the follower was made). A key can be reported again by a
 * later poll; a follower that could not read every record since its last poll (it polled too rarely, or
 * the writes were too many) reports 'all' for that view.
 */
export class FeatureChangeFollower {
  /** Stamp of the previous poll's start, per view. */
  private readonly since: Map<FeatureViewDef, number>;
  /** Records already reported, with their stamps, inside the window that is read again. */
  private readonly reported = new Map<string, number>();

  constructor(
    private readonly store: KeyValueStore,
    readonly views: readonly FeatureViewDef[],
    private readonly clock: Clock,
  ) {
    const now = clock.now();
    this.since = new Map(views.map((v) => [v, now]));
  }

  /** The changes since the last poll, per view; null when the store keeps no change records. */
  async poll(): Promise<Map<FeatureViewDef, ViewChanges> | null> {
    const visitPrefix = this.store.visitPrefix?.bind(this.store);
    if (!visitPrefix) return null;
    const now = this.clock.now();
    const out = new Map<FeatureViewDef, ViewChanges>();
    for (const view of this.views) {
      const since = this.since.get(view)!;
      const keys: string[] = [];
      const prefix = changePrefix(view);
      const found = await visitPrefix(
        prefix,
        (rest, bytes, start, end) => {
          const record = prefix + rest;
          if (this.reported.has(record)) return;
          this.reported.set(record, Number(rest.slice(0, STAMP_DIGITS)));
          if (end > start)
            for (const key of Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start)
              .toString('utf8')
              .split(SEPARATOR))
              keys.push(key);
        },
        POLL_LIMIT,
        stampOf(since - CHANGE_LAG_MS),
      );
      // Too many records, or too long since the last poll for the retained ones to cover it.
      out.set(view, found < 0 || now - since > CHANGE_RETENTION_MS - CHANGE_LAG_MS ? 'all' : keys);
      this.since.set(view, now);
    }
    const oldest = now - 2 * CHANGE_LAG_MS;
    for (const [record, stamp] of this.reported) if (stamp < oldest) this.reported.delete(record);
    return out;
  }
}
