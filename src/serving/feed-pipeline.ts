import type { OnlineFeatureStore } from '../features/online.js';
import type { CandidateSource, Scorer } from '../pipeline/components.js';
import type { PipelineDefinition } from '../pipeline/pipeline.js';
import type { QualityFactorOptions } from '../pipeline/quality-factor.js';
import { bundleSpace, type EmbeddingSpace } from './embeddings.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';
import { DuplicateFilter, LanguageFilter, NotInterestedFilter, SeenFilter } from './filters.js';
import {
  type FeatureCacheOptions,
  FeatureHydrator,
  SeenHistoryHydrator,
  UserProfileHydrator,
} from './hydrators.js';
import type { ImpressionLogger } from './impression-log.js';
import { FactorPreRanker, FusedRanker, type Ranker } from './ranker.js';
import type { SeenStore } from './seen-store.js';
import { type DiversityOptions, DiversitySelector } from './selector.js';
import {
  ANN_OVER_FETCH,
  AnnSource,
  ColdStartSource,
  FollowedCreatorsSource,
  FreshSource,
  ItemToItemSource,
  TrendingSource,
} from './sources.js';

export interface FeedPipelineOptions {
  online: OnlineFeatureStore;
  seen: SeenStore;
  /**
   * Appends served items to the event log; none when absent. Not a pipeline side effect: the engine runs
   * side effects on the selector's output, and the service may still cut a degraded page after that, so
   * the service logs what it actually serves.
   */
  impressions?: ImpressionLogger;
  /** Full ranker over the top `rankLimit` (default: the fused ranker). */
  ranker?: Ranker;
  /** Cheap ranker over every candidate first (default: factor inner product + popularity). */
  preRanker?: Ranker;
  rankLimit?: number;
  /** How long item and creator feature rows are reused in the process (see `FeatureCacheOptions`). */
  featureCache?: FeatureCacheOptions;
  /** The feature hydration step's hydrator (default: a new one over `online` with `featureCache`). */
  features?: FeatureHydrator;
  /**
   * More embedding spaces besides the bundle's factors (two-tower, say), each with its own ANN source of
   * nominal `width` (default: the ANN width); `anonymous` spaces serve unknown users from their context.
   */
  spaces?: ExtraSpace[];
  /** Keep only the sources with these ids (a trending-only baseline arm, say); all when absent. */
  onlySources?: readonly string[];
  /** Sources appended after the standard ones. */
  extraSources?: CandidateSource<FeedQuery, FeedCandidate>[];
  selector?: DiversityOptions;
  /** Nominal candidates per source before the quality factor (see `SOURCE_WIDTHS`). */
  widths?: Partial<SourceWidths>;
  /** The whole request's budget (default 80 ms). */
  deadlineMs?: number;
  /** Adaptive candidate width (default: aim at 15 ms, never below half the nominal widths). */
  qualityFactor?: QualityFactorOptions | null;
}

export interface ExtraSpace {
  id: string;
  of: (query: FeedQuery) => EmbeddingSpace;
  width?: number;
  anonymous?: boolean;
}

export interface SourceWidths {
  ann: number;
  itemToItem: number;
  followed: number;
  trending: number;
  fresh: number;
  coldStart: number;
}

/**
 * Enough that a user with history keeps more than 1,000 candidates after filtering. The ANN source asks
 * the index for 510 (340 x the over-fetch), where its recall@100 against exact search is 0.96 at a million
 * items (bench/ann.bench.ts), and keeps the user's languages among them (from about 230 to 340); the
 * search is the most expensive step of a request and grows with k. Item-to-item is bounded by the
 * neighbours of ten seeds, and the trending list, which costs nothing to read, makes up the rest.
 */
export const SOURCE_WIDTHS: SourceWidths = {
  ann: 340,
  itemToItem: 500,
  followed: 100,
  trending: 900,
  fresh: 100,
  coldStart: 500,
};

/**
 * The feature hydration of a pipeline: `options.features`, or a new hydrator over `options.online` with
 * `options.featureCache` that keeps only the columns `ranker` reads.
 */
export function featureHydratorFor(options: FeedPipelineOptions, ranker: Ranker): FeatureHydrator {
  return (
    options.features ??
    new FeatureHydrator(options.online, { columns: () => ranker.features, ...options.featureCache })
  );
}

function keepSources<S extends { id: string }>(sources: S[], only: readonly string[] | undefined): S[] {
  return only ? sources.filter((s) => only.includes(s.id)) : sources;
}

/** A `Ranker` as a pipeline scorer; with `limit` it rescores only the best `limit` so far. */
export function rankerScorer(ranker: Ranker, limit?: number): Scorer<FeedQuery, FeedCandidate> {
  return {
    kind: 'scorer',
    id: ranker.id,
    ...(limit === undefined ? {} : { limit }),
    async score(query, candidates) {
      const out = new Float64Array(candidates.length);
      await ranker.score(query, candidates, query.scratch.features, out);
      for (let k = 0; k < candidates.length; k++) candidates[k]!.score = out[k]!;
      return out;
    },
  };
}

/**
 * Feature hydration between the pre-ranker and the ranker, for the `limit` candidates the ranker will
 * see (the engine hydrates candidates only before filtering, i.e. all of them). It is a scorer that keeps
 * each candidate's pre-ranker score, so the order is unchanged and the trace shows its time; a hydration
 * failure degrades to a ranker without online features.
 */
export function hydrationStep(hydrator: FeatureHydrator, limit: number): Scorer<FeedQuery, FeedCandidate> {
  return {
    kind: 'scorer',
    id: hydrator.id,
    limit,
    async score(query, candidates) {
      await hydrator.hydrate(query, candidates);
      const kept = new Float64Array(candidates.length);
      for (let k = 0; k < candidates.length; k++) kept[k] = candidates[k]!.score;
      return kept;
    },
  };
}

/**
 * The For You pipeline, top to bottom as a request flows: the user's seen history and profile in
 * parallel; candidate sources in parallel; filters; the pre-ranker over every candidate; one batched
 * feature read per service for the best few hundred, then the ranker over them; the diversity selector with exploration
 * slots. Impressions are logged by the service (see `impressions`).
 */
export function forYouPipeline(options: FeedPipelineOptions): PipelineDefinition<FeedQuery, FeedCandidate> {
  const factors = (query: FeedQuery) => bundleSpace(query.bundle);
  const w = { ...SOURCE_WIDTHS, ...options.widths };
  const rankLimit = options.rankLimit ?? 300;
  const ranker = options.ranker ?? new FusedRanker();
  return {
    id: 'for-you',
    deadlineMs: options.deadlineMs ?? 80,
    queryHydrators: [new SeenHistoryHydrator(options.seen), new UserProfileHydrator(options.online)],
    sources: keepSources(
      [
        new AnnSource(factors, 'factors', w.ann),
        ...(options.spaces ?? []).map(
          (s) => new AnnSource(s.of, s.id, s.width ?? w.ann, ANN_OVER_FETCH, s.anonymous ?? false),
        ),
        new ItemToItemSource(w.itemToItem),
        new FollowedCreatorsSource(w.followed),
        new TrendingSource(w.trending),
        new FreshSource(w.fresh),
        new ColdStartSource(factors, w.coldStart),
        ...(options.extraSources ?? []),
      ],
      options.onlySources,
    ),
    filters: [new DuplicateFilter(), new SeenFilter(), new NotInterestedFilter(), new LanguageFilter()],
    scorers: [
      rankerScorer(options.preRanker ?? new FactorPreRanker()),
      hydrationStep(featureHydratorFor(options, ranker), rankLimit),
      rankerScorer(ranker, rankLimit),
    ],
    selector: new DiversitySelector(options.selector),
    ...(options.qualityFactor === null
      ? {}
      : { qualityFactor: options.qualityFactor ?? { targetMs: 15, min: 0.5 } }),
  };
}
