import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { Preranker, prerankReference, topK, topKReference, trainPreranker } from './prerank.js';
import {
  decodeRankerArtifact,
  encodeRankerArtifact,
  loadRankerArtifact,
  type RankerArtifact,
  saveRankerArtifact,
} from './ranker-artifact.js';
import {
  accumulateHistograms,
  binOf,
  cutPoints,
  HEAD_COUNT,
  headTargets,
  LINEAR_BASE_FIT,
  predictGbdtTasks,
  trainGbdt,
} from './ranker-gbdt.js';
import {
  fitLinear,
  type LinearOptions,
  predictLogisticRanker,
  signedLog1p,
  trainLogisticRanker,
} from './ranker-linear.js';
import { DEFAULT_FUSION_WEIGHTS, fusionVector, RankerScorer } from './ranker-scorer.js';
import { TASK_COUNT } from './ranking-samples.js';

/**
 * A synthetic ranking problem with the ranker's shapes: U user features, C candidate features (some
 * missing), labels that depend on an interaction of a user and a candidate feature.
 */
const U = 4;
const C = 7;
function synthetic(rows: number, seed: string) {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * (U + C));
  const labels = new Float32Array(rows * TASK_COUNT);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < U + C; f++)
      x[r * (U + C) + f] = rng.chance(0.05) ? Number.NaN : Math.floor(rng.float() * 50);
    const a = x[r * (U + C)]!;
    const b = x[r * (U + C) + U + 1]!;
    const match = (Number.isNaN(a) ? 25 : a) > 25 === (Number.isNaN(b) ? 0 : b) > 25 ? 1 : 0;
    const held = rng.chance(0.2 + 0.6 * match);
    const fraction = held ? 0.5 + 0.5 * rng.float() : 0.4 * rng.float();
    const o = r * TASK_COUNT;
    labels[o] = fraction >= 0.8 ? 1 : 0;
    labels[o + 1] = held && rng.chance(0.1 + 0.3 * match) ? 1 : 0;
    labels[o + 2] = held && rng.chance(0.05 + 0.1 * match) ? 1 : 0;
    labels[o + 3] = held && rng.chance(0.05 + 0.1 * match) ? 1 : 0;
    labels[o + 4] = fraction;
  }
  return { x, labels, rows };
}

function split(x: Float32Array, rows: number) {
  const user = new Float32Array(U);
  user.set(x.subarray(0, U));
  const candidates = new Float32Array(rows * C);
  for (let r = 0; r < rows; r++) {
    candidates.set(x.subarray(r * (U + C) + U, (r + 1) * (U + C)), r * C);
  }
  // The model input of the same user with every candidate.
  const joined = new Float32Array(rows * (U + C));
  for (let r = 0; r < rows; r++) {
    joined.set(user, r * (U + C));
    joined.set(candidates.subarray(r * C, (r + 1) * C), r * (U + C) + U);
  }
  return { user, candidates, joined };
}

const train = synthetic(3000, 'ranker-train');
const model = trainGbdt(train.x, U + C, train.labels, { trees: 12, depth: 4, bins: 16, seed: 5 });

function artifact(): RankerArtifact {
  return {
    userFeatureNames: Array.from({ length: U }, (_, i) => `u${i}`),
    candidateFeatureNames: Array.from({ length: C }, (_, i) => `c${i}`),
    weights: DEFAULT_FUSION_WEIGHTS,
    ranker: model,
    preranker: trainPreranker(split(train.x, train.rows).candidates, C, train.labels, DEFAULT_FUSION_WEIGHTS),
  };
}

describe('gradient-boosted multi-head trees', () => {
  it('bins so that bin > b exactly when x > cuts[b - 1], NaN in bin 0', () => {
    const rng = new Rng('bins');
    const values = Float32Array.from({ length: 500 }, () =>
      rng.chance(0.1) ? Number.NaN : Math.floor(rng.float() * 30),
    );
    const cuts = cutPoints(values, 16);
    expect(cuts.length).toBeGreaterThan(5);
    for (const x of values) {
      const bin = binOf(cuts, x);
      if (Number.isNaN(x)) expect(bin).toBe(0);
      else expect(bin).toBe(1 + cuts.filter((c) => c < x).length);
      for (let b = 1; b <= cuts.length; b++) expect(bin > b).toBe(x > cuts[b - 1]!);
    }
  });

  it('builds histograms by subtraction equal to direct accumulation', () => {
    const rng = new Rng('hist');
    const rows = 200;
    const width = 3;
    const bins = 5;
    const stride = 4;
    const gh = Float64Array.from({ length: rows * stride }, () => rng.float() - 0.5);
    const binned = Uint8Array.from({ length: rows * width }, () => rng.int(bins));
    const sampled = Int32Array.from({ length: rows }, (_, i) => i);
    const node = Int32Array.from({ length: rows }, () => rng.int(2));
    const block = width * bins * stride;
    const parent = new Float64Array(block);
    accumulateHistograms(parent, gh, binned, new Int32Array(rows), sampled, rows, width, bins, stride, -1);
    const direct = new Float64Array(2 * block);
    accumulateHistograms(direct, gh, binned, node, sampled, rows, width, bins, stride, -1);
    const right = new Float64Array(2 * block);
    accumulateHistograms(right, gh, binned, node, sampled, rows, width, bins, stride, 0);
    for (let j = 0; j < block; j++) {
      expect(right[block + j]).toBeCloseTo(direct[block + j]!, 12);
      expect(parent[j]! - right[block + j]!).toBeCloseTo(direct[j]!, 12);
    }
  });

  it('learns an interaction the per-task logistic regression cannot', () => {
    const test = synthetic(2000, 'ranker-test');
    const trees = predictGbdtTasks(model, test.x);
    const linear = predictLogisticRanker(trainLogisticRanker(train.x, U + C, train.labels), test.x);
    const error = (out: Float64Array) => {
      let e = 0;
      for (let r = 0; r < test.rows; r++)
        e += (out[r * TASK_COUNT + 1]! - test.labels[r * TASK_COUNT + 1]!) ** 2;
      return e / test.rows;
    };
    expect(error(trees)).toBeLessThan(error(linear) * 0.97);
  });

  it('fits its linear base to convergence by default: the base barely moves with the seed', () => {
    // Trees: 1, so the model is mostly its base; the base's weights are what the seed could move.
    const base = (linear: LinearOptions) =>
      trainGbdt(train.x, U + C, train.labels, { trees: 1, depth: 2, bins: 8, seed: 5, linear }).linear;
    const spread = (a: Float32Array, b: Float32Array) => {
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      return worst;
    };
    const byDefault = spread(base({ seed: 1 }), base({ seed: 2 }));
    // The schedule served until 2026-11-27: 10 epochs at a constant rate, where the last batches decide.
    const constantRate = spread(
      base({ seed: 1, decay: undefined, epochs: 10 }),
      base({ seed: 2, decay: undefined, epochs: 10 }),
    );
    expect(LINEAR_BASE_FIT).toEqual({ decay: 'cosine', epochs: 30 });
    expect(byDefault).toBeLessThan(constantRate / 5);
  });

  it('turns task labels into head targets: held, then each task among held plays', () => {
    const labels = Float32Array.from([1, 1, 0, 1, 0.9, 0, 0, 0, 0, 0.2]);
    expect(Array.from(headTargets(labels))).toEqual([
      1,
      1,
      1,
      0,
      1,
      Math.fround(0.9),
      0,
      0,
      0,
      0,
      0,
      Math.fround(0.2),
    ]);
  });
});

describe('RankerScorer', () => {
  const rows = 257;
  const request = split(synthetic(rows, 'ranker-request').x, rows);

  it('gives the reference prediction for every candidate, fused with the weights', () => {
    const scorer = new RankerScorer(model, U);
    const scores = new Float32Array(rows);
    const tasks = new Float32Array(rows * TASK_COUNT);
    expect(scorer.score(request.user, request.candidates, scores, tasks)).toBe(rows);
    const reference = predictGbdtTasks(model, request.joined);
    const fusion = fusionVector(DEFAULT_FUSION_WEIGHTS);
    for (let r = 0; r < rows; r++) {
      let fused = 0;
      for (let k = 0; k < TASK_COUNT; k++) {
        expect(tasks[r * TASK_COUNT + k]).toBeCloseTo(reference[r * TASK_COUNT + k]!, 5);
        fused += fusion[k]! * reference[r * TASK_COUNT + k]!;
      }
      expect(scores[r]).toBeCloseTo(fused, 4);
    }
  });

  it('names the feature width that is wrong', () => {
    const scorer = new RankerScorer(model, U);
    const scores = new Float32Array(rows);
    const failure = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(isForyouError(error, 'FY_INVALID_ARGUMENT')).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a ForyouError');
    };
    expect(failure(() => scorer.score(new Float32Array(U + 1), request.candidates, scores))).toMatch(
      `user feature vector has ${U + 1} values; the ranker expects ${U}`,
    );
    expect(failure(() => scorer.score(request.user, new Float32Array(C * 3 + 2), scores))).toMatch(
      `candidate width ${C}`,
    );
    expect(failure(() => scorer.score(request.user, request.candidates, new Float32Array(3)))).toMatch(
      'scores array holds 3 values',
    );
    const pre = new Preranker(artifact().preranker);
    expect(failure(() => pre.score(new Float32Array(C + 1), scores))).toMatch(`candidate width ${C}`);
  });
});

describe('pre-ranker', () => {
  it('scores as the reference definition does', () => {
    const a = artifact();
    const request = split(synthetic(300, 'prerank').x, 300);
    const pre = new Preranker(a.preranker);
    const scores = new Float32Array(300);
    pre.score(request.candidates, scores);
    for (let r = 0; r < 300; r++)
      expect(scores[r]).toBeCloseTo(
        prerankReference(a.preranker, request.candidates.subarray(r * C, (r + 1) * C)),
        4,
      );
  });

  it('cuts to the same set as a full sort, ties included', () => {
    const rng = new Rng('topk');
    for (const [count, k] of [
      [1000, 300],
      [50, 50],
      [10, 30],
      [1, 1],
      [777, 1],
    ] as const) {
      const scores = Float32Array.from({ length: count }, () => rng.int(40));
      const out = new Int32Array(Math.min(k, count));
      const n = topK(scores, count, k, new Int32Array(count), out);
      expect(n).toBe(Math.min(k, count));
      expect(Array.from(out).sort((a, b) => a - b)).toEqual(
        topKReference(scores, count, k).sort((a, b) => a - b),
      );
    }
  });

  it('keeps the candidates that score best', () => {
    const request = split(synthetic(1000, 'cut').x, 1000);
    const pre = new Preranker(artifact().preranker, 16);
    const out = new Int32Array(200);
    expect(pre.cut(request.candidates, 200, out)).toBe(200);
    const scores = new Float32Array(1000);
    pre.score(request.candidates, scores);
    const kept = new Set(out);
    const worstKept = Math.min(...Array.from(out, (i) => scores[i]!));
    for (let i = 0; i < 1000; i++) if (!kept.has(i)) expect(scores[i]).toBeLessThanOrEqual(worstKept);
  });
});

describe('logistic regression kernel', () => {
  it('log-scales as Math.log1p does, to 3e-3, with the sign kept', () => {
    for (let v = 0; v < 1e7; v = v * 1.07 + 0.01) {
      expect(Math.abs(signedLog1p(v) - Math.log1p(v))).toBeLessThan(3e-3);
      expect(signedLog1p(-v) + signedLog1p(v)).toBe(0);
    }
    expect(signedLog1p(0)).toBe(0);
  });

  it('recovers the signs of a linear-logistic truth', () => {
    const rng = new Rng('lr');
    const rows = 4000;
    const z = Float32Array.from({ length: rows * 3 }, () => rng.normal(0, 1));
    const y = Float32Array.from({ length: rows }, (_, r) =>
      rng.chance(1 / (1 + Math.exp(-(2 * z[r * 3]! - 1 * z[r * 3 + 2]!)))) ? 1 : 0,
    );
    const w = fitLinear(z, 3, (r) => y[r]!, true, { epochs: 30, learningRate: 0.05 });
    expect(w[0]).toBeGreaterThan(1.2);
    expect(Math.abs(w[1]!)).toBeLessThan(0.2);
    expect(w[2]).toBeLessThan(-0.6);
  });
});

describe('ranker artifact', () => {
  it('saves and loads every array and scores the same', async () => {
    const a = artifact();
    const path = join(mkdtempSync(join(tmpdir(), 'foryou-ranker-')), 'ranker.bin');
    await saveRankerArtifact(path, a);
    const b = await loadRankerArtifact(path);
    expect(b.userFeatureNames).toEqual(a.userFeatureNames);
    expect(b.candidateFeatureNames).toEqual(a.candidateFeatureNames);
    expect(b.weights).toEqual(a.weights);
    expect(b.ranker).toEqual(a.ranker);
    expect(b.preranker).toEqual(a.preranker);
    const request = split(synthetic(64, 'roundtrip').x, 64);
    const before = new Float32Array(64);
    const after = new Float32Array(64);
    new RankerScorer(a.ranker, U).score(request.user, request.candidates, before);
    new RankerScorer(b.ranker, U).score(request.user, request.candidates, after);
    expect(after).toEqual(before);
  });

  it('refuses a damaged file and says what is wrong', () => {
    const bytes = encodeRankerArtifact(artifact());
    const refuse = (b: Uint8Array) => {
      try {
        decodeRankerArtifact(b, 'x.bin');
      } catch (error) {
        expect(isForyouError(error, 'FY_VALIDATION_FAILED')).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a ForyouError');
    };
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expect(refuse(badMagic)).toMatch('does not start with FYRANK01');
    expect(refuse(bytes.slice(0, bytes.length - 8))).toMatch('runs past the end');
    expect(refuse(bytes.slice(0, 20))).toMatch('header runs past the end');
    expect(HEAD_COUNT).toBe(6);
  });
});
