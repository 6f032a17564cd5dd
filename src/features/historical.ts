import type { DuckDBConnection } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';
import { sqlString } from '../io/duckdb.js';
import { ENTITIES, KEY_SEPARATOR } from './definition.js';
import type { ResolvedService } from './registry.js';

/**
 * Point-in-time correct training rows: for each label row (entity key columns and a timestamp), each
 * feature takes the value of the newest feature row of its entity with event time at or before the label's
 * time, and only if that row is within the view's TTL of the label's time; otherwise NULL.
 *
 * How (chosen by measurement, bench `features.pit-join`): not one ASOF JOIN per view, which sorts the
 * labels once per view, but one sorted pass. Labels and every view's feature rows go into one stream,
 * partitioned by entity key and ordered by time, feature rows before labels of the same millisecond; a
 * running `last_value(... IGNORE NULLS)` carries each view's newest row (packed in a struct, so a NULL
 * feature value is carried as NULL, not skipped) forward to every later label. Only rows before a label in
 * that order reach it, so nothing from after the label's time can leak in.
 */
export interface HistoricalOptions {
  /** Name of the label timestamp column (TIMESTAMP, or whole epoch milliseconds). Default `ts`. */
  tsColumn?: string;
  /**
   * Where each view's feature rows come from: a relation (a Parquet path's `read_parquet(...)` or a table).
   * Views without an entry are computed from the lake on the fly.
   */
  featureRows: Record<string, string>;
  /** The timestamp column holds TIMESTAMPs (default) rather than epoch milliseconds. */
  tsIsTimestamp?: boolean;
  /** Return rows in label order (costs a sort of the whole result; off by default, like Feast). */
  keepOrder?: boolean;
  /** Add a `<view>__event_ts` column: the event time of the row each view's values came from. */
  includeEventTs?: boolean;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The label columns that make up the service's entity key. */
export function labelKeyColumns(service: ResolvedService): string[] {
  return [...ENTITIES[service.def.entity].parts];
}

/** Internal columns of the join, prefixed so they cannot be mistaken for a label's own columns. */
const KEY = '__fy_key';
const TIME = '__fy_ts';
const IS_LABEL = '__fy_is_label';
const LABEL_ROW = '__fy_label_row';
const carried = (v: number) => `__fy_view${v}`;

/** SQL of the point-in-time join of `labels` (a relation) with the service's features. */
export function historicalSql(labels: string, service: ResolvedService, options: HistoricalOptions): string {
  const ts = ident(options.tsColumn ?? 'ts');
  const keys = labelKeyColumns(service);
  const key = keys.map((k) => `CAST(${ident(k)} AS VARCHAR)`).join(` || '${KEY_SEPARATOR}' || `);
  const keepOrder = options.keepOrder ?? false;
  const tsIsTimestamp = options.tsIsTimestamp ?? true;
  const time = tsIsTimestamp ? `epoch_ms(${ts})` : `CAST(${ts} AS BIGINT)`;
  const branches = [
    `SELECT *, ${key} AS ${KEY}, ${time} AS ${TIME}, 1 AS ${IS_LABEL}${keepOrder ? `, row_number() OVER () AS ${LABEL_ROW}` : ''} FROM ${labels}`,
  ];
  const carries: string[] = [];
  const columns: string[] = [];
  service.views.forEach(({ view, numeric, lists }, v) => {
    const rows = options.featureRows[view.name];
    if (!rows) throw new ForyouError('FY_INTERNAL', `no feature rows given for view ${view.name}`);
    const numericDefs = view.features.filter((f) => f.kind !== 'last_n');
    const listDefs = view.features.filter((f) => f.kind === 'last_n');
    const names = [...numeric.map((i) => numericDefs[i]!.name), ...lists.map((i) => listDefs[i]!.name)];
    const packed = names.map((name, j) => `c${j} := ${ident(name)}`);
    branches.push(
      `SELECT entity_key AS ${KEY}, event_ts AS ${TIME}, 0 AS ${IS_LABEL}, struct_pack(t := event_ts${packed.map((p) => `, ${p}`).join('')}) AS ${carried(v)} FROM ${rows}`,
    );
    carries.push(`last_value(${carried(v)} IGNORE NULLS) OVER newest AS ${carried(v)}`);
    const fresh = `${TIME} - ${carried(v)}.t <= ${view.ttlMs}`;
    names.forEach((name, j) => {
      columns.push(`CASE WHEN ${fresh} THEN ${carried(v)}.c${j} END AS ${ident(`${view.name}__${name}`)}`);
    });
    if (options.includeEventTs)
      columns.push(`CASE WHEN ${fresh} THEN ${carried(v)}.t END AS ${ident(`${view.name}__event_ts`)}`);
  });
  const views = service.views.map((_, v) => carried(v));
  const internal = [KEY, TIME, IS_LABEL, ...(keepOrder ? [LABEL_ROW] : []), ...views];
  return `WITH stream AS (${branches.join('\nUNION ALL BY NAME ')}),
carried AS (SELECT * EXCLUDE (${views.join(', ')}), ${carries.join(', ')} FROM stream
  WINDOW newest AS (PARTITION BY ${KEY} ORDER BY ${TIME}, ${IS_LABEL} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  QUALIFY ${IS_LABEL} = 1)
SELECT * EXCLUDE (${internal.join(', ')}), ${columns.join(',\n  ')}
FROM carried${keepOrder ? `\nORDER BY ${LABEL_ROW}` : ''}`;
}

/** Writes the point-in-time join of `labels` to `outPath` (Parquet or CSV by extension); returns the row count. */
export async function writeHistoricalFeatures(
  db: DuckDBConnection,
  labels: string,
  service: ResolvedService,
  outPath: string,
  options: HistoricalOptions,
): Promise<number> {
  const format = outPath.endsWith('.csv') ? 'csv, HEADER true' : 'parquet, COMPRESSION zstd';
  try {
    const ts = options.tsColumn ?? 'ts';
    const described = await db.runAndReadAll(
      `SELECT column_type FROM (DESCRIBE SELECT ${ident(ts)} FROM ${labels})`,
    );
    const tsIsTimestamp = String(described.getRows()[0]?.[0] ?? '').startsWith('TIMESTAMP');
    const sql = historicalSql(labels, service, { ...options, tsIsTimestamp });
    const result = await db.run(`COPY (${sql}) TO ${sqlString(outPath)} (FORMAT ${format})`);
    return Number(result.rowsChanged);
  } catch (cause) {
    const message = (cause as Error).message.split('\n')[0] ?? '';
    throw new ForyouError(
      /Binder Error|not found/.test(message) ? 'FY_INVALID_ARGUMENT' : 'FY_IO_FAILED',
      `point-in-time join failed: ${message} (labels need the columns ${labelKeyColumns(service).join(', ')} and ${options.tsColumn ?? 'ts'})`,
      { cause },
    );
  }
}

/** A relation reading a label file by extension (CSV or Parquet). */
export function labelsRelation(path: string): string {
  if (/\.parquet$/i.test(path)) return `read_parquet(${sqlString(path)})`;
  if (/\.(csv|tsv|txt)$/i.test(path))
    return `read_csv(${sqlString(path)}, header = true, auto_detect = true)`;
  throw new ForyouError('FY_INVALID_ARGUMENT', `label file ${path} must be .csv or .parquet`);
}
