import type { DuckDBConnection } from '@duckdb/node-api';
import { MS_PER_DAY } from '../core/clock.js';
import { ForyouError } from '../core/errors.js';
import { FORYOU_SERVICES, FORYOU_VIEWS } from '../features/foryou-views.js';
import { historicalSql } from '../features/historical.js';
import { FeatureRegistry } from '../features/registry.js';

/**
 * Training rows for the ranker: one row per impression (user, video, request time), labelled with what the
 * user did with that video in that request, and featured with the feature store's values as they were just
 * before the impression (point-in-time joins over the offline tables, `features/historical.ts`).
 *
 * Labels (docs/ranker.md):
 * - `long_watch`: the play of that impression watched at least `LONG_WATCH_FRACTION` (0.8) of the video;
 * - `like`, `share`, `follow`: the user liked, shared, or followed the creator from that impression;
 * - `watch_fraction`: watch_ms / duration_ms of the play, capped at 2 (loops), 0 without a play.
 */
export const RANKING_TASKS = ['long_watch', 'like', 'share', 'follow', 'watch_fraction'] as const;
export type RankingTask = (typeof RANKING_TASKS)[number];
export const TASK_COUNT = RANKING_TASKS.length;
/** Index of the one regression task; the others are binary. */
export const WATCH_FRACTION_TASK = 4;
export const LONG_WATCH_FRACTION = 0.8;
export const MAX_WATCH_FRACTION = 2;

export interface RankingSamples {
  rows: number;
  userFeatureNames: readonly string[];
  candidateFeatureNames: readonly string[];
  /** rows x userFeatureNames.length, row-major; NaN where the store had no value. */
  user: Float32Array;
  /** rows x candidateFeatureNames.length, row-major; NaN where the store had no value. */
  candidate: Float32Array;
  /** rows x TASK_COUNT, row-major, in RANKING_TASKS order. */
  labels: Float32Array;
  userIds: string[];
  itemIds: string[];
  requestIds: string[];
  /** Impression time, epoch ms; rows are in time order. */
  tsMs: Float64Array;
}

export interface RankingSampleOptions {
  /** Offline feature rows by view name (`read_parquet(...)` of the offline tables). */
  featureRows: Record<string, string>;
  /** Only impressions at or after this time (epoch ms). */
  fromMs?: number;
  /** Only impressions before this time (epoch ms). */
  toMs?: number;
}

/**
 * The features the ranker reads, by view. The ranker's registry holds Foryou's views trimmed to these (same
 * names and versions, so serving reads the same values from the online store): the offline engine's cost
 * grows with the number of features, and the full views cost several times more to compute for training.
 */
export const RANKER_FEATURES: Readonly<Record<string, readonly string[]>> = {
  user_engagement: [
    'plays_1d',
    'plays_7d',
    'likes_7d',
    'shares_7d',
    'impressions_1d',
    'skips_1d',
    'follows_30d',
    'watch_fraction_7d',
    'like_rate_7d',
    'skip_rate_1d',
  ],
  item_stats: [
    'impressions_1d',
    'plays_1d',
    'likes_1d',
    'shares_1d',
    'follows_1d',
    'completions_1d',
    'watch_fraction_1d',
    'like_rate_1d',
    'completion_rate_1d',
    'impressions_7d',
    'plays_7d',
    'likes_7d',
    'shares_7d',
    'follows_7d',
    'skips_7d',
    'completions_7d',
    'watch_fraction_7d',
    'like_rate_7d',
    'share_rate_7d',
    'completion_rate_7d',
    'skip_rate_7d',
    'trending_score',
  ],
  creator_stats: ['plays_7d', 'likes_7d', 'follows_30d', 'watch_fraction_7d', 'like_rate_7d'],
  user_creator: ['plays_30d', 'likes_30d', 'follows_30d', 'watch_fraction_30d'],
  user_hashtag: ['plays_7d', 'watch_ms_7d', 'likes_30d'],
};

/** Foryou's views and services, each view trimmed to `RANKER_FEATURES`. */
export function rankerFeatureRegistry(): FeatureRegistry {
  const views = FORYOU_VIEWS.map((view) => {
    const wanted = RANKER_FEATURES[view.name] ?? [];
    const features = view.features.filter((f) => wanted.includes(f.name));
    if (features.length !== wanted.length)
      throw new ForyouError('FY_INTERNAL', `view ${view.name} lacks some of ${wanted.join(', ')}`);
    return { ...view, features };
  });
  return new FeatureRegistry(views, FORYOU_SERVICES);
}

/** The candidate-side and user-side feature names, as `view__feature` columns of the joins. */
export function rankingFeatureNames(registry: FeatureRegistry): {
  user: string[];
  item: string[];
  creator: string[];
  userCreator: string[];
  userHashtag: string[];
} {
  const names = (service: string) => registry.resolve(service).numericNames;
  return {
    user: names('user_features'),
    item: names('item_features'),
    creator: names('creator_features'),
    userCreator: names('user_creator_features'),
    userHashtag: names('user_hashtag_features'),
  };
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
/** Static video facts joined from the catalogue, beside the store's features. */
const STATIC_FEATURES = ['item__duration_s', 'item__age_h'];

/**
 * Builds the ranking samples from the lake's `events` and `items` views on `db` (a `Lake`'s connection),
 * in impression-time order.
 */
export async function buildRankingSamples(
  db: DuckDBConnection,
  registry: FeatureRegistry,
  options: RankingSampleOptions,
): Promise<RankingSamples> {
  const names = rankingFeatureNames(registry);
  const range = [
    options.fromMs === undefined ? '' : `AND imp.ts >= epoch_ms(${Math.floor(options.fromMs)})`,
    options.toMs === undefined ? '' : `AND imp.ts < epoch_ms(${Math.floor(options.toMs)})`,
  ].join(' ');
  const outcomes = `SELECT user_id, request_id, item_id,
      max(CASE WHEN type = 'play' THEN least(${MAX_WATCH_FRACTION}, watch_ms::DOUBLE / nullif(duration_ms, 0)) END) AS frac,
      bool_or(type = 'like') AS liked, bool_or(type = 'share') AS shared, bool_or(type = 'follow') AS followed
    FROM events WHERE type IN ('play', 'like', 'share', 'follow') AND request_id IS NOT NULL
    GROUP BY user_id, request_id, item_id`;
  const table = `rank_imp_${Date.now().toString(36)}`;
  const join = (service: string, select: string) =>
    historicalSql(`(SELECT rid, ${select}, ts_ms - 1 AS ts FROM ${table})`, registry.resolve(service), {
      featureRows: options.featureRows,
      tsIsTimestamp: false,
    });
  const cast = (cols: string[], from: string) =>
    cols.map((c) => `CAST(${from}.${ident(c)} AS DOUBLE) AS ${ident(c)}`).join(', ');
  const userHashtagSums = names.userHashtag
    .map((c) => `CAST(sum(${ident(c)}) AS DOUBLE) AS ${ident(c)}`)
    .join(', ');
  try {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${table} AS
      SELECT (row_number() OVER (ORDER BY ts_ms, user_id, request_id, item_id) - 1)::BIGINT AS rid, * FROM (
        SELECT imp.user_id, imp.item_id, imp.request_id, epoch_ms(imp.ts) AS ts_ms, i.creator_id,
          COALESCE(i.hashtags, []) AS hashtags, i.duration_ms / 1000.0 AS duration_s,
          (epoch_ms(imp.ts) - epoch_ms(i.created_ts)) / 3600000.0 AS age_h,
          COALESCE(o.frac, 0) AS frac, COALESCE(o.liked, false) AS liked,
          COALESCE(o.shared, false) AS shared, COALESCE(o.followed, false) AS followed
        FROM events imp
        LEFT JOIN (${outcomes}) o ON o.user_id = imp.user_id AND o.request_id = imp.request_id AND o.item_id = imp.item_id
        LEFT JOIN items i ON i.item_id = imp.item_id
        WHERE imp.type = 'impression' AND imp.request_id IS NOT NULL ${range})`);
    const result = await db.runAndReadAll(`
      SELECT s.rid, s.user_id, s.item_id, s.request_id, CAST(s.ts_ms AS DOUBLE) AS ts_ms,
        CAST(s.duration_s AS DOUBLE) AS ${ident(STATIC_FEATURES[0]!)}, CAST(s.age_h AS DOUBLE) AS ${ident(STATIC_FEATURES[1]!)},
        s.frac, s.liked, s.shared, s.followed,
        ${cast(names.user, 'u')}, ${cast(names.item, 'it')}, ${cast(names.creator, 'c')},
        ${cast(names.userCreator, 'uc')}, ${cast(names.userHashtag, 'uh')}
      FROM ${table} s
      LEFT JOIN (${join('user_features', 'user_id')}) u ON u.rid = s.rid
      LEFT JOIN (${join('item_features', 'item_id')}) it ON it.rid = s.rid
      LEFT JOIN (${join('creator_features', 'creator_id')}) c ON c.rid = s.rid
      LEFT JOIN (${join('user_creator_features', 'user_id, creator_id')}) uc ON uc.rid = s.rid
      LEFT JOIN (SELECT rid, ${userHashtagSums} FROM (${join(
        'user_hashtag_features',
        'user_id, UNNEST(list_distinct(hashtags)) AS hashtag',
      )}) GROUP BY rid) uh ON uh.rid = s.rid
      ORDER BY s.rid`);
    await db.run(`DROP TABLE IF EXISTS ${table}`);
    const columns = result.getColumns();
    const rows = result.currentRowCount;
    const userFeatureNames = names.user;
    const candidateFeatureNames = [
      ...names.item,
      ...STATIC_FEATURES,
      ...names.creator,
      ...names.userCreator,
      ...names.userHashtag,
    ];
    const columnNames = result.columnNames();
    const at = (name: string) => {
      const k = columnNames.indexOf(name);
      if (k < 0) throw new ForyouError('FY_INTERNAL', `ranking sample query lost the column ${name}`);
      return columns[k]!;
    };
    const fill = (names: readonly string[]) => {
      const width = names.length;
      const out = new Float32Array(rows * width);
      names.forEach((name, f) => {
        const column = at(name);
        for (let r = 0; r < rows; r++) {
          const v = column[r];
          out[r * width + f] = v === null || v === undefined ? Number.NaN : Number(v);
        }
      });
      return out;
    };
    const labels = new Float32Array(rows * TASK_COUNT);
    const frac = at('frac');
    const liked = at('liked');
    const shared = at('shared');
    const followed = at('followed');
    for (let r = 0; r < rows; r++) {
      const f = Number(frac[r]);
      const o = r * TASK_COUNT;
      labels[o] = f >= LONG_WATCH_FRACTION ? 1 : 0;
      labels[o + 1] = liked[r] ? 1 : 0;
      labels[o + 2] = shared[r] ? 1 : 0;
      labels[o + 3] = followed[r] ? 1 : 0;
      labels[o + WATCH_FRACTION_TASK] = Number.isFinite(f) ? f : 0;
    }
    return {
      rows,
      userFeatureNames,
      candidateFeatureNames,
      user: fill(userFeatureNames),
      candidate: fill(candidateFeatureNames),
      labels,
      userIds: at('user_id').map(String),
      itemIds: at('item_id').map(String),
      requestIds: at('request_id').map(String),
      tsMs: Float64Array.from(at('ts_ms'), Number),
    };
  } catch (cause) {
    if (cause instanceof ForyouError) throw cause;
    throw new ForyouError(
      'FY_IO_FAILED',
      `cannot build ranking samples: ${(cause as Error).message.split('\n')[0]} (the connection needs the lake's events and items views and the feature views' offline rows)`,
      { cause },
    );
  }
}

/** The rows of `samples` selected by `keep`, as a new sample set. */
export function selectSamples(samples: RankingSamples, keep: (row: number) => boolean): RankingSamples {
  const rows: number[] = [];
  for (let r = 0; r < samples.rows; r++) if (keep(r)) rows.push(r);
  const pick = (source: Float32Array, width: number) => {
    const out = new Float32Array(rows.length * width);
    rows.forEach((r, k) => {
      out.set(source.subarray(r * width, (r + 1) * width), k * width);
    });
    return out;
  };
  return {
    rows: rows.length,
    userFeatureNames: samples.userFeatureNames,
    candidateFeatureNames: samples.candidateFeatureNames,
    user: pick(samples.user, samples.userFeatureNames.length),
    candidate: pick(samples.candidate, samples.candidateFeatureNames.length),
    labels: pick(samples.labels, TASK_COUNT),
    userIds: rows.map((r) => samples.userIds[r]!),
    itemIds: rows.map((r) => samples.itemIds[r]!),
    requestIds: rows.map((r) => samples.requestIds[r]!),
    tsMs: Float64Array.from(rows, (r) => samples.tsMs[r]!),
  };
}

/**
 * The split the ranker's quality is measured on: training rows from half a day after `startMs` (before
 * that every feature is still empty) to the start of the last of `days` days; test rows, the last day.
 */
export function lastDaySplit(
  samples: RankingSamples,
  startMs: number,
  days: number,
): { train: RankingSamples; test: RankingSamples } {
  const cut = startMs + (days - 1) * MS_PER_DAY;
  const from = startMs + MS_PER_DAY / 2;
  return {
    train: selectSamples(samples, (r) => samples.tsMs[r]! >= from && samples.tsMs[r]! < cut),
    test: selectSamples(samples, (r) => samples.tsMs[r]! >= cut),
  };
}

/** The model input of every row: its user features, then its candidate features (rows x (U + C)). */
export function modelInput(samples: RankingSamples): Float32Array {
  const u = samples.userFeatureNames.length;
  const c = samples.candidateFeatureNames.length;
  const out = new Float32Array(samples.rows * (u + c));
  for (let r = 0; r < samples.rows; r++) {
    out.set(samples.user.subarray(r * u, (r + 1) * u), r * (u + c));
    out.set(samples.candidate.subarray(r * c, (r + 1) * c), r * (u + c) + u);
  }
  return out;
}
