/**
 * The For You pipeline in one process, without HTTP or queueing: the CPU time of a feed request, beside the
 * CPU time of the request's most expensive single step, its ANN search, run on its own for the same users
 * in the same process. The end-to-end feed bench (bench/feed.bench.ts) says whether the server meets its
 * latency target; this one says what a request costs. The two halves run in alternating blocks, so they see
 * the same stretch of a machine whose speed drifts (on 2026-11-27 the same code went from 7.6 to 14 ms a
 * request within an hour), and the ratio is the figure to compare across runs.
 *
 * - feed-pipeline.hydration: CPU ms of the feature hydration of 300 candidates with the service's preloaded caches,
 *   against the same hydration reading every row from the store, alternating blocks.
 * - feed-pipeline.cpu-per-request: CPU ms per `FeedService.feed` (20 items, random users), the service
 *   opened exactly as `foryou serve` opens it (registry bundle with its memory-mapped index, LMDB store,
 *   file log for impressions); against the ANN search alone (k = the ANN source's request) for the same
 *   users, in alternating blocks so both see the same stretch of the machine.
 * The notes carry wall-time p50/p99, the per-stage p50/p99 from the traces, candidates scored, and the
 * feature caches' hit rates.
 *
 * Flags: --items N (default 200,000; 1,000,000 is the feed's target size), --users N, --dims D,
 * --requests R (default 3,000), --dir PATH (a feed world built there by this bench or bench/feed.bench.ts
 * with --dir, reused; otherwise one is built in a temporary folder).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/core/config.js';
import { Rng } from '../src/core/rng.js';
import { openEventLog } from '../src/log/open.js';
import { bundleSpace } from '../src/serving/embeddings.js';
import { SOURCE_WIDTHS } from '../src/serving/feed-pipeline.js';
import { openFeedSurface } from '../src/serving/feed-surface.js';
import { FeatureHydrator } from '../src/serving/hydrators.js';
import { FusedRanker } from '../src/serving/ranker.js';
import { ANN_OVER_FETCH } from '../src/serving/sources.js';
import { candidateOf, tinyQuery } from '../src/serving/testing.js';
import { feedWorldConfig, feedWorldFlags, prepareFeedWorld, stageTable } from './harness/feed-world.js';
import { benchArgs, percentile, report } from './harness/index.js';

const argv = process.argv.slice(2);
const args = benchArgs(argv);
const { size, number: flag, text } = args;
const { items: ITEMS, users: USERS, dims: DIMS } = feedWorldFlags(args);
const REQUESTS = flag('requests', size(3000, 300));
const KEEP_DIR = text('dir');
const WORLD = feedWorldConfig({ items: ITEMS, users: USERS, dims: DIMS });
/** Requests per block; pipeline and ANN-only blocks alternate. */
const BLOCK = 100;
/** Candidates per hydration in the hydration figure: the ranker's width. */
const HYDRATED = 300;
const HYDRATED_COLUMNS = new FusedRanker().features;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const dir = KEEP_DIR ?? mkdtempSync(join(tmpdir(), 'foryou-feed-pipeline-bench-'));
  try {
    process.stderr.write(`feed-pipeline bench: ${await prepareFeedWorld(dir, WORLD)}\n`);
    const config = loadConfig({
      env: {
        FORYOU_DATA_DIR: dir,
        FORYOU_LOG_URL: pathToFileURL(join(dir, 'log')).href,
        FORYOU_LOG_FSYNC: 'interval',
        FORYOU_STORE_URL: `lmdb://${join(dir, 'store')}`,
      },
    });
    const log = await openEventLog(config.log);
    const surface = await openFeedSurface(config, log, { watchMs: 0 });
    if (!surface) throw new Error(`${dir} holds no promoted serving bundle`);
    try {
      const { service, traces, preloaded, online } = surface;
      const bundle = service.holder.current;
      const space = bundleSpace(bundle);
      const k = Math.round(SOURCE_WIDTHS.ann * ANN_OVER_FETCH);
      const rng = new Rng(11);
      const users = Array.from({ length: REQUESTS }, () => rng.int(USERS));
      // Warm-up: compilation and the first touches of the mapped index and store.
      for (let r = 0; r < Math.min(300, REQUESTS); r++)
        await service.feed({ user: `u${rng.int(USERS)}`, count: 20, requestId: `warm-${r}` });
      let pipelineCpu = 0;
      let annCpu = 0;
      const walls: number[] = [];
      for (let at = 0; at < REQUESTS; at += BLOCK) {
        const block = users.slice(at, at + BLOCK);
        let started = cpuMs();
        for (const [j, u] of block.entries()) {
          const t = performance.now();
          await service.feed({ user: `u${u}`, count: 20, requestId: `r-${at + j}` });
          walls.push(performance.now() - t);
        }
        pipelineCpu += cpuMs() - started;
        started = cpuMs();
        for (const u of block) {
          const vector = space.userVector(u, []);
          if (vector) space.search(vector, k);
        }
        annCpu += cpuMs() - started;
      }
      // Hydration alone, on the same candidates for both: each user's best 300 items by the ANN search
      // (most of what the pre-ranker keeps). The service's hydrator serves item and creator rows from its
      // caches, preloaded at warm-up and following the change feed; the other has none, so it reads every
      // row from the store, as each cold row costs (the 1-second cache of before missed about 75% of them).
      const uncached = new FeatureHydrator(online, { maxAgeMs: 0, columns: () => HYDRATED_COLUMNS });
      const candidateLists = users.map((u) => {
        const vector = space.userVector(u, []);
        const keys = vector ? space.search(vector, HYDRATED) : { keys: new Int32Array(0) };
        return { user: u, items: Array.from(keys.keys) };
      });
      const hydrateAll = async (hydrator: FeatureHydrator, lists: typeof candidateLists) => {
        const started = cpuMs();
        for (const { user, items } of lists) {
          const query = tinyQuery(bundle, 20, { userId: `u${user}`, user });
          await hydrator.hydrate(
            query,
            items.map((i) => candidateOf(bundle, i)),
          );
        }
        return cpuMs() - started;
      };
      let cachedCpu = 0;
      let uncachedCpu = 0;
      for (let at = 0; at < REQUESTS; at += BLOCK) {
        const block = candidateLists.slice(at, at + BLOCK);
        cachedCpu += await hydrateAll(service.features, block);
        uncachedCpu += await hydrateAll(uncached, block);
      }
      const perRequest = pipelineCpu / REQUESTS;
      const perSearch = annCpu / REQUESTS;
      // The traces the service kept (one request in ten, as `foryou serve` keeps them): the last 200.
      const stages = stageTable(traces.recent(traces.capacity));
      const cache = (c: { hits: number; misses: number } | null) =>
        c ? `${((100 * c.hits) / Math.max(1, c.hits + c.misses)).toFixed(0)}%` : 'off';
      report({
        name: 'feed-pipeline.cpu-per-request',
        unit: 'ms',
        value: perRequest,
        baseline: perSearch,
        baselineName: `ANN search alone (k = ${k}), same users, same process`,
        better: 'lower',
        params: { items: ITEMS, users: USERS, dims: DIMS, requests: REQUESTS },
        notes:
          `wall p50 ${percentile(walls, 50).toFixed(2)} ms, p99 ${percentile(walls, 99).toFixed(2)} ms, one request at a time; ` +
          `candidates scored (pre-ranker) p50 ${percentile(stages.scored, 50)} min ${Math.min(...stages.scored)}, ranker over ${percentile(stages.ranked, 50)}; ` +
          `feature cache hits items ${cache(service.features.itemCache)}, creators ${cache(service.features.creatorCache)}; ` +
          `per-stage p50/p99 ms (own call): ${stages.text}`,
      });
      report({
        name: 'feed-pipeline.hydration',
        unit: 'ms',
        value: cachedCpu / REQUESTS,
        baseline: uncachedCpu / REQUESTS,
        baselineName: 'the same hydration reading every row from the LMDB store',
        better: 'lower',
        params: { items: ITEMS, users: USERS, dims: DIMS, requests: REQUESTS, candidates: HYDRATED },
        notes:
          `CPU ms per hydration of ${HYDRATED} candidates (item, creator and user x creator rows, the fused ranker's ` +
          `${HYDRATED_COLUMNS.length} columns), alternating blocks of ${BLOCK}; the service's caches were preloaded ` +
          `with ${preloaded.toLocaleString('en-US')} rows at warm-up`,
      });
    } finally {
      await surface.close();
      await log.close();
    }
  } finally {
    if (!KEEP_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
