import { ForyouError } from '../core/errors.js';
import type { IdDictionary } from '../core/id-dictionary.js';
import { KEY_SEPARATOR } from '../features/definition.js';
import { OnlineFeatureBuffers, type OnlineFeatureStore } from '../features/online.js';
import type { CandidateHydrator, QueryHydrator } from '../pipeline/components.js';
import { rowOf, type ServingBundle } from './bundle.js';
import { EntityRowCache } from './entity-row-cache.js';
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
  /** Oldest row served, in ms (default 1,000; 0 turns the cache off). */
  maxAgeMs?: number;
  /** Item rows kept (default 20,000); creator rows kept (default 10,000). */
  items?: number;
  creators?: number;
  clock?: () => number;
}

/**
 * Candidate features: the items (item_features), their distinct creators (creator_features) and the user
 * with each creator (user_creator_features). Item and creator rows read in the last `maxAgeMs` come from
 * this process's caches; the rest are one batched read per feature service. The result is one block, a row
 * per candidate, shared through the query's scratch; each candidate gets its row number.
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

  constructor(
    private readonly online: OnlineFeatureStore,
    cache: FeatureCacheOptions = {},
  ) {
    const maxAgeMs = cache.maxAgeMs ?? 1000;
    this.itemCache = maxAgeMs > 0 ? new EntityRowCache(cache.items ?? 20_000, maxAgeMs) : null;
    this.creatorCache = maxAgeMs > 0 ? new EntityRowCache(cache.creators ?? 10_000, maxAgeMs) : null;
    this.clock = cache.clock ?? Date.now;
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
        'item_features',
        this.itemCache,
        query,
        candidates.map((c) => c.item),
        itemIds,
        [itemRead!, itemHits!],
        now,
      ),
      this.cachedRead(
        'creator_features',
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
    const wp = pairs.names.length;
    for (let r = 0; r < candidates.length; r++) {
      const c = candidates[r]!;
      c.featureRow = r;
      const base = r * width;
      itemRows.copyRow(r, values, base);
      const cr = creatorRow.get(itemCreator[c.item]!);
      if (cr !== undefined) {
        creatorRows.copyRow(cr, values, base + wi);
        copyRow(pairs.values, cr * wp, wp, values, base + wi + wc);
      }
    }
    query.scratch.features = { names, values };
    return candidates;
  }

  /**
   * The rows of a one-entity service for `entities` (bundle indices, ids in `ids`): those in `cache` and
   * young enough come from it (copied out at once, before any other request can replace them), the rest
   * from one read, which then refreshes the cache. `copyRow(k, ...)` copies entities[k]'s row.
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
    // source[k]: entities[k]'s row among the hits, or -1 - its row in the read.
    const source: number[] = new Array(entities.length);
    const keys: string[] = [];
    const w = cache?.widthFor(query.bundle) ?? 0;
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
    const read = await this.online.getOnlineFeatures(service, keys, { into: readRoom! });
    const width = read.names.length;
    // A service's columns are fixed for the life of the process (its registry), so rows cached earlier
    // have the width of this read.
    if (hits && w !== width)
      throw new ForyouError(
        'FY_INTERNAL',
        `${service} rows were cached ${w} wide but are read ${width} wide; the feature registry changed under a running hydrator`,
      );
    if (cache) {
      cache.prepare(query.bundle, ids.size, width);
      for (let k = 0; k < entities.length; k++) {
        const s = source[k]!;
        if (s < 0) cache.put(entities[k]!, now, read.values, (-1 - s) * width);
      }
    }
    return {
      names: read.names,
      copyRow: (k, to, base) => {
        const s = source[k]!;
        if (s >= 0) copyRow(hits!, s * width, width, to, base);
        else copyRow(read.values, (-1 - s) * width, width, to, base);
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
  ): Promise<{ names: string[]; values: Float64Array }> {
    const userPrefix = `${userId}${KEY_SEPARATOR}`;
    const scan = await this.online.scanOnlineFeatures(PAIR_SERVICE, userPrefix, creators.length);
    if (scan === null)
      return this.online.getOnlineFeatures(
        PAIR_SERVICE,
        creators.map((c) => userPrefix + creatorIds.id(c)),
        { into: room },
      );
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
    return { names: scan.names, values };
  }
}

const PAIR_SERVICE = 'user_creator_features';

interface CachedRows {
  names: string[];
  copyRow(k: number, to: Float64Array, base: number): void;
}

interface HydrationRooms {
  reads: OnlineFeatureBuffers[];
  block: OnlineFeatureBuffers;
}

/** Copies `length` values from `from[at..]` to `to[base..]` (a loop: a subarray view per row is an allocation). */
function copyRow(from: Float64Array, at: number, length: number, to: Float64Array, base: number): void {
  for (let k = 0; k < length; k++) to[base + k] = from[at + k]!;
}
