import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Config } from '../core/config.js';
import { ForyouError } from '../core/errors.js';
import type { Event, Item, User } from '../core/schema/index.js';
import { createModel } from '../evaluation/model-registry.js';
import { evaluate } from '../evaluation/runner.js';
import { foryouRegistry } from '../features/foryou-views.js';
import { materializeToOnline } from '../features/materialize.js';
import { buildOfflineTable, offlineTablePath } from '../features/offline.js';
import { OnlineFeatureStore } from '../features/online.js';
import { Lake } from '../lake/lake.js';
import { readManifest } from '../lake/manifest.js';
import { LakeWriter } from '../lake/writer.js';
import { openEventLog } from '../log/open.js';
import { AlsRecommender } from '../models/als.js';
import { ArtifactRegistry } from '../models/artifact-registry.js';
import { InteractionMatrix } from '../models/interactions.js';
import { readLakeInteractions } from '../models/lake-interactions.js';
import { loadRecommender, saveRecommender } from '../models/persist.js';
import { RANKER_ARTIFACT, RANKER_FILE, saveRankerArtifact } from '../models/ranker-artifact.js';
import { trainRanker } from '../models/ranker-train.js';
import { buildRankingSamples, rankerFeatureRegistry } from '../models/ranking-samples.js';
import { TwoTowerModel } from '../models/two-tower.js';
import { buildTwoTowerData } from '../models/two-tower-data.js';
import { ServingBundle } from '../serving/bundle.js';
import { buildBundleData } from '../serving/bundle-builder.js';
import { BUNDLE_ARTIFACT } from '../serving/bundle-holder.js';
import { alsEmbeddings } from '../serving/embeddings.js';
import { catalogueOf, TWO_TOWER_INDEX_ARTIFACT, TwoTowerIndex } from '../serving/two-tower-space.js';
import { openKeyValueStore } from '../store/open.js';
import { type Job, JobGraph } from './graph.js';

export interface ForyouJobsOptions {
  /** Retrieval models to train (evaluation registry names). */
  models: readonly string[];
  /** The clock TTLs are measured against when materialising (simulated worlds live in the past). */
  clock?: Clock;
  seed?: number;
}

const TWO_TOWER = 'two-tower';
/** The model file inside a two-tower artifact version. */
export const TWO_TOWER_FILE = 'two-tower.fytt';

/** Fewer impressions than this make a ranker that is noise. */
const RANKER_MIN_SAMPLES = 1_000;

const hash = (value: unknown) =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);

/**
 * Foryou's offline jobs, wired to the configured log, lake, store and artifact folder:
 *
 *   lake-write ─┬─ features-offline ─┬─ features-online
 *               │                    └─ train-ranker
 *               └─ train-<model> (one per model) ─┬─ evaluate (after all of them)
 *                                                 ├─ build-bundle (after train-als)
 *                                                 └─ build-two-tower-index (after train-two-tower)
 *
 * (`build-bundle` only when `als` is among the models, `build-two-tower-index` only with `two-tower`.)
 */
export function foryouJobs(config: Config, options: ForyouJobsOptions): JobGraph {
  const lakeDir = resolve(config.lake.dir);
  const artifacts = new ArtifactRegistry(join(resolve(config.dataDir), 'artifacts'));
  const features = foryouRegistry();
  const clock = options.clock ?? systemClock;
  const lakeSequence = async () => `lake ${(await readManifest(lakeDir)).sequence}`;
  const withLake = async <T>(fn: (lake: Lake) => Promise<T>): Promise<T> => {
    const lake = await Lake.open(lakeDir);
    try {
      return await fn(lake);
    } finally {
      lake.close();
    }
  };

  const jobs: Job[] = [
    {
      id: 'lake-write',
      description: 'write new log records into the Parquet lake',
      deps: [],
      fingerprint: async () => {
        const log = await openEventLog(config.log, { readOnly: true });
        try {
          const ends = await Promise.all(['events', 'catalog'].map(async (t) => (await log.bounds(t)).end));
          return `log ${ends.join('/')}`;
        } finally {
          await log.close();
        }
      },
      run: async (ctx) => {
        const log = await openEventLog(config.log, { readOnly: true });
        try {
          const writer = await LakeWriter.open(lakeDir, log, { batchMs: 1_000 });
          try {
            const summary = await writer.runOnce();
            ctx.progress(1, 1, `${summary.records} records`);
          } finally {
            await writer.close();
          }
        } finally {
          await log.close();
        }
        return lakeSequence();
      },
    },
    {
      id: 'features-offline',
      description: 'compute every feature view offline over the lake snapshot',
      deps: ['lake-write'],
      fingerprint: lakeSequence,
      run: (ctx) =>
        withLake(async (lake) => {
          const views = features.allViews();
          for (const [k, view] of views.entries()) {
            await buildOfflineTable(lake.connection(), lake.dir, lake.manifest.sequence, view);
            ctx.progress(k + 1, views.length, view.name);
          }
          return `lake ${lake.manifest.sequence}`;
        }),
    },
    {
      id: 'features-online',
      description: 'materialise the newest offline rows into the online store, hour by hour',
      deps: ['features-offline'],
      fingerprint: lakeSequence,
      run: (ctx) =>
        withLake(async (lake) => {
          const store = await openKeyValueStore(config.store.url);
          try {
            const online = new OnlineFeatureStore(features, store, clock);
            let rows = 0;
            const views = features.allViews();
            for (const [k, view] of views.entries()) {
              rows += (await materializeToOnline(lake.connection(), lake.dir, view, online)).rowsWritten;
              ctx.progress(k + 1, views.length, view.name);
            }
            return `${rows} rows at lake ${lake.manifest.sequence}`;
          } finally {
            await store.close();
          }
        }),
    },
  ];

  for (const name of options.models) {
    if (name === TWO_TOWER) continue; // trained with content below
    jobs.push({
      id: `train-${name}`,
      description: `train the ${name} retrieval model on the lake's positives`,
      deps: ['lake-write'],
      fingerprint: async () => `${await lakeSequence()} ${name}`,
      run: (ctx) =>
        withLake(async (lake) => {
          const interactions = await readLakeInteractions(lake);
          const train = InteractionMatrix.from(interactions);
          const model = createModel(name);
          const started = performance.now();
          await model.fit(train, { seed: options.seed ?? 42 });
          ctx.progress(1, 1, `${train.users} users x ${train.items} items`);
          const meta = await artifacts.publish(
            name,
            {
              kind: 'model',
              config: { model: name, seed: options.seed ?? 42 },
              metrics: {
                trainSeconds: (performance.now() - started) / 1000,
                users: train.users,
                items: train.items,
                interactions: train.nnz,
              },
              inputs: {
                lakeSequence: lake.manifest.sequence,
                source: 'events: likes, shares, comments, plays >= 50% watched',
              },
            },
            (dir) => saveRecommender(model, dir),
          );
          if ((await artifacts.current(name)) === null) await artifacts.promote(name, meta.version);
          return `${name} v${meta.version}`;
        }),
    });
  }

  if (options.models.includes(TWO_TOWER))
    jobs.push({
      id: `train-${TWO_TOWER}`,
      description:
        'train the two-tower model with its content item tower (captions, hashtags, creator, language)',
      deps: ['lake-write'],
      fingerprint: async () => `${await lakeSequence()} ${TWO_TOWER}`,
      run: (ctx) =>
        withLake(async (lake) => {
          const { items, events } = await readServingInputs(lake);
          const data = buildTwoTowerData(items, events);
          ctx.progress(
            0,
            1,
            `${data.train.users} users x ${data.train.items} items, ${data.train.nnz} positives`,
          );
          const started = performance.now();
          const model = await TwoTowerModel.train(
            { train: data.train, content: data.content },
            {},
            { seed: options.seed ?? 42 },
          );
          const meta = await artifacts.publish(
            TWO_TOWER,
            {
              kind: 'model',
              config: { model: TWO_TOWER, content: true, seed: options.seed ?? 42, dim: model.dim },
              metrics: {
                trainSeconds: (performance.now() - started) / 1000,
                users: data.train.users,
                items: data.train.items,
                interactions: data.train.nnz,
              },
              inputs: {
                lakeSequence: lake.manifest.sequence,
                source: 'plays >= 50% watched, likes, shares; item content',
              },
            },
            async (dir) => model.save(join(dir, TWO_TOWER_FILE)),
          );
          if ((await artifacts.current(TWO_TOWER)) === null) await artifacts.promote(TWO_TOWER, meta.version);
          return `${TWO_TOWER} v${meta.version}`;
        }),
    });

  if (options.models.includes(TWO_TOWER))
    jobs.push({
      id: 'build-two-tower-index',
      description:
        "embed every catalogue item with the promoted two-tower model's item tower, index them (ANN) and promote the index",
      deps: [`train-${TWO_TOWER}`],
      // The lake too: videos uploaded since training get vectors from their content.
      fingerprint: async () => `${await lakeSequence()} ${TWO_TOWER} v${await artifacts.current(TWO_TOWER)}`,
      run: (ctx) =>
        withLake(async (lake) => {
          const towerVersion = await artifacts.current(TWO_TOWER);
          if (towerVersion === null)
            throw new ForyouError(
              'FY_ARTIFACT_NOT_FOUND',
              `build-two-tower-index needs a promoted ${TWO_TOWER} model; run train-${TWO_TOWER}`,
            );
          const model = TwoTowerModel.load(join(artifacts.pathOf(TWO_TOWER, towerVersion), TWO_TOWER_FILE));
          const items = await readCatalogue(lake);
          ctx.progress(1, 3, `${items.length} items`);
          const started = performance.now();
          const index = TwoTowerIndex.build(model, catalogueOf(items), {
            info: { twoTowerVersion: towerVersion, lakeSequence: lake.manifest.sequence },
          });
          ctx.progress(2, 3, 'item vectors and ANN index built');
          const meta = await artifacts.publish(
            TWO_TOWER_INDEX_ARTIFACT,
            {
              kind: 'index',
              config: { model: TWO_TOWER, twoTowerVersion: towerVersion, dim: model.dim },
              metrics: { items: items.length, buildSeconds: (performance.now() - started) / 1000 },
              inputs: { lakeSequence: lake.manifest.sequence },
            },
            (dir) => index.save(dir),
          );
          index.close();
          await artifacts.promote(TWO_TOWER_INDEX_ARTIFACT, meta.version);
          return `${TWO_TOWER_INDEX_ARTIFACT} v${meta.version} (promoted, ${TWO_TOWER} v${towerVersion})`;
        }),
    });

  jobs.push({
    id: 'train-ranker',
    description: 'train the multi-task ranker on point-in-time samples of every impression in the lake',
    deps: ['features-offline'],
    fingerprint: lakeSequence,
    run: (ctx) =>
      withLake(async (lake) => {
        const registry = rankerFeatureRegistry();
        const featureRows = Object.fromEntries(
          features
            .allViews()
            .map((view) => [
              view.name,
              `read_parquet('${offlineTablePath(lake.dir, view).replaceAll("'", "''")}')`,
            ]),
        );
        const samples = await buildRankingSamples(lake.connection(), registry, { featureRows });
        ctx.progress(1, 2, `${samples.rows} impressions`);
        if (samples.rows < RANKER_MIN_SAMPLES)
          throw new ForyouError(
            'FY_JOB_FAILED',
            `train-ranker found ${samples.rows} impressions with outcomes in the lake; it needs at least ${RANKER_MIN_SAMPLES}`,
          );
        const started = performance.now();
        const artifact = trainRanker(samples);
        const meta = await artifacts.publish(
          RANKER_ARTIFACT,
          {
            kind: 'model',
            config: { model: 'gbdt-multitask', weights: artifact.weights },
            metrics: { samples: samples.rows, trainSeconds: (performance.now() - started) / 1000 },
            inputs: { lakeSequence: lake.manifest.sequence },
          },
          (dir) => saveRankerArtifact(join(dir, RANKER_FILE), artifact),
        );
        await artifacts.promote(RANKER_ARTIFACT, meta.version);
        return `${RANKER_ARTIFACT} v${meta.version} (promoted, ${samples.rows} samples)`;
      }),
  });

  if (options.models.includes('als'))
    jobs.push({
      id: 'build-bundle',
      description:
        'build the serving bundle (ALS factors + ANN index, trending and fresh lists, neighbours, user lists) and promote it',
      deps: ['train-als'],
      fingerprint: async () => `${await lakeSequence()} als v${await artifacts.current('als')}`,
      run: (ctx) =>
        withLake(async (lake) => {
          const alsVersion = await artifacts.current('als');
          if (alsVersion === null)
            throw new ForyouError(
              'FY_ARTIFACT_NOT_FOUND',
              'build-bundle needs a promoted als model; run train-als',
            );
          const als = await loadRecommender(artifacts.pathOf('als', alsVersion));
          if (!(als instanceof AlsRecommender))
            throw new ForyouError(
              'FY_INVALID_ARGUMENT',
              `the promoted als artifact holds a ${als.name} model`,
            );
          const { items, users, events } = await readServingInputs(lake);
          ctx.progress(1, 3, `${items.length} items, ${users.length} users, ${events.length} events`);
          const nowMs = clock.now();
          const version = `lake-${lake.manifest.sequence}-als-${alsVersion}`;
          const data = buildBundleData({
            version,
            items,
            users,
            events,
            embeddings: alsEmbeddings(als),
            nowMs,
          });
          const bundle = ServingBundle.build(data);
          ctx.progress(2, 3, 'ANN index built');
          const meta = await artifacts.publish(
            BUNDLE_ARTIFACT,
            {
              kind: 'index',
              config: { version, embeddings: 'als', alsVersion },
              metrics: { items: items.length, users: users.length, events: events.length },
              inputs: { lakeSequence: lake.manifest.sequence, nowMs },
            },
            (dir) => bundle.save(dir),
          );
          await artifacts.promote(BUNDLE_ARTIFACT, meta.version);
          return `${BUNDLE_ARTIFACT} v${meta.version} (promoted)`;
        }),
    });

  jobs.push({
    id: 'evaluate',
    description: 'evaluate the retrieval models on the lake with a temporal split; publish the report',
    deps: options.models.map((m) => `train-${m}`),
    fingerprint: async () => `${await lakeSequence()} ${hash(options.models)}`,
    run: (ctx) =>
      withLake(async (lake) => {
        const interactions = await readLakeInteractions(lake);
        const report = await evaluate({
          dataset: { name: 'lake', interactions },
          protocol: 'temporal',
          models: options.models,
          ks: [10, 50],
          seed: options.seed ?? 42,
          onProgress: (message) => ctx.progress(0, 1, message),
        });
        const metrics: Record<string, number> = {};
        for (const m of report.models) {
          metrics[`${m.name}.ndcg@10`] = m.metrics['ndcg@10'] ?? 0;
          metrics[`${m.name}.recall@50`] = m.metrics['recall@50'] ?? 0;
        }
        const meta = await artifacts.publish(
          'evaluation',
          {
            kind: 'report',
            config: { protocol: 'temporal', models: options.models },
            metrics,
            inputs: { lakeSequence: lake.manifest.sequence },
          },
          (dir) => writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`),
        );
        return `evaluation v${meta.version}`;
      }),
  });
  return new JobGraph(jobs);
}

/** The catalogue and the events serving lists are built from, read from the lake. */
async function readServingInputs(lake: Lake): Promise<{ items: Item[]; users: User[]; events: Event[] }> {
  const items = await readCatalogue(lake);
  const users = await lake.query<Record<string, unknown>>(
    `SELECT user_id, country, language, epoch_ms(signup_ts)::DOUBLE AS signup_ts, interests FROM users`,
  );
  const events = await lake.query<Record<string, unknown>>(
    `SELECT event_id, type, user_id, epoch_ms(ts)::DOUBLE AS ts, item_id, creator_id, watch_ms, duration_ms
     FROM events WHERE type IN ('play', 'like', 'share', 'comment', 'follow', 'not_interested') ORDER BY ts`,
  );
  return {
    items,
    users: users.map((r) => clean(r) as unknown as User),
    events: events.map((r) => clean(r) as unknown as Event),
  };
}

/** The catalogue's item records, read from the lake. */
async function readCatalogue(lake: Lake): Promise<Item[]> {
  const items = await lake.query<Record<string, unknown>>(
    `SELECT item_id, creator_id, caption, hashtags, language, duration_ms, epoch_ms(created_ts)::DOUBLE AS created_ts FROM items`,
  );
  return items.map((r) => clean(r) as unknown as Item);
}

/** A lake row without nulls, its BIGINTs as numbers. */
function clean(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    if (v !== null && v !== undefined) out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}
