import { countAtMost } from '../core/sorted.js';
import type { InteractionMatrix } from './interactions.js';
import { type ModelState, stateArray } from './model-file.js';
import type { FitOptions, ServableRecommender, ServedAt } from './recommender.js';

export interface PopularityOptions {
  /** Time decay: an interaction counts 2^(-age / halfLife) (default: none, every interaction counts 1). */
  halfLifeMs?: number;
  /**
   * With a half-life, the moment ages are measured from. `user`: each user's own time, the newest of their
   * training interactions, and interactions after it do not count. `log`: the newest interaction of the
   * whole training log, the same for everyone. Default: `FitOptions.servedAt`, else `log`.
   */
  asOf?: ServedAt;
}

/**
 * Most interacted-with items first: the baseline every model must beat by a wide margin, and the
 * non-personalised fallback of serving. Every training interaction counts 1 (its value is ignored).
 *
 * With `halfLifeMs` it is `trending`: an interaction at time ts counts 2^(-(t - ts) / halfLife) as of a
 * time t. As of `user` (what an offline random split asks for, through `FitOptions.servedAt`), user u is
 * scored as of t_u, the newest timestamp among u's training interactions, the moment a live feed would
 * have served them:
 *
 *     score_i(u) = sum, over training interactions (of any user) on item i with ts <= t_u,
 *                  of 2^(-(t_u - ts) / halfLife)
 *
 * Interactions after t_u do not count: a feed cannot see the future. `scoreHistory` (someone not in
 * training), users whose timestamps are all 0 (unknown), and `asOf: 'log'` use t = the newest timestamp of
 * the whole log. Where every timestamp is 0 (Last.fm HetRec) every weight is 1 and trending equals
 * popularity.
 *
 * No users x items matrix is kept: the training interactions are sorted by time, and a snapshot of the
 * decayed scores is taken every `block` interactions (at most about half as many numbers as interactions).
 * Scoring a user starts from the last snapshot at or before t_u, decays it to t_u and adds the interactions
 * since, which costs O(items + block).
 */
export class PopularityRecommender implements ServableRecommender {
  readonly name: string;
  userIds: readonly string[] = [];
  itemIds: readonly string[] = [];
  /** As of the newest interaction of the log (plain counts without a half-life). */
  private scores: Float32Array = new Float32Array(0);
  /** With `asOf: 'user'`: the training interactions by time (then item), and each user's t_u (0: none). */
  private eventItems: Int32Array = new Int32Array(0);
  private eventTimes: Float64Array = new Float64Array(0);
  private userTimes: Float64Array = new Float64Array(0);
  /**
   * Derived from the events, rebuilt on load: snapshot s holds the decayed scores of events
   * [0, (s + 1) x block) as of eventTimes[(s + 1) x block - 1].
   */
  private block = 1;
  private snapshots: Float64Array = new Float64Array(0);
  private scratch: Float64Array = new Float64Array(0);

  /** The moment ages are measured from (see `PopularityOptions.asOf`), settled by `fit`. */
  private asOf: ServedAt;

  constructor(private readonly options: PopularityOptions = {}) {
    this.name = options.halfLifeMs ? 'trending' : 'popularity';
    this.asOf = options.asOf ?? 'log';
  }

  /** Whether users are scored as of their own time (a half-life and as of `user`). */
  private get perUser(): boolean {
    return Boolean(this.options.halfLifeMs) && this.asOf === 'user';
  }

  static fromState(state: ModelState): PopularityRecommender {
    // Files written before `asOf` existed measured every user from the log's newest interaction, the default.
    const model = new PopularityRecommender(state.params as PopularityOptions);
    model.scores = stateArray(state, 'scores', Float32Array, state.itemIds.length);
    model.userIds = state.userIds;
    model.itemIds = state.itemIds;
    if (model.perUser) {
      model.eventItems = stateArray(state, 'eventItems', Int32Array);
      model.eventTimes = stateArray(state, 'eventTimes', Float64Array, model.eventItems.length);
      model.userTimes = stateArray(state, 'userTimes', Float64Array, state.userIds.length);
      model.buildSnapshots();
    }
    return model;
  }

  async fit(train: InteractionMatrix, options: FitOptions = {}): Promise<void> {
    this.asOf = this.options.asOf ?? options.servedAt ?? 'log';
    this.scores = new Float32Array(train.items);
    const half = this.options.halfLifeMs;
    let newest = 0;
    if (half) for (let k = 0; k < train.nnz; k++) if (train.userTs[k]! > newest) newest = train.userTs[k]!;
    for (let k = 0; k < train.nnz; k++)
      this.scores[train.userItems[k]!]! += half ? 2 ** (-(newest - train.userTs[k]!) / half) : 1;
    this.userIds = train.userIds;
    this.itemIds = train.itemIds;
    if (!this.perUser) return;
    const order = new Int32Array(train.nnz);
    for (let k = 0; k < train.nnz; k++) order[k] = k;
    const ts = train.userTs;
    const items = train.userItems;
    order.sort((a, b) => ts[a]! - ts[b]! || items[a]! - items[b]! || a - b);
    this.eventItems = new Int32Array(train.nnz);
    this.eventTimes = new Float64Array(train.nnz);
    for (let e = 0; e < train.nnz; e++) {
      this.eventItems[e] = items[order[e]!]!;
      this.eventTimes[e] = ts[order[e]!]!;
    }
    this.userTimes = new Float64Array(train.users);
    for (let u = 0; u < train.users; u++) {
      const t = train.newestOf(u);
      // 0 (unknown) for a user without interactions.
      this.userTimes[u] = t === Number.NEGATIVE_INFINITY ? 0 : t;
    }
    this.buildSnapshots();
  }

  scoreUser(u: number, out: Float32Array): void {
    const t = this.perUser ? (this.userTimes[u] ?? 0) : 0;
    if (t === 0) {
      out.set(this.scores);
      return;
    }
    const half = this.options.halfLifeMs!;
    const items = this.itemIds.length;
    const acc = this.scratch;
    // Events [0, end) are those at or before t.
    const end = countAtMost(this.eventTimes, t);
    const s = Math.floor(end / this.block);
    if (s === 0) acc.fill(0);
    else {
      const decay = 2 ** (-(t - this.eventTimes[s * this.block - 1]!) / half);
      const snapshot = this.snapshots.subarray((s - 1) * items, s * items);
      for (let i = 0; i < items; i++) acc[i] = snapshot[i]! * decay;
    }
    for (let e = s * this.block; e < end; e++)
      acc[this.eventItems[e]!]! += 2 ** (-(t - this.eventTimes[e]!) / half);
    out.set(acc);
  }

  scoreHistory(_items: ArrayLike<number>, out: Float32Array): void {
    out.set(this.scores);
  }

  toState(): ModelState {
    const state: ModelState = {
      kind: 'popularity',
      name: this.name,
      params: { ...this.options },
      userIds: this.userIds,
      itemIds: this.itemIds,
      arrays: { scores: this.scores },
    };
    if (this.options.halfLifeMs) state.params.asOf = this.asOf;
    if (this.perUser)
      Object.assign(state.arrays, {
        eventItems: this.eventItems,
        eventTimes: this.eventTimes,
        userTimes: this.userTimes,
      });
    return state;
  }

  /** The decayed scores every `block` events (see `snapshots`); block >= 2 x items bounds their memory. */
  private buildSnapshots(): void {
    const half = this.options.halfLifeMs!;
    const items = this.itemIds.length;
    const n = this.eventTimes.length;
    this.block = Math.max(4096, 2 * items);
    const count = Math.floor(n / this.block);
    this.snapshots = new Float64Array(count * items);
    this.scratch = new Float64Array(items);
    const acc = this.scratch;
    let at = 0;
    for (let s = 0; s < count; s++) {
      const first = s * this.block;
      const last = first + this.block - 1;
      const t = this.eventTimes[last]!;
      if (s > 0) {
        const decay = 2 ** (-(t - at) / half);
        for (let i = 0; i < items; i++) acc[i]! *= decay;
      }
      for (let e = first; e <= last; e++)
        acc[this.eventItems[e]!]! += 2 ** (-(t - this.eventTimes[e]!) / half);
      this.snapshots.set(acc, s * items);
      at = t;
    }
    acc.fill(0);
  }
}
