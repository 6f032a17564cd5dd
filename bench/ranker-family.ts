/**
 * The ranker's model families on a simulated world, side by side: per-user AUC per task (and the watch
 * fraction's error) of the per-task logistic regression (the baseline), the oblivious trees with a linear
 * base (the served ranker), the shared-bottom MLP, and per-task blends. A measurement script, not a
 * registered benchmark (its name has no `.bench.`, so `npm run bench` does not run it); it prints a table.
 *
 *   node --import tsx bench/ranker-family.ts --users 5000 --items 1000 --days 3 --seed 7
 *   node --import tsx bench/ranker-family.ts --users 15000 --items 3000 --seed 7 --cache .tmp/mlp --timing
 *
 * The samples are built as the ranker's training job and its quality test build them: a world from
 * `test/helpers/ranking-world.ts` (the simulator's history loaded into DuckDB, the ranker's feature views'
 * offline rows computed by the offline engine), then `buildRankingSamples` (one row per impression, features
 * as of 1 ms before it). Training rows: from half a day after the start to the start of the last day; test
 * rows: the last day. `--cache DIR` keeps the samples of each (users, items, days, seed, feature set) in DIR, so other
 * model settings can be measured without rebuilding the world (most of the time at 15,000 users).
 *
 * Besides each model's mean per-user AUC, the table gives its difference from the baseline with a standard
 * error over users (the per-user differences' deviation / sqrt(users)): the noise of the test day's draw,
 * for a paired comparison on the same users.
 *
 * Flags: `--models` (comma-separated: lr, gbdt, gbdt-decay, mlp, blend, stack; blend also prints blend-logit;
 * `--gbdt JSON`: the trees' options, both gbdt and gbdt-decay;
 * gbdt-decay is the trees with their linear base fitted with `--base-decay` over `--base-epochs`, the same
 * as gbdt at the defaults since the served base became converged on 2026-11-27);
 * the network's `--hidden 64,32 --epochs --learning-rate --batch --l2 --task-weights --mlp-seed --wide
 * false`, `--mlp-seeds N` (the mean of N networks); the baseline's `--lr-epochs --lr-rate --lr-seed
 * --lr-decay linear|cosine` (defaults: the baseline as docs/ranker.md defines it) and `--lr-seeds N`: N
 * baselines from seeds lr-seed, lr-seed + 1, ..., each printed as lr-sS with its training objective per task,
 * and `lr` is then their mean per-user AUC per user (their mean MAE), the reference of the differences;
 * `--cross` (each model's output for one task
 * against every task's labels); `--dump DIR` (test outputs, labels and users as files); `--timing`
 * (serving time of 300 candidates per call, p50/p99, the network beside the trees).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MS_PER_DAY } from '../src/core/clock.js';
import { Rng } from '../src/core/rng.js';
import { meanUserAuc, pairedDifference, userAucs } from '../src/evaluation/classification-metrics.js';
import {
  evaluateRankerTasks,
  type RankerTaskReport,
  taskColumn,
  taskLabels,
} from '../src/evaluation/ranker-evaluation.js';
import { type GbdtOptions, predictGbdtTasks, trainGbdt } from '../src/models/ranker-gbdt.js';
import {
  fitLinear,
  type LinearOptions,
  linearObjective,
  predictLogisticRanker,
  standardize,
  trainLogisticRanker,
} from '../src/models/ranker-linear.js';
import { MlpScorer, predictMlpTasks, trainMlpRanker } from '../src/models/ranker-mlp.js';
import { RankerScorer } from '../src/models/ranker-scorer.js';
import {
  lastDaySplit,
  modelInput,
  RANKING_TASKS,
  selectSamples,
  TASK_COUNT,
  WATCH_FRACTION_TASK,
} from '../src/models/ranking-samples.js';
import { rankingSamplesOfWorld } from '../test/helpers/ranking-world.js';
import { measureEach } from './harness/index.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '5000' },
    items: { type: 'string', default: '1000' },
    days: { type: 'string', default: '3' },
    seed: { type: 'string', default: '7' },
    cache: { type: 'string' },
    models: { type: 'string', default: 'lr,gbdt,mlp,blend' },
    hidden: { type: 'string', default: '64,32' },
    epochs: { type: 'string', default: '8' },
    'learning-rate': { type: 'string', default: '0.002' },
    batch: { type: 'string', default: '256' },
    l2: { type: 'string', default: '0.00001' },
    'task-weights': { type: 'string', default: '1,1,1,1,1' },
    'mlp-seed': { type: 'string', default: '5' },
    'mlp-seeds': { type: 'string', default: '1' },
    'lr-epochs': { type: 'string' },
    'lr-seed': { type: 'string', default: '3' },
    'lr-seeds': { type: 'string', default: '1' },
    'lr-rate': { type: 'string', default: '0.01' },
    'lr-decay': { type: 'string' },
    'base-decay': { type: 'string', default: 'cosine' },
    'base-epochs': { type: 'string', default: '30' },
    gbdt: { type: 'string', default: '{}' },
    wide: { type: 'string', default: 'true' },
    timing: { type: 'boolean', default: false },
    cross: { type: 'boolean', default: false },
    dump: { type: 'string' },
  },
});
const num = (name: keyof typeof args) => Number(args[name]);
const list = (name: keyof typeof args) => String(args[name]).split(',').map(Number);
const USERS = num('users');
const ITEMS = num('items');
const DAYS = num('days');
const SEED = num('seed');
const models = new Set(String(args.models).split(','));

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const { samples, startMs } = await rankingSamplesOfWorld(
  { users: USERS, items: ITEMS, days: DAYS, seed: SEED },
  args.cache,
);
const cut = startMs + (DAYS - 1) * MS_PER_DAY;
const { train, test } = lastDaySplit(samples, startMs, DAYS);
const U = samples.userFeatureNames.length;
const C = samples.candidateFeatureNames.length;
const width = U + C;
const xTrain = modelInput(train);
const xTest = modelInput(test);
console.error(`${train.rows} training rows, ${test.rows} test rows, ${width} features`);

const outputs = new Map<string, Float64Array>();
/** The trees' options (`--gbdt JSON`, default: the served ranker's). */
const gbdtOptions = JSON.parse(String(args.gbdt)) as GbdtOptions;
let gbdt: ReturnType<typeof trainGbdt> | undefined;
let mlp: ReturnType<typeof trainMlpRanker> | undefined;
const decayOf = (name: keyof typeof args): LinearOptions['decay'] => {
  const v = args[name];
  if (v === undefined || v === 'none') return undefined;
  if (v !== 'linear' && v !== 'cosine')
    throw new Error(`--${name} ${String(v)}: expected none, linear or cosine`);
  return v;
};
/** Baselines fitted from several seeds, when `--lr-seeds` is above 1 (their names: lr-s3, lr-s4, ...). */
const lrSeedNames: string[] = [];
if (models.has('lr')) {
  // The baseline as docs/ranker.md defines it: 10 epochs, rate 0.01, seed 3 (trainLogisticRanker's defaults).
  const seeds = Array.from({ length: num('lr-seeds') }, (_, i) => num('lr-seed') + i);
  const options: LinearOptions = {
    ...(args['lr-epochs'] === undefined ? {} : { epochs: num('lr-epochs') }),
    learningRate: num('lr-rate'),
    decay: decayOf('lr-decay'),
  };
  for (const seed of seeds) {
    const t = performance.now();
    const model = trainLogisticRanker(xTrain, width, train.labels, { ...options, seed });
    const name = seeds.length > 1 ? `lr-s${seed}` : 'lr';
    if (seeds.length > 1) lrSeedNames.push(name);
    outputs.set(name, predictLogisticRanker(model, xTest));
    // The training objective each task's fit reached (what the schedule is meant to lower and steady).
    const z = standardize(model.standardizer, xTrain, width);
    const objective = RANKING_TASKS.map((_, k) =>
      linearObjective(
        z,
        width,
        (r) => train.labels[r * TASK_COUNT + k]!,
        k !== WATCH_FRACTION_TASK,
        model.weights.subarray(k * (width + 1), (k + 1) * (width + 1)),
      ).toFixed(6),
    );
    console.log(`${name} ${JSON.stringify(options)} training objective per task: ${objective.join(' ')}`);
    console.error(`${name} trained in ${seconds(t)}`);
  }
}
if (models.has('gbdt') || models.has('blend')) {
  const t = performance.now();
  gbdt = trainGbdt(xTrain, width, train.labels, gbdtOptions);
  outputs.set('gbdt', predictGbdtTasks(gbdt, xTest));
  console.error(`gbdt ${JSON.stringify(gbdtOptions)} trained in ${seconds(t)}`);
}
if (models.has('gbdt-decay')) {
  // The served trees but for their linear base, fitted with a decaying rate.
  const t = performance.now();
  const linear: LinearOptions = { decay: decayOf('base-decay'), epochs: num('base-epochs') };
  outputs.set(
    'gbdt-decay',
    predictGbdtTasks(trainGbdt(xTrain, width, train.labels, { ...gbdtOptions, linear }), xTest),
  );
  console.error(`gbdt-decay ${JSON.stringify(linear)} trained in ${seconds(t)}`);
}
const mlpOptions = {
  hidden: list('hidden'),
  epochs: num('epochs'),
  learningRate: num('learning-rate'),
  batch: num('batch'),
  l2: num('l2'),
  taskWeights: list('task-weights'),
  seed: num('mlp-seed'),
  wide: args.wide !== 'false',
};
if (models.has('mlp') || models.has('blend')) {
  const t = performance.now();
  mlp = trainMlpRanker(xTrain, width, train.labels, mlpOptions);
  outputs.set('mlp', predictMlpTasks(mlp, xTest));
  console.error(`mlp ${JSON.stringify(mlpOptions)} trained in ${seconds(t)}`);
}
if (num('mlp-seeds') > 1 && mlp) {
  // An ensemble: the mean of the task outputs of networks trained from different seeds.
  const t = performance.now();
  const sum = Float64Array.from(outputs.get('mlp')!);
  for (let i = 1; i < num('mlp-seeds'); i++) {
    const other = predictMlpTasks(
      trainMlpRanker(xTrain, width, train.labels, { ...mlpOptions, seed: mlpOptions.seed + i }),
      xTest,
    );
    for (let j = 0; j < sum.length; j++) sum[j]! += other[j]!;
  }
  outputs.set(
    'mlp',
    sum.map((v) => v / num('mlp-seeds')),
  );
  console.error(`${num('mlp-seeds')} networks in ${seconds(t)}`);
}
if (models.has('blend') && gbdt && mlp) {
  // Per task: the mean of the two models' probabilities (and of their watch fractions).
  const a = outputs.get('gbdt')!;
  const b = outputs.get('mlp')!;
  outputs.set(
    'blend',
    a.map((v, i) => (v + b[i]!) / 2),
  );
  // Per task: the mean of their log-odds (the watch fraction as above).
  const logit = (p: number) => Math.log(Math.max(1e-7, p) / Math.max(1e-7, 1 - p));
  outputs.set(
    'blend-logit',
    a.map((v, i) =>
      i % TASK_COUNT === WATCH_FRACTION_TASK
        ? (v + b[i]!) / 2
        : 1 / (1 + Math.exp(-(logit(v) + logit(b[i]!)) / 2)),
    ),
  );
}

if (models.has('stack') && gbdt && mlp) {
  // Cross-task stacking: each binary task's output is a logistic regression on both models' outputs for
  // every task (log-odds; the watch fraction as it is), fitted on the last third of the training period
  // by models trained on the first two thirds, then applied to the full models' outputs on the test day.
  const t = performance.now();
  const from = startMs + MS_PER_DAY / 2;
  const mid = from + ((cut - from) * 2) / 3;
  const partA = selectSamples(train, (r) => train.tsMs[r]! < mid);
  const partB = selectSamples(train, (r) => train.tsMs[r]! >= mid);
  const xa = modelInput(partA);
  const xb = modelInput(partB);
  const gA = trainGbdt(xa, width, partA.labels);
  const mA = trainMlpRanker(xa, width, partA.labels, mlpOptions);
  const F = 2 * TASK_COUNT;
  const logit = (p: number) => Math.log(Math.max(1e-7, p) / Math.max(1e-7, 1 - p));
  const stackInput = (g: Float64Array, m: Float64Array) => {
    const rows = g.length / TASK_COUNT;
    const out = new Float32Array(rows * F);
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < TASK_COUNT; k++) {
        const tr = (v: number) => (k === WATCH_FRACTION_TASK ? v : logit(v));
        out[r * F + k] = tr(g[r * TASK_COUNT + k]!);
        out[r * F + TASK_COUNT + k] = tr(m[r * TASK_COUNT + k]!);
      }
    return out;
  };
  const fb = stackInput(predictGbdtTasks(gA, xb), predictMlpTasks(mA, xb));
  const ft = stackInput(outputs.get('gbdt')!, outputs.get('mlp')!);
  const mean = new Float64Array(F);
  const sd = new Float64Array(F);
  const rowsB = partB.rows;
  for (let r = 0; r < rowsB; r++) for (let f = 0; f < F; f++) mean[f]! += fb[r * F + f]! / rowsB;
  for (let r = 0; r < rowsB; r++)
    for (let f = 0; f < F; f++) sd[f]! += (fb[r * F + f]! - mean[f]!) ** 2 / rowsB;
  const norm = (x: Float32Array) => x.map((v, i) => (v - mean[i % F]!) / Math.sqrt(sd[i % F]! + 1e-12));
  const zb = norm(fb);
  const zt = norm(ft);
  const stacked = Float64Array.from(outputs.get('blend')!);
  let positives = '';
  for (let k = 0; k < TASK_COUNT; k++) {
    if (k === WATCH_FRACTION_TASK) continue;
    const w = fitLinear(zb, F, (r) => partB.labels[r * TASK_COUNT + k]!, true, {
      epochs: 20,
      l2: 1e-3,
      seed: 31 + k,
    });
    for (let r = 0; r < test.rows; r++) {
      let a = w[F]!;
      for (let f = 0; f < F; f++) a += w[f]! * zt[r * F + f]!;
      stacked[r * TASK_COUNT + k] = 1 / (1 + Math.exp(-a));
    }
    let n = 0;
    for (let r = 0; r < rowsB; r++) n += partB.labels[r * TASK_COUNT + k]!;
    positives += ` ${RANKING_TASKS[k]} ${n}: [${Array.from(w.subarray(0, F), (v) => v.toFixed(2)).join(' ')}]`;
  }
  outputs.set('stack', stacked);
  console.error(`stack fitted on ${rowsB} rows in ${seconds(t)};${positives}`);
}

if (args.dump) {
  // Test rows' outputs, labels and users, for analysis elsewhere.
  mkdirSync(args.dump, { recursive: true });
  for (const [name, out] of outputs) writeFileSync(join(args.dump, `${name}.f64`), out);
  writeFileSync(join(args.dump, 'labels.f32'), test.labels);
  writeFileSync(join(args.dump, 'users.json'), JSON.stringify(test.userIds));
}

// Per-user AUCs, for the paired differences from the baseline.
const binary = RANKING_TASKS.map((_, k) => taskLabels(test.labels, k));
const reports = new Map<string, RankerTaskReport[]>();
const perUserAucs = new Map<string, Float64Array[]>();
for (const [name, out] of outputs) {
  reports.set(name, evaluateRankerTasks(test.userIds, out, test.labels));
  perUserAucs.set(
    name,
    RANKING_TASKS.map((_, k) => userAucs(test.userIds, taskColumn(out, k), binary[k]!)),
  );
}

if (lrSeedNames.length > 0) {
  // The baseline of several seeds: per user and task, the mean of their per-user AUCs (and the mean MAE).
  const each = lrSeedNames.map((name) => perUserAucs.get(name)!);
  perUserAucs.set(
    'lr',
    RANKING_TASKS.map((_, k) =>
      each[0]![k]!.map((_, u) => each.reduce((sum, aucs) => sum + aucs[k]![u]!, 0) / each.length),
    ),
  );
  const seedReports = lrSeedNames.map((name) => reports.get(name)!);
  const mean = (f: (r: RankerTaskReport[]) => number) =>
    seedReports.reduce((sum, r) => sum + f(r), 0) / seedReports.length;
  const merged = RANKING_TASKS.map((_, k) => ({
    ...seedReports[0]![k]!,
    userAuc: mean((r) => r[k]!.userAuc),
    auc: mean((r) => r[k]!.auc),
    ...(k === WATCH_FRACTION_TASK ? { mae: mean((r) => r[k]!.mae!), rmse: mean((r) => r[k]!.rmse!) } : {}),
  }));
  // Listed first, as the reference.
  const rest = [...reports];
  reports.clear();
  reports.set('lr', merged);
  for (const [name, report] of rest) reports.set(name, report);
}

const f4 = (v: number) => v.toFixed(4);
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
function difference(name: string, k: number): string {
  const base = perUserAucs.get('lr')?.[k];
  const mine = perUserAucs.get(name)![k]!;
  if (!base || name === 'lr') return '';
  const { mean, standardError } = pairedDifference(mine, base);
  return ` (${signed(mean)} ± ${standardError.toFixed(4)})`;
}

const positives = reports
  .values()
  .next()
  .value!.map((r) => r.positives);
console.log(
  `\nworld: ${USERS} users x ${ITEMS} videos x ${DAYS} days, seed ${SEED}; ${train.rows} training rows, ${test.rows} test rows`,
);
console.log(`mlp: ${JSON.stringify(mlpOptions)}`);
console.log(
  'per-user AUC (difference from lr ± its standard error over users); watch fraction: per-user AUC of fraction >= 0.5, then MAE\n',
);
console.log(
  `| model | ${RANKING_TASKS.map((t, k) => `${t} (${positives[k]})`).join(' | ')} | watch fraction MAE |`,
);
console.log(`|---|${RANKING_TASKS.map(() => '---|').join('')}---|`);
for (const [name, report] of reports)
  console.log(
    `| ${name} | ${report.map((r, k) => `${f4(r.userAuc)}${difference(name, k)}`).join(' | ')} | ${f4(report[WATCH_FRACTION_TASK]!.mae!)} |`,
  );

if (args.cross) {
  // How well each model's output for one task ranks another task's labels (per-user AUC): shared signal.
  console.log('\nper-user AUC of a model output (rows) against task labels (columns)\n');
  console.log(`| model output | ${RANKING_TASKS.join(' | ')} |`);
  console.log(`|---|${RANKING_TASKS.map(() => '---|').join('')}`);
  for (const [name, out] of outputs)
    for (let j = 0; j < TASK_COUNT; j++) {
      const scores = taskColumn(out, j);
      const cells = RANKING_TASKS.map((_, k) => f4(meanUserAuc(test.userIds, scores, binary[k]!)));
      console.log(`| ${name} ${RANKING_TASKS[j]} | ${cells.join(' | ')} |`);
    }
}

if (args.timing && mlp) {
  // Serving time for 300 candidates of one request: real user and candidate rows drawn from the test day.
  const N = 300;
  const rng = new Rng('ranker-family-timing');
  const requests = Array.from({ length: 32 }, () => {
    const u = rng.int(test.rows);
    const candidates = new Float32Array(N * C);
    for (let j = 0; j < N; j++) {
      const r = rng.int(test.rows);
      candidates.set(test.candidate.subarray(r * C, (r + 1) * C), j * C);
    }
    return { user: test.user.slice(u * U, (u + 1) * U), candidates };
  });
  const scores = new Float32Array(N);
  const tasks = new Float32Array(N * TASK_COUNT);
  const mlpScorer = new MlpScorer(mlp, U);
  let next = 0;
  const fns: Record<string, () => unknown> = {
    mlp: () => {
      const q = requests[next++ & 31]!;
      return mlpScorer.score(q.user, q.candidates, scores, tasks);
    },
  };
  if (gbdt) {
    const treeScorer = new RankerScorer(gbdt, U);
    fns['gbdt'] = () => {
      const q = requests[next++ & 31]!;
      return treeScorer.score(q.user, q.candidates, scores, tasks);
    };
    const blendTasks = new Float32Array(N * TASK_COUNT);
    fns['gbdt+mlp'] = () => {
      const q = requests[next++ & 31]!;
      treeScorer.score(q.user, q.candidates, scores, tasks);
      return mlpScorer.score(q.user, q.candidates, scores, blendTasks);
    };
  }
  const measured = await measureEach(fns, { warmupMs: 500, runs: 3000, minTimeMs: 3000 });
  console.log(`\nserving, ${N} candidates per call (shared 2-core machine, other jobs running: noisy)\n`);
  console.log('| scorer | p50 | p99 | min |');
  console.log('|---|---|---|---|');
  for (const [name, m] of Object.entries(measured))
    console.log(
      `| ${name} | ${(m.stats.median / 1e6).toFixed(3)} ms | ${(m.stats.p99 / 1e6).toFixed(3)} ms | ${(m.stats.min / 1e6).toFixed(3)} ms |`,
    );
}
