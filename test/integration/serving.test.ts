/**
 * The For You feed end to end through the real HTTP server on a small simulated world: a world and its
 * history in the embedded log, online features streamed into LMDB, ALS trained, a serving bundle built,
 * published and promoted in the artifact registry, loaded (memory-mapped index) and served.
 */
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import type { Event } from '../../src/core/schema/index.js';
import { foryouRegistry } from '../../src/features/foryou-views.js';
import { OnlineFeatureStore } from '../../src/features/online.js';
import { CATALOG_TOPIC, EVENTS_TOPIC, FeatureStreamer } from '../../src/features/streamer.js';
import { createHttpApp } from '../../src/http/app.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { AlsRecommender } from '../../src/models/als.js';
import { ArtifactRegistry } from '../../src/models/artifact-registry.js';
import { InteractionMatrix, type RawInteraction } from '../../src/models/interactions.js';
import type { CandidateSource } from '../../src/pipeline/components.js';
import { TraceBuffer } from '../../src/pipeline/trace.js';
import { rowOf, ServingBundle } from '../../src/serving/bundle.js';
import { type BundleBuildInput, buildBundleData } from '../../src/serving/bundle-builder.js';
import { BUNDLE_ARTIFACT, BundleHolder } from '../../src/serving/bundle-holder.js';
import { alsEmbeddings } from '../../src/serving/embeddings.js';
import type { FeedCandidate, FeedQuery } from '../../src/serving/feed-query.js';
import { type FeedResponse, FeedService } from '../../src/serving/feed-service.js';
import { ImpressionLogger } from '../../src/serving/impression-log.js';
import { feedRoutes } from '../../src/serving/routes.js';
import { SeenStore } from '../../src/serving/seen-store.js';
import { topicalHashtags } from '../../src/serving/selector.js';
import { simulateHistory } from '../../src/sim/history.js';
import { World } from '../../src/sim/world.js';
import { LmdbKeyValueStore } from '../../src/store/lmdb-store.js';
import { tempDir } from '../helpers/index.js';

const encoder = new TextEncoder();

interface ServingWorld {
  dir: string;
  world: World;
  events: Event[];
  log: FileEventLog;
  store: LmdbKeyValueStore;
  online: OnlineFeatureStore;
  registry: ArtifactRegistry;
  clock: FakeClock;
  build: (version: string, factors: number) => Promise<ServingBundle>;
  /** Builds and publishes a bundle (and promotes it unless told not to); resolves to its registry version. */
  publish: (version: string, factors: number, promote?: boolean) => Promise<number>;
}

async function servingWorld(): Promise<ServingWorld> {
  const dir = tempDir('foryou-serving-');
  const world = new World({ users: 300, items: 2000, creators: 400, days: 2, seed: 21 });
  const log = await FileEventLog.open(join(dir, 'log'), { fsync: 'never' });
  const items = Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i));
  const users = Array.from({ length: world.userCount }, (_, u) => world.userRecord(u));
  await log.append(
    CATALOG_TOPIC,
    items.map((record) => ({
      id: `item:${record.item_id}`,
      payload: encoder.encode(JSON.stringify({ kind: 'item', record })),
    })),
  );
  const events: Event[] = [];
  for (const batch of simulateHistory(world)) events.push(...batch.events);
  for (let k = 0; k < events.length; k += 5000)
    await log.append(
      EVENTS_TOPIC,
      events.slice(k, k + 5000).map((e) => ({ id: e.event_id, payload: encoder.encode(JSON.stringify(e)) })),
    );
  const clock = new FakeClock(events.at(-1)!.ts);
  const registry = foryouRegistry();
  const store = await LmdbKeyValueStore.open(join(dir, 'store'));
  const online = new OnlineFeatureStore(registry, store, clock);
  await new FeatureStreamer(log, online, registry, { clock }).runOnce();

  const interactions: RawInteraction[] = [];
  for (const e of events)
    if ((e.type === 'play' && e.watch_ms >= 0.5 * e.duration_ms) || e.type === 'like')
      interactions.push({ user: e.user_id, item: e.item_id, value: 1, ts: e.ts });
  const matrix = InteractionMatrix.from(interactions);
  const artifacts = new ArtifactRegistry(join(dir, 'artifacts'));

  const build = async (version: string, factors: number): Promise<ServingBundle> => {
    const als = new AlsRecommender({ factors, iterations: 4 });
    await als.fit(matrix, { threads: 1, seed: factors });
    const input: BundleBuildInput = {
      version,
      items,
      users,
      events,
      embeddings: alsEmbeddings(als),
      nowMs: clock.now(),
    };
    return ServingBundle.build(buildBundleData(input), { threads: 1 });
  };
  const publish = async (version: string, factors: number, promote = true): Promise<number> => {
    const bundle = await build(version, factors);
    const meta = await artifacts.publish(
      BUNDLE_ARTIFACT,
      { kind: 'index', config: { version, factors }, metrics: {}, inputs: {} },
      (out) => bundle.save(out),
    );
    if (promote) await artifacts.promote(BUNDLE_ARTIFACT, meta.version);
    return meta.version;
  };
  return { dir, world, events, log, store, online, registry: artifacts, clock, build, publish };
}

interface Server {
  url: string;
  holder: BundleHolder;
  impressions: ImpressionLogger;
  feed: FeedService;
  close: () => Promise<void>;
}

async function startFeedServer(
  w: ServingWorld,
  options: { extraSources?: CandidateSource<FeedQuery, FeedCandidate>[]; deadlineMs?: number } = {},
): Promise<Server> {
  const holder = await BundleHolder.fromRegistry(w.registry);
  const seen = new SeenStore(w.store);
  const impressions = new ImpressionLogger(w.log);
  const traces = new TraceBuffer(50);
  const feed = new FeedService(holder, seen, {
    online: w.online,
    seen,
    impressions,
    traces,
    clock: () => w.clock.now(),
    qualityFactor: null,
    ...(options.extraSources ? { extraSources: options.extraSources } : {}),
    // Generous: these tests are about behaviour, and the machine is shared (timing belongs to bench/).
    deadlineMs: options.deadlineMs ?? 2000,
  });
  const app = createHttpApp({ logLevel: 'silent' });
  await app.register(feedRoutes, { feed, seen, online: w.online, traces });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    holder,
    impressions,
    feed,
    close: async () => {
      await app.close();
      await impressions.flush();
    },
  };
}

async function getJson<T = Record<string, unknown>>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new Error(`GET ${url} answered ${response.status} with ${JSON.stringify(text.slice(0, 200))}`);
  }
}

const decoder = new TextDecoder();

describe('the For You feed over HTTP on a simulated world', () => {
  let w: ServingWorld;
  let server: Server;

  beforeAll(async () => {
    w = await servingWorld();
    await w.publish('v1', 16);
    server = await startFeedServer(w);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await w?.store.close();
    await w?.log.close().catch(() => {});
  });

  const activeUsers = () => {
    const counts = new Map<string, number>();
    for (const e of w.events) if (e.type === 'play') counts.set(e.user_id, (counts.get(e.user_id) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([u]) => u);
  };

  it('serves the asked number of distinct items, and the next page repeats none of them', async () => {
    const user = activeUsers()[0]!;
    const first = await getJson<FeedResponse>(`${server.url}/v1/feed?user=${user}&count=10`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(10);
    expect(first.body.degraded).toBe(false);
    expect(first.body.degraded_components).toEqual([]);
    expect(first.body.bundle_version).toBe('v1');
    const ids = first.body.items.map((i) => i.item_id);
    expect(new Set(ids).size).toBe(10);
    expect(first.body.items.map((i) => i.position)).toEqual([...Array(10).keys()]);
    // The first page's candidates went back to the pool; the second page is made of them.
    expect(server.feed.candidates.idle).toBeGreaterThan(0);
    const second = await getJson<FeedResponse>(
      `${server.url}/v1/feed?user=${user}&count=10&cursor=${first.body.next_cursor}`,
    );
    expect(second.status).toBe(200);
    expect(second.body.items).toHaveLength(10);
    expect(second.body.items.map((i) => i.position)).toEqual([...Array(10).keys()].map((k) => 10 + k));
    for (const item of second.body.items) expect(ids).not.toContain(item.item_id);
    // The personalised sources contribute, not only the popular lists.
    const sources = new Set([...first.body.items, ...second.body.items].map((i) => i.source));
    expect([...sources].some((s) => s === 'ann-factors' || s === 'item-to-item')).toBe(true);

    const history = await getJson<{ served: string[] }>(`${server.url}/v1/users/${user}/history?count=100`);
    expect(history.status).toBe(200);
    for (const item of [...first.body.items, ...second.body.items])
      expect(history.body.served).toContain(item.item_id);
  });

  it('keeps to the languages the user reads and to the caps per creator and hashtag', async () => {
    const bundle = server.holder.current;
    const { itemLanguage, itemCreator } = bundle.data;
    for (const user of activeUsers().slice(1, 25)) {
      const page = await getJson<FeedResponse>(`${server.url}/v1/feed?user=${user}&count=20&debug=1`);
      expect(page.status).toBe(200);
      expect(
        page.body.items,
        JSON.stringify(page.body.trace?.components.map((c) => [c.id, c.in, c.out, c.error])),
      ).toHaveLength(20);
      const reads = new Set(rowOf(bundle.data.userLanguages, bundle.data.userIds.indexOf(user)));
      const perCreator = new Map<number, number>();
      const perTag = new Map<number, number>();
      for (const { item_id } of page.body.items) {
        const i = bundle.data.itemIds.indexOf(item_id);
        expect(
          reads.has(itemLanguage[i]!),
          `${user} got ${item_id} in ${bundle.data.languages[itemLanguage[i]!]}`,
        ).toBe(true);
        perCreator.set(itemCreator[i]!, (perCreator.get(itemCreator[i]!) ?? 0) + 1);
        for (const t of topicalHashtags(bundle, i)) perTag.set(t, (perTag.get(t) ?? 0) + 1);
      }
      expect(Math.max(...perCreator.values())).toBeLessThanOrEqual(2);
      expect(Math.max(0, ...perTag.values())).toBeLessThanOrEqual(3);
    }
    // An explicit language narrows the feed to it.
    const es = await getJson<FeedResponse>(
      `${server.url}/v1/feed?user=${activeUsers()[2]}&count=10&language=es`,
    );
    expect(es.status).toBe(200);
    for (const { item_id } of es.body.items)
      expect(bundle.data.languages[itemLanguage[bundle.data.itemIds.indexOf(item_id)]!]).toBe('es');
  });

  it('appends an impression per served item, with the request id and positions', async () => {
    const before = (await w.log.bounds('events')).end;
    const user = activeUsers()[30]!;
    const page = await getJson<FeedResponse>(`${server.url}/v1/feed?user=${user}&count=8`);
    await server.impressions.flush();
    const records = await w.log.read('events', before, { maxRecords: 10_000 });
    const mine = records
      .map((r) => JSON.parse(decoder.decode(r.payload)) as Record<string, unknown>)
      .filter((e) => e.request_id === page.body.request_id);
    expect(mine.map((e) => [e.type, e.user_id, e.item_id, e.position])).toEqual(
      page.body.items.map((i) => ['impression', user, i.item_id, i.position]),
    );
  });

  it('serves anonymous sessions from context items, paging without repeats', async () => {
    const context = w.events
      .filter((e) => e.type === 'like')
      .slice(0, 3)
      .map((e) => (e as { item_id: string }).item_id);
    const first = await getJson<FeedResponse>(`${server.url}/v1/feed?context=${context.join(',')}&count=10`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(10);
    expect(first.body.user_id.startsWith('anon:')).toBe(true);
    const second = await getJson<FeedResponse>(
      `${server.url}/v1/feed?context=${context.join(',')}&count=10&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.user_id).toBe(first.body.user_id);
    const ids = new Set(first.body.items.map((i) => i.item_id));
    for (const item of second.body.items) expect(ids.has(item.item_id)).toBe(false);
    // A user nobody has seen before gets the cold-start path too.
    const stranger = await getJson<FeedResponse>(`${server.url}/v1/feed?user=newcomer-1&count=5`);
    expect(stranger.status).toBe(200);
    expect(stranger.body.items).toHaveLength(5);
  });

  it('returns the trace with debug=1, keeps it among the recent traces, similar items, and the OpenAPI document', async () => {
    const user = activeUsers()[3]!;
    const page = await getJson<FeedResponse>(`${server.url}/v1/feed?user=${user}&count=5&debug=1`);
    const ids = page.body.trace!.components.map((c) => c.id);
    for (const id of [
      'seen-history',
      'ann-factors',
      'trending',
      'features',
      'already-seen',
      'ranker',
      'diversity',
    ])
      expect(ids).toContain(id);
    // The recent traces keep this request, beside the feature caches' counters (its ranker hydrated rows).
    const recent = await getJson<{
      traces: { requestId: string }[];
      feature_cache: Record<'items' | 'creators', { hits: number; misses: number; hit_rate: number }>;
    }>(`${server.url}/v1/traces?limit=200`);
    expect(recent.body.traces.map((t) => t.requestId)).toContain(page.body.request_id);
    const { items, creators } = recent.body.feature_cache;
    expect(items.hits + items.misses).toBeGreaterThan(0);
    expect(creators.hits + creators.misses).toBeGreaterThan(0);
    expect(items.hit_rate).toBeCloseTo(items.hits / (items.hits + items.misses), 10);
    const item = page.body.items[0]!.item_id;
    const similar = await getJson<{ items: { item_id: string }[] }>(
      `${server.url}/v1/items/${item}/similar?count=7`,
    );
    expect(similar.status).toBe(200);
    expect(similar.body.items).toHaveLength(7);
    expect(similar.body.items.map((i) => i.item_id)).not.toContain(item);
    const doc = await getJson<{ openapi: string; paths: Record<string, unknown> }>(
      `${server.url}/openapi.json`,
    );
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.body.paths).sort()).toEqual([
      '/v1/feed',
      '/v1/items/{id}/similar',
      '/v1/users/{id}/history',
    ]);
  });

  it('answers a bad parameter with a 400 that names it', async () => {
    const cases: [string, string][] = [
      ['/v1/feed?user=u1&count=0', 'count'],
      ['/v1/feed?user=u1&count=many', 'count'],
      ['/v1/feed?user=u1&count=101', 'count'],
      ['/v1/feed?user=not%20an%20id', 'user'],
      ['/v1/feed?user=u1&cursor=nonsense!', 'cursor'],
      [`/v1/feed?user=u1&cursor=${Buffer.from('{"v":2}').toString('base64url')}`, 'cursor'],
      ['/v1/feed?user=u1&language=English', 'language'],
      ['/v1/feed?user=u1&debug=yes', 'debug'],
      ['/v1/feed?user=u1&colour=red', 'colour'],
      ['/v1/feed?user=u1&count=5&count=6', 'count'],
      ['/v1/feed?context=v1,bad%20id', 'context'],
      ['/v1/items/no-such-item/similar', 'id'],
      ['/v1/items/v1/similar?count=-1', 'count'],
      ['/v1/users/u1/history?count=x', 'count'],
    ];
    for (const [path, parameter] of cases) {
      const { status, body } = await getJson<{
        code: string;
        message: string;
        details: { parameter: string };
      }>(`${server.url}${path}`);
      expect(status, path).toBe(400);
      expect(body.code).toBe('FY_INVALID_ARGUMENT');
      expect(body.details.parameter, path).toBe(parameter);
      expect(body.message, path).toContain(parameter);
    }
  });

  it('degrades, never fails, when a source throws or hangs', async () => {
    const broken: CandidateSource<FeedQuery, FeedCandidate> = {
      kind: 'candidate-source',
      id: 'broken-source',
      fetch: async () => {
        throw new Error('index shard unavailable');
      },
    };
    const hanging: CandidateSource<FeedQuery, FeedCandidate> = {
      kind: 'candidate-source',
      id: 'hanging-source',
      fetch: () => new Promise<FeedCandidate[]>(() => {}),
    };
    const faulty = await startFeedServer(w, { extraSources: [broken, hanging], deadlineMs: 200 });
    try {
      for (const user of activeUsers().slice(40, 43)) {
        const page = await getJson<FeedResponse>(`${faulty.url}/v1/feed?user=${user}&count=10&debug=1`);
        expect(page.status).toBe(200);
        expect(page.body.items).toHaveLength(10);
        expect(page.body.degraded).toBe(true);
        expect(page.body.degraded_components.sort()).toEqual(['broken-source', 'hanging-source']);
        expect(page.body.reasons.join(' ')).toContain('index shard unavailable');
        expect(page.body.reasons.join(' ')).toContain('timed out');
      }
      // A degraded run's candidates are not reused: the component that timed out may still hold some.
      expect(faulty.feed.candidates.idle).toBe(0);
    } finally {
      await faulty.close();
    }
  });

  it('loads a newly promoted bundle under concurrent requests without dropping one', async () => {
    const next = await w.publish('v2', 8, false);
    const users = activeUsers().slice(50, 90);
    const statuses: number[] = [];
    const versions = new Set<string>();
    let done = false;
    const load = (async () => {
      let k = 0;
      let wavesAfterSwap = 0;
      while (wavesAfterSwap < 3) {
        if (done) wavesAfterSwap++;
        const wave = await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            getJson<FeedResponse>(`${server.url}/v1/feed?user=${users[(k + j) % users.length]}&count=5`),
          ),
        );
        for (const r of wave) {
          statuses.push(r.status);
          if (r.status === 200) versions.add(r.body.bundle_version);
        }
        k += 10;
      }
    })();
    // Let a few waves run on v1, then promote v2 and load it while requests keep coming.
    while (statuses.length < 30) await new Promise((r) => setTimeout(r, 5));
    await w.registry.promote(BUNDLE_ARTIFACT, next);
    expect(await server.holder.reload(w.registry)).toBe(true);
    done = true;
    await load;
    expect(server.holder.current.version).toBe('v2');
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(versions).toEqual(new Set(['v1', 'v2']));
  }, 60_000);

  it('serves from two worker processes sharing the store and the mapped index; appends go through the primary', async () => {
    await server.close();
    await w.log.close();
    const bin = fileURLToPath(new URL('../../bin/foryou.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--workers', '2'], {
      env: {
        ...process.env,
        FORYOU_DATA_DIR: w.dir,
        FORYOU_LOG_URL: pathToFileURL(join(w.dir, 'log')).href,
        FORYOU_STORE_URL: `lmdb://${join(w.dir, 'store')}`,
        FORYOU_LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const requestIds: string[] = [];
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let url: string | undefined;
      for (let k = 0; k < 2400 && !url; k++) {
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 25));
      }
      expect(out).toMatch(/with 2 workers; feed bundle v\d/);
      const user = activeUsers()[5]!;
      let cursor = '';
      requestIds.length = 0;
      const served = new Set<string>();
      for (let page = 0; page < 4; page++) {
        const r = await getJson<FeedResponse>(`${url}/v1/feed?user=${user}&count=10${cursor}`);
        expect(r.status).toBe(200);
        for (const item of r.body.items) {
          expect(served.has(item.item_id), `page ${page}: ${JSON.stringify(r.body.reasons)}`).toBe(false);
          served.add(item.item_id);
        }
        requestIds.push(r.body.request_id);
        cursor = `&cursor=${r.body.next_cursor}`;
      }
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(out).toContain('foryou serve: stopped');
    const log = await FileEventLog.open(join(w.dir, 'log'));
    try {
      const { end } = await log.bounds('events');
      const tail = await log.read('events', Math.max(0, end - 200), { maxRecords: 200 });
      const impressions = tail
        .map(
          (r) =>
            JSON.parse(decoder.decode(r.payload)) as { type: string; user_id: string; request_id: string },
        )
        .filter((e) => e.type === 'impression' && e.user_id === activeUsers()[5]);
      expect(impressions.map((e) => e.request_id).sort()).toEqual(
        requestIds.flatMap((id) => Array(10).fill(id)).sort(),
      );
    } finally {
      await log.close();
    }
  }, 90_000);
});
