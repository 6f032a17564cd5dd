import { MS_PER_DAY } from '../core/clock.js';
import { asEventId, type EventId, type RequestId } from '../core/ids.js';
import type { Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import { queryFor } from './text.js';
import { LANGUAGES } from './vocabulary.js';
import { creatorIdOf, ENGLISH, itemIdOf, NO_TOPIC, TOPIC_COUNT, userIdOf, type World } from './world.js';

/**
 * Coefficients of the behaviour model. The logit of "this video holds the user" grows with topic match,
 * quality and following, falls with a language the user does not read and with fatigue; every other
 * reaction follows from that outcome. Defaults give engagement rates in the range public short-video
 * figures suggest (likes a few percent of plays, shares and follows under one percent).
 */
export const BEHAVIOUR = {
  engage: {
    bias: -1.2,
    match: 3.6,
    quality: 2.0,
    following: 0.9,
    foreignLanguage: -2.5,
    fatiguePerItem: 0.01,
    noise: 0.7,
  },
  like: { bias: -4.0, match: 2.0, quality: 2.5, watch: 0.6 },
  share: { bias: -6.2, match: 1.8, quality: 3.0, liked: 1.2 },
  comment: { bias: -6.0, match: 1.5, liked: 1.8 },
  follow: { bias: -6.5, match: 2.0, quality: 2.5, liked: 1.5 },
  /** Chance of "not interested" on a skipped video with no topic match at all. */
  notInterested: 0.02,
  /** How far one engaged view pulls the interest mixture toward the video's topics. */
  reinforcement: 0.003,
  /** Daily log-normal drift of each interest weight. */
  driftPerDay: 0.1,
  /** Cap on one session. */
  maxItemsPerSession: 300,
} as const;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** What one user did with one video, in indices (the events carry the same facts as ids). */
export interface ViewOutcome {
  item: number;
  watchMs: number;
  /** Watched share of the video; above 1 when it looped. */
  fraction: number;
  engaged: boolean;
  skipped: boolean;
  liked: boolean;
  shared: boolean;
  commented: boolean;
  followed: boolean;
  notInterested: boolean;
}

/** Mints event ids that are unique within one world and across worlds with other seeds. */
export class EventIdMint {
  private next = 0;
  constructor(private readonly prefix: string) {}
  mint(): EventId {
    return asEventId(`${this.prefix}${(this.next++).toString(36)}`);
  }
  get minted(): number {
    return this.next;
  }
}

/**
 * The simulated audience: answers feeds the way the world's users would and remembers what persists
 * between sessions (follows, creators marked not interesting, drifting interests).
 */
export class BehaviourModel {
  readonly follows = new Map<number, number[]>();
  readonly blockedCreators = new Map<number, Set<number>>();
  private readonly lastDriftMs: Float64Array;
  readonly ids: EventIdMint;

  constructor(
    readonly world: World,
    readonly rng: Rng,
    ids?: EventIdMint,
  ) {
    this.lastDriftMs = new Float64Array(world.userCount).fill(world.startMs);
    this.ids = ids ?? new EventIdMint(`s${world.params.seed}-`);
  }

  isFollowing(u: number, creator: number): boolean {
    return this.follows.get(u)?.includes(creator) ?? false;
  }

  understands(u: number, language: number): boolean {
    return (
      this.world.userLanguage[u] === language || (language === ENGLISH && this.world.userBilingual[u] === 1)
    );
  }

  /** Topic match of item `i` for user `u`, relative to the user's strongest interest: 0 to 1. */
  match(u: number, i: number): number {
    const w = this.world;
    const base = u * TOPIC_COUNT;
    let max = 0;
    for (let k = 0; k < TOPIC_COUNT; k++)
      if (w.userInterest[base + k]! > max) max = w.userInterest[base + k]!;
    const weight = w.itemTopicWeight[i]!;
    let a = w.userInterest[base + w.itemTopic[i]!]! * weight;
    const t2 = w.itemTopic2[i]!;
    if (t2 !== NO_TOPIC) a += w.userInterest[base + t2]! * (1 - weight);
    return max > 0 ? a / max : 0;
  }

  /** Log-odds that item `i` holds user `u` at the given depth of a session, before noise. */
  engagementLogit(u: number, i: number, depth: number, match = this.match(u, i)): number {
    const w = this.world;
    const c = BEHAVIOUR.engage;
    let z = c.bias + c.match * match + c.quality * (w.itemQuality[i]! - 0.5);
    if (this.isFollowing(u, w.itemCreator[i]!)) z += c.following;
    if (!this.understands(u, w.itemLanguage[i]!)) z += c.foreignLanguage;
    return z - c.fatiguePerItem * Math.min(depth, 100);
  }

  startSession(u: number, startMs: number): UserSession {
    this.drift(u, startMs);
    return new UserSession(this, u, startMs);
  }

  /** Interests wander a little every day, multiplicatively, and stay a mixture. */
  private drift(u: number, nowMs: number): void {
    const days = (nowMs - this.lastDriftMs[u]!) / MS_PER_DAY;
    if (days <= 0) return;
    this.lastDriftMs[u] = nowMs;
    const sd = BEHAVIOUR.driftPerDay * Math.sqrt(days);
    const base = u * TOPIC_COUNT;
    let sum = 0;
    for (let k = 0; k < TOPIC_COUNT; k++) {
      const v = this.world.userInterest[base + k]! * Math.exp(this.rng.normal(0, sd));
      this.world.userInterest[base + k] = v;
      sum += v;
    }
    for (let k = 0; k < TOPIC_COUNT; k++) this.world.userInterest[base + k]! /= sum;
  }

  /** @internal Applies the lasting effects of a view. */
  remember(u: number, i: number, outcome: ViewOutcome): void {
    const w = this.world;
    const creator = w.itemCreator[i]!;
    if (outcome.followed) {
      const list = this.follows.get(u);
      if (list) list.push(creator);
      else this.follows.set(u, [creator]);
    }
    const base = u * TOPIC_COUNT;
    const weight = w.itemTopicWeight[i]!;
    const t2 = w.itemTopic2[i]!;
    if (outcome.engaged) {
      w.userInterest[base + w.itemTopic[i]!]! += BEHAVIOUR.reinforcement * weight;
      if (t2 !== NO_TOPIC) w.userInterest[base + t2]! += BEHAVIOUR.reinforcement * (1 - weight);
    }
    if (outcome.notInterested) {
      const blocked = this.blockedCreators.get(u);
      if (blocked) blocked.add(creator);
      else this.blockedCreators.set(u, new Set([creator]));
      w.userInterest[base + w.itemTopic[i]!]! *= 0.9;
    }
  }
}

/** One user's scrolling session: feed it videos one by one; it reports what happened and whether they stay. */
export class UserSession {
  nowMs: number;
  depth = 0;
  watchMs = 0;
  active = true;
  private satisfaction = 0.5;
  private readonly seen = new Set<number>();

  constructor(
    private readonly model: BehaviourModel,
    readonly user: number,
    readonly startMs: number,
  ) {
    this.nowMs = startMs;
  }

  hasSeen(i: number): boolean {
    return this.seen.has(i);
  }

  /** The user types a search about one of their interests; returns the topic searched. */
  search(out: Event[], requestId?: RequestId): number {
    const { world, rng } = this.model;
    const topic = rng.weightedIndex(
      world.userInterest.subarray(this.user * TOPIC_COUNT, (this.user + 1) * TOPIC_COUNT),
    );
    const query = queryFor(rng, LANGUAGES[world.userLanguage[this.user]!]!, topic);
    out.push({
      event_id: this.model.ids.mint(),
      type: 'search',
      user_id: userIdOf(this.user),
      ts: Math.floor(this.nowMs),
      query,
      ...(requestId ? { request_id: requestId } : {}),
    });
    this.nowMs += 2000 + rng.int(6000);
    return topic;
  }

  /** Shows video `i` at `position` of the page served by `requestId`; appends the resulting events to `out`. */
  view(i: number, requestId: RequestId, position: number, out: Event[]): ViewOutcome {
    const { world, rng } = this.model;
    const u = this.user;
    const c = BEHAVIOUR;
    const match = this.model.match(u, i);
    const quality = world.itemQuality[i]!;
    const creator = world.itemCreator[i]!;
    const blocked = this.model.blockedCreators.get(u)?.has(creator) ?? false;
    const z =
      this.model.engagementLogit(u, i, this.depth) + rng.normal(0, c.engage.noise) - (blocked ? 4 : 0);
    const pEngage = sigmoid(z);
    const engaged = rng.chance(pEngage);
    const duration = world.itemDurationMs[i]!;
    let fraction: number;
    if (engaged) {
      fraction = 0.5 + 0.5 * rng.kumaraswamy(3, 1.5);
      if (duration > 30_000) fraction *= 1 - 0.35 * Math.min(1, (duration - 30_000) / 120_000);
      if (rng.chance(0.25 * pEngage)) fraction += 1;
    } else fraction = rng.kumaraswamy(1.2, 7);
    const watchMs = Math.max(300, Math.round(fraction * duration));

    const user_id = userIdOf(u);
    const item_id = itemIdOf(i);
    const t = Math.floor(this.nowMs);
    const end = t + watchMs;
    out.push({
      event_id: this.model.ids.mint(),
      type: 'impression',
      user_id,
      ts: t,
      item_id,
      request_id: requestId,
      position,
    });
    out.push({
      event_id: this.model.ids.mint(),
      type: 'play',
      user_id,
      ts: end,
      item_id,
      request_id: requestId,
      watch_ms: watchMs,
      duration_ms: duration,
    });

    const outcome: ViewOutcome = {
      item: i,
      watchMs,
      fraction,
      engaged,
      skipped: !engaged,
      liked: false,
      shared: false,
      commented: false,
      followed: false,
      notInterested: false,
    };
    let tick = end;
    if (engaged) {
      const q = quality - 0.5;
      outcome.liked = rng.chance(
        sigmoid(
          c.like.bias + c.like.match * match + c.like.quality * q + c.like.watch * Math.min(fraction, 2),
        ),
      );
      if (outcome.liked)
        out.push({
          event_id: this.model.ids.mint(),
          type: 'like',
          user_id,
          ts: ++tick,
          item_id,
          request_id: requestId,
        });
      const liked = outcome.liked ? 1 : 0;
      outcome.shared = rng.chance(
        sigmoid(c.share.bias + c.share.match * match + c.share.quality * q + c.share.liked * liked),
      );
      if (outcome.shared)
        out.push({
          event_id: this.model.ids.mint(),
          type: 'share',
          user_id,
          ts: ++tick,
          item_id,
          request_id: requestId,
        });
      outcome.commented = rng.chance(
        sigmoid(c.comment.bias + c.comment.match * match + c.comment.liked * liked),
      );
      if (outcome.commented)
        out.push({
          event_id: this.model.ids.mint(),
          type: 'comment',
          user_id,
          ts: ++tick,
          item_id,
          request_id: requestId,
        });
      if (!blocked && !this.model.isFollowing(u, creator)) {
        outcome.followed = rng.chance(
          sigmoid(c.follow.bias + c.follow.match * match + c.follow.quality * q + c.follow.liked * liked),
        );
        if (outcome.followed)
          out.push({
            event_id: this.model.ids.mint(),
            type: 'follow',
            user_id,
            ts: ++tick,
            creator_id: creatorIdOf(creator),
            item_id,
            request_id: requestId,
          });
      }
    } else {
      out.push({
        event_id: this.model.ids.mint(),
        type: 'skip',
        user_id,
        ts: end,
        item_id,
        request_id: requestId,
        watch_ms: watchMs,
      });
      outcome.notInterested =
        !blocked && rng.chance(c.notInterested * (1 - match) ** 2 * (quality < 0.4 ? 1.5 : 1));
      if (outcome.notInterested)
        out.push({
          event_id: this.model.ids.mint(),
          type: 'not_interested',
          user_id,
          ts: ++tick,
          item_id,
          request_id: requestId,
        });
    }
    this.model.remember(u, i, outcome);

    this.seen.add(i);
    this.depth++;
    this.watchMs += watchMs;
    this.nowMs = tick + 400 + rng.int(1100);
    this.satisfaction = 0.75 * this.satisfaction + 0.25 * (engaged ? Math.min(1, fraction) : 0);
    let stay = Math.min(0.98, world.userPatience[u]! * (0.85 + 0.3 * this.satisfaction));
    if (outcome.notInterested) stay *= 0.7;
    this.active = this.depth < c.maxItemsPerSession && rng.chance(stay);
    return outcome;
  }
}
