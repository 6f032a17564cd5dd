/**
 * The multi-task ranker's quality against per-task logistic regression, on simulated worlds large enough
 * for the rare tasks to be measured: per task, the served ranker's per-user AUC on the held-out last day
 * beside the logistic regression's on the same rows, each the mean over several training seeds.
 *
 *   npm run bench -- ranker-quality                       # 50,000 users x 5,000 videos x 4 days, worlds 7, 8, 9
 *   npm run bench -- ranker-quality -- --seeds 7 --cache .tmp/ranker-samples --train-seeds 3
 *
 * Each world is simulated, loaded into DuckDB and turned into samples through the feature store's offline
 * path (`test/helpers/ranking-world.ts`, as the ranker's quality test does); training rows run from half a
 * day after the start to the start of the last day, test rows are the last day (`lastDaySplit`).
 *
 * Why several training seeds: on share and follow a single fit of either model moves by 0.01-0.05 in
 * per-user AUC with its seed alone (docs/ranker.md), as much as the differences being measured, so one fit
 * of each compares seeds, not models. The ranker is trained as the ranker job trains it (`trainGbdt` with
 * `trainRanker`'s options, on the same model input; the pre-ranker, which is not measured here, is left out),
 * once with its default seeds and then with seeds 101, 202, ... for its trees' row sampling and its linear
 * base. The baseline is fitted as docs/ranker.md defines it (10 epochs of Adam at a constant rate) from
 * seeds 3, 4, 5, ..., and once converged (a cosine decay over 30 epochs, whose per-user AUC moves by under
 * 0.003 with the seed). Per task the figure is the ranker's mean over its seeds, and its baseline whichever
 * baseline (the as-defined fits' mean, or the converged fit) has the higher per-user AUC on the test day, so
 * the ratio is taken against the stronger one, chosen on the test data in its own favour. The notes give
 * every seed's figure and the paired per-user difference (each user's AUC averaged over the seeds) from
 * each baseline with its standard error over users (`pairedDifference`): at 50,000 users the last day holds
 * about 1,600 shares and 1,100 follows, where a 3,000-user test day holds a few dozen.
 *
 * With several worlds, a pooled row per task sets the ranker against each world's stronger baseline over
 * all the worlds' users together: one world's rare-task difference can sit within its noise while the
 * worlds together measure it.
 *
 * Flags: `--users`, `--items`, `--days`, `--seeds 7,8,9` (worlds), `--train-seeds N` (fits of each model per
 * world, default 3), `--cache DIR` (keeps each world's samples).
 */
import { meanOfNumbers, pairedDifference, userAucs } from '../src/evaluation/classification-metrics.js';
import { taskColumn, taskLabels } from '../src/evaluation/ranker-evaluation.js';
import { type GbdtOptions, predictGbdtTasks, trainGbdt } from '../src/models/ranker-gbdt.js';
import { predictLogisticRanker, trainLogisticRanker } from '../src/models/ranker-linear.js';
import {
  lastDaySplit,
  modelInput,
  RANKING_TASKS,
  WATCH_FRACTION_TASK,
} from '../src/models/ranking-samples.js';
import { rankingSamplesOfWorld } from '../test/helpers/ranking-world.js';
import { benchArgs, report } from './harness/index.js';

const args = benchArgs();
const USERS = args.number('users', args.size(50_000, 3_000));
const ITEMS = args.number('items', args.size(5_000, 600));
const DAYS = args.number('days', args.size(4, 3));
const SEEDS = (args.text('seeds') ?? args.size('7,8,9', '21')).split(',').map((s) => {
  const seed = Number(s);
  if (!Number.isInteger(seed)) throw new Error(`--seeds takes integers separated by commas, not ${s}`);
  return seed;
});
const CACHE = args.text('cache');
const TRAIN_SEEDS = args.number('train-seeds', 3);
if (!(Number.isInteger(TRAIN_SEEDS) && TRAIN_SEEDS >= 1))
  throw new Error(`--train-seeds takes a whole number of fits per model, at least 1, not ${TRAIN_SEEDS}`);

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
/** Per user, the mean of several fits' per-user AUCs (NaN where the user has only one class). */
const meanOverFits = (fits: Float64Array[]) => {
  const out = new Float64Array(fits[0]!.length);
  for (const a of fits) for (let u = 0; u < a.length; u++) out[u]! += a[u]!;
  for (let u = 0; u < out.length; u++) out[u]! /= fits.length;
  return out;
};

/**
 * Per task, every world's per-user AUCs of the ranker (mean over its fits) and of that world's stronger
 * baseline, appended world after world: the pooled rows compare them over all the worlds' users.
 */
const pooled = RANKING_TASKS.map(() => ({ ranker: [] as number[], baseline: [] as number[] }));

for (const seed of SEEDS) {
  const { samples, startMs } = await rankingSamplesOfWorld(
    { users: USERS, items: ITEMS, days: DAYS, seed },
    CACHE,
  );
  const { train, test } = lastDaySplit(samples, startMs, DAYS);
  const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
  const xTrain = modelInput(train);
  const xTest = modelInput(test);

  // Fit i of the ranker: its default seeds (the served model) for i = 0, else 101 i for the trees' row
  // sampling and the linear base; fit i of the baseline as defined: seed 3 + i (its default is 3).
  const rankerOptions = (i: number): GbdtOptions =>
    i === 0 ? {} : { seed: 101 * i, linear: { seed: 101 * i } };
  const fits = { ranker: [] as Float64Array[], asDefined: [] as Float64Array[] };
  let t = performance.now();
  for (let i = 0; i < TRAIN_SEEDS; i++)
    fits.ranker.push(predictGbdtTasks(trainGbdt(xTrain, width, train.labels, rankerOptions(i)), xTest));
  const rankerTime = seconds(t);
  t = performance.now();
  for (let i = 0; i < TRAIN_SEEDS; i++)
    fits.asDefined.push(
      predictLogisticRanker(trainLogisticRanker(xTrain, width, train.labels, { seed: 3 + i }), xTest),
    );
  const asDefinedTime = seconds(t);
  t = performance.now();
  const converged = predictLogisticRanker(
    trainLogisticRanker(xTrain, width, train.labels, { decay: 'cosine', epochs: 30 }),
    xTest,
  );
  const convergedTime = seconds(t);
  console.error(
    `world ${seed}: ${train.rows} training rows, ${test.rows} test rows; ${TRAIN_SEEDS} fits of the ranker in ` +
      `${rankerTime} and of the baseline as defined in ${asDefinedTime}; the converged baseline in ${convergedTime}`,
  );

  for (const [k, task] of RANKING_TASKS.entries()) {
    // The watch fraction is ranked against "watched at least half" (`binaryTaskLabel`).
    const labels = taskLabels(test.labels, k);
    let positives = 0;
    for (const y of labels) positives += y;
    const perUser = (m: Float64Array) => userAucs(test.userIds, taskColumn(m, k), labels);
    // Each fit's per-user AUCs; a model's per-user figure is their mean over its fits.
    const seedAucs = { ranker: fits.ranker.map(perUser), asDefined: fits.asDefined.map(perUser) };
    const aucs = {
      ranker: meanOverFits(seedAucs.ranker),
      asDefined: meanOverFits(seedAucs.asDefined),
      converged: perUser(converged),
    };
    const mean = {
      ranker: meanOfNumbers(aucs.ranker),
      asDefined: meanOfNumbers(aucs.asDefined),
      converged: meanOfNumbers(aucs.converged),
    };
    const eachFit = (list: Float64Array[]) => list.map((a) => meanOfNumbers(a).toFixed(4)).join(', ');
    const against = (other: Float64Array) => {
      const d = pairedDifference(aucs.ranker, other);
      return `${signed(d.mean)} ± ${d.standardError.toFixed(4)} over ${d.pairs} users`;
    };
    const stronger = mean.converged >= mean.asDefined ? 'converged' : 'asDefined';
    // A loop, not push(...): a spread of a large world's users would overflow the call's arguments.
    for (let u = 0; u < aucs.ranker.length; u++) {
      pooled[k]!.ranker.push(aucs.ranker[u]!);
      pooled[k]!.baseline.push(aucs[stronger][u]!);
    }
    report({
      name: `${task}.world${seed}`,
      unit: 'per-user AUC',
      value: mean.ranker,
      baseline: mean[stronger],
      baselineName: `per-task logistic regression (${stronger === 'converged' ? 'converged' : `as defined, mean of ${TRAIN_SEEDS} seeds`}, the stronger here), same rows`,
      better: 'higher',
      params: {
        users: USERS,
        items: ITEMS,
        days: DAYS,
        seed,
        trainSeeds: TRAIN_SEEDS,
        trainingRows: train.rows,
        testRows: test.rows,
      },
      notes:
        `${positives} positive test rows${k === WATCH_FRACTION_TASK ? ' (watch fraction >= 0.5)' : ''}; ` +
        `ranker fits ${eachFit(seedAucs.ranker)}, baseline as defined ${eachFit(seedAucs.asDefined)}; ` +
        `ranker minus the converged fit (${mean.converged.toFixed(4)}) ${against(aucs.converged)}; ` +
        `minus the fits as defined (${mean.asDefined.toFixed(4)}) ${against(aucs.asDefined)}`,
    });
  }
}

if (SEEDS.length > 1)
  for (const [k, task] of RANKING_TASKS.entries()) {
    const { ranker, baseline } = pooled[k]!;
    const d = pairedDifference(ranker, baseline);
    report({
      name: `${task}.pooled`,
      unit: 'per-user AUC',
      value: meanOfNumbers(ranker),
      baseline: meanOfNumbers(baseline),
      baselineName: "per-task logistic regression, each world's stronger baseline above, same users",
      better: 'higher',
      params: { users: USERS, items: ITEMS, days: DAYS, worlds: SEEDS.join('+'), trainSeeds: TRAIN_SEEDS },
      notes:
        `the users of worlds ${SEEDS.join(', ')} together (each with both classes on the test day); ` +
        `ranker minus baseline ${signed(d.mean)} ± ${d.standardError.toFixed(4)} over ${d.pairs} users`,
    });
  }
