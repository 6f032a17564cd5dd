/**
 * ANN retrieval at the setting the feed uses: usearch's HNSW over the synthetic catalogue the feed bench
 * serves (`harness/feed-world.ts`), queried with user vectors, asking for as many neighbours as the ANN
 * source does (its nominal width times `ANN_OVER_FETCH`).
 *
 * - ann.recall-at-100: share of the exact top 100 (brute-force inner products) found among the first 100
 *   the index returns, averaged over the queries; the baseline is exact search itself (1.0).
 * - ann.qps: single-thread queries per second of that search, against a brute-force scan of every item
 *   vector in the same run.
 * The notes carry recall@100 and latency for other request sizes, and recall over the whole request.
 *
 * Flags: --items N (default 200,000; 1,000,000 is the feed's target size), --users N, --dims D,
 * --queries Q (recall, default 200), --timed T (speed, default 3,000 other users, each asked once), --dir PATH (a directory the feed bench built with --dir: its promoted bundle
 * and memory-mapped index are measured, so the figure is for the very index the feed served).
 */

import { Rng } from '../src/core/rng.js';
import { ArtifactRegistry } from '../src/models/artifact-registry.js';
import { type AnnHits, exactSearch } from '../src/retrieval/ann-index.js';
import { ServingBundle } from '../src/serving/bundle.js';
import { BUNDLE_ARTIFACT } from '../src/serving/bundle-holder.js';
import { SOURCE_WIDTHS } from '../src/serving/feed-pipeline.js';
import { ANN_OVER_FETCH } from '../src/serving/sources.js';
import { feedWorldFlags, syntheticBundle } from './harness/feed-world.js';
import { benchArgs, formatNumber, percentile, report } from './harness/index.js';

const argv = process.argv.slice(2);
const args = benchArgs(argv);
const { size, number: flag, text } = args;
const { items: ITEMS, users: USERS, dims: DIMS } = feedWorldFlags(args);
const QUERIES = flag('queries', size(200, 40));
/** Queries timed (distinct users, each asked once per request size). */
const TIMED = flag('timed', size(3000, 300));
const DIR = text('dir');
/** What the feed's ANN source asks the index for. */
const SERVED_K = Math.round(SOURCE_WIDTHS.ann * ANN_OVER_FETCH);
const RECALL_AT = 100;

async function openBundle(): Promise<{ bundle: ServingBundle; origin: string }> {
  if (DIR) {
    const registry = new ArtifactRegistry(`${DIR}/artifacts`);
    const version = await registry.current(BUNDLE_ARTIFACT);
    if (version === null)
      throw new Error(`${DIR} holds no promoted serving bundle; run the feed bench with --dir`);
    const bundle = await ServingBundle.load(registry.pathOf(BUNDLE_ARTIFACT, version));
    return { bundle, origin: `the feed bench's bundle in ${DIR} (memory-mapped index)` };
  }
  const started = performance.now();
  const bundle = ServingBundle.build(syntheticBundle({ items: ITEMS, users: USERS, dims: DIMS }, 7), {
    threads: 2,
  });
  const seconds = (performance.now() - started) / 1000;
  return { bundle, origin: `built in this run in ${seconds.toFixed(1)} s` };
}

function recallOf(approx: AnnHits, exact: AnnHits, at: number): number {
  const want = new Set(exact.keys.subarray(0, at));
  let hit = 0;
  for (let j = 0; j < Math.min(at, approx.keys.length); j++) if (want.has(approx.keys[j]!)) hit++;
  return hit / Math.min(at, exact.keys.length);
}

async function main(): Promise<void> {
  const { bundle, origin } = await openBundle();
  const { itemFactors, userFactors, dimensions } = bundle.data;
  const users = userFactors.length / dimensions;
  const rng = new Rng(23);
  const userQuery = () => {
    const u = rng.int(users);
    return userFactors.slice(u * dimensions, (u + 1) * dimensions);
  };
  // Recall is measured on `queries`; speed on other users, each asked once, so no query finds the
  // pages of its own earlier search still in the CPU caches (a feed asks for a user's vector once a page).
  const queries = Array.from({ length: QUERIES }, userQuery);

  // Exact search: the reference for recall, and the baseline for speed.
  const t = performance.now();
  const exact = queries.map((q) => exactSearch(itemFactors, dimensions, q, SERVED_K));
  const exactQps = QUERIES / ((performance.now() - t) / 1000);

  const measureK = (k: number) => {
    const ms: number[] = [];
    let recall100 = 0;
    let recallK = 0;
    for (const [i, q] of queries.entries()) {
      const hits = bundle.ann.search(q, k);
      recall100 += recallOf(hits, exact[i]!, Math.min(RECALL_AT, k));
      recallK += recallOf(hits, exact[i]!, k);
    }
    for (const q of Array.from({ length: TIMED }, userQuery)) {
      const start = performance.now();
      bundle.ann.search(q, k);
      ms.push(performance.now() - start);
    }
    const total = ms.reduce((a, b) => a + b, 0);
    return {
      k,
      recall100: recall100 / QUERIES,
      recallK: recallK / QUERIES,
      qps: ms.length / (total / 1000),
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
    };
  };
  // Warm the code and fault in the mapped index on queries of their own.
  for (let w = 0; w < 300; w++) bundle.ann.search(userQuery(), SERVED_K);
  const served = measureK(SERVED_K);
  const others = [100, 300, 500].filter((k) => k !== SERVED_K).map(measureK);
  const items = bundle.items;
  const params = { items, dims: dimensions, queries: QUERIES, timed: TIMED, k: SERVED_K };
  const context =
    `index: ${origin}; ${formatNumber(items)} items; the ANN source's request: k = ${SERVED_K} ` +
    `(width ${SOURCE_WIDTHS.ann} x over-fetch ${ANN_OVER_FETCH}), recall over all ${SERVED_K}: ${served.recallK.toFixed(4)}; ` +
    `search p50/p99 ${served.p50.toFixed(3)}/${served.p99.toFixed(3)} ms; other request sizes (recall@min(100,k), p50 ms): ` +
    others.map((o) => `k=${o.k} ${o.recall100.toFixed(4)} ${o.p50.toFixed(3)}`).join(', ');
  report({
    name: 'ann.recall-at-100',
    unit: 'ratio',
    value: served.recall100,
    baseline: 1,
    baselineName: 'exact search (brute-force inner products)',
    better: 'higher',
    params,
    notes: `target >= 0.95 at the setting used; ${context}`,
  });
  report({
    name: 'ann.qps',
    unit: 'queries/s',
    value: served.qps,
    baseline: exactQps,
    baselineName: 'brute-force scan of every item vector, one thread',
    better: 'higher',
    params,
    notes: `one thread, queries one at a time, each a different user's vector asked once, k = ${SERVED_K}`,
  });
}

await main();
