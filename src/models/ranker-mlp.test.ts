import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { predictLogisticRanker, trainLogisticRanker } from './ranker-linear.js';
import {
  initMlpParams,
  MlpScorer,
  MlpWorkspace,
  mlpLayout,
  mlpLossAndGradient,
  mlpLossReference,
  predictMlpReference,
  predictMlpTasks,
  trainMlpRanker,
} from './ranker-mlp.js';
import { DEFAULT_FUSION_WEIGHTS, fusionVector } from './ranker-scorer.js';
import { TASK_COUNT, WATCH_FRACTION_TASK } from './ranking-samples.js';

/**
 * Per task, the mean over users (with both classes) of the share of (positive, negative) pairs the scores
 * order right, ties counting half (the watch fraction: positive when >= 0.5). Models may not import the
 * evaluation module (ARCHITECTURE.md), so the test has its own, by its definition.
 */
function perUserAuc(users: readonly string[], outputs: Float64Array, labels: Float32Array): number[] {
  const rowsOf = new Map<string, number[]>();
  users.forEach((u, r) => {
    const rows = rowsOf.get(u);
    if (rows) rows.push(r);
    else rowsOf.set(u, [r]);
  });
  return Array.from({ length: TASK_COUNT }, (_, k) => {
    const positive = (r: number) =>
      k === WATCH_FRACTION_TASK ? labels[r * TASK_COUNT + k]! >= 0.5 : labels[r * TASK_COUNT + k] === 1;
    let total = 0;
    let counted = 0;
    for (const rows of rowsOf.values()) {
      let right = 0;
      let pairs = 0;
      for (const p of rows)
        for (const n of rows) {
          if (!positive(p) || positive(n)) continue;
          const sp = outputs[p * TASK_COUNT + k]!;
          const sn = outputs[n * TASK_COUNT + k]!;
          right += sp > sn ? 1 : sp === sn ? 0.5 : 0;
          pairs++;
        }
      if (pairs === 0) continue;
      total += right / pairs;
      counted++;
    }
    return total / counted;
  });
}

/** Mean absolute error of the watch fraction. */
function fractionMae(outputs: Float64Array, labels: Float32Array): number {
  let sum = 0;
  const rows = labels.length / TASK_COUNT;
  for (let r = 0; r < rows; r++)
    sum += Math.abs(
      outputs[r * TASK_COUNT + WATCH_FRACTION_TASK]! - labels[r * TASK_COUNT + WATCH_FRACTION_TASK]!,
    );
  return sum / rows;
}

/** Random standardised inputs and labels (binary tasks 0/1, the watch fraction in [0, 2]). */
function tinyBatch(rows: number, width: number, seed: string) {
  const rng = new Rng(seed);
  const inputs = Array.from({ length: rows }, () => Array.from({ length: width }, () => rng.normal(0, 1)));
  const targets = Array.from({ length: rows }, () =>
    Array.from({ length: TASK_COUNT }, (_, k) =>
      k === WATCH_FRACTION_TASK ? rng.uniform(0, 2) : +rng.chance(0.4),
    ),
  );
  return { inputs, targets };
}

describe.each([false, true])('MLP kernels against their plain definitions (wide part: %s)', (wide) => {
  const widths = [4, 5, 3];
  const taskWeights = [1, 2, 0.5, 3, 1.5];
  const { inputs, targets } = tinyBatch(7, widths[0]!, 'mlp-grad');
  const params = initMlpParams(widths, [0.3, 0.1, 0.05, 0.05, 0.6], 11, wide);
  // Larger head weights than the initialisation's, so every head's gradient reaches the bottom clearly;
  // the wide part (zero at initialisation) random too.
  const layout = mlpLayout(widths, wide);
  const rng = new Rng('mlp-grad-heads');
  for (let i = layout.headWeight; i < layout.headBias; i++) params[i] = rng.normal(0, 0.8);
  if (wide) for (let i = layout.wide; i < layout.size; i++) params[i] = rng.normal(0, 0.5);

  it('computes the loss and its exact gradient (central differences of the reference loss)', () => {
    const ws = new MlpWorkspace(widths, inputs.length, wide);
    for (const [r, row] of inputs.entries()) ws.acts[0]!.set(row, r * widths[0]!);
    const flatTargets = Float32Array.from(targets.flat());
    const grad = new Float32Array(layout.size);
    const loss = mlpLossAndGradient(params, ws, inputs.length, flatTargets, 0, taskWeights, grad);
    const reference = (p: Float64Array) =>
      mlpLossReference(
        p,
        widths,
        inputs,
        targets.map((t) => Array.from(Float32Array.from(t))),
        taskWeights,
        wide,
      );
    const p64 = Float64Array.from(params);
    expect(loss).toBeCloseTo(reference(p64), 5);
    const eps = 1e-5;
    let checked = 0;
    for (let i = 0; i < layout.size; i++) {
      const saved = p64[i]!;
      p64[i] = saved + eps;
      const up = reference(p64);
      p64[i] = saved - eps;
      const down = reference(p64);
      p64[i] = saved;
      const numeric = (up - down) / (2 * eps);
      expect(grad[i], `parameter ${i}`).toBeCloseTo(numeric, 4);
      if (Math.abs(numeric) > 1e-3) checked++;
    }
    // The check must have exercised most parameters, not a net of dead units.
    expect(checked).toBeGreaterThan(layout.size * 0.6);
  });

  it('predicts what the reference prediction does, in batches and on the serving path (NaN inputs too)', () => {
    const U = 3;
    const C = 5;
    const rows = 40;
    const data = new Rng('mlp-predict');
    const x = Float32Array.from({ length: rows * (U + C) }, () =>
      data.chance(0.1) ? Number.NaN : data.exponential(0.2) * (data.chance(0.2) ? -1 : 1),
    );
    const labels = Float32Array.from({ length: rows * TASK_COUNT }, (_, i) =>
      i % TASK_COUNT === WATCH_FRACTION_TASK ? data.uniform(0, 1) : +data.chance(0.3),
    );
    const model = trainMlpRanker(x, U + C, labels, { hidden: [6, 4], epochs: 3, batch: 8, seed: 2, wide });
    const reference = predictMlpReference(model, x);
    const batch = predictMlpTasks(model, x);
    for (let i = 0; i < reference.length; i++) expect(batch[i]).toBeCloseTo(reference[i]!, 5);

    const scorer = new MlpScorer(model, U);
    const fusion = fusionVector(DEFAULT_FUSION_WEIGHTS);
    // One request: the first row's user features with every row's candidate features.
    const user = x.slice(0, U);
    const candidates = new Float32Array(rows * C);
    const joined = new Float32Array(rows * (U + C));
    for (let r = 0; r < rows; r++) {
      candidates.set(x.subarray(r * (U + C) + U, (r + 1) * (U + C)), r * C);
      joined.set(user, r * (U + C));
      joined.set(x.subarray(r * (U + C) + U, (r + 1) * (U + C)), r * (U + C) + U);
    }
    const expected = predictMlpReference(model, joined);
    const scores = new Float32Array(rows);
    const tasks = new Float32Array(rows * TASK_COUNT);
    expect(scorer.score(user, candidates, scores, tasks)).toBe(rows);
    for (let r = 0; r < rows; r++) {
      let fused = 0;
      for (let k = 0; k < TASK_COUNT; k++) {
        expect(tasks[r * TASK_COUNT + k]).toBeCloseTo(expected[r * TASK_COUNT + k]!, 5);
        fused += fusion[k]! * expected[r * TASK_COUNT + k]!;
      }
      expect(scores[r]).toBeCloseTo(fused, 4);
    }
  });

  it('refuses inputs of the wrong shape, naming what was expected', () => {
    const model = trainMlpRanker(new Float32Array(4 * 3), 3, new Float32Array(4 * TASK_COUNT), {
      hidden: [2],
      epochs: 1,
    });
    expect(() => trainMlpRanker(new Float32Array(10), 3, new Float32Array(4 * TASK_COUNT))).toThrow(
      /rows x width 3/,
    );
    expect(() =>
      trainMlpRanker(new Float32Array(12), 3, new Float32Array(4 * TASK_COUNT), { hidden: [] }),
    ).toThrow(/at least one hidden layer/);
    const scorer = new MlpScorer(model, 1);
    expect(() => scorer.score(new Float32Array(2), new Float32Array(4), new Float32Array(2))).toThrow(
      /expects 1/,
    );
    expect(() => scorer.score(new Float32Array(1), new Float32Array(5), new Float32Array(3))).toThrow(
      /candidate width 2/,
    );
    expect(() => scorer.score(new Float32Array(1), new Float32Array(4), new Float32Array(1))).toThrow(
      /holds 1 values for 2 candidates/,
    );
    expect(() => new MlpScorer(model, 4)).toThrow(/input width 3/);
  });
});

describe('MLP ranker on a planted multi-task structure', () => {
  it('learns every task, including a user x candidate interaction no linear model can rank', () => {
    // 400 users with 4 user features each, 60 candidates per user with 4 candidate features. The signal:
    // an interaction of user and candidate features (long watch, follow, watch fraction) that is constant
    // in each feature alone, plus additive candidate effects (like, share, follow). Rows are per user in
    // order: the first 40 train, the last 20 test.
    const rng = new Rng('mlp-planted');
    const users = 400;
    const perUser = 60;
    const U = 4;
    const C = 4;
    const W = U + C;
    const rows = users * perUser;
    const x = new Float32Array(rows * W);
    const labels = new Float32Array(rows * TASK_COUNT);
    const userIds: string[] = [];
    const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
    for (let u = 0; u < users; u++) {
      const uf = Array.from({ length: U }, () => rng.normal(0, 2));
      for (let j = 0; j < perUser; j++) {
        const r = u * perUser + j;
        const cf = Array.from({ length: C }, () => rng.normal(0, 2));
        x.set(uf, r * W);
        x.set(cf, r * W + U);
        userIds.push(`u${u}`);
        const match = Math.tanh(uf[0]!) * Math.tanh(cf[0]!);
        const logits = [
          -0.5 + 3 * match,
          -3 + 1.5 * Math.tanh(cf[1]!) + 1.5 * Math.tanh(uf[1]!) * Math.tanh(cf[2]!),
          -4 + 2 * Math.tanh(cf[1]!) + 1.5 * Math.tanh(cf[3]!),
          -4 + 2 * match + 1.5 * Math.tanh(cf[3]!),
        ];
        logits.forEach((z, k) => {
          labels[r * TASK_COUNT + k] = +rng.chance(sigmoid(z));
        });
        labels[r * TASK_COUNT + WATCH_FRACTION_TASK] = Math.max(0, 0.6 + 0.4 * match + rng.normal(0, 0.15));
      }
    }
    const pick = (keep: (j: number) => boolean) => {
      const chosen: number[] = [];
      for (let r = 0; r < rows; r++) if (keep(r % perUser)) chosen.push(r);
      const xs = new Float32Array(chosen.length * W);
      const ys = new Float32Array(chosen.length * TASK_COUNT);
      chosen.forEach((r, i) => {
        xs.set(x.subarray(r * W, (r + 1) * W), i * W);
        ys.set(labels.subarray(r * TASK_COUNT, (r + 1) * TASK_COUNT), i * TASK_COUNT);
      });
      return { xs, ys, users: chosen.map((r) => userIds[r]!) };
    };
    const train = pick((j) => j < 40);
    const test = pick((j) => j >= 40);
    const model = trainMlpRanker(train.xs, W, train.ys, { hidden: [32, 16], epochs: 10, seed: 3 });
    const mlpOut = predictMlpTasks(model, test.xs);
    const linearOut = predictLogisticRanker(trainLogisticRanker(train.xs, W, train.ys), test.xs);
    const mlp = perUserAuc(test.users, mlpOut, test.ys);
    const linear = perUserAuc(test.users, linearOut, test.ys);
    // Measured: 0.80 to 0.90 per task (the linear model: 0.52 on long watch, 0.51 on the watch fraction).
    mlp.forEach((auc, k) => {
      expect(auc, `task ${k}`).toBeGreaterThan(0.75);
    });
    // The interaction: the per-task linear model sees nothing in it, the network does.
    expect(linear[0]!).toBeLessThan(0.6);
    expect(mlp[0]!).toBeGreaterThan(linear[0]! + 0.15);
    expect(fractionMae(mlpOut, test.ys)).toBeLessThan(fractionMae(linearOut, test.ys));
  });
});
