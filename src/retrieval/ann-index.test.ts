import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { Rng } from '../core/rng.js';
import { AnnIndex, exactSearch, recallAtK } from './ann-index.js';

function clustered(n: number, d: number, seed: string): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: d }, () => rng.normal()));
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(centres.length)]!;
    for (let k = 0; k < d; k++) out[i * d + k] = c[k]! + 0.5 * rng.normal();
  }
  return out;
}

describe('AnnIndex', () => {
  const d = 32;
  const vectors = clustered(5000, d, 'ann');

  it('finds at least 95% of the exact top 100 by inner product', () => {
    const index = AnnIndex.build(vectors, d);
    const rng = new Rng('queries');
    let recall = 0;
    const queries = 50;
    for (let q = 0; q < queries; q++) {
      const at = rng.int(5000) * d;
      const query = vectors.slice(at, at + d);
      const hits = index.search(query, 100);
      const exact = exactSearch(vectors, d, query, 100);
      recall += recallAtK(hits, exact);
    }
    expect(recall / queries).toBeGreaterThanOrEqual(0.95);
  });

  it('builds in locality order with the same keys and scores, and recall close to key order', () => {
    const plain = AnnIndex.build(vectors, d, { order: 'keys' });
    // The default order is the locality order.
    const index = AnnIndex.build(vectors, d);
    const rng = new Rng('ordered queries');
    const recall = { plain: 0, ordered: 0 };
    const queries = 100;
    for (let q = 0; q < queries; q++) {
      // Queries off the data, as user vectors are: harder than the data points above for either build.
      const query = Float32Array.from({ length: d }, () => rng.normal());
      const exact = exactSearch(vectors, d, query, 100);
      const hits = index.search(query, 100);
      recall.ordered += recallAtK(hits, exact) / queries;
      recall.plain += recallAtK(plain.search(query, 100), exact) / queries;
      // Keys are still item indices: each score is that item's inner product with the query.
      for (let j = 0; j < 5; j++) {
        const item = hits.keys[j]!;
        let dot = 0;
        for (let k = 0; k < d; k++) dot += vectors[item * d + k]! * query[k]!;
        expect(hits.scores[j]).toBeCloseTo(dot, 3);
      }
    }
    expect(recall.ordered).toBeGreaterThan(recall.plain - 0.02);
    expect(recall.plain).toBeGreaterThan(0.9);
  });

  it('rejects a build order that is not a permutation of the keys', () => {
    const twice = Int32Array.from({ length: 5000 }, (_, i) => (i === 1 ? 0 : i));
    expect(() => AnnIndex.build(vectors, d, { order: twice })).toThrow(
      /must be a permutation of 0..4999; got 5000 entries, with a repeated or out-of-range key/,
    );
    expect(() => AnnIndex.build(vectors, d, { order: new Int32Array(10) })).toThrow(/got 10 entries/);
  });

  it('saves, and opens memory-mapped with the same answers', () => {
    const path = join(tempDir(), 'items.usearch');
    const built = AnnIndex.build(vectors, d);
    built.save(path);
    const mapped = AnnIndex.open(path, d, { mmap: true });
    expect(mapped.size).toBe(5000);
    const query = vectors.slice(0, d);
    expect(Array.from(mapped.search(query, 10).keys)).toEqual(Array.from(built.search(query, 10).keys));
  });

  it('stores vectors as f16 or i8 when asked, keeps recall, and reopens with the same storage', () => {
    const rng = new Rng('quantized');
    const queries = Array.from({ length: 30 }, () => {
      const at = rng.int(5000) * d;
      return vectors.slice(at, at + d);
    });
    for (const quantization of ['f16', 'i8'] as const) {
      const index = AnnIndex.build(vectors, d, { quantization });
      expect(index.quantization).toBe(quantization);
      let recall = 0;
      for (const query of queries)
        recall += recallAtK(index.search(query, 100), exactSearch(vectors, d, query, 100));
      expect(recall / queries.length, quantization).toBeGreaterThanOrEqual(0.9);
      const path = join(tempDir(), `items-${quantization}.usearch`);
      index.save(path);
      const mapped = AnnIndex.open(path, d);
      expect(mapped.quantization).toBe(quantization);
      expect(Array.from(mapped.search(queries[0]!, 10).keys)).toEqual(
        Array.from(index.search(queries[0]!, 10).keys),
      );
    }
    expect(() => AnnIndex.build(vectors, d, { quantization: 'f8' as never })).toThrow(
      'ANN quantization must be one of f32, f16, i8, got f8',
    );
  });

  it('exact search keeps the k best by a full sort, ties to the lower index', () => {
    const rng = new Rng('exact');
    // Small integers make many ties.
    const small = Float32Array.from({ length: 300 * 4 }, () => rng.int(3));
    for (const k of [0, 1, 7, 50, 300, 400]) {
      const query = Float32Array.from({ length: 4 }, () => rng.int(3) - 1);
      const scores = Array.from({ length: 300 }, (_, i) =>
        small.subarray(i * 4, i * 4 + 4).reduce((s, v, j) => s + v * query[j]!, 0),
      );
      const want = scores
        .map((s, i) => [s, i] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .slice(0, k);
      const got = exactSearch(small, 4, query, k);
      expect(Array.from(got.keys)).toEqual(want.map(([, i]) => i));
      expect(Array.from(got.scores)).toEqual(want.map(([s]) => s));
    }
  });

  it('refuses mismatched dimensions and handles an empty index', () => {
    expect(() => AnnIndex.build(new Float32Array(10), 3)).toThrow('do not make vectors of 3 dimensions');
    const empty = AnnIndex.build(new Float32Array(0), 4);
    expect(empty.search(new Float32Array(4), 5).keys.length).toBe(0);
    expect(() => empty.search(new Float32Array(3), 5)).toThrow('query has 3 dimensions, the index 4');
  });
});
