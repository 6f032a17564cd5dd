import type { IdDictionary } from '../core/id-dictionary.js';
import type { Candidate } from '../pipeline/components.js';
import type { ServingBundle } from './bundle.js';

/**
 * One candidate video in a feed request. Its id string is decoded from the bundle's dictionary when read:
 * a request makes 1,000+ candidates and reads the ids of a few hundred (feature keys, the served page).
 * Its fields are set only by its constructor and `CandidatePool` (and the two scoring fields by the
 * pipeline's components).
 */
export class FeedCandidate implements Candidate {
  /** The engine merges sources on the item index. */
  key: number;
  /** Row of this candidate in the request's hydrated feature block, -1 when not hydrated. */
  featureRow = -1;
  /** The latest ranking score (pre-ranker, then ranker); NaN before scoring. */
  score = Number.NaN;

  constructor(
    /** @internal */ public ids: IdDictionary,
    /** Dense item index in the request's bundle. */
    public item: number,
    /** Id of the source that produced it (the first one, when several did). */
    public source: string,
    /** The source's own score (inner product, similarity, trend); comparable only within a source. */
    public retrieval: number,
  ) {
    this.key = item;
  }

  get id(): string {
    return this.ids.id(this.item);
  }
}

/**
 * Candidates of finished requests, handed out again. A request makes 1,000+ candidates and they live just
 * long enough for a young-generation collection to find many of them still in use and copy them, which
 * was most of what those collections cost (measured in-process: scavenges 3.0-3.7 ms each without the
 * pool, 1.6 ms with it, and a p99 of 7-8 ms instead of 9-11). A request takes candidates through its
 * `CandidateLease` and gives them all back once it is answered, but only when no component failed or ran
 * out of time: such a component may still be running and hold some of them.
 */
export class CandidatePool {
  private readonly free: FeedCandidate[] = [];

  /** `capacity`: most candidates kept between requests (the rest are left to the collector). */
  constructor(readonly capacity = 16_384) {}

  lease(): CandidateLease {
    return new CandidateLease(this.free, this.capacity);
  }

  get idle(): number {
    return this.free.length;
  }
}

/** One request's candidates from a `CandidatePool`. */
export class CandidateLease {
  private readonly taken: FeedCandidate[] = [];

  constructor(
    private readonly free: FeedCandidate[],
    private readonly capacity: number,
  ) {}

  take(ids: IdDictionary, item: number, source: string, retrieval: number): FeedCandidate {
    const c = this.free.pop();
    let out: FeedCandidate;
    if (c === undefined) out = new FeedCandidate(ids, item, source, retrieval);
    else {
      c.ids = ids;
      c.item = item;
      c.key = item;
      c.source = source;
      c.retrieval = retrieval;
      c.featureRow = -1;
      c.score = Number.NaN;
      out = c;
    }
    this.taken.push(out);
    return out;
  }

  /** Gives every candidate taken back to the pool; none may be used afterwards. */
  giveBack(): void {
    for (const c of this.taken) if (this.free.length < this.capacity) this.free.push(c);
    this.taken.length = 0;
  }
}

/** Per-candidate features hydrated from the online store, one row per candidate (NaN = unknown). */
export interface FeatureBlock {
  /** Column names, `view__feature`. */
  names: string[];
  /** rows x names.length, row-major. */
  values: Float64Array;
}

/** Mutable per-request state shared by reference across the pipeline's copies of the query. */
export interface FeedScratch {
  features: FeatureBlock | null;
  /** What the query hydrators added, kept here too so the service can check a degraded page after the run. */
  hydrated: Partial<FeedQuery>;
  /**
   * Called once the request is answered: components hand back buffers they lent the request (the feature
   * block, say). A caller that never calls them only loses the reuse.
   */
  release?: (() => void)[];
  /** Where sources take their candidates from; absent, they make new ones. */
  candidates?: CandidateLease;
}

/**
 * A feed request as the pipeline sees it. The bundle is captured once when the request starts, so a
 * bundle swapped in mid-request never mixes two versions' indices.
 */
export interface FeedQuery {
  bundle: ServingBundle;
  /** The user id as given (known or not), or an anonymous session's pseudo-user id. */
  userId: string;
  /** Dense user index in the bundle, null for new and anonymous users. */
  user: number | null;
  anonymous: boolean;
  /** Item indices the session gave as context (cold start), newest first. */
  contextItems: number[];
  /** Language indices the user reads (empty: no language filter). */
  languages: number[];
  /** The language whose trending list to use, or null for the global list. */
  locale: number | null;
  count: number;
  /** A warm-up run: nothing is logged or remembered. */
  dryRun?: boolean;
  /** Position of the first item of this page in the session's scroll. */
  offset: number;
  /** Seeds the exploration draw, so a request is reproducible. */
  seed: number;
  nowMs: number;
  /** Ids of the previous page, carried in the cursor (its seen-history write may not have landed yet). */
  previousPage: string[];
  // Filled by query hydrators.
  /** Items already served to this user (impression history in the online store). */
  seen?: Set<string>;
  /** The same as bundle item indices (ids the bundle does not know left out). */
  seenItems?: Set<number>;
  /** Recently engaged items (online features, else the bundle), newest first. */
  recent?: number[];
  /** Creators the user follows. */
  follows?: number[];
  /** Creators the user marked not interested. */
  blocked?: Set<number>;
  /** The user's own feature row (user_features), by name. */
  userFeatures?: Record<string, number>;
  scratch: FeedScratch;
}
