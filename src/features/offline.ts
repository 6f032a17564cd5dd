import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';
import { sqlString } from '../io/duckdb.js';
import type { FeatureViewDef } from './definition.js';
import { featureRowsSql } from './sql.js';

/**
 * Offline feature tables: for each view, every feature row the lake's events produce (one per entity and
 * event time), written once as Parquet under `<lake>/features/<view>_v<version>/` and reused by
 * point-in-time joins and by materialisation to the online store until the lake moves on.
 */
export interface OfflineTableMeta {
  view: string;
  version: number;
  /** Lake manifest sequence the table was computed from. */
  lakeSequence: number;
  rows: number;
  builtAt: string;
}

export function offlineTableDir(lakeDir: string, view: FeatureViewDef): string {
  return join(lakeDir, 'features', `${view.name}_v${view.version}`);
}

export function offlineTablePath(lakeDir: string, view: FeatureViewDef): string {
  return join(offlineTableDir(lakeDir, view), 'rows.parquet');
}

export async function readOfflineMeta(
  lakeDir: string,
  view: FeatureViewDef,
): Promise<OfflineTableMeta | null> {
  try {
    return JSON.parse(
      await readFile(join(offlineTableDir(lakeDir, view), 'meta.json'), 'utf8'),
    ) as OfflineTableMeta;
  } catch {
    return null;
  }
}

/**
 * Computes a view's feature rows over the lake's current snapshot and writes them (sorted by entity and
 * time, zstd) unless a table for the same lake snapshot exists. The lake's views must be defined on `db`.
 */
export async function buildOfflineTable(
  db: DuckDBConnection,
  lakeDir: string,
  lakeSequence: number,
  view: FeatureViewDef,
  options: { force?: boolean } = {},
): Promise<OfflineTableMeta> {
  const existing = await readOfflineMeta(lakeDir, view);
  if (
    !options.force &&
    existing?.lakeSequence === lakeSequence &&
    existsSync(offlineTablePath(lakeDir, view))
  )
    return existing;
  const dir = offlineTableDir(lakeDir, view);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, 'rows.parquet.tmp');
  let rows: number;
  try {
    const result = await db.run(
      `COPY (${featureRowsSql(view)} ORDER BY entity_key, event_ts) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    rows = Number(result.rowsChanged);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw new ForyouError(
      'FY_IO_FAILED',
      `cannot compute the offline rows of feature view ${view.name}: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  await rename(tmp, offlineTablePath(lakeDir, view));
  const meta: OfflineTableMeta = {
    view: view.name,
    version: view.version,
    lakeSequence,
    rows,
    builtAt: new Date().toISOString(),
  };
  await writeFile(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}
