import { createHash } from 'node:crypto';
import { ForyouError } from '../core/errors.js';
import type { FeatureBlock, FeedCandidate, FeedQuery } from './feed-query.js';
import { decodeCursor, type FeedRequest, type FeedResponse, type FeedService } from './feed-service.js';
import type { Ranker } from './ranker.js';

/** One arm of a feed experiment: a share of the users and the feed service that serves them. */
export interface ExperimentArm {
  name: string;
  /** Share of users, 0 to 1; the arms' shares sum to 1. */
  share: number;
  feed: FeedService;
}

export type ExperimentResponse = FeedResponse & { experiment: string; arm: string };

/**
 * A feed A/B experiment: each user is assigned to an arm by a hash of the experiment's name and the user's
 * id (anonymous sessions by their cursor's session, else the request id), so a user stays in one arm for
 * the experiment's life and two experiments split users independently. Every response names the arm,
 * so impressions, events and reports can be attributed. Behaves as a `FeedService` for the routes.
 */
export class ExperimentFeed {
  private readonly bounds: number[];

  constructor(
    readonly name: string,
    readonly arms: readonly ExperimentArm[],
  ) {
    if (arms.length === 0) throw new ForyouError('FY_INVALID_ARGUMENT', `experiment ${name} has no arms`);
    const names = new Set(arms.map((a) => a.name));
    if (names.size !== arms.length)
      throw new ForyouError('FY_INVALID_ARGUMENT', `experiment ${name} names an arm twice`);
    let total = 0;
    this.bounds = arms.map((a) => {
      if (!(a.share >= 0 && a.share <= 1))
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `arm ${a.name} of ${name}: share must be 0 to 1, got ${a.share}`,
        );
      total += a.share;
      return total;
    });
    if (Math.abs(total - 1) > 1e-9)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `the arms of experiment ${name} share ${total}, expected 1`,
      );
  }

  /** The arm of a unit (a user id): a uniform draw in [0, 1) from the hash, mapped onto the shares. */
  armOf(unit: string): ExperimentArm {
    const draw = createHash('sha256').update(`${this.name}\u0000${unit}`).digest().readUInt32LE(0) / 2 ** 32;
    for (let k = 0; k < this.arms.length; k++) if (draw < this.bounds[k]!) return this.arms[k]!;
    return this.arms[this.arms.length - 1]!;
  }

  /** The first arm's service stands for the experiment where one is needed (bundle, pipeline metrics). */
  get holder(): FeedService['holder'] {
    return this.arms[0]!.feed.holder;
  }

  get pipeline(): FeedService['pipeline'] {
    return this.arms[0]!.feed.pipeline;
  }

  get features(): FeedService['features'] {
    return this.arms[0]!.feed.features;
  }

  async feed(request: FeedRequest): Promise<ExperimentResponse> {
    const unit = request.user ?? (request.cursor ? decodeCursor(request.cursor).s : request.requestId);
    const arm = this.armOf(unit);
    const response = await arm.feed.feed(request);
    return { ...response, experiment: this.name, arm: arm.name };
  }
}

/**
 * Keeps the sources' own order: each candidate's score is its retrieval score. With `onlySources:
 * ['trending']` it turns the For You pipeline into the trending baseline of an experiment (filters and
 * diversity caps still apply, so both arms obey the same rules and differ only in what they rank by).
 */
export class RetrievalOrderRanker implements Ranker {
  constructor(readonly id = 'retrieval-order') {}

  score(
    _query: FeedQuery,
    candidates: readonly FeedCandidate[],
    _features: FeatureBlock | null,
    out: Float64Array,
  ): void {
    for (let c = 0; c < candidates.length; c++) out[c] = candidates[c]!.retrieval;
  }
}
