import { createHash } from 'node:crypto';
import { ForyouError } from '../core/errors.js';
import { isValidId } from '../core/ids.js';
import type { RunContext, Scored } from '../pipeline/components.js';
import { Pipeline } from '../pipeline/pipeline.js';
import type { RequestTrace, TraceBuffer } from '../pipeline/trace.js';
import { NO_LANGUAGE, rowOf } from './bundle.js';
import type { BundleHolder } from './bundle-holder.js';
import { type FeedPipelineOptions, featureHydratorFor, forYouPipeline } from './feed-pipeline.js';
import { CandidatePool, type FeedCandidate, type FeedQuery } from './feed-query.js';
import { type FeatureHydrator, itemsOf } from './hydrators.js';
import type { ImpressionLogger } from './impression-log.js';
import { FusedRanker } from './ranker.js';
import type { SeenStore } from './seen-store.js';
import { DiversitySelector } from './selector.js';

export interface FeedRequest {
  /** A user id; absent for an anonymous session. */
  user?: string;
  /** Item ids the session engaged with (cold start), newest first. */
  context?: string[];
  count: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
  /** Restricts the feed to one language (ISO 639-1), overriding the user's languages. */
  language?: string;
  debug?: boolean;
  requestId: string;
}

export interface FeedItem {
  item_id: string;
  creator_id: string | null;
  position: number;
  score: number;
  source: string;
}

export interface FeedResponse {
  request_id: string;
  bundle_version: string;
  user_id: string;
  items: FeedItem[];
  next_cursor: string;
  degraded: boolean;
  /** Ids of the components that failed or timed out and fell back. */
  degraded_components: string[];
  reasons: string[];
  trace?: RequestTrace;
}

interface Cursor {
  /** Position of the next page's first item. */
  o: number;
  /** Session id (anonymous users are tracked under it). */
  s: string;
  /** The page's item ids, when short enough to carry. */
  p?: string[];
}

/** Longest list of page ids carried in a cursor (joined with commas); longer pages wait for their write. */
const MAX_CARRIED_CHARS = 1500;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, ...cursor })).toString('base64url');
}

/** A cursor this server issued, or FY_INVALID_ARGUMENT naming `cursor`. */
export function decodeCursor(text: string): Cursor {
  const bad = () =>
    new ForyouError(
      'FY_INVALID_ARGUMENT',
      'parameter cursor is not a cursor this API issued; pass next_cursor from the previous page, or omit it for the first page',
      { details: { parameter: 'cursor' } },
    );
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(text)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  const c = parsed as { v?: unknown; o?: unknown; s?: unknown; p?: unknown };
  if (
    c === null ||
    typeof c !== 'object' ||
    c.v !== 1 ||
    !Number.isInteger(c.o) ||
    (c.o as number) < 0 ||
    (c.o as number) > 100_000 ||
    typeof c.s !== 'string' ||
    !/^[A-Za-z0-9._:@-]{1,100}$/.test(c.s) ||
    (c.p !== undefined &&
      (!Array.isArray(c.p) ||
        c.p.length > 100 ||
        !c.p.every((id) => typeof id === 'string' && isValidId(id))))
  )
    throw bad();
  return { o: c.o as number, s: c.s, ...(c.p === undefined ? {} : { p: c.p as string[] }) };
}

function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

export interface FeedServiceOptions extends FeedPipelineOptions {
  traces?: TraceBuffer;
  clock?: () => number;
}

/**
 * Serves feed pages: turns a request into the pipeline's query (bundle captured once, user resolved,
 * languages and locale chosen, position from the cursor), runs the For You pipeline, re-checks the hard
 * rules of a degraded page, logs an impression per served item, records the served items in the user's
 * impression history before answering (so the next page never repeats them) and reports any degradation.
 */
export class FeedService {
  readonly pipeline: Pipeline<FeedQuery, FeedCandidate>;
  private readonly clock: () => number;
  private readonly capsOnly: DiversitySelector;
  private readonly impressions: ImpressionLogger | null;
  /** Candidates of answered requests, reused by the next ones (`idle` tells how many wait). */
  readonly candidates = new CandidatePool();
  /** The feature hydration (its item and creator caches count hits and misses). */
  readonly features: FeatureHydrator;

  constructor(
    readonly holder: BundleHolder,
    private readonly seen: SeenStore,
    options: FeedServiceOptions,
  ) {
    const ranker = options.ranker ?? new FusedRanker();
    this.features = featureHydratorFor(options, ranker);
    this.pipeline = new Pipeline(
      forYouPipeline({ ...options, ranker, features: this.features }),
      options.traces ? { traces: options.traces } : {},
    );
    this.clock = options.clock ?? Date.now;
    this.capsOnly = new DiversitySelector({ ...options.selector, lambda: 1 });
    this.impressions = options.impressions ?? null;
  }

  /**
   * Fills the feature caches with the stored item and creator rows (`FeatureHydrator.preload`), then runs
   * a few requests without logging or remembering anything, so the first real requests do not pay for
   * compilation and cold caches (a cold process can spend its whole deadline on the first request).
   * Resolves to the feature rows preloaded.
   */
  async warmUp(rounds = 3): Promise<number> {
    const bundle = this.holder.current;
    const preloaded = await this.features.preload(bundle, () => this.holder.current);
    const users = Array.from({ length: Math.min(rounds, bundle.data.userIds.size) }, (_, u) =>
      bundle.data.userIds.id(u),
    );
    for (const [k, user] of [...users, undefined].entries())
      await this.feed({
        ...(user === undefined ? {} : { user }),
        count: 10,
        requestId: `warm-up-${k}`,
        dryRun: true,
        deadlineMs: 10_000,
      });
    return preloaded;
  }

  async feed(request: FeedRequest & { dryRun?: boolean; deadlineMs?: number }): Promise<FeedResponse> {
    const bundle = this.holder.current;
    const cursor = request.cursor === undefined ? null : decodeCursor(request.cursor);
    const session = cursor?.s ?? request.requestId;
    const anonymous = request.user === undefined;
    const userId = anonymous ? `anon:${session}` : request.user!;
    const userIndex = anonymous ? -1 : bundle.data.userIds.indexOf(userId);
    const user = userIndex >= 0 ? userIndex : null;
    const contextItems: number[] = [];
    for (const id of request.context ?? []) {
      const i = bundle.data.itemIds.indexOf(id);
      if (i >= 0 && !contextItems.includes(i)) contextItems.push(i);
    }
    let languages: number[] = [];
    let locale: number | null = null;
    if (request.language !== undefined) {
      const l = bundle.languageIndex.get(request.language);
      // A language no item has: the filter keeps only items of unknown language, which is right.
      languages = [l ?? NO_LANGUAGE - 1];
      locale = l ?? null;
    } else if (user !== null) {
      languages = [...rowOf(bundle.data.userLanguages, user)];
      const primary = bundle.data.userLanguage[user]!;
      locale = primary === NO_LANGUAGE ? (languages[0] ?? null) : primary;
    } else if (contextItems.length > 0) {
      const l = bundle.data.itemLanguage[contextItems[0]!]!;
      locale = l === NO_LANGUAGE ? null : l;
    }
    const offset = cursor?.o ?? 0;
    const query: FeedQuery = {
      bundle,
      userId,
      user,
      anonymous,
      contextItems,
      languages,
      locale,
      count: request.count,
      offset,
      previousPage: cursor?.p ?? [],
      seed: seedOf(`${session}:${offset}:${request.requestId}`),
      nowMs: this.clock(),
      ...(request.dryRun ? { dryRun: true } : {}),
      scratch: { features: null, hydrated: {}, release: [], candidates: this.candidates.lease() },
    };
    // Candidates go back to the pool only after a run in which every component finished in time: one that
    // failed or timed out may still be running with some of them.
    let clean = false;
    try {
      const response = await this.serve(request, query, session);
      clean = !response.degraded;
      return response;
    } finally {
      for (const release of query.scratch.release!) release();
      if (clean) query.scratch.candidates!.giveBack();
    }
  }

  private async serve(
    request: FeedRequest & { dryRun?: boolean; deadlineMs?: number },
    query: FeedQuery,
    session: string,
  ): Promise<FeedResponse> {
    const { bundle, offset, userId } = query;
    const result = await this.pipeline.run(query, {
      requestId: request.requestId,
      ...(request.debug ? { keepTrace: true } : {}),
      ...(request.deadlineMs ? { deadlineMs: request.deadlineMs } : {}),
    });
    const reasons = [...result.reasons];
    const degradedComponents = result.trace.components
      .filter((c) => c.status === 'degraded')
      .map((c) => c.id);
    const items = result.degraded
      ? await this.enforce(query, result.items, degradedComponents)
      : result.items;
    const servedIds = items.map((s) => s.candidate.id);
    if (this.impressions && !request.dryRun) void this.impressions.run(query, items, result.requestId);
    // The next page must not repeat this one. The ids are readable in this process at once; another worker
    // sees them after the commit, so they also ride in the cursor and the answer need not wait for the
    // disk. A page too long to carry waits for its write instead.
    const carry = servedIds.join(',').length <= MAX_CARRIED_CHARS;
    if (!request.dryRun) {
      const write = this.seen.add(userId, servedIds);
      if (carry) write.catch(() => {});
      else
        try {
          await write;
        } catch (error) {
          degradedComponents.push('seen-history-write');
          reasons.push(
            `seen-history-write: failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
    }
    const { itemCreator, creatorIds } = bundle.data;
    return {
      request_id: result.requestId,
      bundle_version: bundle.version,
      user_id: userId,
      items: items.map((s, k) => {
        const c = itemCreator[s.candidate.item]!;
        return {
          item_id: servedIds[k]!,
          creator_id: c >= 0 ? creatorIds.id(c) : null,
          position: offset + k,
          score: Number.isFinite(s.score) ? s.score : 0,
          source: s.candidate.source,
        };
      }),
      next_cursor: encodeCursor({ o: offset + items.length, s: session, ...(carry ? { p: servedIds } : {}) }),
      degraded: degradedComponents.length > 0,
      degraded_components: degradedComponents,
      reasons,
      ...(request.debug ? { trace: result.trace } : {}),
    };
  }

  /**
   * The page's hard rules after a degraded run. A filter or selector that timed out falls back to its
   * input (the engine's fail-open), and a hydrator that timed out leaves the filters nothing to go on; so
   * the filters run again over the result (cheap: it is at most the candidate list), with the seen history
   * and profile read now if their hydrators failed, and the caps are applied by a score-only selector.
   */
  private async enforce(
    query: FeedQuery,
    items: Scored<FeedCandidate>[],
    degraded: readonly string[],
  ): Promise<Scored<FeedCandidate>[]> {
    const def = this.pipeline.definition;
    const q: FeedQuery = { ...query, ...query.scratch.hydrated };
    if (!q.seen) {
      q.seen = new Set([...(await this.seen.read(q.userId).catch(() => [] as string[])), ...q.previousPage]);
      q.seenItems = itemsOf(q.bundle, q.seen);
    }
    if (!q.blocked && q.user !== null) q.blocked = new Set(rowOf(q.bundle.data.userBlocked, q.user));
    if (!q.recent && q.user !== null) q.recent = [...rowOf(q.bundle.data.userRecent, q.user)];
    let candidates = items.map((s) => s.candidate);
    const scores = new Map(items.map((s) => [s.candidate.id, s.score]));
    for (const filter of def.filters ?? []) {
      const controller = new AbortController();
      const ctx: RunContext = {
        signal: controller.signal,
        deadlineAt: Date.now(),
        qualityFactor: 1,
        width: (nominal, min = 1) => Math.max(min, nominal),
      };
      try {
        candidates = (await filter.apply(q, candidates, ctx)).kept;
      } catch {
        // The filter fails outright: what it would remove stays, as in the run.
      }
    }
    const kept = candidates.map((candidate) => ({ candidate, score: scores.get(candidate.id) ?? 0 }));
    if (!degraded.includes(def.selector.id) && kept.length <= query.count) return kept;
    return this.capsOnly.select(q, kept);
  }
}
