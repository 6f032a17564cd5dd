import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { selectTop } from '../core/sorted.js';

export interface LocalityOrderOptions {
  /** Largest part the bisection leaves unsorted (default 64). */
  leaf?: number;
  /**
   * Vectors per block (default `DEFAULT_BLOCK`; 0: one block, the plain bisection order). The order is cut
   * into blocks of neighbours and the blocks are shuffled, so an HNSW graph built in this order is still
   * built in a random order at the scale of blocks: built in the plain bisection order its recall@100 fell
   * (0.987 against 0.999 at 200,000 items, docs/serving.md).
   */
  block?: number;
  seed?: number;
}

export const DEFAULT_BLOCK = 512;

/**
 * An order of `n` vectors (row-major, `dimensions` wide) that keeps vectors close in space close in the
 * order: a recursive bisection along each part's principal direction (found by power iteration), down to
 * parts of at most `leaf` vectors, read left to right, then cut into blocks of `block` placed in a random
 * order. An ANN index whose nodes and vectors are laid out in this order finds a query's neighbourhood in
 * a few blocks of memory instead of pages scattered over the whole file: graph reordering, which Coleman,
 * Segarra, Smola and Shrivastava ("Graph Reordering for Cache-Efficient Near Neighbor Search", NeurIPS
 * 2022) measured on HNSW at up to 40% less query time.
 */
export function localityOrder(
  vectors: Float32Array,
  dimensions: number,
  options: LocalityOrderOptions = {},
): Int32Array {
  const n = Math.floor(vectors.length / dimensions);
  const seed = options.seed ?? 1;
  const sorted = bisectionOrder(vectors, dimensions, n, Math.max(2, options.leaf ?? 64), seed);
  const block = options.block ?? DEFAULT_BLOCK;
  if (!(Number.isInteger(block) && block >= 0))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `locality order block ${block}; expected a whole number of vectors, 0 for one block`,
    );
  if (block === 0 || block >= n) return sorted;
  const starts = Array.from({ length: Math.ceil(n / block) }, (_, b) => b * block);
  new Rng(seed).fork('blocks').shuffle(starts);
  const order = new Int32Array(n);
  let at = 0;
  for (const start of starts) {
    const run = sorted.subarray(start, Math.min(n, start + block));
    order.set(run, at);
    at += run.length;
  }
  return order;
}

function bisectionOrder(
  vectors: Float32Array,
  dimensions: number,
  n: number,
  leaf: number,
  seed: number,
): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Rng(seed);
  const projection = new Float32Array(n);
  const mean = new Float64Array(dimensions);
  const direction = new Float64Array(dimensions);
  const next = new Float64Array(dimensions);
  const stack: [number, number][] = [[0, n]];
  while (stack.length > 0) {
    const [lo, hi] = stack.pop()!;
    if (hi - lo <= leaf) continue;
    mean.fill(0);
    for (let j = lo; j < hi; j++) {
      const at = order[j]! * dimensions;
      for (let k = 0; k < dimensions; k++) mean[k]! += vectors[at + k]!;
    }
    for (let k = 0; k < dimensions; k++) mean[k]! /= hi - lo;
    for (let k = 0; k < dimensions; k++) direction[k] = rng.float() - 0.5;
    // A few power iterations of the part's covariance: enough to split along a long axis.
    for (let iteration = 0; iteration < 4; iteration++) {
      next.fill(0);
      for (let j = lo; j < hi; j++) {
        const at = order[j]! * dimensions;
        let p = 0;
        for (let k = 0; k < dimensions; k++) p += (vectors[at + k]! - mean[k]!) * direction[k]!;
        for (let k = 0; k < dimensions; k++) next[k]! += p * (vectors[at + k]! - mean[k]!);
      }
      let norm = 0;
      for (let k = 0; k < dimensions; k++) norm += next[k]! * next[k]!;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let k = 0; k < dimensions; k++) direction[k] = next[k]! / norm;
    }
    for (let j = lo; j < hi; j++) {
      const at = order[j]! * dimensions;
      let p = 0;
      for (let k = 0; k < dimensions; k++) p += (vectors[at + k]! - mean[k]!) * direction[k]!;
      projection[order[j]!] = -p;
    }
    const mid = (lo + hi) >> 1;
    // Only the split matters: the lower projections before the median, the higher after (negated above,
    // as `selectTop` ranks the highest first).
    selectTop(projection, order, lo, hi - 1, mid);
    stack.push([mid, hi], [lo, mid]);
  }
  return order;
}
