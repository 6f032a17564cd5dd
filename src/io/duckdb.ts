import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';

export interface DuckDbOptions {
  /** DuckDB `memory_limit`, e.g. "4GB"; DuckDB spills to disk past it. */
  memoryLimit?: string;
  threads?: number;
}

/** Quotes a value as a SQL string literal (paths, for statements such as COPY that take no parameters). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** An open in-memory DuckDB instance; `close` also removes its spill directory. */
export interface MemoryDuckDb {
  connection: DuckDBConnection;
  /** Where it spills past its memory limit: a directory of its own. */
  tempDirectory: string;
  close(): void;
}

/**
 * A fresh in-memory DuckDB instance that spills into a directory of its own, removed by `close`. DuckDB's
 * own default for an in-memory database is `.tmp` under the working directory, with fixed file names
 * (`duckdb_temp_storage_S32K-0.tmp`, ...), so two processes started in one folder that spill at once write
 * the same files: seen as a crash and as an "Out of Range" error when two large worlds were built side by
 * side.
 */
export async function openMemoryDuckDb(options: DuckDbOptions = {}): Promise<MemoryDuckDb> {
  const tempDirectory = mkdtempSync(join(tmpdir(), 'foryou-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '4GB',
    threads: String(options.threads ?? 2),
    temp_directory: tempDirectory,
  });
  const connection = await instance.connect();
  return {
    connection,
    tempDirectory,
    close() {
      connection.closeSync();
      instance.closeSync();
      rmSync(tempDirectory, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` with a fresh in-memory DuckDB connection and closes it afterwards. */
export async function withDuckDb<T>(
  fn: (connection: DuckDBConnection) => Promise<T>,
  options: DuckDbOptions = {},
): Promise<T> {
  const db = await openMemoryDuckDb(options);
  try {
    return await fn(db.connection);
  } finally {
    db.close();
  }
}

/** DuckDB column types of a JSON-lines file, in order; a `TIMESTAMP` column is read as epoch milliseconds. */
export type ColumnTypes = Readonly<Record<string, string>>;

/**
 * Converts a JSON-lines file to one zstd-compressed Parquet file with the given columns. Keys missing from a
 * line become NULL; `TIMESTAMP` columns hold epoch milliseconds in the JSON and real timestamps in Parquet.
 */
export async function jsonLinesToParquet(
  jsonlPath: string,
  parquetPath: string,
  columns: ColumnTypes,
): Promise<number> {
  const readTypes = Object.entries(columns)
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type === 'TIMESTAMP' ? 'BIGINT' : type)}`)
    .join(', ');
  const select = Object.entries(columns)
    .map(([name, type]) => (type === 'TIMESTAMP' ? `epoch_ms("${name}") AS "${name}"` : `"${name}"`))
    .join(', ');
  try {
    return await withDuckDb(async (db) => {
      const result = await db.run(
        `COPY (SELECT ${select} FROM read_json(${sqlString(jsonlPath)}, format = 'newline_delimited', columns = {${readTypes}}, maximum_object_size = 16777216))
         TO ${sqlString(parquetPath)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      return Number(result.rowsChanged);
    });
  } catch (cause) {
    throw new ForyouError(
      'FY_IO_FAILED',
      `cannot convert ${jsonlPath} to Parquet: ${(cause as Error).message}`,
      { cause },
    );
  }
}
