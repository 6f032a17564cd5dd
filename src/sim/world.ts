import { MS_PER_DAY } from '../core/clock.js';
import { asCreatorId, asItemId, asUserId, type CreatorId, type ItemId, type UserId } from '../core/ids.js';
import { AliasTable, Rng } from '../core/rng.js';
import type { Creator, Item, User } from '../core/schema/index.js';
import { countAtMost } from '../core/sorted.js';
import { resolveWorldParams, type WorldParams, type WorldParamsInput } from './params.js';
import { captionFor, creatorNameFor, hashtagsFor } from './text.js';
import { COUNTRIES, LANGUAGES, TOPICS } from './vocabulary.js';

export const TOPIC_COUNT = TOPICS.length;
export const NO_TOPIC = 255;
export const ENGLISH = LANGUAGES.indexOf('en');

/**
 * The latent truth of a simulated world, as flat typed arrays (one slot per user, creator or item) so a
 * world of a million users and a million items fits in a few hundred megabytes. Records in the core
 * schemas are materialised on demand; the latent parts (interest mixtures, quality) never leave `sim`.
 */
export class World {
  readonly params: WorldParams & { creators: number };
  readonly startMs: number;
  readonly endMs: number;

  // users
  readonly userCountry: Uint8Array;
  readonly userLanguage: Uint8Array;
  /** 1 when the user also understands English. */
  readonly userBilingual: Uint8Array;
  /** Latent interest mixture, `TOPIC_COUNT` weights per user (drifts during the simulation). */
  readonly userInterest: Float32Array;
  /** Up to three declared topics per user, NO_TOPIC for an empty slot. */
  readonly userDeclared: Uint8Array;
  /** Mean sessions per day. */
  readonly userActivity: Float32Array;
  /** Base probability of watching one more video in a session. */
  readonly userPatience: Float32Array;
  readonly userSignupMs: Float64Array;

  // creators
  readonly creatorCountry: Uint8Array;
  readonly creatorLanguage: Uint8Array;
  readonly creatorTopics: Float32Array;
  readonly creatorQuality: Float32Array;
  readonly creatorCreatedMs: Float64Array;

  // items, in upload order (item i was uploaded no later than item i + 1)
  readonly itemCreator: Int32Array;
  readonly itemTopic: Uint8Array;
  /** Second topic or NO_TOPIC. */
  readonly itemTopic2: Uint8Array;
  /** Weight of the first topic; the second gets the rest. */
  readonly itemTopicWeight: Float32Array;
  readonly itemQuality: Float32Array;
  readonly itemDurationMs: Int32Array;
  readonly itemCreatedMs: Float64Array;
  readonly itemLanguage: Uint8Array;

  constructor(input: WorldParamsInput = {}) {
    const p = resolveWorldParams(input);
    this.params = p;
    this.startMs = p.startMs;
    this.endMs = p.startMs + Math.round(p.days * MS_PER_DAY);
    const root = new Rng(p.seed);
    const K = TOPIC_COUNT;
    const topicPrior = TOPICS.map((t) => t.audience);
    const priorSum = topicPrior.reduce((a, b) => a + b, 0);
    const countryTable = new AliasTable(COUNTRIES.map((c) => c.share));

    // Users: concentrated Dirichlet mixtures (most people care about two or three topics) around an
    // audience prior, heavy-tailed activity (log-normal), a sign-up time before or during the period.
    this.userCountry = new Uint8Array(p.users);
    this.userLanguage = new Uint8Array(p.users);
    this.userBilingual = new Uint8Array(p.users);
    this.userInterest = new Float32Array(p.users * K);
    this.userDeclared = new Uint8Array(p.users * 3).fill(NO_TOPIC);
    this.userActivity = new Float32Array(p.users);
    this.userPatience = new Float32Array(p.users);
    this.userSignupMs = new Float64Array(p.users);
    const rngUsers = root.fork('users');
    const alpha = topicPrior.map((w) => (2.4 * w) / priorSum);
    const mix = new Float64Array(K);
    const activitySigma = 1.1;
    const activityMu = Math.log(p.sessionsPerDay) - (activitySigma * activitySigma) / 2;
    for (let u = 0; u < p.users; u++) {
      const country = countryTable.sample(rngUsers);
      this.userCountry[u] = country;
      const language = LANGUAGES.indexOf(COUNTRIES[country]!.language);
      this.userLanguage[u] = language;
      this.userBilingual[u] = language === ENGLISH || rngUsers.chance(0.3) ? 1 : 0;
      rngUsers.dirichlet(alpha, mix);
      for (let k = 0; k < K; k++) this.userInterest[u * K + k] = mix[k]!;
      this.declareInterests(u, mix, rngUsers);
      this.userActivity[u] = Math.min(40, rngUsers.logNormal(activityMu, activitySigma));
      this.userPatience[u] = 0.86 + 0.1 * rngUsers.beta(4, 2);
      this.userSignupMs[u] = rngUsers.chance(p.newUserShare)
        ? this.startMs + rngUsers.float() * (this.endMs - this.startMs)
        : this.startMs - rngUsers.float() * 365 * MS_PER_DAY;
    }

    // Creators: one or two specialities, a language, a quality level, and a heavy-tailed output.
    const m = p.creators;
    this.creatorCountry = new Uint8Array(m);
    this.creatorLanguage = new Uint8Array(m);
    this.creatorTopics = new Float32Array(m * K);
    this.creatorQuality = new Float32Array(m);
    this.creatorCreatedMs = new Float64Array(m);
    const rngCreators = root.fork('creators');
    const creatorAlpha = topicPrior.map((w) => (0.4 * w) / priorSum);
    const productivity = new Float64Array(m);
    for (let c = 0; c < m; c++) {
      const country = countryTable.sample(rngCreators);
      this.creatorCountry[c] = country;
      this.creatorLanguage[c] = LANGUAGES.indexOf(COUNTRIES[country]!.language);
      rngCreators.dirichlet(creatorAlpha, mix);
      for (let k = 0; k < K; k++) this.creatorTopics[c * K + k] = mix[k]!;
      this.creatorQuality[c] = rngCreators.beta(2.5, 2.5);
      this.creatorCreatedMs[c] = this.startMs - (30 + rngCreators.float() * 700) * MS_PER_DAY;
      productivity[c] = rngCreators.float() ** -0.8; // Pareto tail: a few creators post most videos
    }

    // Items: upload times first (sorted, so item ids follow upload order), then content from the creator.
    const n = p.items;
    const rngItems = root.fork('items');
    this.itemCreatedMs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.itemCreatedMs[i] = rngItems.chance(p.backCatalogueShare)
        ? this.startMs - rngItems.float() * p.backCatalogueDays * MS_PER_DAY
        : this.startMs + rngItems.float() * (this.endMs - this.startMs);
    }
    this.itemCreatedMs.sort();
    for (let i = 0; i < n; i++) this.itemCreatedMs[i] = Math.floor(this.itemCreatedMs[i]!);
    this.itemCreator = new Int32Array(n);
    this.itemTopic = new Uint8Array(n);
    this.itemTopic2 = new Uint8Array(n).fill(NO_TOPIC);
    this.itemTopicWeight = new Float32Array(n).fill(1);
    this.itemQuality = new Float32Array(n);
    this.itemDurationMs = new Int32Array(n);
    this.itemLanguage = new Uint8Array(n);
    const creatorTable = new AliasTable(productivity);
    for (let i = 0; i < n; i++) {
      const c = creatorTable.sample(rngItems);
      this.itemCreator[i] = c;
      const topics = this.creatorTopics.subarray(c * K, c * K + K);
      const t1 = rngItems.weightedIndex(topics);
      this.itemTopic[i] = t1;
      if (rngItems.chance(0.4)) {
        const t2 = rngItems.weightedIndex(alpha);
        if (t2 !== t1) {
          this.itemTopic2[i] = t2;
          this.itemTopicWeight[i] = 0.6 + 0.3 * rngItems.float();
        }
      }
      const q = this.creatorQuality[c]! + rngItems.normal(0, 0.12);
      this.itemQuality[i] = Math.min(1, Math.max(0, q));
      const seconds = Math.min(600, Math.max(5, rngItems.logNormal(Math.log(24), 0.75)));
      this.itemDurationMs[i] = Math.round(seconds * 1000);
      this.itemLanguage[i] = this.creatorLanguage[c]!;
    }
  }

  get userCount(): number {
    return this.userSignupMs.length;
  }

  get itemCount(): number {
    return this.itemCreatedMs.length;
  }

  get creatorCount(): number {
    return this.creatorQuality.length;
  }

  private declareInterests(u: number, mix: Float64Array, rng: Rng): void {
    if (rng.chance(0.25)) return; // skipped the sign-up question
    const order = Array.from(mix.keys()).sort((a, b) => mix[b]! - mix[a]!);
    let slot = 0;
    for (let rank = 0; rank < 3 && slot < 3; rank++) {
      // People name their real top topics most of the time, and sometimes something aspirational.
      const topic = rng.chance(0.75) ? order[rank]! : rng.int(TOPIC_COUNT);
      if (rank > 0 && rng.chance(0.4)) break;
      if (!this.userDeclared.subarray(u * 3, u * 3 + slot).includes(topic))
        this.userDeclared[u * 3 + slot++] = topic;
    }
  }

  /** Index of the user's largest interest weight. */
  topTopic(u: number): number {
    const K = TOPIC_COUNT;
    let best = 0;
    for (let k = 1; k < K; k++)
      if (this.userInterest[u * K + k]! > this.userInterest[u * K + best]!) best = k;
    return best;
  }

  /** First index whose upload time is after `ms` (items before it exist at `ms`). */
  itemsUploadedBy(ms: number): number {
    return countAtMost(this.itemCreatedMs, ms);
  }

  userRecord(u: number): User {
    const interests: string[] = [];
    for (let s = 0; s < 3; s++) {
      const t = this.userDeclared[u * 3 + s]!;
      if (t !== NO_TOPIC) interests.push(TOPICS[t]!.name);
    }
    return {
      user_id: userIdOf(u),
      country: COUNTRIES[this.userCountry[u]!]!.code,
      language: LANGUAGES[this.userLanguage[u]!]!,
      signup_ts: Math.floor(this.userSignupMs[u]!),
      interests,
    };
  }

  creatorRecord(c: number): Creator {
    const K = TOPIC_COUNT;
    const topics = Array.from(this.creatorTopics.subarray(c * K, c * K + K).entries())
      .filter(([, w]) => w >= 0.2)
      .sort((a, b) => b[1] - a[1])
      .map(([k]) => TOPICS[k]!.name);
    return {
      creator_id: creatorIdOf(c),
      name: creatorNameFor(this, c),
      country: COUNTRIES[this.creatorCountry[c]!]!.code,
      language: LANGUAGES[this.creatorLanguage[c]!]!,
      topics,
      created_ts: Math.floor(this.creatorCreatedMs[c]!),
    };
  }

  itemRecord(i: number): Item {
    return {
      item_id: itemIdOf(i),
      creator_id: creatorIdOf(this.itemCreator[i]!),
      caption: captionFor(this, i),
      hashtags: hashtagsFor(this, i),
      language: LANGUAGES[this.itemLanguage[i]!]!,
      duration_ms: this.itemDurationMs[i]!,
      created_ts: this.itemCreatedMs[i]!,
    };
  }
}

export const userIdOf = (u: number): UserId => asUserId(`u${u}`);
export const itemIdOf = (i: number): ItemId => asItemId(`v${i}`);
export const creatorIdOf = (c: number): CreatorId => asCreatorId(`c${c}`);

/** The index inside `world` of an id minted by this module, or -1 when the id is not one of its own. */
export function indexOfId(id: string, prefix: 'u' | 'v' | 'c', size: number): number {
  if (id.length < 2 || id[0] !== prefix) return -1;
  const digits = id.slice(1);
  if (!/^(0|[1-9]\d*)$/.test(digits)) return -1;
  const index = Number(digits);
  return index < size ? index : -1;
}
