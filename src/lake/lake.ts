import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';
import { type DuckDb, type LakeDuckDbOptions, openDuckDb, queryRows, type Row } from './duck.js';
import { checkLakeLocation } from './layout.js';
import { type LakeManifest, readManifest } from './manifest.js';
import { type LakeStatus, lakeStatus } from './status.js';
import { viewStatements } from './views.js';

const MISSING_FILE = /No files found|No such file|Cannot open file|could not open/i;

/**
 * Read access to the lake for offline jobs: a DuckDB connection with the views `events`, `items`,
 * `item_versions`, `users`, `user_versions` and `rejects` over exactly the files of one manifest (a
 * snapshot). Opening never changes the lake and needs no lock, so any number of jobs can read while the
 * writer runs; `refresh()` moves to the newest manifest.
 */
export class Lake {
  private constructor(
    readonly dir: string,
    private readonly duck: DuckDb,
    private current: LakeManifest,
  ) {}

  /** Opens the lake in `dir`; a folder with no manifest yet is an empty lake. */
  static async open(dir: string, options: LakeDuckDbOptions = {}): Promise<Lake> {
    const root = resolve(dir);
    checkLakeLocation(root);
    const manifest = await readManifest(root);
    const duck = await openDuckDb(options);
    const lake = new Lake(root, duck, manifest);
    try {
      await lake.createViews();
    } catch (error) {
      duck.close();
      throw error;
    }
    return lake;
  }

  /** The manifest the views show. */
  get manifest(): LakeManifest {
    return this.current;
  }

  /** Switches the views to the newest committed manifest; returns whether it changed. */
  async refresh(): Promise<boolean> {
    const latest = await readManifest(this.dir);
    if (latest.sequence === this.current.sequence) return false;
    this.current = latest;
    await this.createViews();
    return true;
  }

  private async createViews(): Promise<void> {
    for (const statement of viewStatements(this.dir, this.current)) await this.duck.connection.run(statement);
  }

  /**
   * Runs `sql` and returns its rows as plain objects (whole numbers as numbers where they fit, timestamps as
   * Dates). If a file of the snapshot was removed meanwhile (compaction), it moves to the newest manifest
   * and runs the query again once.
   */
  async query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.run<T>(sql, params, true);
  }

  private async run<T extends Row>(sql: string, params: unknown[] | undefined, retry: boolean): Promise<T[]> {
    try {
      return (await queryRows(this.duck.connection, sql, params)) as T[];
    } catch (error) {
      if (retry && MISSING_FILE.test(String(error)) && (await this.refresh().catch(() => false)))
        return this.run<T>(sql, params, false);
      const message = String((error as Error)?.message ?? error).split('\n')[0];
      throw new ForyouError(
        /^IO Error/.test(message ?? '') ? 'FY_IO_FAILED' : 'FY_INVALID_ARGUMENT',
        `lake query failed: ${message}`,
        { cause: error, details: { sql } },
      );
    }
  }

  /** The DuckDB connection itself, for jobs that stream results or run their own statements. */
  connection(): DuckDBConnection {
    return this.duck.connection;
  }

  /** Tables, partitions, files, rows, bytes and log offsets, from the manifest. */
  status(): LakeStatus {
    return lakeStatus(this.dir, this.current);
  }

  /**
   * How many Parquet files DuckDB opens to answer `sql` (from EXPLAIN ANALYZE's profile): the way to check
   * that a filter on partition columns prunes the folders it does not need.
   */
  async filesScanned(sql: string): Promise<number> {
    const reader = await this.duck.connection.runAndReadAll(`EXPLAIN (ANALYZE, FORMAT json) ${sql}`);
    let total = 0;
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      const info = (node as { extra_info?: Record<string, unknown> }).extra_info;
      const files = info?.['Total Files Read'];
      if (files !== undefined) total += Number(files);
      for (const child of (node as { children?: unknown[] }).children ?? []) walk(child);
    };
    for (const row of reader.getRows()) walk(JSON.parse(String(row[1])));
    return total;
  }

  close(): void {
    this.duck.close();
  }
}
