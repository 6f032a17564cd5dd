/**
 * The ranker's serving path: the multi-task ranker (RankerScorer) on 300 and 1,000 candidates of one
 * request, and the pre-ranker (Preranker.cut: score 1,000 candidates, keep 300), per call p50/p99.
 *
 * Models are trained on ranking samples of a simulated world (test/helpers/ranking-world.ts, the feature
 * store's offline path), with the default options, so the trees have the shape serving would load.
 * Baselines in the same run, calls interleaved: the reference prediction (predictGbdtTasks: every tree,
 * level by level, on the user | candidate rows, as a plain implementation would) for the ranker; the
 * reference pre-ranker score per row plus a full sort for the cut. The per-task logistic regression's
 * scoring time is printed in the notes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { Preranker, prerankReference, topKReference } from '../src/models/prerank.js';
import { predictGbdtTasks } from '../src/models/ranker-gbdt.js';
import { predictLogisticRanker, trainLogisticRanker } from '../src/models/ranker-linear.js';
import { RankerScorer } from '../src/models/ranker-scorer.js';
import { trainRanker } from '../src/models/ranker-train.js';
import { buildRankingSamples, modelInput } from '../src/models/ranking-samples.js';
import { buildRankingWorld } from '../test/helpers/ranking-world.js';
import { benchArgs, type Measurement, measureEach, report } from './harness/index.js';

const { size } = benchArgs();
const USERS = size(2_000, 600);
const REQUESTS = 32;
const options = { warmupMs: size(500, 50), runs: size(2_000, 50), minTimeMs: size(2_000, 100) };

const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-ranker-'));
const world = await buildRankingWorld(dir, { users: USERS, items: USERS / 2, days: 2, seed: 11 });
const samples = await buildRankingSamples(world.db, world.registry, { featureRows: world.featureRows });
world.close();
rmSync(dir, { recursive: true, force: true });
const artifact = trainRanker(samples);
const U = samples.userFeatureNames.length;
const C = samples.candidateFeatureNames.length;
const width = U + C;
const logistic = trainLogisticRanker(modelInput(samples), width, samples.labels);

/** Requests: a real user row and `n` real candidate rows drawn from the samples. */
function requests(n: number) {
  const rng = new Rng(`ranker-bench-${n}`);
  return Array.from({ length: REQUESTS }, () => {
    const user = samples.user.slice(0, U);
    const u = rng.int(samples.rows);
    user.set(samples.user.subarray(u * U, (u + 1) * U));
    const candidates = new Float32Array(n * C);
    const joined = new Float32Array(n * width);
    for (let j = 0; j < n; j++) {
      const r = rng.int(samples.rows);
      candidates.set(samples.candidate.subarray(r * C, (r + 1) * C), j * C);
      joined.set(user, j * width);
      joined.set(samples.candidate.subarray(r * C, (r + 1) * C), j * width + U);
    }
    return { user, candidates, joined };
  });
}

const ms = (m: Measurement, p: 'median' | 'p99') => m.stats[p] / 1e6;
const pair = (m: Measurement) => `${ms(m, 'median').toFixed(3)}/${ms(m, 'p99').toFixed(3)}`;
const params = {
  users: USERS,
  trainingRows: samples.rows,
  trees: artifact.ranker.trees,
  depth: artifact.ranker.depth,
  userFeatures: U,
  candidateFeatures: C,
};

function publish(
  name: string,
  figure: Measurement,
  baseline: Measurement,
  baselineName: string,
  notes: string,
) {
  for (const p of ['median', 'p99'] as const)
    report({
      name: `${name}.${p === 'median' ? 'p50' : 'p99'}`,
      unit: 'ms',
      value: ms(figure, p),
      baseline: ms(baseline, p),
      baselineName,
      better: 'lower',
      params,
      notes: `per call, ${figure.runs} calls; ${notes}`,
    });
}

for (const n of [300, 1_000]) {
  const reqs = requests(n);
  const scorer = new RankerScorer(artifact.ranker, U, artifact.weights);
  const scores = new Float32Array(n);
  const tasks = new Float32Array(n * 5);
  let k = 0;
  let b = 0;
  let l = 0;
  const m = await measureEach(
    {
      scorer: () => {
        const r = reqs[k++ % REQUESTS]!;
        return scorer.score(r.user, r.candidates, scores, tasks);
      },
      reference: () => predictGbdtTasks(artifact.ranker, reqs[b++ % REQUESTS]!.joined),
      logistic: () => predictLogisticRanker(logistic, reqs[l++ % REQUESTS]!.joined),
    },
    options,
  );
  publish(
    `ranker.score.${n}`,
    m.scorer,
    m.reference,
    'reference prediction (every tree level by level on user|candidate rows)',
    `fused score and 5 task outputs per candidate; per-task logistic regression on the same rows ${pair(m.logistic)} ms p50/p99`,
  );
}

{
  const n = 1_000;
  const keep = 300;
  const reqs = requests(n);
  const pre = new Preranker(artifact.preranker, n);
  const out = new Int32Array(keep);
  const refScores = new Float64Array(n);
  let k = 0;
  let b = 0;
  const m = await measureEach(
    {
      cut: () => pre.cut(reqs[k++ % REQUESTS]!.candidates, keep, out),
      reference: () => {
        const r = reqs[b++ % REQUESTS]!;
        for (let j = 0; j < n; j++)
          refScores[j] = prerankReference(artifact.preranker, r.candidates.subarray(j * C, (j + 1) * C));
        return topKReference(refScores, n, keep);
      },
    },
    options,
  );
  publish(
    'prerank.cut.1000',
    m.cut,
    m.reference,
    'reference linear score per row + full sort',
    `score ${n} candidates (${C} features) and keep the best ${keep}`,
  );
}
