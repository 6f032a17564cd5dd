import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRankingWorld, type RankingWorld } from '../../test/helpers/ranking-world.js';
import { Preranker } from '../models/prerank.js';
import { predictGbdtTasks } from '../models/ranker-gbdt.js';
import { predictLogisticRanker, trainLogisticRanker } from '../models/ranker-linear.js';
import { RankerScorer } from '../models/ranker-scorer.js';
import { trainRanker } from '../models/ranker-train.js';
import {
  buildRankingSamples,
  lastDaySplit,
  modelInput,
  type RankingSamples,
  TASK_COUNT,
} from '../models/ranking-samples.js';
import { evaluateRankerTasks, type RankerTaskReport } from './ranker-evaluation.js';

/**
 * The ranker on a simulated world, through the feature store's offline path: samples from impressions with
 * point-in-time features, trained on the first days, tested on the last. 3,000 users x 3 days is about
 * 110,000 events (about 45 s on the shared 2-core machine, most of it the offline feature SQL). At this
 * size the last day holds some 35-55 shares and follows: two linear fits of the same data with different
 * seeds differ by up to 0.1 in their per-user AUC, so the test cannot rank the models on those tasks and
 * holds them to a floor above chance; the measurements that do separate them (15,000 users) are in
 * docs/ranker.md.
 */
const DAYS = 3;
let world: RankingWorld;
let samples: RankingSamples;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'foryou-ranker-'));
  world = await buildRankingWorld(dir, { users: 3000, items: 600, days: DAYS, seed: 21 });
  samples = await buildRankingSamples(world.db, world.registry, { featureRows: world.featureRows });
}, 240_000);

afterAll(() => {
  world?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ranking samples', () => {
  it('has one row per impression, labels consistent with their definitions, in time order', async () => {
    const impressions = await world.db.runAndReadAll(
      `SELECT count(*)::INTEGER FROM events WHERE type = 'impression'`,
    );
    expect(samples.rows).toBe(impressions.getRows()[0]![0]);
    for (let r = 0; r < samples.rows; r++) {
      const o = r * TASK_COUNT;
      expect(samples.labels[o]).toBe(samples.labels[o + 4]! >= 0.8 ? 1 : 0);
      if (r > 0) expect(samples.tsMs[r]).toBeGreaterThanOrEqual(samples.tsMs[r - 1]!);
    }
    const rate = (k: number) => {
      let s = 0;
      for (let r = 0; r < samples.rows; r++) s += samples.labels[r * TASK_COUNT + k]!;
      return s / samples.rows;
    };
    expect(rate(0)).toBeGreaterThan(0.1);
    expect(rate(1)).toBeGreaterThan(0.01);
    expect(rate(2)).toBeGreaterThan(0.001);
    expect(rate(3)).toBeGreaterThan(0.001);
  });

  it('reads features as of just before the impression: never the impression itself or anything after', async () => {
    // In a 3-day world the 7-day window holds all history, so impressions_7d must equal the item's
    // impressions strictly before this one.
    const result = await world.db.runAndReadAll(
      `SELECT item_id, epoch_ms(ts)::DOUBLE FROM events WHERE type = 'impression' ORDER BY ts`,
    );
    const before = new Map<string, number[]>();
    for (const [item, ts] of result.getRows() as [string, number][]) {
      const list = before.get(item);
      if (list) list.push(ts);
      else before.set(item, [ts]);
    }
    const f = samples.candidateFeatureNames.indexOf('item_stats__impressions_7d');
    const C = samples.candidateFeatureNames.length;
    for (let r = 0; r < samples.rows; r += 97) {
      const earlier = before.get(samples.itemIds[r]!)!.filter((t) => t < samples.tsMs[r]!).length;
      const value = samples.candidate[r * C + f]!;
      expect(Number.isNaN(value) ? 0 : value).toBe(earlier);
    }
  });
});

describe('multi-task ranker against per-task logistic regression (last day held out)', () => {
  let ranker: RankerTaskReport[];
  let baseline: RankerTaskReport[];
  let test: RankingSamples;
  let artifact: ReturnType<typeof trainRanker>;

  beforeAll(() => {
    const split = lastDaySplit(samples, world.world.startMs, DAYS);
    const train = split.train;
    test = split.test;
    const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
    artifact = trainRanker(train);
    const logistic = trainLogisticRanker(modelInput(train), width, train.labels);
    ranker = evaluateRankerTasks(
      test.userIds,
      predictGbdtTasks(artifact.ranker, modelInput(test)),
      test.labels,
    );
    baseline = evaluateRankerTasks(
      test.userIds,
      predictLogisticRanker(logistic, modelInput(test)),
      test.labels,
    );
    console.log(
      ranker
        .map(
          (r, k) =>
            `${r.task}: per-user AUC ${r.userAuc.toFixed(4)} vs LR ${baseline[k]!.userAuc.toFixed(4)} (${r.positives} positives)`,
        )
        .join('\n'),
    );
  }, 240_000);

  it('ranks better for the users on long watch and like, with a lower watch-fraction error', () => {
    for (const k of [0, 1]) expect(ranker[k]!.userAuc, ranker[k]!.task).toBeGreaterThan(baseline[k]!.userAuc);
    expect(ranker[4]!.mae!).toBeLessThan(baseline[4]!.mae!);
  });

  it('ranks share, follow and watch fraction well above chance (a world this size cannot separate the models there)', () => {
    for (const k of [2, 3, 4]) {
      expect(ranker[k]!.positives).toBeGreaterThan(20);
      expect(ranker[k]!.userAuc, ranker[k]!.task).toBeGreaterThan(0.55);
    }
  });

  it('serves the same scores through the scorer, and the pre-ranker orders users by value', () => {
    const U = samples.userFeatureNames.length;
    const C = samples.candidateFeatureNames.length;
    const scorer = new RankerScorer(artifact.ranker, U, artifact.weights);
    const reference = predictGbdtTasks(artifact.ranker, modelInput(test));
    const tasks = new Float32Array(TASK_COUNT);
    const score = new Float32Array(1);
    for (let r = 0; r < test.rows; r += 53) {
      scorer.score(
        test.user.subarray(r * U, (r + 1) * U),
        test.candidate.subarray(r * C, (r + 1) * C),
        score,
        tasks,
      );
      for (let k = 0; k < TASK_COUNT; k++) expect(tasks[k]).toBeCloseTo(reference[r * TASK_COUNT + k]!, 4);
    }
    const pre = new Preranker(artifact.preranker, test.rows);
    const scores = new Float32Array(test.rows);
    pre.score(test.candidate, scores);
    const out = new Float64Array(test.rows * TASK_COUNT);
    for (let r = 0; r < test.rows; r++)
      for (let k = 0; k < TASK_COUNT; k++) out[r * TASK_COUNT + k] = scores[r]!;
    const pr = evaluateRankerTasks(test.userIds, out, test.labels);
    expect(pr[0]!.userAuc).toBeGreaterThan(0.55);
    expect(pr[1]!.userAuc).toBeGreaterThan(0.55);
  });
});
