import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/clock.js';
import { Rng } from '../core/rng.js';
import { KEY_SEPARATOR } from '../features/definition.js';
import { foryouRegistry, USER_HASHTAG } from '../features/foryou-views.js';
import { OnlineFeatureStore } from '../features/online.js';
import { ArtifactRegistry } from '../models/artifact-registry.js';
import { RANKER_ARTIFACT, RANKER_FILE, saveRankerArtifact } from '../models/ranker-artifact.js';
import { RankerScorer } from '../models/ranker-scorer.js';
import { trainRanker } from '../models/ranker-train.js';
import { type RankingSamples, TASK_COUNT } from '../models/ranking-samples.js';
import { LmdbKeyValueStore } from '../store/lmdb-store.js';
import { MultiTaskRanker, PromotedRanker } from './multitask-ranker.js';
import { FusedRanker } from './ranker.js';
import { candidateOf, tinyBundle, tinyQuery } from './testing.js';

const USER = ['user_engagement__plays_1d'];
const CANDIDATE = ['item_stats__like_rate_7d', 'item__duration_s', 'item__age_h', 'user_hashtag__plays_7d'];

/** A small trained artifact whose trees split on every feature (labels depend on all of them). */
function artifact() {
  const rng = new Rng(3);
  const rows = 600;
  const samples: RankingSamples = {
    rows,
    userFeatureNames: USER,
    candidateFeatureNames: CANDIDATE,
    user: Float32Array.from({ length: rows }, () => rng.int(6)),
    candidate: Float32Array.from(
      { length: rows * 4 },
      (_, k) => [rng.float(), 5 + rng.int(60), rng.int(200), rng.int(10)][k % 4]!,
    ),
    labels: new Float32Array(rows * TASK_COUNT),
    userIds: [],
    itemIds: [],
    requestIds: [],
    tsMs: new Float64Array(rows),
  };
  for (let r = 0; r < rows; r++) {
    const [like, duration, age, tagPlays] = samples.candidate.subarray(r * 4, r * 4 + 4);
    const z = 3 * like! - duration! / 30 - age! / 100 + tagPlays! / 3 + samples.user[r]! / 3;
    for (let t = 0; t < TASK_COUNT; t++)
      samples.labels[r * TASK_COUNT + t] = z + rng.normal(0, 0.5) > 1 ? 1 : 0;
  }
  return trainRanker(samples, { gbdt: { trees: 8, depth: 3 } });
}

const dir = mkdtempSync(join(tmpdir(), 'foryou-mtr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the multi-task ranker behind the serving port', () => {
  it('scores exactly what the trained scorer gives for rows assembled as the training samples are', async () => {
    const trained = artifact();
    const bundle = tinyBundle();
    const nowMs = 1e12;
    const clock = new FakeClock(nowMs);
    const store = await LmdbKeyValueStore.open(join(dir, 'store'));
    try {
      const online = new OnlineFeatureStore(foryouRegistry(), store, clock);
      // u0's plays per hashtag t: t + 1 (tag 0 is on every item, tag 1 + i % 8 on item i).
      const { hashtags } = bundle.data;
      await online.writeRows(
        hashtags.map((tag, t) => ({
          view: USER_HASHTAG,
          key: `u0${KEY_SEPARATOR}${tag}`,
          row: { eventTs: nowMs - 1000, values: [t + 1, 1000 * t, 0], lists: [] },
        })),
      );
      const ranker = new MultiTaskRanker(trained, online);
      const items = [0, 3, 5, 9, 12];
      const candidates = items.map((i, r) => {
        const c = candidateOf(bundle, i);
        c.featureRow = r === 4 ? -1 : r;
        return c;
      });
      const likeRates = [0.1, 0.5, 0.9, 0.3, 0.7];
      const block = {
        names: ['creator_stats__plays_7d', 'item_stats__like_rate_7d'],
        values: new Float64Array(10),
      };
      for (const [r, v] of likeRates.entries()) block.values[r * 2 + 1] = v;
      const query = tinyQuery(bundle, 5, { userFeatures: { user_engagement__plays_1d: 4 }, nowMs });
      const out = new Float64Array(items.length);
      await ranker.score(query, candidates, block, out);

      const rows = new Float32Array(items.length * 4);
      for (const [r, i] of items.entries()) {
        const tags = [0, 1 + (i % 8)];
        rows.set(
          [
            r === 4 ? Number.NaN : likeRates[r]!, // no hydrated row: unknown, as in training
            bundle.data.itemDurationMs[i]! / 1000,
            (nowMs - bundle.data.itemCreatedMs[i]!) / 3_600_000,
            tags.reduce((sum, t) => sum + t + 1, 0),
          ],
          r * 4,
        );
      }
      const expected = new Float32Array(items.length);
      new RankerScorer(trained.ranker, 1, trained.weights).score(Float32Array.of(4), rows, expected);
      expect(Array.from(out)).toEqual(Array.from(expected, Number));
      expect(new Set(out).size).toBeGreaterThan(1);

      // A newly trained artifact takes over for the next request.
      ranker.load(artifact());
      expect(ranker.loads).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('serves the fused ranker until a ranker is promoted, then the promoted one, then a newer one', async () => {
    const bundle = tinyBundle();
    const store = await LmdbKeyValueStore.open(join(dir, 'store-2'));
    try {
      const online = new OnlineFeatureStore(foryouRegistry(), store, new FakeClock(1e12));
      const registry = new ArtifactRegistry(join(dir, 'artifacts'));
      const ranker = new PromotedRanker(registry, online, new FusedRanker());
      const query = tinyQuery(bundle, 5, { userFeatures: { user_engagement__plays_1d: 4 } });
      const candidates = [0, 3, 5].map((i) => candidateOf(bundle, i));
      const block = { names: ['item_stats__like_rate_7d'], values: Float64Array.of(0.1, 0.5, 0.9) };
      candidates.forEach((c, r) => {
        c.featureRow = r;
      });
      const scores = async (r: { score: PromotedRanker['score'] }) => {
        const out = new Float64Array(3);
        await r.score(query, candidates, block, out);
        return Array.from(out);
      };
      expect(await ranker.refresh()).toBe(false);
      expect(ranker.servingVersion).toBeNull();
      expect(await scores(ranker)).toEqual(await scores(new FusedRanker()));
      // Hydration keeps the columns of the ranker serving now.
      expect(ranker.features).toEqual(new FusedRanker().features);

      const publish = async (a: ReturnType<typeof artifact>) => {
        const meta = await registry.publish(
          RANKER_ARTIFACT,
          { kind: 'model', config: {}, metrics: {}, inputs: {} },
          (d) => saveRankerArtifact(join(d, RANKER_FILE), a),
        );
        await registry.promote(RANKER_ARTIFACT, meta.version);
        return meta.version;
      };
      const first = artifact();
      const v1 = await publish(first);
      expect(await ranker.refresh()).toBe(true);
      expect(ranker.servingVersion).toBe(v1);
      expect(await scores(ranker)).toEqual(await scores(new MultiTaskRanker(first, online)));
      expect(ranker.features).toEqual(first.candidateFeatureNames);
      expect(await ranker.refresh()).toBe(false);

      const v2 = await publish(artifact());
      expect(await ranker.refresh()).toBe(true);
      expect(ranker.servingVersion).toBe(v2);
    } finally {
      await store.close();
    }
  });
});
