import type { DuckDBConnection } from '@duckdb/node-api';
import { type ColumnTypes, openMemoryDuckDb } from '../io/duckdb.js';

/** DuckDB plumbing shared by the lake's writer and reader. */

export interface LakeDuckDbOptions {
  /** DuckDB worker threads (default 2). */
  threads?: number;
  /** DuckDB `memory_limit` (default "2GB"); it spills to disk past it. */
  memoryLimit?: string;
}

export interface DuckDb {
  connection: DuckDBConnection;
  close(): void;
}

export async function openDuckDb(options: LakeDuckDbOptions = {}): Promise<DuckDb> {
  return openMemoryDuckDb({ threads: options.threads ?? 2, memoryLimit: options.memoryLimit ?? '2GB' });
}

export type Row = Record<string, unknown>;

/** Whole numbers that fit a double come back as numbers, larger ones stay bigint. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Row = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

export async function queryRows(
  connection: DuckDBConnection,
  sql: string,
  params?: unknown[],
): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql, params as never);
  return reader.getRowObjectsJS().map((row) => plain(row) as Row);
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `STRUCT("a" VARCHAR, "b" BIGINT, ...)`, with TIMESTAMP columns read as the epoch milliseconds they are in JSON. */
export function structOf(columns: ColumnTypes): string {
  return `STRUCT(${Object.entries(columns)
    .map(([name, type]) => `${ident(name)} ${type === 'TIMESTAMP' ? 'BIGINT' : type}`)
    .join(', ')})`;
}

/** One file reported by `COPY ... (RETURN_STATS true)`. */
export interface CopiedFile {
  path: string;
  rows: number;
  bytes: number;
  partition: Record<string, string>;
  /** Min and max of the `log_offset` column (null for an empty file). */
  minOffset: number | null;
  maxOffset: number | null;
}

type KeyValues = { key: string; value: unknown }[] | null;

function entries(map: unknown): [string, unknown][] {
  return ((map as KeyValues) ?? []).map(({ key, value }) => [key.replace(/^"|"$/g, ''), value]);
}

/** Runs a `COPY ... (RETURN_STATS true)` statement and returns what it wrote. */
export async function copyWithStats(connection: DuckDBConnection, sql: string): Promise<CopiedFile[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJson().map((row) => {
    const stats = new Map(entries(row.column_statistics));
    const offsetStats = new Map(entries(stats.get('log_offset') ?? null));
    const min = offsetStats.get('min');
    const max = offsetStats.get('max');
    return {
      path: String(row.filename),
      rows: Number(row.count),
      bytes: Number(row.file_size_bytes),
      partition: Object.fromEntries(entries(row.partition_keys).map(([k, v]) => [k, String(v)])),
      minOffset: min === undefined || min === null ? null : Number(min),
      maxOffset: max === undefined || max === null ? null : Number(max),
    };
  });
}
