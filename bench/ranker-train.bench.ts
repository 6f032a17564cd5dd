/**
 * What training the multi-task ranker costs: wall time and peak resident memory of `trainRanker` (the trees
 * with their linear base, and the pre-ranker) on a 50,000-user world's ranking samples, beside per-task
 * logistic regression as docs/ranker.md defines it, fitted on the same rows in the same process.
 *
 *   npm run bench -- ranker-train                        # 50,000 users x 5,000 videos x 4 days, world 7
 *   npm run bench -- ranker-train -- --cache .tmp/rs     # reuses the samples ranker-quality cached
 *
 * - ranker-train.seconds: wall seconds of one `trainRanker` call, against the baseline's fit.
 * - ranker-train.peak-rss: the process's largest resident memory while the ranker trains, against its
 *   resident memory just before (samples and model inputs loaded, after a collection). `trackRss` samples
 *   the process's RSS every 10 ms on a worker thread, so each phase has its own peak in one process.
 *
 * Flags: `--users`, `--items`, `--days`, `--seed` (the world), `--cache DIR` (keeps the world's samples).
 */
import { trainLogisticRanker } from '../src/models/ranker-linear.js';
import { trainRanker } from '../src/models/ranker-train.js';
import { lastDaySplit, modelInput } from '../src/models/ranking-samples.js';
import { rankingSamplesOfWorld } from '../test/helpers/ranking-world.js';
import { benchArgs, report, trackRss } from './harness/index.js';

const args = benchArgs();
const USERS = args.number('users', args.size(50_000, 3_000));
const ITEMS = args.number('items', args.size(5_000, 600));
const DAYS = args.number('days', args.size(4, 3));
const SEED = args.number('seed', args.size(7, 21));
const CACHE = args.text('cache');

const { samples, startMs } = await rankingSamplesOfWorld(
  { users: USERS, items: ITEMS, days: DAYS, seed: SEED },
  CACHE,
);
const { train } = lastDaySplit(samples, startMs, DAYS);
const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
const xTrain = modelInput(train);
global.gc?.();
const beforeMiB = process.memoryUsage.rss() / 2 ** 20;
let rss = trackRss(10);
let t = performance.now();
trainLogisticRanker(xTrain, width, train.labels);
const baselineSeconds = (performance.now() - t) / 1000;
const baselinePeakMiB = rss.stop();

global.gc?.();
rss = trackRss(10);
t = performance.now();
const artifact = trainRanker(train);
const rankerSeconds = (performance.now() - t) / 1000;
const rankerPeakMiB = rss.stop();

const params = {
  users: USERS,
  items: ITEMS,
  days: DAYS,
  seed: SEED,
  trainingRows: train.rows,
  features: width,
  trees: artifact.ranker.trees,
  depth: artifact.ranker.depth,
};
report({
  name: 'ranker-train.seconds',
  unit: 's',
  value: rankerSeconds,
  baseline: baselineSeconds,
  baselineName: 'per-task logistic regression as defined (10 epochs), same rows, same process',
  better: 'lower',
  params,
  notes:
    'one trainRanker call: the linear base of each head (cosine decay, 30 epochs), the trees and the pre-ranker',
});
report({
  name: 'ranker-train.peak-rss',
  unit: 'MiB',
  value: rankerPeakMiB,
  baseline: beforeMiB,
  baselineName: 'resident memory of the same process before the fits (samples and model input loaded)',
  better: 'lower',
  params,
  notes: `peak while the baseline trained: ${baselinePeakMiB.toFixed(0)} MiB; RSS sampled every 10 ms by a worker thread`,
});
