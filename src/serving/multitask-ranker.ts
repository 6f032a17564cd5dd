import { join } from 'node:path';
import { KEY_SEPARATOR } from '../features/definition.js';
import type { OnlineFeatureStore } from '../features/online.js';
import type { ArtifactRegistry } from '../models/artifact-registry.js';
import {
  loadRankerArtifact,
  RANKER_ARTIFACT,
  RANKER_FILE,
  type RankerArtifact,
} from '../models/ranker-artifact.js';
import { RankerScorer } from '../models/ranker-scorer.js';
import { rowOf } from './bundle.js';
import type { FeatureBlock, FeedCandidate, FeedQuery } from './feed-query.js';
import type { Ranker } from './ranker.js';

const USER_HASHTAG_PREFIX = 'user_hashtag__';
const DURATION = 'item__duration_s';
const AGE = 'item__age_h';

/**
 * The trained multi-task ranker (`src/models/ranker-*`) behind serving's `Ranker` port. Each candidate's
 * row is assembled in the artifact's feature order from what serving has: the hydrated block (item,
 * creator and user x creator features), the user's online features (query hydration), the video's
 * duration and age from the bundle, and the user x hashtag features summed over the video's hashtags,
 * read here in one batched call, as the training samples sum them (`ranking-samples.ts`). Unknown values
 * stay NaN, as in training.
 */
export class MultiTaskRanker implements Ranker {
  readonly id = 'multitask-ranker';
  private scorer!: RankerScorer;
  private userNames!: readonly string[];
  private candidateNames!: readonly string[];
  private hashtagNames!: string[];
  /** Columns of the video's duration and age in a candidate row (-1 when the model does not read them). */
  private durationAt = -1;
  private ageAt = -1;
  /** The model's candidate columns (hydration keeps those of them the feature services serve). */
  get features(): readonly string[] {
    return this.candidateNames;
  }
  /** How many artifacts this ranker has served (1 after construction). */
  loads = 0;

  constructor(
    artifact: RankerArtifact,
    private readonly online: OnlineFeatureStore,
  ) {
    this.load(artifact);
  }

  /**
   * Serves `artifact` from now on (a newly trained ranker). A request in flight finishes on the model it
   * started with: `score` reads every field once before its only await.
   */
  load(artifact: RankerArtifact): void {
    this.scorer = new RankerScorer(artifact.ranker, artifact.userFeatureNames.length, artifact.weights);
    this.userNames = artifact.userFeatureNames;
    this.candidateNames = artifact.candidateFeatureNames;
    this.hashtagNames = this.candidateNames.filter((n) => n.startsWith(USER_HASHTAG_PREFIX));
    this.durationAt = this.candidateNames.indexOf(DURATION);
    this.ageAt = this.candidateNames.indexOf(AGE);
    this.loads++;
  }

  async score(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    features: FeatureBlock | null,
    out: Float64Array,
  ): Promise<void> {
    // One model for the whole request, even if a new one is loaded while this one awaits its read.
    const { scorer, candidateNames, userNames, durationAt, ageAt } = this;
    const n = candidates.length;
    const width = candidateNames.length;
    const rows = new Float32Array(n * width).fill(Number.NaN);
    const userFeatures = query.userFeatures ?? {};
    const user = Float32Array.from(userNames, (name) => userFeatures[name] ?? Number.NaN);
    const { itemDurationMs, itemCreatedMs, itemHashtags, hashtags } = query.bundle.data;
    const blockWidth = features?.names.length ?? 0;
    const fromBlock = candidateNames.map((name) => features?.names.indexOf(name) ?? -1);
    for (let c = 0; c < n; c++) {
      const cand = candidates[c]!;
      const o = c * width;
      for (let f = 0; f < width; f++) {
        const at = fromBlock[f]!;
        if (at >= 0 && features && cand.featureRow >= 0)
          rows[o + f] = features.values[cand.featureRow * blockWidth + at]!;
      }
      const duration = itemDurationMs[cand.item]!;
      if (durationAt >= 0) rows[o + durationAt] = duration > 0 ? duration / 1000 : Number.NaN;
      if (ageAt >= 0) rows[o + ageAt] = (query.nowMs - itemCreatedMs[cand.item]!) / 3_600_000;
    }
    const hashtagNames = this.hashtagNames;
    if (hashtagNames.length > 0)
      await this.addHashtagSums(
        query,
        candidates,
        rows,
        candidateNames,
        hashtagNames,
        itemHashtags,
        hashtags,
      );
    const scores = new Float32Array(n);
    scorer.score(user, rows, scores);
    for (let c = 0; c < n; c++) out[c] = scores[c]!;
  }

  /** Σ over each video's distinct hashtags of the user x hashtag features, as training builds them. */
  private async addHashtagSums(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    rows: Float32Array,
    candidateNames: readonly string[],
    hashtagNames: readonly string[],
    itemHashtags: FeedQuery['bundle']['data']['itemHashtags'],
    hashtags: readonly string[],
  ): Promise<void> {
    const keyOf = new Map<number, number>();
    const keys: string[] = [];
    for (const cand of candidates)
      for (const h of rowOf(itemHashtags, cand.item))
        if (!keyOf.has(h)) {
          keyOf.set(h, keys.length);
          keys.push(`${query.userId}${KEY_SEPARATOR}${hashtags[h]}`);
        }
    if (keys.length === 0) return;
    const read = await this.online.getOnlineFeatures('user_hashtag_features', keys);
    const from = hashtagNames.map((name) => read.names.indexOf(name));
    const to = hashtagNames.map((name) => candidateNames.indexOf(name));
    const w = read.names.length;
    const width = candidateNames.length;
    for (const [c, cand] of candidates.entries())
      for (const h of rowOf(itemHashtags, cand.item)) {
        const k = keyOf.get(h)!;
        for (let f = 0; f < from.length; f++) {
          const v = from[f]! >= 0 ? read.values[k * w + from[f]!]! : Number.NaN;
          if (Number.isNaN(v)) continue;
          const at = c * width + to[f]!;
          rows[at] = Number.isNaN(rows[at]!) ? v : rows[at]! + v;
        }
      }
  }
}

/**
 * The ranker a server runs: the promoted `ranker` artifact of a registry behind `MultiTaskRanker`, or
 * `fallback` (the fused ranker) while none has been trained; `watch` polls the registry and swaps in a
 * newly promoted version between requests (a request in flight keeps the model it started with).
 */
export class PromotedRanker implements Ranker {
  readonly id = 'ranker';
  private current: Ranker;
  private model: MultiTaskRanker | null = null;
  private version: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly registry: ArtifactRegistry,
    private readonly online: OnlineFeatureStore,
    private readonly fallback: Ranker,
  ) {
    this.current = fallback;
  }

  /** The columns of the ranker serving now (see `Ranker.features`). */
  get features(): readonly string[] | undefined {
    return this.current.features;
  }

  /** Which model serves: the artifact version, or null for the fallback. */
  get servingVersion(): number | null {
    return this.version;
  }

  score(
    query: FeedQuery,
    candidates: readonly FeedCandidate[],
    features: FeatureBlock | null,
    out: Float64Array,
  ): void | Promise<void> {
    return this.current.score(query, candidates, features, out);
  }

  /** Loads the promoted version if it is not the one serving; true when it changed. */
  async refresh(): Promise<boolean> {
    const version = await this.registry.current(RANKER_ARTIFACT);
    if (version === this.version) return false;
    if (version === null) {
      this.current = this.fallback;
      this.model = null;
    } else {
      const artifact = await loadRankerArtifact(
        join(this.registry.pathOf(RANKER_ARTIFACT, version), RANKER_FILE),
      );
      if (this.model) this.model.load(artifact);
      else this.model = new MultiTaskRanker(artifact, this.online);
      this.current = this.model;
    }
    this.version = version;
    return true;
  }

  watch(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.refresh().catch(() => {
        // A half-written or damaged artifact: keep serving the current model and try again next time.
      });
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
