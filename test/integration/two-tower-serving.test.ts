/**
 * The two-tower space end to end: a small simulated world in the embedded log, the job graph builds the
 * serving bundle (ALS) and the two-tower index (`build-two-tower-index` after `train-two-tower`), and
 * `openFeedSurface` serves the feed through the real HTTP server with an `ann-two-tower` source from the
 * promoted, memory-mapped index; a newly promoted index swaps in under requests; without one the feed is
 * served as before.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { type Config, ConfigSchema } from '../../src/core/config.js';
import type { Event } from '../../src/core/schema/index.js';
import { createHttpApp } from '../../src/http/app.js';
import { foryouJobs, TWO_TOWER_FILE } from '../../src/jobs/foryou-jobs.js';
import { JobStateFile } from '../../src/jobs/state-file.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { ArtifactRegistry } from '../../src/models/artifact-registry.js';
import { TwoTowerModel } from '../../src/models/two-tower.js';
import type { FeedResponse } from '../../src/serving/feed-service.js';
import {
  type FeedSurface,
  type FeedSurfaceOptions,
  openFeedSurface,
} from '../../src/serving/feed-surface.js';
import { catalogueOf, TWO_TOWER_INDEX_ARTIFACT, TwoTowerIndex } from '../../src/serving/two-tower-space.js';
import { World } from '../../src/sim/world.js';
import { writeWorldToLog } from '../helpers/world-log.js';

const dir = mkdtempSync(join(tmpdir(), 'foryou-two-tower-serving-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  surface: FeedSurface;
  url: string;
  close: () => Promise<void>;
}

async function serve(config: Config, log: FileEventLog, options: FeedSurfaceOptions = {}): Promise<Running> {
  const surface = await openFeedSurface(config, log, {
    watchMs: 0,
    // Generous: these tests are about behaviour on a shared machine (timing belongs to bench/).
    pipeline: { deadlineMs: 5000, qualityFactor: null },
    ...options,
  });
  if (!surface) throw new Error('no serving bundle was promoted');
  const app = createHttpApp({ logLevel: 'silent' });
  await surface.register(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    surface,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await app.close();
      await surface.close();
    },
  };
}

async function feed(url: string): Promise<FeedResponse> {
  const response = await fetch(url);
  const text = await response.text();
  expect(response.status, text.slice(0, 300)).toBe(200);
  return JSON.parse(text) as FeedResponse;
}

const twoTowerOut = (page: FeedResponse) => page.trace?.components.find((c) => c.id === 'ann-two-tower');

describe('the two-tower space in the served feed', () => {
  let world: World;
  let events: Event[];
  let config: Config;
  let log: FileEventLog;
  let users: string[];

  beforeAll(async () => {
    world = new World({ users: 300, items: 2000, creators: 400, days: 2, seed: 21 });
    const logDir = join(dir, 'log');
    events = await writeWorldToLog(world, logDir);

    config = ConfigSchema.parse({
      dataDir: dir,
      log: { url: `file://${logDir}` },
      lake: { dir: join(dir, 'lake') },
      // Its own store: the schema's default (.foryou/store under the working folder) outlives the test, and
      // seen histories left there by earlier runs emptied later runs' feeds.
      store: { url: `lmdb://${join(dir, 'store')}` },
    });
    const graph = foryouJobs(config, {
      models: ['als', 'two-tower'],
      clock: new FakeClock(world.endMs),
      seed: 1,
    });
    const summary = await graph.run(
      ['build-bundle', 'build-two-tower-index'],
      new JobStateFile(join(dir, 'jobs.json')),
      { attempts: 1 },
    );
    expect(summary.failed).toEqual([]);
    expect(summary.ran).toEqual(expect.arrayContaining(['train-two-tower', 'build-two-tower-index']));
    log = await FileEventLog.open(logDir, { fsync: 'never' });
    const plays = new Map<string, number>();
    for (const e of events) if (e.type === 'play') plays.set(e.user_id, (plays.get(e.user_id) ?? 0) + 1);
    users = [...plays].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([u]) => u);
  }, 240_000);

  afterAll(async () => {
    await log?.close().catch(() => {});
  });

  it('publishes an index of every catalogue item from the promoted model', async () => {
    const registry = new ArtifactRegistry(join(dir, 'artifacts'));
    const version = await registry.current(TWO_TOWER_INDEX_ARTIFACT);
    expect(version).toBe(1);
    const meta = await registry.show(TWO_TOWER_INDEX_ARTIFACT);
    expect(meta.config.twoTowerVersion).toBe(await registry.current('two-tower'));
    const index = await TwoTowerIndex.load(registry.pathOf(TWO_TOWER_INDEX_ARTIFACT, version!));
    try {
      expect(index.items).toBe(world.itemCount);
      expect(new Set(index.itemIds)).toEqual(
        new Set(Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i).item_id)),
      );
    } finally {
      index.close();
    }
  });

  it('serves ann-two-tower candidates from the promoted index, and swaps in a new one under requests', async () => {
    const server = await serve(config, log);
    try {
      expect(server.surface.twoTower?.version).toBe(1);
      for (const user of users.slice(0, 5)) {
        const page = await feed(`${server.url}/v1/feed?user=${user}&count=10&debug=1`);
        expect(page.items).toHaveLength(10);
        expect(page.degraded).toBe(false);
        const source = twoTowerOut(page);
        expect(source?.status).toBe('ok');
        expect(source!.out).toBeGreaterThan(0);
      }

      // A new version (here: the same model over the catalogue) is promoted; requests keep being answered.
      const registry = server.surface.registry;
      const model = TwoTowerModel.load(
        join(registry.pathOf('two-tower', (await registry.current('two-tower'))!), TWO_TOWER_FILE),
      );
      const items = Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i));
      const next = TwoTowerIndex.build(model, catalogueOf(items), { ann: { threads: 1 } });
      const meta = await registry.publish(
        TWO_TOWER_INDEX_ARTIFACT,
        { kind: 'index', config: {}, metrics: {}, inputs: {} },
        (out) => next.save(out),
      );
      await registry.promote(TWO_TOWER_INDEX_ARTIFACT, meta.version);
      const during = Array.from({ length: 12 }, (_, k) =>
        feed(`${server.url}/v1/feed?user=${users[k % 6]}&count=5&debug=1`),
      );
      expect(await server.surface.twoTower!.reload(registry)).toBe(true);
      const pages = await Promise.all(during);
      for (const page of pages) expect(page.items).toHaveLength(5);
      expect(server.surface.twoTower!.version).toBe(meta.version);
      const after = await feed(`${server.url}/v1/feed?user=${users[7]}&count=10&debug=1`);
      expect(twoTowerOut(after)!.out).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('serves as before when no two-tower index is promoted', async () => {
    const bare = join(dir, 'artifacts-without-index');
    cpSync(join(dir, 'artifacts'), bare, {
      recursive: true,
      filter: (path) => !path.includes(TWO_TOWER_INDEX_ARTIFACT),
    });
    const server = await serve(config, log, { registryDir: bare });
    try {
      expect(server.surface.twoTower).toBeNull();
      const page = await feed(`${server.url}/v1/feed?user=${users[0]}&count=10&debug=1`);
      expect(page.items).toHaveLength(10);
      expect(twoTowerOut(page)).toBeUndefined();
      expect(page.trace!.components.map((c) => c.id)).toContain('ann-factors');
    } finally {
      await server.close();
    }
  }, 60_000);
});
