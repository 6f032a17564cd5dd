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
 *   resident memory just before (samples and model inputs loaded, after a collection). A worker thread
 *   samples the process's RSS every 10 ms, so each phase has its own peak in one process.
 *
 * Flags: `--users`, `--items`, `--days`, `--seed` (the world), `--cache DIR` (keeps the world's samples).
 */
import { Worker } from 'node:worker_threads';
import { trainLogisticRanker } from '../src/models/ranker-linear.js';
import { trainRanker } from '../src/models/ranker-train.js';
import { lastDaySplit, modelInput } from '../src/models/ranking-samples.js';
import { rankingSamplesOfWorld } from '../test/helpers/ranking-world.js';
import { benchArgs, report } from './harness/index.js';

const args = benchArgs();
const USERS = args.number('users', args.size(50_000, 3_000));
const ITEMS = args.number('items', args.size(5_000, 600));
const DAYS = args.number('days', args.size(4, 3));
const SEED = args.number('seed', args.size(7, 21));
const CACHE = args.text('cache');

/** Largest RSS seen (KiB) since the last reset, sampled by a worker thread while the main thread trains. */
class RssSampler {
  private readonly peak = new Int32Array(new SharedArrayBuffer(8));
  private readonly worker: Worker;

  constructor(everyMs: number) {
    this.worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const peak = new Int32Array(workerData.buffer);
       const nap = new Int32Array(new SharedArrayBuffer(4));
       for (;;) {
         const now = Math.round(process.memoryUsage.rss() / 1024);
         for (let seen = Atomics.load(peak, 0); seen < now; seen = Atomics.load(peak, 0))
           if (Atomics.compareExchange(peak, 0, seen, now) === seen) break;
         if (Atomics.load(peak, 1) === 1) break;
         Atomics.wait(nap, 0, 0, ${everyMs});
       }`,
      { eval: true, workerData: { buffer: this.peak.buffer } },
    );
  }

  /** Starts a phase: the peak restarts from the RSS now. */
  reset(): void {
    Atomics.store(this.peak, 0, Math.round(process.memoryUsage.rss() / 1024));
  }

  /** The largest RSS since `reset`, in MiB (the RSS now included). */
  peakMiB(): number {
    const now = Math.round(process.memoryUsage.rss() / 1024);
    return Math.max(now, Atomics.load(this.peak, 0)) / 1024;
  }

  async stop(): Promise<void> {
    Atomics.store(this.peak, 1, 1);
    await new Promise((resolve) => this.worker.once('exit', resolve));
  }
}

const { samples, startMs } = await rankingSamplesOfWorld(
  { users: USERS, items: ITEMS, days: DAYS, seed: SEED },
  CACHE,
);
const { train } = lastDaySplit(samples, startMs, DAYS);
const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
const xTrain = modelInput(train);
global.gc?.();
const sampler = new RssSampler(10);
try {
  const beforeMiB = process.memoryUsage.rss() / 2 ** 20;
  sampler.reset();
  let t = performance.now();
  trainLogisticRanker(xTrain, width, train.labels);
  const baselineSeconds = (performance.now() - t) / 1000;
  const baselinePeakMiB = sampler.peakMiB();

  global.gc?.();
  sampler.reset();
  t = performance.now();
  const artifact = trainRanker(train);
  const rankerSeconds = (performance.now() - t) / 1000;
  const rankerPeakMiB = sampler.peakMiB();

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
} finally {
  await sampler.stop();
}
