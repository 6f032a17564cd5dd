import type { FastifyInstance } from 'fastify';
import { ForyouError } from '../core/errors.js';
import { isValidId } from '../core/ids.js';
import type { OnlineFeatureStore } from '../features/online.js';
import type { TraceBuffer } from '../pipeline/trace.js';
import { rowOf } from './bundle.js';
import type { EntityRowCache } from './entity-row-cache.js';
import type { FeedService } from './feed-service.js';
import { openApiDocument } from './openapi.js';
import type { SeenStore } from './seen-store.js';

/** What the routes need of a feed: a `FeedService`, or an experiment over several (`ExperimentFeed`). */
export type FeedEndpoint = Pick<FeedService, 'feed' | 'holder' | 'pipeline' | 'features'>;

export interface FeedRoutesOptions {
  feed: FeedEndpoint;
  seen: SeenStore;
  online: OnlineFeatureStore;
  traces?: TraceBuffer;
}

export const MAX_FEED_COUNT = 100;
const MAX_CONTEXT_ITEMS = 50;

type Query = Record<string, unknown>;

function invalid(parameter: string, message: string): ForyouError {
  return new ForyouError('FY_INVALID_ARGUMENT', `parameter ${parameter} ${message}`, {
    details: { parameter },
  });
}

/** Rejects parameters the endpoint does not take, naming them and the ones it does. */
function onlyKnown(query: Query, known: readonly string[]): void {
  for (const key of Object.keys(query))
    if (!known.includes(key))
      throw invalid(key.slice(0, 40), `is not understood; this endpoint takes ${known.join(', ')}`);
}

function single(query: Query, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw invalid(name, 'is given more than once; give it once');
  return String(v);
}

function intParam(query: Query, name: string, min: number, max: number, fallback: number): number {
  const text = single(query, name);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw invalid(name, `must be a whole number from ${min} to ${max}`);
  const n = Number(text);
  if (n < min || n > max) throw invalid(name, `must be from ${min} to ${max}, got ${n}`);
  return n;
}

function idParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isValidId(value)) throw invalid(name, 'must be 1-128 characters of A-Z a-z 0-9 . _ : @ -');
  return value;
}

function boolParam(query: Query, name: string): boolean {
  const text = single(query, name);
  if (text === undefined) return false;
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw invalid(name, 'must be 1, 0, true or false');
}

/**
 * The feed API as a fastify plugin: GET /v1/feed, /v1/items/:id/similar, /v1/users/:id/history,
 * /v1/traces (recent pipeline traces) and /openapi.json. Every parameter is checked and a bad one is a
 * 400 FY_INVALID_ARGUMENT whose message and `details.parameter` name it. Component failures never answer
 * 5xx: the feed degrades and says so (`degraded`, `degraded_components`).
 */
export async function feedRoutes(app: FastifyInstance, options: FeedRoutesOptions): Promise<void> {
  const { feed, seen, online } = options;

  app.get('/openapi.json', async () => openApiDocument());

  app.get('/v1/feed', async (request) => {
    const query = request.query as Query;
    onlyKnown(query, ['user', 'context', 'count', 'cursor', 'language', 'debug']);
    const user = idParam(single(query, 'user'), 'user');
    const contextText = single(query, 'context');
    const context = contextText === undefined ? undefined : contextText.split(',').filter((s) => s !== '');
    if (context) {
      if (context.length > MAX_CONTEXT_ITEMS)
        throw invalid('context', `lists at most ${MAX_CONTEXT_ITEMS} item ids`);
      for (const id of context) idParam(id, 'context');
    }
    const count = intParam(query, 'count', 1, MAX_FEED_COUNT, 20);
    const cursor = single(query, 'cursor');
    const language = single(query, 'language');
    if (language !== undefined && !/^[a-z]{2}$/.test(language))
      throw invalid('language', 'must be a two-letter ISO 639-1 code in lower case, such as en');
    const debug = boolParam(query, 'debug');
    return feed.feed({
      ...(user === undefined ? {} : { user }),
      ...(context === undefined ? {} : { context }),
      count,
      ...(cursor === undefined ? {} : { cursor }),
      ...(language === undefined ? {} : { language }),
      debug,
      requestId: request.id,
    });
  });

  app.get('/v1/items/:id/similar', async (request) => {
    const query = request.query as Query;
    onlyKnown(query, ['count']);
    const id = idParam((request.params as { id: string }).id, 'id')!;
    const count = intParam(query, 'count', 1, MAX_FEED_COUNT, 20);
    const bundle = feed.holder.current;
    const i = bundle.data.itemIds.indexOf(id);
    if (i < 0)
      throw invalid('id', `names item ${id}, which is not in the catalogue of bundle ${bundle.version}`);
    const { neighbours, itemIds, itemCreator, creatorIds } = bundle.data;
    const out = new Map<number, { score: number; source: string }>();
    for (let e = neighbours.ptr[i]!; e < neighbours.ptr[i + 1]! && out.size < count; e++)
      out.set(neighbours.idx[e]!, { score: neighbours.weight[e]!, source: 'item-to-item' });
    if (out.size < count) {
      const hits = bundle.ann.search(bundle.itemVector(i), count + 1);
      for (let k = 0; k < hits.keys.length && out.size < count; k++) {
        const j = hits.keys[k]!;
        if (j !== i && !out.has(j)) out.set(j, { score: hits.scores[k]!, source: 'ann-factors' });
      }
    }
    return {
      item_id: id,
      bundle_version: bundle.version,
      items: [...out].map(([j, v]) => ({
        item_id: itemIds.id(j),
        creator_id: itemCreator[j]! >= 0 ? creatorIds.id(itemCreator[j]!) : null,
        score: v.score,
        source: v.source,
      })),
    };
  });

  app.get('/v1/users/:id/history', async (request) => {
    const query = request.query as Query;
    onlyKnown(query, ['count']);
    const id = idParam((request.params as { id: string }).id, 'id')!;
    const count = intParam(query, 'count', 1, 1000, 50);
    const [served, features] = await Promise.all([
      seen.read(id),
      online.getOnlineFeatures('user_features', [id], { lists: true }),
    ]);
    const list = (name: string) => {
      const at = features.listNames.indexOf(name);
      return at < 0 ? [] : (features.lists?.[0]?.[at] ?? []).map(String);
    };
    const bundle = feed.holder.current;
    const u = bundle.data.userIds.indexOf(id);
    let engaged = list('user_engagement__engaged_items');
    if (engaged.length === 0 && u >= 0)
      engaged = Array.from(rowOf(bundle.data.userRecent, u), (i) => bundle.data.itemIds.id(i));
    return {
      user_id: id,
      known: u >= 0,
      served: served.slice(0, count),
      engaged: engaged.slice(0, count),
      liked: list('user_engagement__liked_items').slice(0, count),
    };
  });

  app.get('/v1/traces', async (request) => {
    const query = request.query as Query;
    onlyKnown(query, ['limit', 'request_id']);
    const limit = intParam(query, 'limit', 1, 200, 20);
    const requestId = idParam(single(query, 'request_id'), 'request_id');
    const traces = options.traces;
    if (!traces) return { traces: [] };
    if (requestId !== undefined) {
      const t = traces.find(requestId);
      return { traces: t ? [t] : [] };
    }
    return {
      traces: traces.recent(limit),
      // Each worker of a cluster keeps its own traces, metrics and caches: this says whose they are.
      process_id: process.pid,
      metrics: feed.pipeline.metrics(),
      quality_factor: feed.pipeline.qualityFactor,
      feature_cache: {
        items: cacheStats(feed.features.itemCache),
        creators: cacheStats(feed.features.creatorCache),
      },
    };
  });
}

/** Hits and misses of a feature row cache since the process started (null when the cache is off). */
function cacheStats(cache: EntityRowCache | null): { hits: number; misses: number; hit_rate: number } | null {
  if (cache === null) return null;
  const looked = cache.hits + cache.misses;
  return { hits: cache.hits, misses: cache.misses, hit_rate: looked === 0 ? 0 : cache.hits / looked };
}
