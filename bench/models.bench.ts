/**
 * Training cost of the retrieval models (src/models) on two data sets:
 *
 * - `ml-latest-small`: the training side of the recommenders split (seed 42) of ../shared/datasets/ml-latest-small
 *   (skipped, with a message, when the folder is absent);
 * - `sim`: a simulated world (1M users, 100k videos, one day; `--quick` 20k x 5k), positives = plays watched
 *   to at least half, likes and shares, as the `train-*` jobs read them from the lake.
 *
 * Each (data set, model, threads) fit runs in a fresh child process, so its peak resident memory
 * (`resourceUsage().maxRSS`) is its own. Figures, each beside a baseline from the same run:
 *
 * - models.train.<data>.<model>: fit seconds on two worker threads against the same algorithm on one thread
 *   (EASE's blocked inverse, ALS's row solves, BPR Hogwild). Item-kNN and popularity are single-threaded by
 *   design: their baseline is building the interaction matrix, one pass over the data (the ratio says how many
 *   such passes the fit costs).
 * - models.peak-rss.<data>.<model>: peak MiB of the fitting process against its resident MiB just before the
 *   fit (the data and the matrix): what the model itself adds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Event } from '../src/core/schema/index.js';
import { loadEvaluationDataset } from '../src/evaluation/dataset-loader.js';
import { recommendersSplit } from '../src/evaluation/recommenders-protocol.js';
import { AlsRecommender } from '../src/models/als.js';
import { BprRecommender } from '../src/models/bpr.js';
import { EaseRecommender } from '../src/models/ease.js';
import { InteractionMatrix } from '../src/models/interactions.js';
import { ItemKnnRecommender } from '../src/models/item-knn.js';
import { PopularityRecommender } from '../src/models/popularity.js';
import type { Recommender } from '../src/models/recommender.js';
import { simulateHistory } from '../src/sim/history.js';
import { World } from '../src/sim/world.js';
import { benchArgs, report } from './harness/index.js';

const MOVIELENS = fileURLToPath(new URL('../../shared/datasets/ml-latest-small', import.meta.url));

interface ModelSpec {
  name: string;
  threaded: boolean;
  create: (threads: number) => Recommender;
}

/** EASE on the simulated world keeps the items with at least this many positives (about 8k of 100k). */
const SIM_EASE_MIN_COUNT = 12;

const MODELS: ModelSpec[] = [
  { name: 'popularity', threaded: false, create: () => new PopularityRecommender() },
  { name: 'item-knn', threaded: false, create: () => new ItemKnnRecommender() },
  { name: 'als', threaded: true, create: () => new AlsRecommender() },
  {
    name: 'bpr',
    threaded: true,
    create: (threads) => new BprRecommender({ hogwild: threads > 1, epochs: 20 }),
  },
  { name: 'ease', threaded: true, create: () => new EaseRecommender() },
];

/** Interactions as flat arrays in a file, so a child process loads them without the source data. */
interface Packed {
  users: number;
  items: number;
  user: Int32Array;
  item: Int32Array;
  ts: Float64Array;
}

function pack(m: InteractionMatrix): Packed {
  const user = new Int32Array(m.nnz);
  for (let u = 0; u < m.users; u++) user.fill(u, m.userPtr[u]!, m.userPtr[u + 1]!);
  return { users: m.users, items: m.items, user, item: m.userItems, ts: Float64Array.from(m.userTs) };
}

function save(path: string, p: Packed): void {
  const header = Buffer.alloc(12);
  header.writeInt32LE(p.users, 0);
  header.writeInt32LE(p.items, 4);
  header.writeInt32LE(p.user.length, 8);
  const bytes = (a: Int32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  writeFileSync(path, Buffer.concat([header, bytes(p.user), bytes(p.item), bytes(p.ts)]));
}

function load(path: string): InteractionMatrix {
  const buf = readFileSync(path);
  const users = buf.readInt32LE(0);
  const items = buf.readInt32LE(4);
  const n = buf.readInt32LE(8);
  const copy = (offset: number, bytes: number) =>
    buf.buffer.slice(buf.byteOffset + offset, buf.byteOffset + offset + bytes);
  const user = new Int32Array(copy(12, n * 4));
  const item = new Int32Array(copy(12 + n * 4, n * 4));
  const ts = new Float64Array(copy(12 + n * 8, n * 8));
  const userIds = Array.from({ length: users }, (_, u) => `u${u}`);
  const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);
  const rows = Array.from({ length: n }, (_, k) => ({
    user: userIds[user[k]!]!,
    item: itemIds[item[k]!]!,
    value: 1,
    ts: ts[k]!,
  }));
  return InteractionMatrix.from(rows, { userIds, itemIds });
}

/** Child: load, fit one model, print one JSON line. */
async function child(data: string, model: string, threads: number, easeMinCount: number): Promise<void> {
  const started = performance.now();
  const train = load(data);
  const loadSeconds = (performance.now() - started) / 1000;
  global.gc?.();
  const beforeMb = process.memoryUsage.rss() / 2 ** 20;
  const spec = MODELS.find((m) => m.name === model)!;
  const recommender =
    model === 'ease' ? new EaseRecommender({ minItemCount: easeMinCount }) : spec.create(threads);
  const t0 = performance.now();
  await recommender.fit(train, { seed: 42, threads });
  const fitSeconds = (performance.now() - t0) / 1000;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ loadSeconds, fitSeconds, beforeMb, peakMb, nnz: train.nnz }));
}

interface ChildResult {
  loadSeconds: number;
  fitSeconds: number;
  beforeMb: number;
  peakMb: number;
  nnz: number;
}

function runChild(data: string, model: string, threads: number, easeMinCount: number): ChildResult {
  const script = fileURLToPath(import.meta.url);
  const out = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      '--max-old-space-size=16384',
      script,
      '--child',
      data,
      model,
      String(threads),
      String(easeMinCount),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  if (out.status !== 0)
    throw new Error(`fitting ${model} on ${threads} thread(s) failed (exit ${out.status})`);
  const line = out.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as ChildResult;
}

function simulated(users: number, items: number): InteractionMatrix {
  const world = new World({ users, items, days: 1, seed: 42 });
  const rows: { user: string; item: string; value: number; ts: number }[] = [];
  for (const { events } of simulateHistory(world))
    for (const e of events as Event[]) {
      const positive =
        (e.type === 'play' && e.watch_ms >= 0.5 * e.duration_ms) || e.type === 'like' || e.type === 'share';
      if (positive) rows.push({ user: e.user_id, item: e.item_id, value: 1, ts: e.ts });
    }
  return InteractionMatrix.from(rows);
}

function measureData(
  label: string,
  path: string,
  params: Record<string, unknown>,
  easeMinCount: number,
): void {
  for (const spec of MODELS) {
    const figure = runChild(path, spec.name, 2, easeMinCount);
    const single = spec.threaded ? runChild(path, spec.name, 1, easeMinCount) : null;
    const baseline = single ? single.fitSeconds : figure.loadSeconds;
    report({
      name: `models.train.${label}.${spec.name}`,
      unit: 's',
      value: figure.fitSeconds,
      baseline,
      baselineName: single
        ? 'the same algorithm on one thread'
        : 'building the interaction matrix from the same rows (one pass over the data)',
      better: 'lower',
      params: { ...params, interactions: figure.nnz, threads: 2 },
    });
    report({
      name: `models.peak-rss.${label}.${spec.name}`,
      unit: 'MiB',
      value: figure.peakMb,
      baseline: figure.beforeMb,
      baselineName: 'resident memory of the same process before the fit (data + matrix)',
      better: 'lower',
      params: { ...params, interactions: figure.nnz },
    });
  }
}

async function main(): Promise<void> {
  const { size } = benchArgs();
  const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-models-'));
  try {
    if (existsSync(MOVIELENS)) {
      const { interactions } = await loadEvaluationDataset('ml-latest-small', MOVIELENS);
      const { train } = recommendersSplit(interactions, 42);
      const path = join(dir, 'ml-latest-small.bin');
      save(path, pack(train));
      measureData('ml-latest-small', path, { users: train.users, items: train.items }, 1);
    } else console.error(`models bench: ${MOVIELENS} is absent; measuring the simulated world only`);

    const users = size(1_000_000, 20_000);
    const items = size(100_000, 5_000);
    const started = performance.now();
    const sim = simulated(users, items);
    console.error(
      `models bench: simulated ${sim.nnz} positives in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    const path = join(dir, 'sim.bin');
    save(path, pack(sim));
    measureData(
      'sim',
      path,
      { users, items, days: 1, easeMinItemCount: SIM_EASE_MIN_COUNT },
      SIM_EASE_MIN_COUNT,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
  const [data, model, threads, easeMinCount] = process.argv.slice(at + 1);
  await child(data!, model!, Number(threads), Number(easeMinCount));
} else await main();
