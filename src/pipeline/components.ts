/**
 * The component kinds of a serving pipeline. Each is a one-method object with a stable kebab-case id used
 * in traces, metrics and logs; a pipeline is configuration that lists them in execution order.
 */
export interface Candidate {
  /** Stable id (an item id), used in traces and removals. */
  id: string;
  /**
   * Optional dense integer identity (an item index), equal exactly when ids are equal. The engine merges
   * the sources' candidates on it when it is there, which spares reading an id string per candidate (in a
   * catalogue of millions those strings are scattered through memory). A pipeline's sources give it to all
   * their candidates or to none.
   */
  key?: number;
}

export interface Scored<C extends Candidate> {
  candidate: C;
  score: number;
}

/** What a component gets besides its input: the request's deadline and knobs. */
export interface RunContext {
  /** Aborts when the component's time (or the whole request's) is up. */
  signal: AbortSignal;
  /** Epoch ms by which the whole request must answer. */
  deadlineAt: number;
  /** How much of their nominal candidate count sources should fetch now (1 = all; lower under load). */
  qualityFactor: number;
  /** A source's count under the current quality factor, never below `min`. */
  width(nominal: number, min?: number): number;
}

export type FailurePolicy = 'fail' | 'degrade';

interface Base {
  id: string;
  /**
   * `fail`: an error or timeout fails the request. `degrade` (default): the component's fallback is used
   * (no candidates, unchanged input, neutral scores) and the response says it was degraded and why.
   */
  policy?: FailurePolicy;
  /** Upper bound on this component's time; it also never gets more than the request has left. */
  timeoutMs?: number;
  /**
   * Share of the time the request has left when the component starts that it may use (0-1]. Defaults to
   * 0.6 for query hydrators and candidate sources, so a slow source leaves time for ranking, and 1 for the
   * rest.
   */
  deadlineShare?: number;
}

/** Decides whether the pipeline runs at all for this query. */
export interface Gate<Q> extends Base {
  kind: 'gate';
  allow(query: Q, ctx: RunContext): Promise<boolean> | boolean;
}

/** Adds facts to the query (user features, recent history); runs in parallel with the other hydrators. */
export interface QueryHydrator<Q> extends Base {
  kind: 'query-hydrator';
  hydrate(query: Q, ctx: RunContext): Promise<Partial<Q>>;
}

/** Produces candidates; all sources run in parallel, their results are merged (first source wins a duplicate). */
export interface CandidateSource<Q, C extends Candidate> extends Base {
  kind: 'candidate-source';
  fetch(query: Q, ctx: RunContext): Promise<C[]>;
}

/** Enriches candidates: returns the same candidates in the same order. */
export interface CandidateHydrator<Q, C extends Candidate> extends Base {
  kind: 'candidate-hydrator';
  hydrate(query: Q, candidates: C[], ctx: RunContext): Promise<C[]>;
}

export interface FilterResult<C extends Candidate> {
  kept: C[];
  removed: { candidate: C; reason: string }[];
}

/** Removes candidates, saying why. */
export interface Filter<Q, C extends Candidate> extends Base {
  kind: 'filter';
  apply(query: Q, candidates: C[], ctx: RunContext): Promise<FilterResult<C>> | FilterResult<C>;
}

/** Scores candidates: one number per candidate, same length and order as its input. */
export interface Scorer<Q, C extends Candidate> extends Base {
  kind: 'scorer';
  /** Candidates for which this scorer runs: all by default; a ranker after a pre-ranker takes the top `limit`. */
  limit?: number;
  score(query: Q, candidates: C[], ctx: RunContext): Promise<Float64Array | number[]>;
}

/** The only component that cuts or reorders: the final list. */
export interface Selector<Q, C extends Candidate> extends Base {
  kind: 'selector';
  select(query: Q, scored: Scored<C>[], ctx: RunContext): Scored<C>[];
}

/** Runs after the response is ready (impression logging); never delays or fails it. */
export interface SideEffect<Q, C extends Candidate> extends Base {
  kind: 'side-effect';
  run(query: Q, result: Scored<C>[], requestId: string): Promise<void>;
}

export type AnyComponent<Q, C extends Candidate> =
  | Gate<Q>
  | QueryHydrator<Q>
  | CandidateSource<Q, C>
  | CandidateHydrator<Q, C>
  | Filter<Q, C>
  | Scorer<Q, C>
  | Selector<Q, C>
  | SideEffect<Q, C>;
