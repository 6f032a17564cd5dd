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

/** Runs `fn` with a fresh in-memory DuckDB connection and closes it afterwards. */
export async function withDuckDb<T>(
  fn: (connection: DuckDBConnection) => Promise<T>,
  options: DuckDbOptions = {},
): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '4GB',
    threads: String(options.threads ?? 2),
  });
  const connection = await instance.connect();
  try {
    return await fn(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
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
