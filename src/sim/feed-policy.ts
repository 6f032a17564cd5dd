import { MS_PER_HOUR } from '../core/clock.js';
import type { Rng } from '../core/rng.js';
import type { BehaviourModel, UserSession, ViewOutcome } from './behaviour.js';
import { TopK } from './top-k.js';
import { LANGUAGES } from './vocabulary.js';
import { NO_TOPIC, TOPIC_COUNT, type World } from './world.js';

const LANGUAGE_COUNT = LANGUAGES.length;
const TRENDING_SIZE = 300;
const TOPIC_TRENDING_SIZE = 60;
const FRESH_WINDOW_MS = 48 * MS_PER_HOUR;
const SCORE_HALF_LIFE_HOURS = 24;
const RECENT_MEMORY = 64;

/** Share of feed slots each source of the incumbent policy fills. */
export const FEED_MIX = { trending: 0.3, topic: 0.35, fresh: 0.15, following: 0.1, explore: 0.1 } as const;

/** Item indices grouped by a key, each group in upload order (a compressed sparse row layout). */
class Buckets {
  readonly offsets: Int32Array;
  readonly items: Int32Array;

  constructor(keyCount: number, itemCount: number, keyOf: (i: number) => number) {
    this.offsets = new Int32Array(keyCount + 1);
    for (let i = 0; i < itemCount; i++) this.offsets[keyOf(i) + 1]!++;
    for (let k = 0; k < keyCount; k++) this.offsets[k + 1]! += this.offsets[k]!;
    const cursor = this.offsets.slice(0, keyCount);
    this.items = new Int32Array(itemCount);
    for (let i = 0; i < itemCount; i++) this.items[cursor[keyOf(i)]!++] = i;
  }

  /** Number of items of `key` uploaded by `ms` (they form a prefix of the group). */
  eligible(key: number, ms: number, created: Float64Array): number {
    const start = this.offsets[key]!;
    let lo = start;
    let hi = this.offsets[key + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (created[this.items[mid]!]! <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo - start;
  }

  at(key: number, k: number): number {
    return this.items[this.offsets[key]! + k]!;
  }
}

/**
 * The recommender already running on the simulated platform when history starts: the feed that produced
 * the logged history. It is deliberately ordinary — trending by recent engagement, topics the user has
 * engaged with, fresh uploads, followed creators and some exploration — so popularity emerges from
 * behaviour (engagement feeds trending, trending feeds engagement) and models trained on its logs have
 * something to improve on.
 */
export class IncumbentFeedPolicy {
  private readonly score: Float32Array;
  /** Engaged views per user and topic: what the incumbent has learnt about each user. */
  private readonly observed: Uint16Array;
  private readonly byLanguage: Buckets;
  private readonly byLanguageTopic: Buckets;
  private readonly byCreator: Buckets;
  private trending: Int32Array[] = [];
  private topicTrending: Int32Array[] = [];
  private readonly recent = new Map<number, { ring: Int32Array; next: number }>();
  /** Topic weights of the user whose page is being built. */
  private readonly topicGuess = new Float64Array(TOPIC_COUNT);
  private refreshedAtMs: number;

  constructor(
    private readonly world: World,
    private readonly model: BehaviourModel,
    private readonly rng: Rng,
  ) {
    const n = world.itemCount;
    this.score = new Float32Array(n);
    this.observed = new Uint16Array(world.userCount * TOPIC_COUNT);
    this.byLanguage = new Buckets(LANGUAGE_COUNT, n, (i) => world.itemLanguage[i]!);
    this.byLanguageTopic = new Buckets(
      LANGUAGE_COUNT * TOPIC_COUNT,
      n,
      (i) => world.itemLanguage[i]! * TOPIC_COUNT + world.itemTopic[i]!,
    );
    this.byCreator = new Buckets(world.creatorCount, n, (i) => world.itemCreator[i]!);
    this.refreshedAtMs = world.startMs;
    this.refresh(world.startMs);
  }

  /** Decays engagement scores to `nowMs` and rebuilds the trending lists (the incumbent's hourly job). */
  refresh(nowMs: number): void {
    const hours = (nowMs - this.refreshedAtMs) / MS_PER_HOUR;
    if (hours > 0) {
      const decay = 0.5 ** (hours / SCORE_HALF_LIFE_HOURS);
      for (let i = 0; i < this.score.length; i++) this.score[i]! *= decay;
    }
    this.refreshedAtMs = nowMs;
    const uploaded = this.world.itemsUploadedBy(nowMs);
    const global = Array.from({ length: LANGUAGE_COUNT }, () => new TopK(TRENDING_SIZE));
    const perTopic = Array.from(
      { length: LANGUAGE_COUNT * TOPIC_COUNT },
      () => new TopK(TOPIC_TRENDING_SIZE),
    );
    for (let i = 0; i < uploaded; i++) {
      const s = this.score[i]!;
      if (s < 0.05) continue;
      const lang = this.world.itemLanguage[i]!;
      global[lang]!.offer(i, s);
      perTopic[lang * TOPIC_COUNT + this.world.itemTopic[i]!]!.offer(i, s);
    }
    this.trending = global.map((t) => t.sorted());
    this.topicTrending = perTopic.map((t) => t.sorted());
  }

  /** Learns from what the user did, as the incumbent's online counters would. */
  observe(u: number, outcome: ViewOutcome): void {
    const i = outcome.item;
    let gain = outcome.engaged && outcome.fraction >= 0.5 ? 1 : 0;
    if (outcome.liked) gain += 3;
    if (outcome.commented) gain += 4;
    if (outcome.shared) gain += 8;
    if (outcome.followed) gain += 2;
    this.score[i]! += gain;
    if (outcome.engaged) {
      const slot = u * TOPIC_COUNT + this.world.itemTopic[i]!;
      if (this.observed[slot]! < 65_535) this.observed[slot]!++;
    }
    this.remember(u, i);
  }

  /** Fills `out` with the next feed page for `session`. */
  page(session: UserSession, size: number, out: number[]): number[] {
    out.length = 0;
    const u = session.user;
    this.updateTopicGuess(u);
    for (let attempts = 0; out.length < size && attempts < size * 8; attempts++) {
      const i = this.candidate(u, session.nowMs);
      if (i >= 0 && this.acceptable(session, i, out)) out.push(i);
    }
    return out;
  }

  /** Results for a search about `topic`: the topic's trending videos, then others from it. */
  searchResults(session: UserSession, topic: number, size: number, out: number[]): number[] {
    out.length = 0;
    const key = this.world.userLanguage[session.user]! * TOPIC_COUNT + topic;
    const top = this.topicTrending[key]!;
    for (let k = 0; k < top.length && out.length < size; k++)
      if (this.acceptable(session, top[k]!, out)) out.push(top[k]!);
    for (let attempts = 0; out.length < size && attempts < size * 4; attempts++) {
      const i = this.randomIn(this.byLanguageTopic, key, session.nowMs);
      if (i >= 0 && this.acceptable(session, i, out)) out.push(i);
    }
    return out;
  }

  private acceptable(session: UserSession, i: number, page: number[]): boolean {
    const u = session.user;
    if (session.hasSeen(i) || page.includes(i) || this.recentlyShown(u, i)) return false;
    return !(this.model.blockedCreators.get(u)?.has(this.world.itemCreator[i]!) ?? false);
  }

  private candidate(u: number, nowMs: number): number {
    const w = this.world;
    const lang = w.userLanguage[u]!;
    const r = this.rng.float();
    let edge = FEED_MIX.trending;
    if (r < edge) return this.fromRanked(this.trending[lang]!) ?? this.randomIn(this.byLanguage, lang, nowMs);
    edge += FEED_MIX.topic;
    if (r < edge) {
      const key = lang * TOPIC_COUNT + this.rng.weightedIndex(this.topicGuess);
      if (this.rng.chance(0.6)) {
        const ranked = this.fromRanked(this.topicTrending[key]!);
        if (ranked !== undefined) return ranked;
      }
      return this.randomIn(this.byLanguageTopic, key, nowMs);
    }
    edge += FEED_MIX.fresh;
    if (r < edge) return this.fresh(lang, nowMs);
    edge += FEED_MIX.following;
    if (r < edge) {
      const followed = this.model.follows.get(u);
      if (followed && followed.length > 0) {
        const c = this.rng.pick(followed);
        const count = this.byCreator.eligible(c, nowMs, w.itemCreatedMs);
        if (count > 0) return this.byCreator.at(c, count - 1 - this.rng.int(Math.min(count, 5)));
      }
    }
    return this.rng.chance(0.8)
      ? this.randomIn(this.byLanguage, lang, nowMs)
      : this.rng.int(Math.max(1, w.itemsUploadedBy(nowMs)));
  }

  /** The incumbent's guess of what the user likes: topics they engaged with, then what they declared. */
  private updateTopicGuess(u: number): void {
    const weights = this.topicGuess;
    for (let k = 0; k < TOPIC_COUNT; k++) weights[k] = 0.3 + this.observed[u * TOPIC_COUNT + k]!;
    for (let s = 0; s < 3; s++) {
      const t = this.world.userDeclared[u * 3 + s]!;
      if (t !== NO_TOPIC) weights[t]! += 2;
    }
  }

  /** Rank-biased pick: the head of a ranked list is shown far more often than its tail. */
  private fromRanked(list: Int32Array): number | undefined {
    if (list.length === 0) return undefined;
    return list[Math.floor(list.length * this.rng.float() ** 2)];
  }

  private randomIn(buckets: Buckets, key: number, nowMs: number): number {
    const count = buckets.eligible(key, nowMs, this.world.itemCreatedMs);
    return count > 0 ? buckets.at(key, this.rng.int(count)) : -1;
  }

  private fresh(lang: number, nowMs: number): number {
    const w = this.world;
    const count = this.byLanguage.eligible(lang, nowMs, w.itemCreatedMs);
    if (count === 0) return -1;
    const since = this.byLanguage.eligible(lang, nowMs - FRESH_WINDOW_MS, w.itemCreatedMs);
    const start = count - since > 0 ? since : Math.max(0, count - 50);
    return this.byLanguage.at(lang, start + this.rng.int(count - start));
  }

  private recentlyShown(u: number, i: number): boolean {
    return this.recent.get(u)?.ring.includes(i) ?? false;
  }

  private remember(u: number, i: number): void {
    let memory = this.recent.get(u);
    if (!memory) {
      memory = { ring: new Int32Array(RECENT_MEMORY).fill(-1), next: 0 };
      this.recent.set(u, memory);
    }
    memory.ring[memory.next] = i;
    memory.next = (memory.next + 1) % RECENT_MEMORY;
  }
}
