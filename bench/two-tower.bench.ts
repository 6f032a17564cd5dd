/**
 * The two-tower model (src/models/two-tower.ts) on a simulated world of 50k users x 50k videos x 3 days,
 * trained on the positives of the first 2 days.
 *
 * - two-tower.train: training examples/s of Hogwild training on all cores against the deterministic
 *   single-thread mode, one epoch each on the same data in the same run.
 * - two-tower.item-tower: items/s of embedding the whole catalogue from raw content (tokenising,
 *   hashing, summing rows) against the bare summing kernel on already-hashed features: the ratio is the
 *   share of inference time that is left after text processing.
 * - two-tower.cold-recall(-vs-popularity): recall@100 among the videos uploaded after the cut (no training
 *   interactions) of a model trained for 5 epochs, against ranking them by their creator's training
 *   positives, and against popularity (all cold items have 0 training positives, so it ranks them by
 *   upload, oldest first), over a sample of users; two-tower.all-recall: among all items, against popularity.
 */
import { availableParallelism } from 'node:os';
import { MS_PER_DAY } from '../src/core/clock.js';
import { Rng } from '../src/core/rng.js';
import type { Event } from '../src/core/schema/index.js';
import { historyEmbeddings, TwoTowerModel, type TwoTowerOptions } from '../src/models/two-tower.js';
import { buildTwoTowerData } from '../src/models/two-tower-data.js';
import { candidateRecall, creatorPopularityScores } from '../src/models/two-tower-eval.js';
import { buildItemFeatures } from '../src/models/two-tower-features.js';
import { embedItems } from '../src/models/two-tower-kernel.js';
import { simulateHistory } from '../src/sim/history.js';
import { World } from '../src/sim/world.js';
import { benchArgs, measureEach, report } from './harness/index.js';

const { size } = benchArgs();
const params = { users: size(50_000, 4_000), items: size(50_000, 4_000), days: 3, seed: 42 };
const cutDay = 2;
/** Epochs of the timed runs (both modes); the model whose quality is reported trains the default 5. */
const epochs = size(1, 1);
const qualityEpochs = 5;
const threads = availableParallelism();
const options: TwoTowerOptions = { batchSize: 128, epochs };

const t0 = performance.now();
const world = new World(params);
const events: Event[] = [];
for (const batch of simulateHistory(world)) for (const e of batch.events) events.push(e);
const items = Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i));
const cutMs = world.startMs + cutDay * MS_PER_DAY;
const data = buildTwoTowerData(items, events, { cutMs });
const simSec = (performance.now() - t0) / 1000;
const common = {
  ...params,
  cutDay,
  epochs,
  threads,
  trainPositives: data.train.nnz,
  testPositives: data.test.nnz,
  dim: 32,
  batchSize: 128,
};

const train = async (hogwild: boolean, epochCount = epochs) => {
  const started = performance.now();
  const model = await TwoTowerModel.train(
    { train: data.train, content: data.content },
    { ...options, epochs: epochCount, hogwild },
    { seed: 1, threads },
  );
  return { model, sec: (performance.now() - started) / 1000 };
};
const single = await train(false);
const hogwild = await train(true);
const examples = data.train.nnz * epochs;
report({
  name: 'two-tower.train',
  unit: 'examples/s',
  value: examples / hogwild.sec,
  baseline: examples / single.sec,
  baselineName: 'single-thread deterministic training',
  better: 'higher',
  params: common,
  notes: `Hogwild ${hogwild.sec.toFixed(1)} s, single thread ${single.sec.toFixed(1)} s for ${epochs} epochs; world and history simulated in ${simSec.toFixed(1)} s`,
});

// Item tower inference over the whole catalogue, with the model trained for the quality figures.
const quality = await train(true, qualityEpochs);
const model = quality.model;
const features = buildItemFeatures(data.content, 1 << 17);
const table = new Float32Array((1 << 17) * model.dim);
const out = new Float32Array(data.content.length * model.dim);
const m = await measureEach(
  {
    raw: () => model.embedItems(data.content),
    kernel: () => {
      embedItems(table, model.dim, features.ptr, features.rows, features.weights, out);
      return out;
    },
  },
  { warmupRuns: 1, runs: size(7, 3), items: data.content.length },
);
report({
  name: 'two-tower.item-tower',
  unit: 'items/s',
  value: m.raw!.itemsPerSec,
  baseline: m.kernel!.itemsPerSec,
  baselineName: 'summing kernel on pre-hashed features',
  better: 'higher',
  params: { items: data.content.length, dim: model.dim },
  notes: 'embedItems from caption, hashtags, creator and language, id embeddings off (a brand-new item)',
});

// Cold-start quality on a sample of users (full scoring of 50k items per user is the slow part).
const embeddings = model.embedItems(data.content, data.train.itemIds);
const d = model.dim;
const user = new Float32Array(d);
const sample = new Rng('two-tower-bench').fork('users');
const keep = Uint8Array.from({ length: data.train.users }, () => (sample.chance(size(0.1, 1)) ? 1 : 0));
const score = (u: number, scores: Float32Array) => {
  model.userEmbedding(data.train.userIds[u], historyEmbeddings(data.train, u, embeddings, model), user);
  for (let i = 0; i < scores.length; i++) {
    let x = 0;
    for (let c = 0; c < d; c++) x += user[c]! * embeddings[i * d + c]!;
    scores[i] = x;
  }
};
const cold = Uint8Array.from(data.createdTs, (t) => (t >= cutMs ? 1 : 0));
const creatorPop = creatorPopularityScores(
  data.train,
  data.content.map((c) => c.creatorId),
);
const popularity = Float32Array.from(data.train.itemCounts());
const all = new Uint8Array(data.train.items).fill(1);
const ttCold = candidateRecall(score, data.train, data.test, cold, 100, keep);
const qualityParams = {
  ...common,
  epochs: qualityEpochs,
  coldItems: cold.reduce((a, b) => a + b, 0),
  users: ttCold.users,
};
const notes = `users sampled, the same for every model; model trained Hogwild for ${qualityEpochs} epochs in ${quality.sec.toFixed(1)} s`;
for (const [name, baselineName, scores] of [
  ['two-tower.cold-recall', "creator's training popularity", creatorPop],
  [
    'two-tower.cold-recall-vs-popularity',
    'popularity (all 0 on cold items: oldest upload first)',
    popularity,
  ],
] as const) {
  const base = candidateRecall((_u, s) => s.set(scores), data.train, data.test, cold, 100, keep);
  report({
    name,
    unit: 'recall@100',
    value: ttCold.recall,
    baseline: base.recall,
    baselineName,
    better: 'higher',
    params: qualityParams,
    notes: `among items uploaded after the cut; ${notes}`,
  });
}
const ttAll = candidateRecall(score, data.train, data.test, all, 100, keep);
const popAll = candidateRecall((_u, s) => s.set(popularity), data.train, data.test, all, 100, keep);
report({
  name: 'two-tower.all-recall',
  unit: 'recall@100',
  value: ttAll.recall,
  baseline: popAll.recall,
  baselineName: 'popularity (training positives)',
  better: 'higher',
  params: { ...qualityParams, users: ttAll.users },
  notes: `among all items, each user's training items left out; ${notes}`,
});
