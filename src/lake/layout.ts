import { posix } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { ColumnTypes } from '../io/duckdb.js';
import { WORLD_COLUMNS } from '../io/world-folder.js';

/**
 * The lake's folder layout and table definitions. Everything under the lake folder is either the manifest,
 * scratch space the writer may delete at any time, or a Parquet file under one of the table folders; only
 * files the manifest lists are part of the lake.
 *
 *   _manifest.json                                         the current manifest (replaced atomically)
 *   _staging/                                              the writer's scratch space
 *   events/type=<type>/hour=<yyyy-mm-ddThh>/part-<first>-<last>.parquet
 *   items/part-<first>-<last>.parquet                      every item version, with its log offset
 *   users/part-<first>-<last>.parquet                      every user version, with its log offset
 *   rejects/topic=<topic>/part-<first>-<last>.parquet      log records that are not valid records
 */

/** The log topics the lake consumes. */
export const LAKE_TOPICS = ['events', 'catalog'] as const;
export type LakeTopic = (typeof LAKE_TOPICS)[number];

export const LAKE_TABLES = ['events', 'items', 'users', 'rejects'] as const;
export type LakeTable = (typeof LAKE_TABLES)[number];

export const MANIFEST_FILE = '_manifest.json';
export const STAGING_DIR = '_staging';
export const LOCK_FILE = '.lock';

export interface TableSpec {
  /** Columns stored in each Parquet file, in order (partition columns live in the path instead). */
  columns: ColumnTypes;
  /** Hive partition columns, outermost first. */
  partitionBy: readonly string[];
  /** The topic whose offsets name the files. */
  topic: LakeTopic | null;
  /** Key column of catalogue tables: the lake exposes the newest version per key. */
  key?: string;
}

const { type: _type, ...eventColumns } = WORLD_COLUMNS.events;

export const TABLE_SPECS: Readonly<Record<LakeTable, TableSpec>> = {
  events: {
    columns: { log_offset: 'BIGINT', ...eventColumns },
    partitionBy: ['type', 'hour'],
    topic: 'events',
  },
  items: {
    columns: { log_offset: 'BIGINT', log_ts: 'TIMESTAMP', ...WORLD_COLUMNS.items },
    partitionBy: [],
    topic: 'catalog',
    key: 'item_id',
  },
  users: {
    columns: { log_offset: 'BIGINT', log_ts: 'TIMESTAMP', ...WORLD_COLUMNS.users },
    partitionBy: [],
    topic: 'catalog',
    key: 'user_id',
  },
  rejects: {
    columns: { log_offset: 'BIGINT', reason: 'VARCHAR', payload: 'VARCHAR' },
    partitionBy: ['topic'],
    topic: null,
  },
};

/** Partition values are written into folder names, so they must be plain. */
const PARTITION_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

export function isSafePartitionValue(value: string): boolean {
  return PARTITION_VALUE.test(value);
}

/** The hour partition of an event time: `2026-01-05T13` (UTC). */
export function hourOf(tsMs: number): string {
  return new Date(tsMs).toISOString().slice(0, 13);
}

/** The folder of a partition, relative to the lake and in POSIX form: `events/type=play/hour=2026-01-05T13`. */
export function partitionDir(table: LakeTable, partition: Readonly<Record<string, string>>): string {
  const parts: string[] = [table];
  for (const column of TABLE_SPECS[table].partitionBy) parts.push(`${column}=${partition[column] ?? ''}`);
  return parts.join('/');
}

/** A stable key for grouping files by partition. */
export function partitionKey(table: LakeTable, partition: Readonly<Record<string, string>>): string {
  return partitionDir(table, partition);
}

/**
 * A file name for rows spanning log offsets [first, last] that is not in `taken`; the first choice is
 * `part-<first>-<last>.parquet` and, if a live file already has that name, `part-<first>-<last>.<n>.parquet`.
 */
export function partFileName(dir: string, first: number, last: number, taken: ReadonlySet<string>): string {
  const base = `part-${first}-${last}`;
  for (let n = 0; ; n++) {
    const name = n === 0 ? `${base}.parquet` : `${base}.${n}.parquet`;
    if (!taken.has(posix.join(dir, name))) return name;
  }
}

/**
 * DuckDB reads hive partitions from the whole path of a file, and the first `type=...` on the path wins:
 * a lake under a folder named like a partition (`/data/type=raw/lake`) would give every event that type.
 * Such a location is refused rather than read wrongly.
 */
export function checkLakeLocation(dir: string): void {
  const columns = new Set(LAKE_TABLES.flatMap((t) => TABLE_SPECS[t].partitionBy));
  const clash = dir
    .split(/[\\/]/)
    .find((part) => columns.has(part.split('=')[0] ?? '') && part.includes('='));
  if (clash)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `the lake folder ${dir} is inside a folder named ${clash}, which DuckDB would read as a partition; move the lake`,
      { details: { dir } },
    );
}
