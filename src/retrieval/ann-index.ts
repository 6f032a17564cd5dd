import { readFileSync, writeFileSync } from 'node:fs';
import { Index, MetricKind, ScalarKind } from 'usearch';
import { ForyouError } from '../core/errors.js';
import { localityOrder } from './layout-order.js';

/**
 * Approximate nearest-neighbour search over item embeddings (usearch's HNSW). An index is built once by an
 * offline job, saved to a file, and opened by every serving process as a memory-mapped view, so several
 * processes share one copy of it. Keys are dense item indices; scores are inner products (higher is
 * closer), as the embedding models produce them.
 *
 * HNSW searches inner products poorly when vector norms differ (measured here: recall@100 0.87 on
 * clustered data). So inner-product search is reduced to cosine search (Bachrach et al., 2014): each item
 * vector x gets one more coordinate, sqrt(M² - |x|²) with M the largest norm, which makes every item
 * vector as long as M; a query gets 0 there. Then cos(q', x') = q·x / (M |q|) orders items exactly as
 * q·x does, and the cosine graph finds them well.
 */
export interface AnnBuildOptions {
  /** Graph degree (HNSW M). Default `DEFAULT_CONNECTIVITY`. */
  connectivity?: number;
  /** Candidate list size while inserting (efConstruction). Default `DEFAULT_EXPANSION_ADD`. */
  expansionAdd?: number;
  /**
   * Candidate list size while searching (ef); recall rises with it. usearch searches with the larger of
   * this and the k asked for. Default `DEFAULT_EXPANSION_SEARCH`.
   */
  expansionSearch?: number;
  /**
   * How the index stores vectors: `f32` (default), `f16` (half the bytes) or `i8` (a quarter; usearch
   * scales cosine vectors to bytes). Fewer bytes per vector make a search cheaper in memory traffic and may
   * cost recall; bench/ann.bench.ts measures both.
   */
  quantization?: AnnQuantization;
  /**
   * The order in which vectors enter the index, which is the order usearch lays out their graph nodes and
   * vectors in: `locality` (default; `localityOrder`, near vectors in the same blocks, so a search touches
   * fewer pages of the file: half the CPU a search at a million items), `keys` (0..n-1), or a permutation
   * of 0..n-1.
   */
  order?: 'locality' | 'keys' | Int32Array;
  threads?: number;
}

/**
 * Vectors added per call in a build order: usearch splits a call's batch into one contiguous run per thread
 * (`executor.fixed`) and their slots interleave, so a small batch keeps neighbours in the order within a
 * few slots of each other.
 */
const ORDERED_BATCH = 2048;

export type AnnQuantization = 'f32' | 'f16' | 'i8';

const SCALAR_KINDS: Record<AnnQuantization, ScalarKind> = {
  f32: ScalarKind.F32,
  f16: ScalarKind.F16,
  i8: ScalarKind.I8,
};

function isQuantization(name: unknown): name is AnnQuantization {
  return typeof name === 'string' && Object.hasOwn(SCALAR_KINDS, name);
}

/**
 * Graph degree and construction width: chosen by recall at a million items (bench/ann.bench.ts). The
 * width is 400 since the default build order became the locality order, with which 256 lost recall at a
 * million items (0.957 against 0.982 in key order; 400 gives 0.983, docs/serving.md).
 */
export const DEFAULT_CONNECTIVITY = 32;
export const DEFAULT_EXPANSION_ADD = 400;
export const DEFAULT_EXPANSION_SEARCH = 128;

export interface AnnHits {
  keys: Int32Array;
  scores: Float32Array;
}

export class AnnIndex {
  private constructor(
    private readonly index: Index,
    readonly dimensions: number,
    /** Largest item vector norm (the M of the reduction). */
    private readonly maxNorm: number,
    /** Graph degree it was built with (kept beside the file: opening needs it). */
    readonly connectivity: number,
    readonly quantization: AnnQuantization,
  ) {}

  /** Builds an index over `n` vectors of `dimensions` (row-major `vectors`), keyed 0..n-1. */
  static build(vectors: Float32Array, dimensions: number, options: AnnBuildOptions = {}): AnnIndex {
    if (dimensions < 1 || vectors.length % dimensions !== 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `${vectors.length} values do not make vectors of ${dimensions} dimensions`,
      );
    const n = vectors.length / dimensions;
    let maxNorm = 0;
    for (let i = 0; i < n; i++)
      maxNorm = Math.max(maxNorm, Math.sqrt(squaredNorm(vectors, i * dimensions, dimensions)));
    const augmented = new Float32Array(n * (dimensions + 1));
    for (let i = 0; i < n; i++) {
      const norm2 = squaredNorm(vectors, i * dimensions, dimensions);
      augmented.set(vectors.subarray(i * dimensions, (i + 1) * dimensions), i * (dimensions + 1));
      augmented[i * (dimensions + 1) + dimensions] = Math.sqrt(Math.max(0, maxNorm * maxNorm - norm2));
    }
    const connectivity = options.connectivity ?? DEFAULT_CONNECTIVITY;
    const quantization = options.quantization ?? 'f32';
    if (!isQuantization(quantization))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `ANN quantization must be one of ${Object.keys(SCALAR_KINDS).join(', ')}, got ${String(quantization)}`,
      );
    const index = new Index({
      dimensions: dimensions + 1,
      metric: MetricKind.Cos,
      quantization: SCALAR_KINDS[quantization],
      connectivity,
      expansion_add: options.expansionAdd ?? DEFAULT_EXPANSION_ADD,
      expansion_search: options.expansionSearch ?? DEFAULT_EXPANSION_SEARCH,
      multi: false,
    });
    const threads = options.threads ?? 2;
    const order =
      options.order === 'keys'
        ? null
        : options.order === undefined || options.order === 'locality'
          ? localityOrder(vectors, dimensions)
          : options.order;
    if (order) {
      // An order the caller gave is checked; the locality order is one by construction.
      if (order === options.order && (order.length !== n || !isPermutation(order)))
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `ANN build order must be a permutation of 0..${n - 1}; got ${order.length} entries${order.length === n ? ', with a repeated or out-of-range key' : ''}`,
        );
      const width = dimensions + 1;
      for (let at = 0; at < n; at += ORDERED_BATCH) {
        const size = Math.min(ORDERED_BATCH, n - at);
        const keys = new BigUint64Array(size);
        const batch = new Float32Array(size * width);
        for (let j = 0; j < size; j++) {
          const i = order[at + j]!;
          keys[j] = BigInt(i);
          batch.set(augmented.subarray(i * width, (i + 1) * width), j * width);
        }
        index.add(keys, batch, threads);
      }
    } else if (n > 0) {
      const keys = new BigUint64Array(n);
      for (let i = 0; i < n; i++) keys[i] = BigInt(i);
      index.add(keys, augmented, threads);
    }
    return new AnnIndex(index, dimensions, maxNorm, connectivity, quantization);
  }

  /** Opens a saved index; `mmap` maps the file instead of loading it (shared between processes). */
  static open(
    path: string,
    dimensions: number,
    options: { mmap?: boolean; expansionSearch?: number } = {},
  ): AnnIndex {
    let maxNorm: number;
    let connectivity: number;
    let quantization: AnnQuantization;
    try {
      const meta = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as {
        dimensions: number;
        maxNorm: number;
        connectivity?: number;
        quantization?: AnnQuantization;
      };
      if (meta.dimensions !== dimensions)
        throw new Error(`it has ${meta.dimensions} dimensions, not ${dimensions}`);
      maxNorm = meta.maxNorm;
      // Files written before the degree was recorded were built with 16, and all before quantization with f32.
      connectivity = meta.connectivity ?? 16;
      quantization = meta.quantization ?? 'f32';
      if (!isQuantization(quantization))
        throw new Error(`its quantization ${String(quantization)} is unknown`);
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot open the ANN index ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    const index = new Index({
      dimensions: dimensions + 1,
      metric: MetricKind.Cos,
      quantization: SCALAR_KINDS[quantization],
      connectivity,
      expansion_add: DEFAULT_EXPANSION_ADD,
      expansion_search: options.expansionSearch ?? DEFAULT_EXPANSION_SEARCH,
      multi: false,
    });
    try {
      if (options.mmap ?? true) index.view(path);
      else index.load(path);
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot open the ANN index ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    return new AnnIndex(index, dimensions, maxNorm, connectivity, quantization);
  }

  /** Writes the index file and, beside it, `<path>.json` with what opening it needs. */
  save(path: string): void {
    try {
      this.index.save(path);
      writeFileSync(
        `${path}.json`,
        JSON.stringify({
          dimensions: this.dimensions,
          maxNorm: this.maxNorm,
          connectivity: this.connectivity,
          quantization: this.quantization,
        }),
      );
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot save the ANN index to ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  get size(): number {
    return this.index.size();
  }

  /** The `k` nearest items to `query` by inner product, best first. */
  search(query: Float32Array, k: number): AnnHits {
    if (query.length !== this.dimensions)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `query has ${query.length} dimensions, the index ${this.dimensions}`,
      );
    if (this.size === 0) return { keys: new Int32Array(0), scores: new Float32Array(0) };
    const augmented = new Float32Array(this.dimensions + 1);
    augmented.set(query);
    const found = this.index.search(augmented, Math.min(k, this.size), 1);
    const n = found.keys.length;
    const keys = new Int32Array(n);
    const scores = new Float32Array(n);
    // Cosine distance is 1 - cos; the inner product is cos * M * |q|.
    const scale = this.maxNorm * Math.sqrt(squaredNorm(query, 0, this.dimensions));
    for (let i = 0; i < n; i++) {
      keys[i] = Number(found.keys[i]);
      scores[i] = (1 - found.distances[i]!) * scale;
    }
    return { keys, scores };
  }
}

function isPermutation(order: Int32Array): boolean {
  const seen = new Uint8Array(order.length);
  for (const i of order) {
    if (!(i >= 0 && i < order.length) || seen[i]) return false;
    seen[i] = 1;
  }
  return true;
}

function squaredNorm(v: Float32Array, at: number, d: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += v[at + k]! * v[at + k]!;
  return s;
}

/**
 * Exact top-k by inner product (the brute-force reference that recall is measured against): one pass over
 * every vector, keeping the best k in a bounded min-heap; ties go to the lower index.
 */
export function exactSearch(
  vectors: Float32Array,
  dimensions: number,
  query: Float32Array,
  k: number,
): AnnHits {
  const n = vectors.length / dimensions;
  const size = Math.min(k, n);
  // heap[0] is the worst of the kept: lowest score, then highest index.
  const heapKey = new Int32Array(size);
  const heapScore = new Float64Array(size);
  let filled = 0;
  const worse = (sa: number, ka: number, sb: number, kb: number) => sa < sb || (sa === sb && ka > kb);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= filled) return;
      const r = l + 1;
      const c = r < filled && worse(heapScore[r]!, heapKey[r]!, heapScore[l]!, heapKey[l]!) ? r : l;
      if (!worse(heapScore[c]!, heapKey[c]!, heapScore[at]!, heapKey[at]!)) return;
      const s = heapScore[at]!;
      const key = heapKey[at]!;
      heapScore[at] = heapScore[c]!;
      heapKey[at] = heapKey[c]!;
      heapScore[c] = s;
      heapKey[c] = key;
      at = c;
    }
  };
  for (let i = 0; i < n; i++) {
    let s = 0;
    const base = i * dimensions;
    for (let d = 0; d < dimensions; d++) s += vectors[base + d]! * query[d]!;
    if (filled < size) {
      // Sift up.
      let at = filled++;
      heapScore[at] = s;
      heapKey[at] = i;
      while (at > 0) {
        const p = (at - 1) >> 1;
        if (!worse(heapScore[at]!, heapKey[at]!, heapScore[p]!, heapKey[p]!)) break;
        const ts = heapScore[p]!;
        const tk = heapKey[p]!;
        heapScore[p] = heapScore[at]!;
        heapKey[p] = heapKey[at]!;
        heapScore[at] = ts;
        heapKey[at] = tk;
        at = p;
      }
    } else if (size > 0 && worse(heapScore[0]!, heapKey[0]!, s, i)) {
      heapScore[0] = s;
      heapKey[0] = i;
      siftDown(0);
    }
  }
  const order = Array.from({ length: filled }, (_, j) => j).sort(
    (a, b) => heapScore[b]! - heapScore[a]! || heapKey[a]! - heapKey[b]!,
  );
  return {
    keys: Int32Array.from(order, (j) => heapKey[j]!),
    scores: Float32Array.from(order, (j) => heapScore[j]!),
  };
}

/** Share of the exact top-k that the approximate top-k found. */
export function recallAtK(approx: AnnHits, exact: AnnHits): number {
  if (exact.keys.length === 0) return 1;
  const want = new Set(exact.keys);
  let hit = 0;
  for (const key of approx.keys) if (want.has(key)) hit++;
  return hit / exact.keys.length;
}
