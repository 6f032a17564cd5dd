import { join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.js';
import { foryouRegistry } from '../features/foryou-views.js';
import { OnlineFeatureStore } from '../features/online.js';
import type { EventLog } from '../log/port.js';
import { ArtifactRegistry } from '../models/artifact-registry.js';
import { TraceBuffer } from '../pipeline/trace.js';
import { openKeyValueStore } from '../store/open.js';
import type { KeyValueStore } from '../store/port.js';
import { BUNDLE_ARTIFACT, BundleHolder } from './bundle-holder.js';
import type { FeedPipelineOptions } from './feed-pipeline.js';
import { FeedService } from './feed-service.js';
import { ImpressionLogger } from './impression-log.js';
import { PromotedRanker } from './multitask-ranker.js';
import { FusedRanker } from './ranker.js';
import { feedRoutes } from './routes.js';
import { SeenStore } from './seen-store.js';
import { TWO_TOWER_INDEX_ARTIFACT, TwoTowerHolder, type TwoTowerSpaceOptions } from './two-tower-space.js';

export interface FeedSurfaceOptions {
  /** Where the artifact registry lives (default `<dataDir>/artifacts`). */
  registryDir?: string;
  /** How often to look for a newly promoted bundle (default 2 s; 0 never). */
  watchMs?: number;
  /** Pipeline knobs (ranker, extra spaces, deadline). */
  pipeline?: Partial<Omit<FeedPipelineOptions, 'online' | 'seen' | 'impressions'>>;
  /**
   * The two-tower space (`ann-two-tower` source) when a `two-tower-index` is promoted: on by default;
   * false leaves it out, an object sets its search cap.
   */
  twoTower?: boolean | TwoTowerSpaceOptions;
}

/** The serving process keeps the trace of one request in this many (`TraceBuffer`). */
export const TRACE_EVERY = 10;

/** Everything the feed endpoints need in one process, opened from the configuration. */
export interface FeedSurface {
  service: FeedService;
  holder: BundleHolder;
  /** The two-tower index in service; null when none was promoted at open (or it is turned off). */
  twoTower: TwoTowerHolder | null;
  impressions: ImpressionLogger;
  traces: TraceBuffer;
  registry: ArtifactRegistry;
  /** The online feature store the feed reads (one per process: LMDB must not be opened twice in one). */
  online: OnlineFeatureStore;
  /** Item and creator feature rows loaded into the hydration's caches at open (`FeedService.warmUp`). */
  preloaded: number;
  /** Registers the feed routes on an app from `createHttpApp`. */
  register(app: FastifyInstance): Promise<void>;
  close(): Promise<void>;
}

/** The artifact registry of a configuration. */
export function registryOf(config: Config): ArtifactRegistry {
  return new ArtifactRegistry(join(resolve(config.dataDir), 'artifacts'));
}

/**
 * Opens the feed surface: the promoted serving bundle (its ANN index memory-mapped), the promoted
 * two-tower index when there is one (memory-mapped too; it adds the `ann-two-tower` source), the online
 * store named by `store.url` (LMDB is shared between processes), the impression logger on `log`, and a
 * watch that swaps in a newly promoted bundle or two-tower index. Resolves to null when no bundle has been
 * promoted yet, so a server without one still serves ingest. Without a promoted two-tower index at open
 * the pipeline has no two-tower source (as with the bundle, the first one is picked up by a restart).
 */
export async function openFeedSurface(
  config: Config,
  log: EventLog,
  options: FeedSurfaceOptions = {},
): Promise<FeedSurface | null> {
  const registry = options.registryDir ? new ArtifactRegistry(options.registryDir) : registryOf(config);
  if ((await registry.current(BUNDLE_ARTIFACT)) === null) return null;
  const holder = await BundleHolder.fromRegistry(registry);
  let twoTower: TwoTowerHolder | null = null;
  let store: KeyValueStore | null = null;
  try {
    if (options.twoTower !== false && (await registry.current(TWO_TOWER_INDEX_ARTIFACT)) !== null) {
      twoTower = new TwoTowerHolder(
        () => holder.current,
        typeof options.twoTower === 'object' ? options.twoTower : {},
      );
      await twoTower.reload(registry);
    }
    store = await openKeyValueStore(config.store.url);
  } catch (error) {
    holder.stop();
    twoTower?.close();
    throw error;
  }
  const online = new OnlineFeatureStore(foryouRegistry(), store);
  const promoted = options.pipeline?.ranker ? null : new PromotedRanker(registry, online, new FusedRanker());
  await promoted?.refresh();
  const seen = new SeenStore(store);
  const impressions = new ImpressionLogger(log);
  // One request in ten (and every degraded one): 200 traces then span 20 s at 100 requests/s.
  const traces = new TraceBuffer(200, TRACE_EVERY);
  const spaces = [...(options.pipeline?.spaces ?? []), ...(twoTower ? [twoTower.entry] : [])];
  const service = new FeedService(holder, seen, {
    ...options.pipeline,
    ...(spaces.length > 0 ? { spaces } : {}),
    ...(promoted ? { ranker: promoted } : {}),
    online,
    seen,
    impressions,
    traces,
  });
  const preloaded = await service.warmUp();
  const watchMs = options.watchMs ?? 2000;
  if (watchMs > 0) {
    holder.watch(registry, watchMs);
    promoted?.watch(watchMs);
    twoTower?.watch(registry, watchMs);
  }
  const opened = store;
  return {
    service,
    holder,
    twoTower,
    impressions,
    traces,
    registry,
    online,
    preloaded,
    register: async (app) => {
      await app.register(feedRoutes, { feed: service, seen, online, traces });
    },
    close: async () => {
      holder.stop();
      promoted?.stop();
      twoTower?.close();
      await impressions.flush();
      await opened.close();
    },
  };
}
