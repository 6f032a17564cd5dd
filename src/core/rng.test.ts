import { describe, expect, it } from 'vitest';
import { AliasTable, Rng } from './rng.js';

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function draws(n: number, f: () => number): number[] {
  return Array.from({ length: n }, f);
}

describe('Rng', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = draws(100, () => a.nextUint32());
    expect(draws(100, () => b.nextUint32())).toEqual(sa);
    expect(draws(100, () => c.nextUint32())).not.toEqual(sa);
  });

  it('forks streams that do not depend on draws made from the parent', () => {
    const a = new Rng('world');
    const b = new Rng('world');
    b.float();
    b.normal();
    expect(a.fork('users').nextUint32()).toBe(b.fork('users').nextUint32());
    expect(a.fork('users').nextUint32()).not.toBe(a.fork('items').nextUint32());
  });

  it('draws floats in [0, 1) with a uniform mean', () => {
    const rng = new Rng(1);
    const xs = draws(100_000, () => rng.float());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(mean(xs)).toBeCloseTo(0.5, 2);
  });

  it('matches the moments of normal, gamma, beta, poisson and exponential draws', () => {
    const rng = new Rng(7);
    const n = 50_000;
    const normal = draws(n, () => rng.normal(3, 2));
    expect(mean(normal)).toBeCloseTo(3, 1);
    expect(Math.sqrt(mean(normal.map((x) => (x - 3) ** 2)))).toBeCloseTo(2, 1);
    expect(mean(draws(n, () => rng.gamma(0.5)))).toBeCloseTo(0.5, 1);
    expect(mean(draws(n, () => rng.gamma(4)))).toBeCloseTo(4, 1);
    expect(mean(draws(n, () => rng.beta(2, 6)))).toBeCloseTo(0.25, 2);
    expect(mean(draws(n, () => rng.poisson(3.5)))).toBeCloseTo(3.5, 1);
    expect(mean(draws(n, () => rng.poisson(120)))).toBeCloseTo(120, 0);
    expect(mean(draws(n, () => rng.exponential(4)))).toBeCloseTo(0.25, 2);
  });

  it('draws Dirichlet vectors on the simplex', () => {
    const rng = new Rng(3);
    const out = new Float64Array(8);
    for (let i = 0; i < 100; i++) {
      rng.dirichlet(0.1, out);
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(Math.min(...out)).toBeGreaterThanOrEqual(0);
    }
  });

  it('refuses invalid parameters with a clear message', () => {
    const rng = new Rng(0);
    expect(() => rng.int(0)).toThrow('int(n) needs n >= 1');
    expect(() => rng.pick([])).toThrow('empty list');
    expect(() => rng.gamma(0)).toThrow('gamma shape must be > 0');
  });
});

describe('AliasTable', () => {
  it('samples in proportion to the weights', () => {
    const weights = [1, 0, 3, 6];
    const table = new AliasTable(weights);
    const rng = new Rng(11);
    const counts = [0, 0, 0, 0];
    const n = 200_000;
    for (let i = 0; i < n; i++) counts[table.sample(rng)]! += 1;
    expect(counts[1]).toBe(0);
    for (let i = 0; i < weights.length; i++) expect(counts[i]! / n).toBeCloseTo(weights[i]! / 10, 2);
  });

  it('refuses empty, negative and all-zero weights', () => {
    expect(() => new AliasTable([])).toThrow('at least one weight');
    expect(() => new AliasTable([1, -1])).toThrow('weight 1 is -1');
    expect(() => new AliasTable([0, 0])).toThrow('positive total weight');
  });
});
