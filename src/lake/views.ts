import { join } from 'node:path';
import { sqlString } from '../io/duckdb.js';
import { ident } from './duck.js';
import { LAKE_TABLES, type LakeTable, TABLE_SPECS } from './layout.js';
import { filesOf, type LakeManifest } from './manifest.js';

/**
 * The SQL views through which jobs read the lake: each lists exactly the manifest's live files, so a reader
 * never sees a file that was not committed. Partition columns come from the hive folder names
 * (`type=play/hour=2026-01-05T13`), which is what lets DuckDB skip whole folders when a query filters on them.
 *
 *   events                       every event; `type` and `hour` (VARCHAR, `yyyy-mm-ddThh`, UTC) partition it
 *   item_versions, user_versions  every catalogue version, with `log_offset` and `log_ts`
 *   items, users                  the newest version of each item or user (highest log offset)
 *   rejects                      log records the lake could not store, with the reason
 */

/** Column names and SQL types of a view, in order. */
export function viewColumns(table: LakeTable): [string, string][] {
  const spec = TABLE_SPECS[table];
  const stored = Object.entries(spec.columns);
  if (table === 'events') {
    const [offset, eventId, ...rest] = stored;
    return [offset!, eventId!, ['type', 'VARCHAR'], ...rest, ['hour', 'VARCHAR']];
  }
  if (table === 'rejects') return [['topic', 'VARCHAR'], ...stored];
  return stored;
}

function source(dir: string, manifest: LakeManifest, table: LakeTable): string {
  const columns = viewColumns(table);
  const files = filesOf(manifest, table).sort((a, b) => a.minOffset - b.minOffset);
  if (files.length === 0)
    return `SELECT ${columns.map(([name, type]) => `CAST(NULL AS ${type}) AS ${ident(name)}`).join(', ')} WHERE false`;
  const list = files.map((f) => sqlString(join(dir, f.path))).join(', ');
  const partitions = TABLE_SPECS[table].partitionBy;
  const hive =
    partitions.length === 0
      ? 'hive_partitioning = false'
      : `hive_partitioning = true, hive_types = {${partitions.map((p) => `${sqlString(p)}: 'VARCHAR'`).join(', ')}}`;
  return `SELECT ${columns.map(([name]) => ident(name)).join(', ')} FROM read_parquet([${list}], ${hive})`;
}

/** Statements that (re)create every view of the lake over the live files of `manifest`. */
export function viewStatements(dir: string, manifest: LakeManifest): string[] {
  const out: string[] = [];
  for (const table of LAKE_TABLES) {
    const spec = TABLE_SPECS[table];
    if (spec.key) {
      const versions = `${table.slice(0, -1)}_versions`;
      out.push(`CREATE OR REPLACE VIEW ${versions} AS ${source(dir, manifest, table)}`);
      out.push(
        `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM ${versions} ` +
          `QUALIFY row_number() OVER (PARTITION BY ${ident(spec.key)} ORDER BY log_offset DESC) = 1`,
      );
    } else out.push(`CREATE OR REPLACE VIEW ${table} AS ${source(dir, manifest, table)}`);
  }
  return out;
}

/** The view names a job can query. */
export const LAKE_VIEWS = ['events', 'items', 'item_versions', 'users', 'user_versions', 'rejects'] as const;
