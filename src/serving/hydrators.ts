import { KEY_SEPARATOR } from '../features/definition.js';
import { OnlineFeatureBuffers, type OnlineFeatureStore } from '../features/online.js';
import type { CandidateHydrator, QueryHydrator } from '../pipeline/components.js';
import { rowOf, type ServingBundle } from './bundle.js';
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

/**
 * Candidate features from the online store, one batched read per feature service: the items
 * (item_features), their distinct creators (creator_features) and the user with each creator
 * (user_creator_features). The result is one block, a row per candidate, shared through the query's
 * scratch; each candidate gets its row number.
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

  constructor(private readonly online: OnlineFeatureStore) {}

  async hydrate(query: FeedQuery, candidates: FeedCandidate[]): Promise<FeedCandidate[]> {
    const rooms = this.free.pop() ?? {
      reads: [0, 1, 2].map(() => new OnlineFeatureBuffers()),
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
    { reads: [itemRoom, creatorRoom, pairRoom], block }: HydrationRooms,
    query: FeedQuery,
    candidates: FeedCandidate[],
  ): Promise<FeedCandidate[]> {
    const { itemCreator, creatorIds } = query.bundle.data;
    const creatorRow = new Map<number, number>();
    const creatorKeys: string[] = [];
    for (const c of candidates) {
      const creator = itemCreator[c.item]!;
      if (creator >= 0 && !creatorRow.has(creator)) {
        creatorRow.set(creator, creatorKeys.length);
        creatorKeys.push(creatorIds.id(creator));
      }
    }
    const [items, creators, pairs] = await Promise.all([
      this.online.getOnlineFeatures(
        'item_features',
        candidates.map((c) => c.id),
        { into: itemRoom! },
      ),
      this.online.getOnlineFeatures('creator_features', creatorKeys, { into: creatorRoom! }),
      this.pairFeatures(query.userId, creatorKeys, pairRoom!),
    ]);
    const names = [...items.names, ...creators.names, ...pairs.names];
    const width = names.length;
    // Without a release hook the block cannot be lent: the request may keep it past the next one.
    const values = query.scratch.release
      ? block.take(candidates.length * width, 0).values.fill(Number.NaN)
      : new Float64Array(candidates.length * width).fill(Number.NaN);
    const wi = items.names.length;
    const wc = creators.names.length;
    const wp = pairs.names.length;
    for (let r = 0; r < candidates.length; r++) {
      const c = candidates[r]!;
      c.featureRow = r;
      const base = r * width;
      copyRow(items.values, r * wi, wi, values, base);
      const cr = creatorRow.get(itemCreator[c.item]!);
      if (cr !== undefined) {
        copyRow(creators.values, cr * wc, wc, values, base + wi);
        copyRow(pairs.values, cr * wp, wp, values, base + wi + wc);
      }
    }
    query.scratch.features = { names, values };
    return candidates;
  }

  /**
   * The user's features with each creator, row per creator key. A user has rows for the few creators they
   * engaged with, so where the store can range-read, one read of all the user's pairs replaces a point read
   * per candidate creator (most of which would miss); a user with more pairs than creators asked for is read
   * point by point.
   */
  private async pairFeatures(
    userId: string,
    creatorKeys: readonly string[],
    room: OnlineFeatureBuffers,
  ): Promise<{ names: string[]; values: Float64Array }> {
    const userPrefix = `${userId}${KEY_SEPARATOR}`;
    const scan = await this.online.scanOnlineFeatures(PAIR_SERVICE, userPrefix, creatorKeys.length);
    if (scan === null)
      return this.online.getOnlineFeatures(
        PAIR_SERVICE,
        creatorKeys.map((k) => userPrefix + k),
        { into: room },
      );
    const width = scan.names.length;
    const { values } = room.take(creatorKeys.length * width, 0);
    values.fill(Number.NaN);
    if (scan.entities.length > 0) {
      const rowOf = new Map<string, number>();
      for (const [r, k] of creatorKeys.entries()) rowOf.set(k, r);
      for (const [e, entity] of scan.entities.entries()) {
        const r = rowOf.get(entity.slice(userPrefix.length));
        if (r !== undefined) values.set(scan.values.subarray(e * width, (e + 1) * width), r * width);
      }
    }
    return { names: scan.names, values };
  }
}

const PAIR_SERVICE = 'user_creator_features';

interface HydrationRooms {
  reads: OnlineFeatureBuffers[];
  block: OnlineFeatureBuffers;
}

/** Copies `length` values from `from[at..]` to `to[base..]` (a loop: a subarray view per row is an allocation). */
function copyRow(from: Float64Array, at: number, length: number, to: Float64Array, base: number): void {
  for (let k = 0; k < length; k++) to[base + k] = from[at + k]!;
}
