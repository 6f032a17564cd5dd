import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auc,
  expectedCalibrationError,
  logLoss,
  meanUserAuc,
  pairedDifference,
  userAucs,
} from './classification-metrics.js';

describe('auc', () => {
  it('counts correctly ordered positive-negative pairs, ties as one half', () => {
    // Pairs (positive, negative): (0.35, 0.1) yes, (0.35, 0.4) no, (0.8, 0.1) yes, (0.8, 0.4) yes.
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auc([0.5, 0.5], [0, 1])).toBe(0.5);
    expect(auc([0.2, 0.5, 0.5, 0.9], [false, true, false, true])).toBe(0.875);
    expect(auc([0.3, 0.7], [1, 1])).toBeNaN();
  });

  it('agrees with counting all pairs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean()), { maxLength: 40 }),
        (rows) => {
          const scores = rows.map(([s]) => s);
          const labels = rows.map(([, y]) => y);
          let wins = 0;
          let pairs = 0;
          for (const [sp, yp] of rows)
            for (const [sn, yn] of rows)
              if (yp && !yn) {
                pairs++;
                wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
              }
          const value = auc(scores, labels);
          if (pairs === 0) expect(value).toBeNaN();
          else expect(value).toBeCloseTo(wins / pairs, 12);
        },
      ),
    );
  });

  it('refuses scores and labels of different lengths', () => {
    expect(() => auc([0.1], [0, 1])).toThrow('differ in length');
  });
});

describe('meanUserAuc', () => {
  it('averages the AUC of users with both classes and skips the others', () => {
    const users = [1, 1, 1, 1, 2, 2, 3];
    const scores = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.5];
    const labels = [0, 0, 1, 1, 1, 0, 1];
    // User 1: 0.75; user 2: its positive scores below its negative, 0; user 3: one class, skipped.
    expect(meanUserAuc(users, scores, labels)).toBe(0.375);
    expect(meanUserAuc(['a'], [0.5], [1])).toBeNaN();
  });

  it('gives each user their own AUC in first-seen order', () => {
    const aucs = userAucs(['b', 'a', 'b', 'a', 'c'], [0.9, 0.2, 0.1, 0.6, 0.5], [1, 0, 0, 1, 1]);
    expect(Array.from(aucs)).toEqual([1, 1, Number.NaN]);
    expect(() => userAucs(['a'], [0.1, 0.2], [0, 1])).toThrow('users and scores differ in length (1 and 2)');
  });
});

describe('pairedDifference', () => {
  it('is the mean difference of the pairs where both are numbers, with the standard error of that mean', () => {
    // Differences 0.1, 0.3, -0.1 (the NaN pair is skipped): mean 0.1; sample variance
    // ((0)^2 + 0.2^2 + 0.2^2) / 2 = 0.04; standard error sqrt(0.04 / 3).
    const d = pairedDifference([0.7, 0.9, 0.5, Number.NaN], [0.6, 0.6, 0.6, 0.5]);
    expect(d.pairs).toBe(3);
    expect(d.mean).toBeCloseTo(0.1, 12);
    expect(d.standardError).toBeCloseTo(Math.sqrt(0.04 / 3), 12);
    expect(pairedDifference([0.5], [0.4]).standardError).toBeNaN();
    expect(() => pairedDifference([0.5], [0.4, 0.3])).toThrow('paired values differ in length (1 and 2)');
  });
});

describe('logLoss', () => {
  it('is the mean negative log-likelihood in nats, clipped at 1e-15', () => {
    expect(logLoss([0.9, 0.1], [1, 0])).toBeCloseTo(-Math.log(0.9), 12);
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.log(2), 12);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-15), 6);
    expect(() => logLoss([1.2], [1])).toThrow('expected a number from 0 to 1');
  });
});

describe('expectedCalibrationError', () => {
  it('weighs each bin by its share of pairs', () => {
    // Bins: [0, 0.1) holds 0.05 (label 0); [0.1, 0.2) holds 0.15 (label 1); [0.9, 1] holds 0.95 and 1.0.
    const ece = expectedCalibrationError([0.05, 0.15, 0.95, 1.0], [0, 1, 1, 1]);
    expect(ece).toBeCloseTo(0.25 * 0.05 + 0.25 * 0.85 + 0.5 * 0.025, 12);
    expect(expectedCalibrationError([0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0])).toBeCloseTo(0, 12);
    expect(expectedCalibrationError([], [])).toBeNaN();
  });
});
