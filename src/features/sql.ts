import { ForyouError } from '../core/errors.js';
import {
  type AggregationDef,
  ENTITIES,
  type FeatureViewDef,
  KEY_SEPARATOR,
  tilesIn,
  WINDOWS,
} from './definition.js';
import { compileSql, SOURCE_FIELDS } from './expr.js';

/**
 * The offline engine: a feature view compiled to one DuckDB query over the lake that yields a feature row
 * for every event of every entity, with the value each feature had right after that event. It computes the
 * definition of view-state.ts (the streaming engine) in set form:
 *
 *   rows are ordered per key by (ts, log_offset); tile = ts // tileMs; for a window of n tiles the value
 *   at row e covers the rows of tiles tile(e)-n+1 .. tile(e)-1 (a RANGE frame over `tile`) plus the rows of
 *   tile(e) up to e (a ROWS frame within the tile).
 *
 * Streams whose events arrive in time order give the same numbers in both engines; the consistency check
 * (consistency.ts) measures what out-of-order arrival changes.
 */

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The source rows: events joined with their item's catalogue facts, `ts` as epoch ms. */
export function sourceSql(where?: string): string {
  const columns = Object.keys(SOURCE_FIELDS).filter(
    (f) => f !== 'item_language' && f !== 'item_duration_ms' && f !== 'creator_id' && f !== 'ts',
  );
  return `SELECT e.log_offset AS off, epoch_ms(e.ts) AS ts, ${columns.map((c) => `e.${ident(c)}`).join(', ')},
      COALESCE(e.creator_id, i.creator_id) AS creator_id, i.language AS item_language,
      i.duration_ms AS item_duration_ms, COALESCE(i.hashtags, []) AS hashtags
    FROM events e LEFT JOIN items i ON i.item_id = e.item_id${where ? ` WHERE ${where}` : ''}`;
}

function keySql(view: FeatureViewDef): { select: string; from: string; where: string } {
  const parts = ENTITIES[view.entity].parts as readonly string[];
  if (parts.includes('hashtag'))
    return {
      select: `user_id || '${KEY_SEPARATOR}' || tag`,
      from: 'src, UNNEST(list_distinct(hashtags)) AS t(tag)',
      where: 'user_id IS NOT NULL',
    };
  return {
    select: parts.map(ident).join(` || '${KEY_SEPARATOR}' || `),
    from: 'src',
    where: parts.map((p) => `${ident(p)} IS NOT NULL AND ${ident(p)} <> ''`).join(' AND '),
  };
}

interface AggSql {
  /** Per-row helper columns computed before the window step. */
  inputs: string[];
  /** The feature's value from those columns. */
  value: string;
  /** Extra CTE-level joins some kinds need (decayed sums, last_n). */
  ctes?: string[];
  joins?: string[];
}

function frames(tiles: number, tile: string) {
  const prev = `OVER (PARTITION BY prepared.k ORDER BY ${tile} RANGE BETWEEN ${tiles - 1} PRECEDING AND 1 PRECEDING)`;
  const run = `OVER (PARTITION BY prepared.k, ${tile} ORDER BY ts, off ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  return { prev, run };
}

function aggregationSql(a: AggregationDef, index: number): AggSql {
  const { tileMs } = WINDOWS[a.window];
  const n = tilesIn(a.window);
  const tile = `tile_${a.window}`;
  const { prev, run } = frames(n, tile);
  const f = a.filter ? `(${compileSql(a.filter)}) IS TRUE` : 'TRUE';
  const x = `x${index}`;
  const y = `y${index}`;
  switch (a.kind) {
    case 'count':
      return {
        inputs: [`CASE WHEN ${f} THEN 1 ELSE 0 END AS ${x}`],
        value: `COALESCE(SUM(${x}) ${prev}, 0) + SUM(${x}) ${run}`,
      };
    case 'sum':
    case 'mean': {
      const v = compileSql(a.value);
      const s = `(COALESCE(SUM(${x}) ${prev}, 0) + COALESCE(SUM(${x}) ${run}, 0))`;
      const c = `(COALESCE(SUM(${y}) ${prev}, 0) + SUM(${y}) ${run})`;
      return {
        inputs: [
          `CASE WHEN ${f} THEN CAST(${v} AS DOUBLE) END AS ${x}`,
          `CASE WHEN ${f} AND (${v}) IS NOT NULL THEN 1 ELSE 0 END AS ${y}`,
        ],
        value:
          a.kind === 'sum'
            ? `CASE WHEN ${c} = 0 THEN NULL ELSE ${s} END`
            : `CASE WHEN ${c} = 0 THEN NULL ELSE ${s} / ${c} END`,
      };
    }
    case 'max': {
      const v = compileSql(a.value);
      return {
        inputs: [`CASE WHEN ${f} THEN CAST(${v} AS DOUBLE) END AS ${x}`],
        value: `CASE WHEN MAX(${x}) ${prev} IS NULL THEN MAX(${x}) ${run} WHEN MAX(${x}) ${run} IS NULL THEN MAX(${x}) ${prev} ELSE GREATEST(MAX(${x}) ${prev}, MAX(${x}) ${run}) END`,
      };
    }
    case 'decayed_sum': {
      // Each row is stored as value * 2^((ts - tileStart) / h) (bounded: ts - tileStart < tileMs); tiles are
      // combined by weights that depend only on the distance between tiles.
      const v = a.value ? compileSql(a.value) : '1';
      const h = a.halfLifeMs;
      const tiles = `dtiles${index}`;
      const back = `decay${index}`;
      return {
        inputs: [
          `CASE WHEN ${f} AND (${v}) IS NOT NULL THEN CAST(${v} AS DOUBLE) * pow(2, (ts - ${tile} * ${tileMs}) / ${h}) ELSE 0 END AS ${x}`,
        ],
        ctes: [
          `${tiles} AS (SELECT k, ${tile} AS tile, SUM(${x}) AS s FROM prepared GROUP BY ALL)`,
          `${back} AS (SELECT a.k, a.tile, SUM(b.s * pow(2, -((a.tile - b.tile) * ${tileMs}) / ${h})) AS d
             FROM ${tiles} a JOIN ${tiles} b ON a.k = b.k AND b.tile BETWEEN a.tile - ${n - 1} AND a.tile - 1 GROUP BY ALL)`,
        ],
        joins: [`LEFT JOIN ${back} ON ${back}.k = prepared.k AND ${back}.tile = prepared.${tile}`],
        value: `pow(2, -(ts - ${tile} * ${tileMs}) / ${h}) * (COALESCE(${back}.d, 0) + SUM(${x}) ${run})`,
      };
    }
    case 'last_n': {
      const v = compileSql(a.value);
      const lists = `lastn${index}`;
      return {
        inputs: [`CASE WHEN ${f} AND (${v}) IS NOT NULL THEN {'v': ${v}, 'tile': ${tile}} END AS ${x}`],
        ctes: [
          `${lists} AS (SELECT k, seq, list(${x}) OVER (PARTITION BY k ORDER BY seq ROWS BETWEEN ${a.n - 1} PRECEDING AND CURRENT ROW) AS l
             FROM prepared WHERE ${x} IS NOT NULL)`,
        ],
        joins: [`ASOF LEFT JOIN ${lists} ON ${lists}.k = prepared.k AND ${lists}.seq <= prepared.seq`],
        value: `list_reverse([el.v FOR el IN COALESCE(${lists}.l, []) IF el.tile > ${tile} - ${n}])`,
      };
    }
    case 'distinct_count': {
      const v = compileSql(a.value);
      return {
        inputs: [`CASE WHEN ${f} THEN CAST(${v} AS VARCHAR) END AS ${x}`],
        value: `len(list_distinct(COALESCE(list(${x}) ${prev}, []) || list(${x}) ${run}))`,
      };
    }
  }
}

/**
 * SQL yielding one row per entity and event time: `entity_key`, `event_ts` (epoch ms), `log_offset`, then
 * every feature of the view in definition order. Of several events of one key at the same millisecond only
 * the last (by log offset) is kept, so an as-of join is deterministic.
 */
export function featureRowsSql(view: FeatureViewDef, options: { where?: string } = {}): string {
  const key = keySql(view);
  // A view's rows change only on the events that concern it (some aggregation's filter passes), as in
  // the streaming engine (ViewLayout.relevant).
  const aggregations = view.features.filter((f): f is AggregationDef => f.kind !== 'ratio');
  const relevance = aggregations.some((a) => !a.filter)
    ? 'TRUE'
    : aggregations.map((a) => `(${compileSql(a.filter!)}) IS TRUE`).join(' OR ');
  const windows = [...new Set(view.features.flatMap((f) => (f.kind === 'ratio' ? [] : [f.window])))];
  const tileColumns = windows.map((w) => `ts // ${WINDOWS[w].tileMs} AS tile_${w}`);
  const parts: AggSql[] = [];
  const names: string[] = [];
  view.features.forEach((f, index) => {
    if (f.kind === 'ratio') return;
    parts.push(aggregationSql(f, index));
    names.push(f.name);
  });
  const inputs = parts.flatMap((p) => p.inputs);
  const ctes = parts.flatMap((p) => p.ctes ?? []);
  const joins = parts.flatMap((p) => p.joins ?? []);
  const valueColumns = parts.map((p, i) => `${p.value} AS ${ident(names[i]!)}`);
  const finalColumns = view.features.map((f) => {
    if (f.kind !== 'ratio') return ident(f.name);
    const a = ident(f.numerator);
    const b = ident(f.denominator);
    return `CASE WHEN ${a} IS NULL OR ${b} IS NULL OR ${b} = 0 THEN NULL ELSE CAST(${a} AS DOUBLE) / ${b} END AS ${ident(f.name)}`;
  });
  if (names.length === 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', `feature view "${view.name}" has no aggregations`);
  return `WITH src AS (${sourceSql(options.where)}),
keyed AS (SELECT ${key.select} AS k, * FROM ${key.from} WHERE ${key.where} AND (${relevance})),
prepared AS (SELECT *, row_number() OVER (PARTITION BY k ORDER BY ts, off) AS seq, ${tileColumns.join(', ')} FROM keyed),
prepared2 AS (SELECT *, ${inputs.join(', ')} FROM prepared)${ctes.length > 0 ? `,\n${ctes.map((c) => c.replaceAll('FROM prepared', 'FROM prepared2')).join(',\n')}` : ''},
computed AS (SELECT prepared.k AS k, ts, off, ${valueColumns.join(', ')} FROM prepared2 AS prepared ${joins.join(' ')}),
latest AS (SELECT * FROM computed QUALIFY row_number() OVER (PARTITION BY k, ts ORDER BY off DESC) = 1)
SELECT k AS entity_key, ts AS event_ts, off AS log_offset, ${finalColumns.join(', ')} FROM latest`;
}
