import { describe, expect, it } from 'vitest';
import { compareArms, normalCdf, normalQuantile, summarizeArm } from './experiment.js';

const control = Array.from({ length: 40 }, (_, i) => (i * 7) % 11);
const treatment = Array.from({ length: 50 }, (_, i) => ((i * 5) % 13) + 1);

describe('A/B comparison', () => {
  it('reduces to the two-sample mean comparison when every denominator is 1 (hand-computed)', () => {
    const r = compareArms({ y: control }, { y: treatment });
    expect(r.control.value).toBeCloseTo(5.05, 12);
    expect(r.treatment.value).toBeCloseTo(7.02, 12);
    expect(r.control.se).toBeCloseTo(0.5150927225466428, 10);
    expect(r.treatment.se).toBeCloseTo(0.5402115987542024, 10);
    expect(r.difference).toBeCloseTo(1.97, 12);
    const half = 1.959963984540054 * 0.7464241985956003;
    expect(r.differenceCi[0]).toBeCloseTo(1.97 - half, 5);
    expect(r.differenceCi[1]).toBeCloseTo(1.97 + half, 5);
    expect(r.lift).toBeCloseTo(7.02 / 5.05 - 1, 12);
    // z = 1.97 / 0.7464 = 2.639: two-sided p = 0.00831
    expect(r.pValue).toBeCloseTo(0.00831, 4);
  });

  it('uses the delta method over users for a ratio metric (hand-computed)', () => {
    const y = Array.from({ length: 36 }, (_, i) => (3 * i) % 17);
    const x = Array.from({ length: 36 }, (_, i) => 1 + (i % 4));
    const s = summarizeArm({ y, x });
    expect(s.value).toBeCloseTo(3.0555555555555554, 12);
    expect(s.se).toBeCloseTo(0.41838692504381514, 10);
  });

  it('finds no difference between identical arms, and a lift interval that covers 0', () => {
    const r = compareArms({ y: control }, { y: control });
    expect(r.difference).toBe(0);
    expect(r.pValue).toBeCloseTo(1, 6);
    expect(r.liftCi[0]).toBeLessThan(0);
    expect(r.liftCi[1]).toBeGreaterThan(0);
  });

  it('refuses arms too small to compare, mismatched lengths and bad values, naming them', () => {
    expect(() => compareArms({ y: [1, 2, 3] }, { y: treatment })).toThrow(/control arm has 3 users/);
    expect(() => summarizeArm({ y: [1, 2], x: [1] })).toThrow(/2 numerators but 1 denominators/);
    expect(() => summarizeArm({ y: [1, Number.NaN] })).toThrow(/user 1/);
    expect(() => compareArms({ y: control }, { y: treatment }, 1.5)).toThrow(/confidence/);
  });

  it('has a normal CDF and quantile that agree with tabulated values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 4);
    expect(normalQuantile(0.995)).toBeCloseTo(2.575829, 4);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 6);
  });
});
