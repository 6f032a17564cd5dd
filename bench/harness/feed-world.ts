/**
 * The synthetic catalogue the serving benchmarks share (bench/feed.bench.ts, bench/feed-pipeline.bench.ts,
 * bench/ann.bench.ts), so that
 * the ANN recall is measured on the very vectors the feed serves. Clustered item and user factors,
 * creators, languages, hashtags, item-to-item neighbours within clusters, trending and fresh lists, and
 * online features for every item, creator and followed user x creator pair. A million items take seconds,
 * not a simulated history.
 */
import { join } from 'node:path';
import { IdDictionary } from '../../src/core/id-dictionary.js';
import { Rng } from '../../src/core/rng.js';
import type { FeatureViewDef } from '../../src/features/definition.js';
import {
  CREATOR_STATS,
  foryouRegistry,
  ITEM_STATS,
  USER_CREATOR,
  USER_ENGAGEMENT,
} from '../../src/features/foryou-views.js';
import { OnlineFeatureStore } from '../../src/features/online.js';
import { rowLayout } from '../../src/features/row.js';
import { ArtifactRegistry } from '../../src/models/artifact-registry.js';
import type { RequestTrace } from '../../src/pipeline/trace.js';
import { DEFAULT_CONNECTIVITY, DEFAULT_EXPANSION_ADD } from '../../src/retrieval/ann-index.js';
import { DEFAULT_BLOCK } from '../../src/retrieval/layout-order.js';
import { type BundleData, csrOf, ServingBundle } from '../../src/serving/bundle.js';
import { BUNDLE_ARTIFACT } from '../../src/serving/bundle-holder.js';
import { SeenStore } from '../../src/serving/seen-store.js';
import { LmdbKeyValueStore } from '../../src/store/lmdb-store.js';
import type { BenchArgs } from './args.js';
import { percentile } from './stats.js';

export interface FeedWorldSize {
  items: number;
  users: number;
  dims: number;
  /** Length of each trending and fresh list (per language, and the global one); default 1,000. */
  listLength?: number;
}

/**
 * The world's size from a serving bench's flags (`--items`, `--users`, `--dims`), with the defaults they
 * share, so a folder built by one bench with `--dir` is found again by the others.
 */
export function feedWorldFlags({ size, number }: BenchArgs): FeedWorldSize {
  return {
    items: number('items', size(200_000, 20_000)),
    users: number('users', size(50_000, 5_000)),
    dims: number('dims', 32),
  };
}

const LANGUAGES = ['en', 'es', 'pt', 'zh', 'ja'];
const LANGUAGE_SHARE = [0.45, 0.2, 0.15, 0.12, 0.08];
const CLUSTERS = 200;

function pickLanguage(rng: Rng): number {
  let r = rng.float();
  for (const [l, share] of LANGUAGE_SHARE.entries()) {
    r -= share;
    if (r <= 0) return l;
  }
  return 0;
}

/** The bundle of a synthetic world: the same size and seed give the same catalogue. */
export function syntheticBundle(size: FeedWorldSize, seed: number): BundleData {
  const rng = new Rng(seed);
  const n = size.items;
  const { users, dims } = size;
  const listLength = size.listLength ?? 1000;
  const creators = Math.max(1, Math.round(n / 20));
  const tags = 5000;
  const now = Date.now();
  const centers = new Float32Array(CLUSTERS * dims);
  for (let k = 0; k < centers.length; k++) centers[k] = rng.normal(0, 1);
  const clusterOf = new Int32Array(n);
  const itemFactors = new Float32Array(n * dims);
  const itemCreator = new Int32Array(n);
  const itemLanguage = new Uint8Array(n);
  const itemCreatedMs = new Float64Array(n);
  const itemPopularity = new Float32Array(n);
  const creatorCluster = Int32Array.from({ length: creators }, () => rng.int(CLUSTERS));
  const creatorLanguage = Uint8Array.from({ length: creators }, () => pickLanguage(rng));
  const hashtagRows: number[][] = [];
  const byCluster: number[][] = Array.from({ length: CLUSTERS }, () => []);
  for (let i = 0; i < n; i++) {
    const c = rng.int(creators);
    itemCreator[i] = c;
    const cluster = creatorCluster[c]!;
    clusterOf[i] = cluster;
    byCluster[cluster]!.push(i);
    itemLanguage[i] = creatorLanguage[c]!;
    itemCreatedMs[i] = now - 60 * 86_400_000 * (1 - i / n);
    itemPopularity[i] = Math.log1p(rng.float() ** 3 * 1000);
    const scale = 0.3 + rng.float();
    for (let d = 0; d < dims; d++)
      itemFactors[i * dims + d] = scale * (centers[cluster * dims + d]! + rng.normal(0, 0.7));
    hashtagRows.push([
      (cluster * 25 + rng.int(25)) % tags,
      (cluster * 25 + rng.int(25)) % tags,
      rng.int(tags),
    ]);
  }
  const userFactors = new Float32Array(users * dims);
  const userLanguage = new Uint8Array(users);
  const userLanguages: number[][] = [];
  const follows: number[][] = [];
  const recent: number[][] = [];
  for (let u = 0; u < users; u++) {
    const a = rng.int(CLUSTERS);
    const b = rng.int(CLUSTERS);
    for (let d = 0; d < dims; d++)
      userFactors[u * dims + d] = 0.1 * (0.7 * centers[a * dims + d]! + 0.3 * centers[b * dims + d]!);
    const l = pickLanguage(rng);
    userLanguage[u] = l;
    userLanguages.push(l === 0 ? [0] : [0, l]);
    follows.push(Array.from({ length: 5 }, () => rng.int(creators)));
    const pool = byCluster[a]!;
    recent.push(pool.length === 0 ? [] : Array.from({ length: 10 }, () => pool[rng.int(pool.length)]!));
  }
  // Neighbours: 20 items of the same cluster, weights falling with rank.
  const neighbourRows: number[][] = [];
  const neighbourWeights: number[] = [];
  for (let i = 0; i < n; i++) {
    const pool = byCluster[clusterOf[i]!]!;
    const row = Array.from({ length: Math.min(20, pool.length) }, () => pool[rng.int(pool.length)]!).filter(
      (j) => j !== i,
    );
    neighbourRows.push(row);
    for (let k = 0; k < row.length; k++) neighbourWeights.push(1 / (1 + k));
  }
  const lists = (score: (i: number) => number): number[][] => {
    const rows: number[][] = LANGUAGES.map(() => []);
    rows.push([]);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score(b) - score(a));
    for (const i of order) {
      if (rows[itemLanguage[i]!]!.length < listLength) rows[itemLanguage[i]!]!.push(i);
      if (rows[LANGUAGES.length]!.length < listLength) rows[LANGUAGES.length]!.push(i);
      if (rows.every((r) => r.length >= listLength)) break;
    }
    return rows;
  };
  return {
    version: `synthetic-${n}`,
    languages: LANGUAGES,
    creatorIds: IdDictionary.of(Array.from({ length: creators }, (_, c) => `c${c}`)),
    hashtags: Array.from({ length: tags }, (_, t) => `tag${t}`),
    itemIds: IdDictionary.of(Array.from({ length: n }, (_, i) => `v${i}`)),
    itemCreator,
    itemLanguage,
    itemCreatedMs,
    itemDurationMs: Float32Array.from({ length: n }, (_, i) => 5_000 + (i % 60) * 1_000),
    itemHashtags: csrOf(hashtagRows),
    itemPopularity,
    dimensions: dims,
    itemFactors,
    userIds: IdDictionary.of(Array.from({ length: users }, (_, u) => `u${u}`)),
    userLanguage,
    userFactors,
    userLanguages: csrOf(userLanguages),
    userFollows: csrOf(follows),
    userBlocked: csrOf(Array.from({ length: users }, () => [])),
    userRecent: csrOf(recent),
    neighbours: { ...csrOf(neighbourRows), weight: Float32Array.from(neighbourWeights) },
    trending: csrOf(lists((i) => itemPopularity[i]!)),
    fresh: csrOf(lists((i) => itemCreatedMs[i]!)),
  };
}

/** Writes online features for every item, creator, user and followed pair; resolves to the rows written. */
export async function writeFeatures(storeDir: string, data: BundleData, seed: number): Promise<number> {
  const rng = new Rng(seed).fork('features');
  const store = await LmdbKeyValueStore.open(storeDir);
  const online = new OnlineFeatureStore(foryouRegistry(), store);
  const now = Date.now();
  const rowFor = (view: FeatureViewDef) => {
    const layout = rowLayout(view);
    return {
      eventTs: now,
      values: layout.numeric.map((name) => (/rate|fraction/.test(name) ? rng.float() : rng.int(1000))),
      lists: layout.lists.map(() => []),
    };
  };
  let written = 0;
  const flush = async (rows: { view: FeatureViewDef; key: string; row: ReturnType<typeof rowFor> }[]) => {
    written += await online.writeRows(rows);
    rows.length = 0;
  };
  const batch: { view: FeatureViewDef; key: string; row: ReturnType<typeof rowFor> }[] = [];
  const add = async (view: FeatureViewDef, key: string) => {
    batch.push({ view, key, row: rowFor(view) });
    if (batch.length >= 5000) await flush(batch);
  };
  for (const id of data.itemIds) await add(ITEM_STATS, id);
  for (const id of data.creatorIds) await add(CREATOR_STATS, id);
  for (const [u, id] of data.userIds.toArray().entries()) {
    await add(USER_ENGAGEMENT, id);
    for (let e = data.userFollows.ptr[u]!; e < data.userFollows.ptr[u + 1]!; e++)
      await add(USER_CREATOR, `${id}|${data.creatorIds.id(data.userFollows.idx[e]!)}`);
  }
  await flush(batch);
  await store.close();
  return written;
}

/** What a feed world kept in a folder was built with: its size and the index settings. */
export interface FeedWorldConfig extends FeedWorldSize {
  listLength: number;
  connectivity: number;
  expansionAdd: number;
  /** The ANN build order (`AnnBuildOptions.order`) and its block size. */
  annOrder: string;
}

export function feedWorldConfig(size: FeedWorldSize): FeedWorldConfig {
  return {
    items: size.items,
    users: size.users,
    dims: size.dims,
    listLength: size.listLength ?? 1000,
    connectivity: DEFAULT_CONNECTIVITY,
    expansionAdd: DEFAULT_EXPANSION_ADD,
    annOrder: `locality/${DEFAULT_BLOCK}`,
  };
}

/**
 * Makes `dir` hold the feed world of `world` the way `foryou serve` reads it: a promoted serving bundle in
 * `<dir>/artifacts` and online features in the LMDB store `<dir>/store`. A world built there before with the
 * same config is reused (its users' impression histories cleared, so every run starts without them);
 * another config is refused. Resolves to a line saying which.
 */
export async function prepareFeedWorld(dir: string, world: FeedWorldConfig): Promise<string> {
  const registry = new ArtifactRegistry(join(dir, 'artifacts'));
  if ((await registry.current(BUNDLE_ARTIFACT)) !== null) {
    const meta = await registry.show(BUNDLE_ARTIFACT);
    if (JSON.stringify(meta.config) !== JSON.stringify(world))
      throw new Error(
        `${dir} holds a bundle of ${JSON.stringify(meta.config)}, not ${JSON.stringify(world)}; use another --dir`,
      );
    const cleared = await clearSeenHistories(join(dir, 'store'));
    return `reusing the bundle and features in ${dir} (${cleared.toLocaleString('en-US')} impression histories cleared)`;
  }
  let t = performance.now();
  const data = syntheticBundle(world, 7);
  const bundle = ServingBundle.build(data, { threads: 2 });
  const buildSec = (performance.now() - t) / 1000;
  const meta = await registry.publish(
    BUNDLE_ARTIFACT,
    { kind: 'index', config: { ...world }, metrics: {}, inputs: {} },
    (out) => bundle.save(out),
  );
  await registry.promote(BUNDLE_ARTIFACT, meta.version);
  t = performance.now();
  const rows = await writeFeatures(join(dir, 'store'), data, 7);
  const featuresSec = (performance.now() - t) / 1000;
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    `${n(world.items)} items, ${n(world.users)} users, ${world.dims} dims; bundle + index built in ` +
    `${buildSec.toFixed(1)} s; ${n(rows)} feature rows written in ${featuresSec.toFixed(1)} s`
  );
}

/** Deletes every user's impression history (`sv:seen:*`) from the store; resolves to how many. */
async function clearSeenHistories(storeDir: string): Promise<number> {
  const store = await LmdbKeyValueStore.open(storeDir);
  try {
    const keys: string[] = [];
    for await (const { key } of store.scanPrefix(SeenStore.keyOf(''), { limit: 10_000_000 })) keys.push(key);
    for (let at = 0; at < keys.length; at += 10_000) await store.deleteMany(keys.slice(at, at + 10_000));
    return keys.length;
  } finally {
    await store.close();
  }
}

/**
 * Per-stage p50/p99 (ms) of request traces: the whole pipeline and each component's own call (parallel
 * components' wall times overlap, each including the others' turns), with the candidate counts the
 * pre-ranker and the ranker saw.
 */
export function stageTable(traces: RequestTrace[]): { text: string; scored: number[]; ranked: number[] } {
  const byId = new Map<string, number[]>();
  const scored: number[] = [];
  const ranked: number[] = [];
  for (const t of traces) {
    if (!byId.has('pipeline')) byId.set('pipeline', []);
    byId.get('pipeline')!.push(t.ms);
    for (const c of t.components) {
      if (!byId.has(c.id)) byId.set(c.id, []);
      // Own time: parallel components' wall times overlap (each includes the others' turns).
      byId.get(c.id)!.push(c.callMs ?? c.ms);
      if (c.id === 'pre-ranker') scored.push(c.in);
      if (c.id === 'ranker') ranked.push(c.in);
    }
  }
  const text = [...byId]
    .map(([id, ms]) => `${id} ${percentile(ms, 50).toFixed(2)}/${percentile(ms, 99).toFixed(2)}`)
    .join(', ');
  return { text, scored, ranked };
}
