/**
 * The multi-task ranker's quality against per-task logistic regression, on simulated worlds large enough
 * for the rare tasks to be measured: per task, the served ranker's per-user AUC on the held-out last day
 * beside the logistic regression's on the same rows.
 *
 *   npm run bench -- ranker-quality                       # 50,000 users x 5,000 videos x 4 days, worlds 7, 8, 9
 *   npm run bench -- ranker-quality -- --seeds 7 --cache .tmp/ranker-samples
 *
 * Each world is simulated, loaded into DuckDB and turned into samples through the feature store's offline
 * path (`test/helpers/ranking-world.ts`, as the ranker's quality test does); training rows run from half a
 * day after the start to the start of the last day, test rows are the last day (`lastDaySplit`). The ranker
 * is trained as the ranker job trains it (`trainRanker`, default options). The baseline is fitted twice on
 * the same rows: as docs/ranker.md defines it (10 epochs of Adam at a constant rate) and converged (a cosine
 * decay over 30 epochs); per task the figure's baseline is whichever of the two has the higher per-user AUC
 * on the test day, so the ratio is taken against the stronger fit. The notes give the paired per-user
 * difference from each with its standard error over users (`pairedDifference`): at 50,000 users the last
 * day holds about 1,600 shares and 1,100 follows, where a 3,000-user test day holds a few dozen.
 *
 * Flags: `--users`, `--items`, `--days`, `--seeds 7,8,9`, `--cache DIR` (keeps each world's samples).
 */
import { meanOfNumbers, pairedDifference, userAucs } from '../src/evaluation/classification-metrics.js';
import { taskColumn, taskLabels } from '../src/evaluation/ranker-evaluation.js';
import { predictGbdtTasks } from '../src/models/ranker-gbdt.js';
import { predictLogisticRanker, trainLogisticRanker } from '../src/models/ranker-linear.js';
import { trainRanker } from '../src/models/ranker-train.js';
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

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(0)} s`;
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;

for (const seed of SEEDS) {
  const { samples, startMs } = await rankingSamplesOfWorld(
    { users: USERS, items: ITEMS, days: DAYS, seed },
    CACHE,
  );
  const { train, test } = lastDaySplit(samples, startMs, DAYS);
  const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
  const xTrain = modelInput(train);
  const xTest = modelInput(test);

  let t = performance.now();
  const artifact = trainRanker(train);
  const rankerTime = seconds(t);
  t = performance.now();
  const asDefined = trainLogisticRanker(xTrain, width, train.labels);
  const asDefinedTime = seconds(t);
  t = performance.now();
  const converged = trainLogisticRanker(xTrain, width, train.labels, { decay: 'cosine', epochs: 30 });
  const convergedTime = seconds(t);
  console.error(
    `world ${seed}: ${train.rows} training rows, ${test.rows} test rows; trained the ranker in ${rankerTime}, ` +
      `the baselines in ${asDefinedTime} (as defined) and ${convergedTime} (converged)`,
  );

  const outputs = {
    ranker: predictGbdtTasks(artifact.ranker, xTest),
    asDefined: predictLogisticRanker(asDefined, xTest),
    converged: predictLogisticRanker(converged, xTest),
  };
  for (const [k, task] of RANKING_TASKS.entries()) {
    // The watch fraction is ranked against "watched at least half" (`binaryTaskLabel`).
    const labels = taskLabels(test.labels, k);
    let positives = 0;
    for (const y of labels) positives += y;
    // Each model's per-user AUCs, once: their mean is the figure, their paired differences the notes.
    const perUser = (m: Float64Array) => userAucs(test.userIds, taskColumn(m, k), labels);
    const aucs = {
      ranker: perUser(outputs.ranker),
      asDefined: perUser(outputs.asDefined),
      converged: perUser(outputs.converged),
    };
    const mean = {
      ranker: meanOfNumbers(aucs.ranker),
      asDefined: meanOfNumbers(aucs.asDefined),
      converged: meanOfNumbers(aucs.converged),
    };
    const against = (other: Float64Array) => {
      const d = pairedDifference(aucs.ranker, other);
      return `${signed(d.mean)} ± ${d.standardError.toFixed(4)} over ${d.pairs} users`;
    };
    const stronger = mean.converged >= mean.asDefined ? 'converged' : 'asDefined';
    report({
      name: `${task}.world${seed}`,
      unit: 'per-user AUC',
      value: mean.ranker,
      baseline: mean[stronger],
      baselineName: `per-task logistic regression (${stronger === 'converged' ? 'converged' : 'as defined'}, the stronger fit here), same rows`,
      better: 'higher',
      params: { users: USERS, items: ITEMS, days: DAYS, seed, trainingRows: train.rows, testRows: test.rows },
      notes:
        `${positives} positive test rows${k === WATCH_FRACTION_TASK ? ' (watch fraction >= 0.5)' : ''}; ` +
        `ranker minus the converged fit (${mean.converged.toFixed(4)}) ${against(aucs.converged)}; ` +
        `minus the fit as defined (${mean.asDefined.toFixed(4)}) ${against(aucs.asDefined)}`,
    });
  }
}
