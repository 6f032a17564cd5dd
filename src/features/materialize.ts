import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../io/duckdb.js';
import { rowEventTs } from './codec.js';
import type { FeatureViewDef } from './definition.js';
import { offlineTableDir, offlineTablePath } from './offline.js';
import type { OnlineFeatureStore } from './online.js';
import { onlineKey } from './registry.js';
import type { FeatureRow } from './row.js';

/**
 * Materialisation of offline feature rows into the online store, one event hour at a time, oldest first:
 * for each hour, the newest row of every entity that had events in it is written unless the store already
 * holds a newer one (the streaming path may have written it). The last finished hour is recorded, so an
 * interrupted run resumes where it stopped and a later run only does the new hours (incremental).
 */
export interface MaterializeProgress {
  view: string;
  hours: number;
  hoursDone: number;
  rowsWritten: number;
  /** Rows not written because the store already had a newer one. */
  rowsSkipped: number;
  /** Rows not written because they are past their TTL now. */
  rowsExpired: number;
}

interface Checkpoint {
  /** Start (epoch ms) of the last hour fully written. */
  doneThroughHourMs: number | null;
}

const HOUR = 3_600_000;

async function readCheckpoint(path: string): Promise<Checkpoint> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Checkpoint;
  } catch {
    return { doneThroughHourMs: null };
  }
}

export async function materializeToOnline(
  db: DuckDBConnection,
  lakeDir: string,
  view: FeatureViewDef,
  online: OnlineFeatureStore,
  options: { onHour?: (progress: MaterializeProgress) => void; fromScratch?: boolean } = {},
): Promise<MaterializeProgress> {
  const table = `read_parquet(${sqlString(offlineTablePath(lakeDir, view))})`;
  const checkpointPath = join(offlineTableDir(lakeDir, view), 'online-checkpoint.json');
  const checkpoint = options.fromScratch ? { doneThroughHourMs: null } : await readCheckpoint(checkpointPath);
  const hoursResult = await db.runAndReadAll(
    `SELECT DISTINCT (event_ts // ${HOUR}) * ${HOUR} AS hour FROM ${table}
     ${checkpoint.doneThroughHourMs === null ? '' : `WHERE event_ts >= ${checkpoint.doneThroughHourMs + HOUR}`} ORDER BY hour`,
  );
  const hours = hoursResult.getRows().map((r) => Number(r[0]));
  const numeric = view.features.filter((f) => f.kind !== 'last_n').map((f) => f.name);
  const lists = view.features.filter((f) => f.kind === 'last_n').map((f) => f.name);
  const progress: MaterializeProgress = {
    view: view.name,
    hours: hours.length,
    hoursDone: 0,
    rowsWritten: 0,
    rowsSkipped: 0,
    rowsExpired: 0,
  };
  for (const hour of hours) {
    const result = await db.runAndReadAll(
      `SELECT entity_key, event_ts, ${[...numeric, ...lists].map((n) => `"${n}"`).join(', ')} FROM ${table}
       WHERE event_ts >= ${hour} AND event_ts < ${hour + HOUR}
       QUALIFY row_number() OVER (PARTITION BY entity_key ORDER BY event_ts DESC, log_offset DESC) = 1`,
    );
    const rows = result.getRowsJson() as unknown[][];
    const keys = rows.map((r) => String(r[0]));
    const stored = await online.store.getMany(keys.map((k) => onlineKey(view, k)));
    const toWrite: { view: FeatureViewDef; key: string; row: FeatureRow }[] = [];
    rows.forEach((r, i) => {
      const eventTs = Number(r[1]);
      const existing = stored[i];
      if (existing && rowEventTs(existing) >= eventTs) {
        progress.rowsSkipped++;
        return;
      }
      toWrite.push({
        view,
        key: keys[i]!,
        row: {
          eventTs,
          values: numeric.map((_, k) => (r[2 + k] === null ? null : Number(r[2 + k]))),
          lists: lists.map((_, k) => (r[2 + numeric.length + k] ?? []) as (string | number | null)[]),
        },
      });
    });
    const written = await online.writeRows(toWrite);
    progress.rowsWritten += written;
    progress.rowsExpired += toWrite.length - written;
    progress.hoursDone++;
    await writeFile(
      `${checkpointPath}.tmp`,
      JSON.stringify({ doneThroughHourMs: hour } satisfies Checkpoint),
    );
    await rename(`${checkpointPath}.tmp`, checkpointPath);
    options.onHour?.(progress);
  }
  return progress;
}
