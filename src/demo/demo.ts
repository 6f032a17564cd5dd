import { mkdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type Comparison, compareArms } from '../analytics/experiment.js';
import { MS_PER_DAY, MS_PER_HOUR } from '../core/clock.js';
import { type Config, ConfigSchema } from '../core/config.js';
import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Event } from '../core/schema/index.js';
import { foryouRegistry } from '../features/foryou-views.js';
import { OnlineFeatureStore } from '../features/online.js';
import { FeatureStreamer } from '../features/streamer.js';
import { createHttpApp } from '../http/app.js';
import { IngestClient, type IngestEndpoint } from '../ingest/ingest-client.js';
import { ingestRoutes } from '../ingest/routes.js';
import { foryouJobs } from '../jobs/foryou-jobs.js';
import { JobStateFile } from '../jobs/state-file.js';
import { openEventLog } from '../log/open.js';
import { ArtifactRegistry } from '../models/artifact-registry.js';
import { TraceBuffer } from '../pipeline/trace.js';
import { BundleHolder } from '../serving/bundle-holder.js';
import { type ExperimentArm, ExperimentFeed, RetrievalOrderRanker } from '../serving/experiment.js';
import { FeedService } from '../serving/feed-service.js';
import { ImpressionLogger } from '../serving/impression-log.js';
import { PromotedRanker } from '../serving/multitask-ranker.js';
import { FusedRanker } from '../serving/ranker.js';
import { type FeedEndpoint, feedRoutes } from '../serving/routes.js';
import { SeenStore } from '../serving/seen-store.js';
import { TwoTowerHolder } from '../serving/two-tower-space.js';
import { audienceOf, STEP_MS, simulateHistory } from '../sim/history.js';
import { World } from '../sim/world.js';
import { openKeyValueStore } from '../store/open.js';
import { type ArmTally, LiveTraffic, type PlatformClient } from './live-traffic.js';

export interface DemoOptions {
  /** Working folder (log, lake, store, artifacts); emptied first. */
  dir: string;
  users: number;
  items: number;
  /** Simulated days of history before the platform takes over. */
  historyDays: number;
  /** Simulated days of live traffic against the platform. */
  liveDays: number;
  seed: number;
  /** Mean sessions per user per simulated day (the world's activity level). */
  sessionsPerDay: number;
  /** Retrain and rebuild the serving bundle every this many simulated hours (0: never). */
  retrainHours: number;
  pageSize: number;
  /** Share of users in the personalised arm (the rest get the trending baseline). */
  treatmentShare: number;
  /** Sessions running at once during the live phase. */
  concurrency: number;
  onProgress?: (progress: DemoProgress) => void;
}

export const DEMO_DEFAULTS = {
  users: 3_000,
  items: 3_000,
  historyDays: 2,
  liveDays: 2,
  seed: 42,
  sessionsPerDay: 0.6,
  retrainHours: 12,
  pageSize: 8,
  treatmentShare: 0.5,
  concurrency: 8,
} as const;

export type DemoPhase = 'history' | 'train' | 'live';

export interface DemoProgress {
  phase: DemoPhase;
  done: number;
  total: number;
  note?: string;
}

export interface ArmReport {
  arm: string;
  users: number;
  sessions: number;
  requests: number;
  degradedRequests: number;
  /** Mean watch time per session, seconds. */
  watchSecondsPerSession: number;
  /** Likes per play. */
  likeRate: number;
  /** Distinct items shown / catalogue. */
  coverage: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface DemoSummary {
  world: { users: number; items: number; historyDays: number; liveDays: number; seed: number };
  historyEvents: number;
  liveEvents: number;
  retrains: number;
  arms: ArmReport[];
  /** Watch time per session, personalised vs trending, users as the unit. */
  watchTime: Comparison;
  /** Likes per play, personalised vs trending. */
  likeRate: Comparison;
  seconds: { history: number; train: number; live: number };
}

export const TREATMENT = 'personalised';
export const CONTROL = 'trending';

/**
 * The closed loop on the embedded default, in one process: a simulated world's history goes through the
 * real ingest API into the event log; the job graph writes the lake, trains the models and builds the
 * serving bundle; the feed API serves an A/B experiment (the For You pipeline against a trending-only
 * baseline, users split by a hash of their id); simulated users scroll their feeds over HTTP while what
 * they do streams back through ingest into the log and the online features; every `retrainHours` the job
 * graph runs again and the new bundle is swapped in under traffic. Returns both arms' figures and the lift.
 */
export async function runDemo(input: Partial<DemoOptions> & { dir: string }): Promise<DemoSummary> {
  const o: DemoOptions = { ...DEMO_DEFAULTS, ...input };
  const progress = o.onProgress ?? (() => {});
  const dir = resolve(o.dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const config: Config = ConfigSchema.parse({
    dataDir: dir,
    seed: o.seed,
    logLevel: 'silent',
    log: { url: `file://${join(dir, 'log')}`, fsync: 'interval' },
    lake: { dir: join(dir, 'lake') },
    store: { url: `lmdb://${join(dir, 'store')}` },
  });
  const world = new World({
    users: o.users,
    items: o.items,
    days: o.historyDays + o.liveDays,
    seed: o.seed,
    sessionsPerDay: o.sessionsPerDay,
  });
  const audience = audienceOf(world);
  const cutMs = world.startMs + o.historyDays * MS_PER_DAY;
  let nowMs = cutMs;
  const clock = { now: () => nowMs };

  const log = await openEventLog(config.log);
  const store = await openKeyValueStore(config.store.url);
  const features = foryouRegistry();
  const online = new OnlineFeatureStore(features, store, clock);
  const streamer = new FeatureStreamer(log, online, features, { clock });
  const app = createHttpApp({ logLevel: 'silent', health: () => ({ log: log.kind }) });
  await app.register(ingestRoutes, {
    log,
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxBatchRecords: config.ingest.maxBatchEvents,
  });
  let holder: BundleHolder | null = null;
  let twoTower: TwoTowerHolder | null = null;
  const artifacts = new ArtifactRegistry(join(dir, 'artifacts'));
  const seen = new SeenStore(store);
  const impressions = new ImpressionLogger(log, { clock: clock.now });
  const traces = new TraceBuffer(100);
  let experiment: ExperimentFeed | null = null;
  // The feed routes are registered before the first bundle exists (fastify takes no routes once it
  // listens); until the experiment is set up they answer that the feed is not serving yet.
  const notYet = () =>
    new ForyouError('FY_INTERNAL', 'the feed is not serving yet: no bundle has been built');
  const endpoint: FeedEndpoint = {
    feed: (request: Parameters<ExperimentFeed['feed']>[0]) => {
      if (!experiment) throw notYet();
      return experiment.feed(request);
    },
    get holder() {
      if (!experiment) throw notYet();
      return experiment.holder;
    },
    get pipeline() {
      if (!experiment) throw notYet();
      return experiment.pipeline;
    },
    get features() {
      if (!experiment) throw notYet();
      return experiment.features;
    },
  };
  await app.register(feedRoutes, { feed: endpoint, seen, online, traces });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const ingest = new IngestClient({ url });
  const send = async (endpoint: IngestEndpoint, records: readonly unknown[]) => {
    for (let k = 0; k < records.length; k += 2_000) {
      const result = await ingest.send(endpoint, records.slice(k, k + 2_000));
      if (result.rejected > 0)
        throw new ForyouError(
          'FY_INTERNAL',
          `ingest rejected ${result.rejected} ${endpoint}: ${JSON.stringify(result.not_accepted[0])}`,
        );
    }
  };

  try {
    // History: catalogue, then the events, all through the ingest API.
    const started = performance.now();
    await send(
      'users',
      Array.from({ length: world.userCount }, (_, u) => world.userRecord(u)),
    );
    await send(
      'items',
      Array.from({ length: world.itemCount }, (_, i) => world.itemRecord(i)),
    );
    let historyEvents = 0;
    const steps = Math.ceil((cutMs - world.startMs) / STEP_MS);
    for (const { step, events } of simulateHistory(world, {}, { endMs: cutMs, model: audience })) {
      await send('events', events);
      historyEvents += events.length;
      if (step % 12 === 0)
        progress({ phase: 'history', done: step + 1, total: steps, note: `${historyEvents} events` });
    }
    progress({ phase: 'history', done: steps, total: steps, note: `${historyEvents} events` });
    await streamer.runOnce();
    const historySeconds = (performance.now() - started) / 1000;

    // Offline: lake, models, serving bundle.
    const jobState = new JobStateFile(join(dir, 'jobs.json'));
    const graph = foryouJobs(config, {
      models: ['popularity', 'item-knn', 'als', 'two-tower'],
      clock,
      seed: o.seed,
    });
    const targets = ['build-bundle', 'build-two-tower-index', 'train-ranker'];
    const jobCount = graph.order(targets).length;
    let jobsDone = 0;
    const train = async () => {
      jobsDone = 0;
      const summary = await graph.run(targets, jobState, {
        attempts: 1,
        onEvent: (e) => {
          if (e.kind === 'start') progress({ phase: 'train', done: jobsDone, total: jobCount, note: e.job });
          if (e.kind === 'done' || e.kind === 'skip')
            progress({ phase: 'train', done: ++jobsDone, total: jobCount, note: e.job });
        },
      });
      if (summary.failed.length > 0)
        throw new ForyouError(
          'FY_JOB_FAILED',
          `demo training failed: ${summary.failed[0]!.job}: ${summary.failed[0]!.error}`,
        );
    };
    const trainStarted = performance.now();
    await train();
    let trainSeconds = (performance.now() - trainStarted) / 1000;
    holder = await BundleHolder.fromRegistry(artifacts);
    const bundles = holder;
    twoTower = new TwoTowerHolder(() => bundles.current);
    await twoTower.reload(artifacts);
    const ranker = new PromotedRanker(artifacts, online, new FusedRanker());
    await ranker.refresh();
    if (ranker.servingVersion === null) throw new ForyouError('FY_JOB_FAILED', 'the demo trained no ranker');
    const pipelineBase = {
      online,
      seen,
      impressions,
      traces,
      clock: clock.now,
      qualityFactor: null,
      deadlineMs: 200,
    };
    const arms: ExperimentArm[] = [
      {
        name: TREATMENT,
        share: o.treatmentShare,
        feed: new FeedService(holder, seen, { ...pipelineBase, ranker, spaces: [twoTower.entry] }),
      },
      {
        name: CONTROL,
        share: 1 - o.treatmentShare,
        feed: new FeedService(holder, seen, {
          ...pipelineBase,
          onlySources: ['trending'],
          preRanker: new RetrievalOrderRanker('trending-pre-order'),
          ranker: new RetrievalOrderRanker(),
        }),
      },
    ];
    experiment = new ExperimentFeed(`demo-${o.seed}`, arms);

    // Live: users scroll, events flow back, models retrain.
    const client: PlatformClient = {
      async feed(user, count, cursor) {
        const query = new URLSearchParams({ user, count: String(count) });
        if (cursor) query.set('cursor', cursor);
        const response = await fetch(`${url}/v1/feed?${query}`);
        const body = (await response.json()) as {
          items?: { item_id: string }[];
          arm?: string;
          request_id?: string;
          next_cursor?: string;
          degraded?: boolean;
          message?: string;
        };
        if (!response.ok)
          throw new ForyouError('FY_INTERNAL', `GET /v1/feed answered ${response.status}: ${body.message}`);
        return {
          items: (body.items ?? []).map((x) => x.item_id),
          arm: body.arm ?? 'unknown',
          requestId: body.request_id ?? '',
          cursor: body.next_cursor ?? '',
          degraded: body.degraded ?? false,
        };
      },
      async send(events: Event[]) {
        await send('events', events);
      },
    };
    const traffic = new LiveTraffic({
      world,
      audience,
      client,
      rng: new Rng(o.seed).fork('demo/live'),
      pageSize: o.pageSize,
      concurrency: o.concurrency,
    });
    const liveStarted = performance.now();
    const liveSteps = Math.ceil((o.liveDays * MS_PER_DAY) / STEP_MS);
    let retrains = 0;
    let liveEvents = 0;
    const eventsBefore = streamer.events;
    for (let s = 0; s < liveSteps; s++) {
      nowMs = cutMs + s * STEP_MS;
      if (o.retrainHours > 0 && s > 0 && (s * STEP_MS) % (o.retrainHours * MS_PER_HOUR) === 0) {
        const t0 = performance.now();
        await train();
        await holder.reload(artifacts);
        await twoTower.reload(artifacts);
        await ranker.refresh();
        trainSeconds += (performance.now() - t0) / 1000;
        retrains++;
      }
      await traffic.step(nowMs);
      await impressions.flush();
      await streamer.runOnce();
      liveEvents = streamer.events - eventsBefore;
      if (s % 6 === 0 || s === liveSteps - 1)
        progress({
          phase: 'live',
          done: s + 1,
          total: liveSteps,
          note: `${liveEvents} events, ${retrains} retrains`,
        });
    }
    const liveSeconds = (performance.now() - liveStarted) / 1000;
    return summarize(
      o,
      world,
      traffic,
      { historyEvents, liveEvents, retrains },
      {
        history: historySeconds,
        train: trainSeconds,
        live: liveSeconds,
      },
    );
  } finally {
    holder?.stop();
    twoTower?.close();
    await app.close();
    await impressions.flush().catch(() => {});
    await store.close();
    await log.close();
  }
}

function percentileOf(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

function armReport(name: string, tally: ArmTally, items: number): ArmReport {
  const per = tally.perUser();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const sessions = sum(per.sessions);
  const plays = sum(per.plays);
  return {
    arm: name,
    users: per.users.length,
    sessions,
    requests: tally.requests,
    degradedRequests: tally.degraded,
    watchSecondsPerSession: sessions > 0 ? sum(per.watchMs) / sessions / 1000 : 0,
    likeRate: plays > 0 ? sum(per.likes) / plays : 0,
    coverage: tally.shown.size / items,
    latencyP50Ms: percentileOf(tally.latencyMs, 0.5),
    latencyP99Ms: percentileOf(tally.latencyMs, 0.99),
  };
}

function summarize(
  o: DemoOptions,
  world: World,
  traffic: LiveTraffic,
  counts: { historyEvents: number; liveEvents: number; retrains: number },
  seconds: DemoSummary['seconds'],
): DemoSummary {
  const treatment = traffic.tally(TREATMENT);
  const control = traffic.tally(CONTROL);
  const t = treatment.perUser();
  const c = control.perUser();
  return {
    world: { users: o.users, items: o.items, historyDays: o.historyDays, liveDays: o.liveDays, seed: o.seed },
    ...counts,
    arms: [armReport(TREATMENT, treatment, world.itemCount), armReport(CONTROL, control, world.itemCount)],
    watchTime: compareArms(
      { y: c.watchMs.map((ms) => ms / 1000), x: c.sessions },
      { y: t.watchMs.map((ms) => ms / 1000), x: t.sessions },
    ),
    likeRate: compareArms({ y: c.likes, x: c.plays }, { y: t.likes, x: t.plays }),
    seconds,
  };
}
