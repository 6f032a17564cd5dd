import type { DuckDBConnection } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';
import { sqlString } from '../io/duckdb.js';
import { ENTITIES, KEY_SEPARATOR } from './definition.js';
import type { ResolvedService } from './registry.js';

/**
 * Point-in-time correct training rows: for each label row (entity key columns and a timestamp), each
 * feature takes the value of the newest feature row of its entity with event time at or before the label's
 * time, and only if that row is within the view's TTL of the label's time; otherwise NULL. Nothing from
 * after the label's time can leak in: ASOF JOIN only looks back.
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

/** SQL of the point-in-time join of `labels` (a relation) with the service's features, in label order. */
export function historicalSql(labels: string, service: ResolvedService, options: HistoricalOptions): string {
  const ts = ident(options.tsColumn ?? 'ts');
  const keys = labelKeyColumns(service);
  const key = keys.map((k) => `CAST(${ident(k)} AS VARCHAR)`).join(` || '${KEY_SEPARATOR}' || `);
  const keepOrder = options.keepOrder ?? false;
  const tsIsTimestamp = options.tsIsTimestamp ?? true;
  // With one key column and epoch-millisecond times the joins read the label columns as they are; otherwise
  // the key and the time are computed once per label.
  const direct = keys.length === 1 && !tsIsTimestamp && !keepOrder;
  const keyRef = direct ? `labels.${ident(keys[0]!)}` : 'labels._key';
  const tsRef = direct ? `labels.${ts}` : 'labels._ts';
  const ctes = direct
    ? []
    : [
        `labels AS (SELECT *,${keepOrder ? ' row_number() OVER () AS _label_row,' : ''} ${keys.length === 1 ? ident(keys[0]!) : key} AS _key, ${
          tsIsTimestamp ? `epoch_ms(${ts})` : `CAST(${ts} AS BIGINT)`
        } AS _ts FROM ${labels})`,
      ];
  const joins: string[] = [];
  const columns: string[] = [];
  service.views.forEach(({ view, numeric, lists }, v) => {
    const rows = options.featureRows[view.name];
    if (!rows) throw new ForyouError('FY_INTERNAL', `no feature rows given for view ${view.name}`);
    const alias = `f${v}`;
    joins.push(
      `ASOF LEFT JOIN ${rows} ${alias} ON ${alias}.entity_key = ${keyRef} AND ${alias}.event_ts <= ${tsRef}`,
    );
    const numericDefs = view.features.filter((f) => f.kind !== 'last_n');
    const listDefs = view.features.filter((f) => f.kind === 'last_n');
    const fresh = `${tsRef} - ${alias}.event_ts <= ${view.ttlMs}`;
    const column = (name: string) =>
      `CASE WHEN ${fresh} THEN ${alias}.${ident(name)} END AS ${ident(`${view.name}__${name}`)}`;
    for (const i of numeric) columns.push(column(numericDefs[i]!.name));
    for (const i of lists) columns.push(column(listDefs[i]!.name));
    if (options.includeEventTs)
      columns.push(`CASE WHEN ${fresh} THEN ${alias}.event_ts END AS ${ident(`${view.name}__event_ts`)}`);
  });
  const from = direct ? `${labels} AS labels` : 'labels';
  const own = direct ? 'labels.*' : `labels.* EXCLUDE (${keepOrder ? '_label_row, ' : ''}_key, _ts)`;
  return `${ctes.length > 0 ? `WITH ${ctes.join(',\n')}\n` : ''}SELECT ${own}, ${columns.join(',\n  ')}
FROM ${from} ${joins.join('\n')}${keepOrder ? '\nORDER BY labels._label_row' : ''}`;
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
