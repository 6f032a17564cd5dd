import type { IdDictionary } from '../core/id-dictionary.js';
import type { FeatureChangeFollower } from '../features/change-feed.js';
import { type FeatureViewDef, KEY_SEPARATOR } from '../features/definition.js';
import { OnlineFeatureBuffers, type OnlineFeatureStore } from '../features/online.js';
import type { CandidateHydrator, QueryHydrator } from '../pipeline/components.js';
import { rowOf, type ServingBundle } from './bundle.js';
import { copyColumns, EntityRowCache } from './entity-row-cache.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';
import type { SeenStore } from './seen-store.js';

/** The bundle indices of `ids` (ids the bundle does not know are left out). */
export function itemsOf(bundle: ServingBundle, ids: Iterable<string>): Set<number> {
  const items = new Set<number>();
  for (const id of ids) {
    const i = bundle.data.itemIds.indexOf(id);
    if (i >= 0) items.add(i);
  }
  return items;
}

/** Reads the user's impression history (what was served before) for the already-seen filter. */
export class SeenHistoryHydrator implements QueryHydrator<FeedQuery> {
  readonly kind = 'query-hydrator' as const;
  readonly id = 'seen-history';

  constructor(private readonly seen: SeenStore) {}

  async hydrate(query: FeedQuery): Promise<Partial<FeedQuery>> {
    const seen = new Set(await this.seen.read(query.userId));
    for (const id of query.previousPage) seen.add(id);
    // As item indices too, once per request: the filter and the list sources test candidates by index.
    const seenItems = itemsOf(query.bundle, seen);
    query.scratch.hydrated.seen = seen;
    query.scratch.hydrated.seenItems = seenItems;
    return { seen, seenItems };
  }
}

/**
 * The user's profile: online user features (recent engagements among them), follows and blocked creators
 * from the bundle. Online recent engagements win over the bundle's, which are only as new as its build.
 */
export class UserProfileHydrator implements QueryHydrator<FeedQuery> {
  readonly kind = 'query-hydrator' as const;
  readonly id = 'user-profile';

  constructor(private readonly online: OnlineFeatureStore) {}

  async hydrate(query: FeedQuery): Promise<Partial<FeedQuery>> {
    const { bundle } = query;
    const features = await this.online.getOnlineFeatures('user_features', [query.userId], { lists: true });
    const userFeatures: Record<string, number> = {};
    for (const [k, name] of features.names.entries()) userFeatures[name] = features.values[k]!;
    const engagedAt = features.listNames.indexOf('user_engagement__engaged_items');
    const online = engagedAt >= 0 ? (features.lists?.[0]?.[engagedAt] ?? []) : [];
    const recent: number[] = [];
    for (const id of online) {
      const i = bundle.data.itemIds.indexOf(String(id));
      if (i >= 0 && !recent.includes(i)) recent.push(i);
    }
    if (query.user !== null)
      for (const i of rowOf(bundle.data.userRecent, query.user)) if (!recent.includes(i)) recent.push(i);
    const follows = query.user === null ? [] : [...rowOf(bundle.data.userFollows, query.user)];
    const blocked = new Set(query.user === null ? [] : rowOf(bundle.data.userBlocked, query.user));
    const profile = { recent: recent.slice(0, 20), follows, blocked, userFeatures };
    Object.assign(query.scratch.hydrated, profile);
    return profile;
  }
}

/** How long item and creator rows may be reused in a process, and how many are kept (see `EntityRowCache`). */
export interface FeatureCacheOptions {
  /**
   * Oldest row served, in ms; 0 turns the caches off. Default: 1,000 on a store without a change feed
   * (Redis), where a row is served unchanged for up to that long after another process wrote it; 60,000
   * where the hydrator follows the store's change feed and drops written rows (`pollMs`).
   */
  maxAgeMs?: number;
  /**
   * How often the change feed is read, in ms (default 250): a row written elsewhere is served at most
   * this long after its write became visible (plus the request in flight).
   */
  pollMs?: number;
  /** Follow the store's change feed where it has one (default true). */
  followChanges?: boolean;
  /** Most item rows and creator rows kept (default: as many as `maxBytes` holds). */
  items?: number;
  creators?: number;
  /** Most bytes of rows per cache (default 256 MiB). */
  maxBytes?: number;
  /**
   * The columns the ranker reads (a function: a ranker can load a new model); the block holds only those
   * of them the services serve. Every column of the services when absent or when it returns undefined.
   */
  columns?: () => readonly string[] | undefined;
  clock?: () => number;
}

export const CHANGE_POLL_MS = 250;

/** Which of a service's columns a block holds: their names, and their places among the service's. */
interface Projection {
  names: string[];
  /** Place of each kept column in the service's row; null: all of them, in order. */
  at: Int32Array | null;
}

/**
 * Candidate features: the items (item_features), their distinct creators (creator_features) and the user
 * with each creator (user_creator_features), only the columns the ranker reads. Item and creator rows
 * come from this process's caches while valid; the rest are one batched read per feature service, which
 * then refreshes the caches. Where the store has a change feed the caches follow it, so a row stays
 * until it is written (or a minute passes); elsewhere a row stays a second. The result is one block, a
 * row per candidate, shared through the query's scratch; each candidate gets its row number.
 */
export class FeatureHydrator implements CandidateHydrator<FeedQuery, FeedCandidate> {
  readonly kind = 'candidate-hydrator' as const;
  readonly id = 'features';

  /**
   * Buffer sets of requests not in flight. A request takes a set: three read buffers it copies out of, and
   * the block the ranker reads. The block outlives the hydration, so the set comes back only when the
   * request is answered (`FeedScratch.release`) and the hydration has finished. A fresh half-megabyte
   * block per request would be external memory that V8 answers with a full collection every few hundred
   * requests (measured: one every 2.5 s instead of every 7 s, at 30-90 ms each).
   */
  private readonly free: HydrationRooms[] = [];
  /** Null when turned off. */
  readonly itemCache: EntityRowCache | null;
  readonly creatorCache: EntityRowCache | null;
  private readonly clock: () => number;
  private readonly columns: () => readonly string[] | undefined;
  private readonly projections = new Map<
    string,
    { columns: readonly string[] | undefined; projection: Projection }
  >();
  /** Follows the store's writes of the cached views; null without caches or a change feed. */
  private readonly follower: FeatureChangeFollower | null;
  private readonly cacheOfView = new Map<FeatureViewDef, EntityRowCache>();
  private readonly pollMs: number;
  private lastPoll = Number.NEGATIVE_INFINITY;
  private polling: Promise<void> | null = null;
  /** Polls applied so far: rows read before a poll and stored after it are not cached. */
  private polls = 0;

  constructor(
    private readonly online: OnlineFeatureStore,
    cache: FeatureCacheOptions = {},
  ) {
    const views = (service: string) => online.registry.resolve(service).views.map((v) => v.view);
    const follow = cache.followChanges !== false && cache.maxAgeMs !== 0;
    this.follower = follow ? online.followChanges([...views(ITEM_SERVICE), ...views(CREATOR_SERVICE)]) : null;
    const maxAgeMs = cache.maxAgeMs ?? (this.follower ? 60_000 : 1000);
    const limits = (rows: number | undefined) => ({
      maxAgeMs,
      ...(rows === undefined ? {} : { rows }),
      ...(cache.maxBytes === undefined ? {} : { maxBytes: cache.maxBytes }),
    });
    this.itemCache = maxAgeMs > 0 ? new EntityRowCache(limits(cache.items)) : null;
    this.creatorCache = maxAgeMs > 0 ? new EntityRowCache(limits(cache.creators)) : null;
    if (this.follower) {
      for (const v of views(ITEM_SERVICE)) this.cacheOfView.set(v, this.itemCache!);
      for (const v of views(CREATOR_SERVICE)) this.cacheOfView.set(v, this.creatorCache!);
    }
    this.pollMs = cache.pollMs ?? CHANGE_POLL_MS;
    this.clock = cache.clock ?? Date.now;
    this.columns = cache.columns ?? (() => undefined);
  }

  /** Whether the caches follow the store's change feed. */
  get followsChanges(): boolean {
    return this.follower !== null;
  }

  /**
   * Reads the change feed when `pollMs` has passed since the last read and drops the rows it names;
   * null when no read is due (no promise to await, so a request goes on in the same turn).
   */
  private applyChanges(now: number, force = false): Promise<void> | null {
    if (!this.follower || (!force && now - this.lastPoll < this.pollMs)) return null;
    if (!this.polling) {
      this.lastPoll = now;
      this.polling = this.follower
        .poll()
        .then((changes) => {
          for (const [view, keys] of changes ?? []) {
            const cache = this.cacheOfView.get(view)!;
            if (keys === 'all') cache.invalidateAll();
            else cache.invalidate(keys);
          }
          this.polls++;
        })
        .finally(() => {
          this.polling = null;
        });
    }
    return this.polling;
  }

  /**
   * Fills the item and creator caches with the stored rows of `bundle`'s entities, so that the first
   * requests do not each pay a few hundred point reads (on a store that range-reads; elsewhere a no-op). It
   * reads `chunk` rows at a time and yields between chunks, and stops early when a cache is full or
   * `bundle` is no longer the one `current()` serves. Resolves to the rows kept.
   */
  async preload(
    bundle: ServingBundle,
    current: () => ServingBundle = () => bundle,
    chunk = 10_000,
  ): Promise<number> {
    let kept = 0;
    // The changes recorded so far are older than what is about to be read: consumed now, they do not drop
    // the rows read next.
    await this.applyChanges(this.clock(), true);
    for (const [service, cache, ids] of [
      [ITEM_SERVICE, this.itemCache, bundle.data.itemIds],
      [CREATOR_SERVICE, this.creatorCache, bundle.data.creatorIds],
    ] as const) {
      if (!cache) continue;
      const resolved = this.online.registry.resolve(service);
      const projection = this.projectionOf(service, resolved.numericNames);
      cache.prepare(bundle, projection, ids, projection.names.length);
      const ttlMs = resolved.views[0]!.view.ttlMs;
      let after = '';
      let limit = chunk;
      let room = cache.capacity;
      while (room > 0 && current() === bundle && cache.widthFor(bundle, projection) > 0) {
        const now = this.clock();
        const polls = this.polls;
        let last = '';
        const found = await this.online.visitRows(
          service,
          '',
          (entity, row, eventTs) => {
            last = entity;
            const e = ids.indexOf(entity);
            if (e < 0 || room === 0 || this.polls !== polls) return;
            cache.put(e, now, row, 0, projection.at, eventTs + ttlMs);
            room--;
            kept++;
          },
          limit,
          after,
        );
        if (found === null || found >= 0) break;
        // A chunk of only expired rows visits nothing: read a longer one.
        if (last === '') limit *= 2;
        else after = last;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    return kept;
  }

  /** The block columns of `service` (whose columns are `names`): those the ranker reads, or all. */
  private projectionOf(service: string, names: string[]): Projection {
    const columns = this.columns();
    const known = this.projections.get(service);
    if (known && sameColumns(known.columns, columns)) return known.projection;
    let projection: Projection = { names, at: null };
    if (columns) {
      const wanted = new Set(columns);
      const at = names.flatMap((name, k) => (wanted.has(name) ? [k] : []));
      projection = { names: at.map((k) => names[k]!), at: Int32Array.from(at) };
    }
    this.projections.set(service, { columns, projection });
    return projection;
  }

  async hydrate(query: FeedQuery, candidates: FeedCandidate[]): Promise<FeedCandidate[]> {
    const rooms = this.free.pop() ?? {
      reads: [0, 1, 2, 3, 4].map(() => new OnlineFeatureBuffers()),
      block: new OnlineFeatureBuffers(),
    };
    // Back to the pool when both the request is answered and the hydration is over.
    let holds = query.scratch.release ? 2 : 1;
    const letGo = () => {
      if (--holds === 0) this.free.push(rooms);
    };
    query.scratch.release?.push(letGo);
    try {
      return await this.hydrateWith(rooms, query, candidates);
    } finally {
      letGo();
    }
  }

  private async hydrateWith(
    { reads: [itemRead, itemHits, creatorRead, creatorHits, pairRoom], block }: HydrationRooms,
    query: FeedQuery,
    candidates: FeedCandidate[],
  ): Promise<FeedCandidate[]> {
    const { itemCreator, itemIds, creatorIds } = query.bundle.data;
    const now = this.clock();
    const polling = this.applyChanges(now);
    if (polling) await polling;
    const creatorRow = new Map<number, number>();
    const creators: number[] = [];
    for (const c of candidates) {
      const creator = itemCreator[c.item]!;
      if (creator >= 0 && !creatorRow.has(creator)) {
        creatorRow.set(creator, creators.length);
        creators.push(creator);
      }
    }
    const [itemRows, creatorRows, pairs] = await Promise.all([
      this.cachedRead(
        ITEM_SERVICE,
        this.itemCache,
        query,
        candidates.map((c) => c.item),
        itemIds,
        [itemRead!, itemHits!],
        now,
      ),
      this.cachedRead(
        CREATOR_SERVICE,
        this.creatorCache,
        query,
        creators,
        creatorIds,
        [creatorRead!, creatorHits!],
        now,
      ),
      this.pairFeatures(query.userId, creators, creatorIds, pairRoom!),
    ]);
    const names = [...itemRows.names, ...creatorRows.names, ...pairs.names];
    const width = names.length;
    // Without a release hook the block cannot be lent: the request may keep it past the next one.
    const values = query.scratch.release
      ? block.take(candidates.length * width, 0).values.fill(Number.NaN)
      : new Float64Array(candidates.length * width).fill(Number.NaN);
    const wi = itemRows.names.length;
    const wc = creatorRows.names.length;
    for (let r = 0; r < candidates.length; r++) {
      const c = candidates[r]!;
      c.featureRow = r;
      const base = r * width;
      itemRows.copyRow(r, values, base);
      const cr = creatorRow.get(itemCreator[c.item]!);
      if (cr !== undefined) {
        creatorRows.copyRow(cr, values, base + wi);
        pairs.copyRow(cr, values, base + wi + wc);
      }
    }
    query.scratch.features = { names, values };
    return candidates;
  }

  /**
   * The rows of a one-entity service for `entities` (bundle indices, ids in `ids`), projected to the
   * ranker's columns: those in `cache` and still valid come from it (copied out at once, before any other
   * request can replace them), the rest from one read, which then refreshes the cache.
   */
  private async cachedRead(
    service: string,
    cache: EntityRowCache | null,
    query: FeedQuery,
    entities: readonly number[],
    ids: IdDictionary,
    [readRoom, hitRoom]: OnlineFeatureBuffers[],
    now: number,
  ): Promise<CachedRows> {
    const resolved = this.online.registry.resolve(service);
    const projection = this.projectionOf(service, resolved.numericNames);
    // source[k]: entities[k]'s row among the hits, or -1 - its row in the read.
    const source: number[] = new Array(entities.length);
    const keys: string[] = [];
    const w = cache?.widthFor(query.bundle, projection) ?? 0;
    const hits = w > 0 ? hitRoom!.take(entities.length * w, 0).values : null;
    // Nothing cached for this bundle yet: every entity is a miss.
    if (cache && !hits) cache.misses += entities.length;
    let hit = 0;
    for (let k = 0; k < entities.length; k++) {
      if (hits && cache!.copyOut(entities[k]!, now, hits, hit * w)) source[k] = hit++;
      else {
        source[k] = -1 - keys.length;
        keys.push(ids.id(entities[k]!));
      }
    }
    const width = projection.names.length;
    // Every row was a hit (the usual case once the caches are preloaded): no read, not even an empty one,
    // which would still renew the store's read snapshot.
    if (keys.length === 0)
      return {
        names: projection.names,
        copyRow: (k, to, base) => copyColumns(hits!, source[k]! * width, null, width, to, base),
      };
    const polls = this.polls;
    const read = await this.online.getOnlineFeatures(service, keys, { into: readRoom! });
    const readWidth = read.names.length;
    // A change-feed poll applied while this read was in flight may have dropped rows older than it: the
    // rows read are served to this request but not kept.
    if (cache && this.polls === polls) {
      cache.prepare(query.bundle, projection, ids, width);
      const views = resolved.views;
      for (let k = 0; k < entities.length; k++) {
        const s = source[k]!;
        if (s >= 0) continue;
        const row = -1 - s;
        let expiresAt = Number.POSITIVE_INFINITY;
        for (let v = 0; v < views.length; v++) {
          const ts = read.eventTs[row * views.length + v]!;
          if (!Number.isNaN(ts)) expiresAt = Math.min(expiresAt, ts + views[v]!.view.ttlMs);
        }
        cache.put(entities[k]!, now, read.values, row * readWidth, projection.at, expiresAt);
      }
    }
    return {
      names: projection.names,
      copyRow: (k, to, base) => {
        const s = source[k]!;
        if (s >= 0) copyColumns(hits!, s * width, null, width, to, base);
        else copyColumns(read.values, (-1 - s) * readWidth, projection.at, width, to, base);
      },
    };
  }

  /**
   * The user's features with each creator, row per creator. A user has rows for the few creators they
   * engaged with, so where the store can range-read, one read of all the user's pairs replaces a point read
   * per candidate creator (most of which would miss); a user with more pairs than creators asked for is read
   * point by point.
   */
  private async pairFeatures(
    userId: string,
    creators: readonly number[],
    creatorIds: IdDictionary,
    room: OnlineFeatureBuffers,
  ): Promise<CachedRows> {
    const userPrefix = `${userId}${KEY_SEPARATOR}`;
    const rows = (names: string[], values: Float64Array): CachedRows => {
      const readWidth = names.length;
      const projection = this.projectionOf(PAIR_SERVICE, names);
      const width = projection.names.length;
      return {
        names: projection.names,
        copyRow: (k, to, base) => copyColumns(values, k * readWidth, projection.at, width, to, base),
      };
    };
    const scan = await this.online.scanOnlineFeatures(PAIR_SERVICE, userPrefix, creators.length);
    if (scan === null) {
      const read = await this.online.getOnlineFeatures(
        PAIR_SERVICE,
        creators.map((c) => userPrefix + creatorIds.id(c)),
        { into: room },
      );
      return rows(read.names, read.values);
    }
    const width = scan.names.length;
    const { values } = room.take(creators.length * width, 0);
    values.fill(Number.NaN);
    if (scan.entities.length > 0) {
      const rowOf = new Map<number, number>();
      for (const [r, c] of creators.entries()) rowOf.set(c, r);
      for (const [e, entity] of scan.entities.entries()) {
        const r = rowOf.get(creatorIds.indexOf(entity.slice(userPrefix.length)));
        if (r !== undefined) values.set(scan.values.subarray(e * width, (e + 1) * width), r * width);
      }
    }
    return rows(scan.names, values);
  }
}

const ITEM_SERVICE = 'item_features';
const CREATOR_SERVICE = 'creator_features';
const PAIR_SERVICE = 'user_creator_features';

interface CachedRows {
  names: string[];
  copyRow(k: number, to: Float64Array, base: number): void;
}

interface HydrationRooms {
  reads: OnlineFeatureBuffers[];
  block: OnlineFeatureBuffers;
}

function sameColumns(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}
