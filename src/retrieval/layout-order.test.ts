import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { localityOrder } from './layout-order.js';

/** `clusters` far-apart groups of `each` points in `d` dimensions, shuffled; returns points and labels. */
function shuffledClusters(clusters: number, each: number, d: number) {
  const rng = new Rng('layout');
  const n = clusters * each;
  const label = Int32Array.from({ length: n }, (_, i) => i % clusters);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [label[i], label[j]] = [label[j]!, label[i]!];
  }
  const centres = Array.from({ length: clusters }, () =>
    Float32Array.from({ length: d }, () => rng.normal(0, 10)),
  );
  const vectors = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < d; k++) vectors[i * d + k] = centres[label[i]!]![k]! + rng.normal(0, 0.5);
  return { vectors, label, n };
}

/** How often the cluster changes between neighbours in `order`. */
function changes(order: ArrayLike<number>, label: Int32Array): number {
  let c = 0;
  for (let j = 1; j < order.length; j++) if (label[order[j]!] !== label[order[j - 1]!]) c++;
  return c;
}

describe('localityOrder', () => {
  const d = 16;
  const { vectors, label, n } = shuffledClusters(16, 128, d);

  it('is a permutation', () => {
    const order = localityOrder(vectors, d);
    expect(order.length).toBe(n);
    expect(new Set(order).size).toBe(n);
    expect(Math.min(...order)).toBe(0);
    expect(Math.max(...order)).toBe(n - 1);
  });

  it('puts each cluster in a few runs, where key order switches cluster at nearly every step', () => {
    const identity = Int32Array.from({ length: n }, (_, i) => i);
    // Shuffled labels change at about 15 of 16 steps.
    expect(changes(identity, label)).toBeGreaterThan(0.9 * n);
    const plain = localityOrder(vectors, d, { block: 0 });
    // A perfect layout changes 15 times. A median split can cut a cluster where the principal direction
    // does not part the clusters evenly; each cluster still lies in a few runs.
    expect(changes(plain, label)).toBeLessThanOrEqual(3 * 16);
  });

  it('cuts the plain order into blocks and shuffles them', () => {
    const plain = localityOrder(vectors, d, { block: 0 });
    const order = localityOrder(vectors, d, { block: 128 });
    const rank = new Int32Array(n);
    plain.forEach((item, r) => {
      rank[item] = r;
    });
    const firsts: number[] = [];
    for (let at = 0; at < n; at += 128) {
      const run = order.subarray(at, Math.min(n, at + 128));
      // A block is a run of the plain order that starts at a multiple of the block size (2,048 vectors make 16 full blocks).
      expect(rank[run[0]!]! % 128).toBe(0);
      for (let j = 1; j < run.length; j++) expect(rank[run[j]!]).toBe(rank[run[0]!]! + j);
      firsts.push(rank[run[0]!]!);
    }
    expect(new Set(firsts).size).toBe(n / 128);
    expect(firsts).not.toEqual([...firsts].sort((a, b) => a - b));
    // Still local: the cluster changes at most at each block boundary plus the plain order's own changes.
    expect(changes(order, label)).toBeLessThanOrEqual(changes(plain, label) + n / 128);
  });

  it('rejects a block that is not a whole number', () => {
    expect(() => localityOrder(vectors, d, { block: 2.5 })).toThrow(/block 2.5; expected a whole number/);
  });
});
