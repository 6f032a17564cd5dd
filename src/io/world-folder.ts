import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { Creator, Event, Item, User } from '../core/schema/index.js';
import { type ColumnTypes, jsonLinesToParquet } from './duckdb.js';
import { JsonLinesWriter, readJsonLines } from './jsonl.js';

/**
 * The on-disk layout shared by the simulator and the dataset loaders: one table per record kind, as JSON
 * lines and/or Parquet, plus a manifest. Every later stage (replay into the ingest API, offline jobs,
 * evaluation) reads this layout, whatever produced it.
 */
export const WORLD_TABLES = ['users', 'creators', 'items', 'events'] as const;
export type WorldTable = (typeof WORLD_TABLES)[number];
export type WorldFormat = 'jsonl' | 'parquet';

/** Parquet column types per table; optional fields are NULL where a record lacks them. */
export const WORLD_COLUMNS: Readonly<Record<WorldTable, ColumnTypes>> = {
  users: {
    user_id: 'VARCHAR',
    country: 'VARCHAR',
    language: 'VARCHAR',
    signup_ts: 'TIMESTAMP',
    interests: 'VARCHAR[]',
  },
  creators: {
    creator_id: 'VARCHAR',
    name: 'VARCHAR',
    country: 'VARCHAR',
    language: 'VARCHAR',
    topics: 'VARCHAR[]',
    created_ts: 'TIMESTAMP',
  },
  items: {
    item_id: 'VARCHAR',
    creator_id: 'VARCHAR',
    caption: 'VARCHAR',
    hashtags: 'VARCHAR[]',
    language: 'VARCHAR',
    duration_ms: 'INTEGER',
    created_ts: 'TIMESTAMP',
  },
  events: {
    event_id: 'VARCHAR',
    type: 'VARCHAR',
    user_id: 'VARCHAR',
    ts: 'TIMESTAMP',
    item_id: 'VARCHAR',
    creator_id: 'VARCHAR',
    request_id: 'VARCHAR',
    position: 'INTEGER',
    watch_ms: 'INTEGER',
    duration_ms: 'INTEGER',
    query: 'VARCHAR',
    text: 'VARCHAR',
    value: 'DOUBLE',
    count: 'INTEGER',
  },
};

export interface WorldManifest {
  /** Layout version of this folder. */
  version: 1;
  /** What wrote it: "sim", "movielens", "lastfm". */
  source: string;
  createdAt: string;
  /** The parameters that reproduce it (seed and sizes for the simulator, path and layout for a loader). */
  params: Record<string, unknown>;
  counts: Record<WorldTable, number>;
  formats: WorldFormat[];
  /** First and last event time, epoch ms. */
  timeRange: { startMs: number; endMs: number } | null;
}

export interface WorldFolderWriterOptions {
  formats?: WorldFormat[];
  /** Replace what is already in the folder. */
  force?: boolean;
}

interface RecordOf {
  users: User;
  creators: Creator;
  items: Item;
  events: Event;
}

/**
 * Writes a world folder. Everything goes to a staging folder beside `dir` first and replaces `dir` only when
 * `finish` succeeds, so a run that fails (or is interrupted) never leaves a half-written world behind and
 * never destroys the one that was there (even with `force`). Call `abort` when giving up.
 */
export class WorldFolderWriter {
  private minTs = Number.POSITIVE_INFINITY;
  private maxTs = Number.NEGATIVE_INFINITY;

  private constructor(
    readonly dir: string,
    private readonly staging: string,
    readonly formats: WorldFormat[],
    private readonly writers: Record<WorldTable, JsonLinesWriter>,
  ) {}

  static async create(dir: string, options: WorldFolderWriterOptions = {}): Promise<WorldFolderWriter> {
    const formats = options.formats ?? ['jsonl', 'parquet'];
    if (formats.length === 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'choose at least one output format (jsonl, parquet)');
    if (existsSync(dir) && (await readdir(dir)).length > 0 && !options.force)
      throw new ForyouError(
        'FY_OUTPUT_EXISTS',
        `${dir} is not empty; choose an empty folder or pass --force`,
        {
          details: { dir },
        },
      );
    const staging = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}-${Date.now().toString(36)}`);
    try {
      await mkdir(staging, { recursive: true });
    } catch (cause) {
      throw new ForyouError('FY_IO_FAILED', `cannot create ${staging}: ${(cause as Error).message}`, {
        cause,
      });
    }
    const entries = await Promise.all(
      WORLD_TABLES.map(
        async (table) => [table, await JsonLinesWriter.create(join(staging, `${table}.jsonl`))] as const,
      ),
    );
    return new WorldFolderWriter(
      dir,
      staging,
      formats,
      Object.fromEntries(entries) as Record<WorldTable, JsonLinesWriter>,
    );
  }

  /** Discards everything written so far; the target folder is left as it was. */
  async abort(): Promise<void> {
    for (const table of WORLD_TABLES) await this.writers[table].close().catch(() => {});
    await rm(this.staging, { recursive: true, force: true });
  }

  write<T extends WorldTable>(table: T, record: RecordOf[T]): void {
    if (table === 'events') {
      const ts = (record as Event).ts;
      if (ts < this.minTs) this.minTs = ts;
      if (ts > this.maxTs) this.maxTs = ts;
    }
    this.writers[table].write(record);
  }

  count(table: WorldTable): number {
    return this.writers[table].records;
  }

  /** Writes buffered records of every table whose buffer is full; await it at batch boundaries. */
  async flushIfFull(): Promise<void> {
    for (const table of WORLD_TABLES) await this.writers[table].flushIfFull();
  }

  /** Closes the JSON-lines files, converts to Parquet if asked, and writes the manifest. */
  async finish(
    source: string,
    params: Record<string, unknown>,
    onTable?: (table: WorldTable) => void,
  ): Promise<WorldManifest> {
    for (const table of WORLD_TABLES) await this.writers[table].close();
    if (this.formats.includes('parquet')) {
      for (const table of WORLD_TABLES) {
        onTable?.(table);
        await jsonLinesToParquet(
          join(this.staging, `${table}.jsonl`),
          join(this.staging, `${table}.parquet`),
          WORLD_COLUMNS[table],
        );
      }
    }
    if (!this.formats.includes('jsonl'))
      for (const table of WORLD_TABLES) await rm(join(this.staging, `${table}.jsonl`));
    const manifest: WorldManifest = {
      version: 1,
      source,
      createdAt: new Date().toISOString(),
      params,
      counts: Object.fromEntries(WORLD_TABLES.map((t) => [t, this.writers[t].records])) as Record<
        WorldTable,
        number
      >,
      formats: this.formats,
      timeRange: Number.isFinite(this.minTs) ? { startMs: this.minTs, endMs: this.maxTs } : null,
    };
    await writeFile(join(this.staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(this.dir, { recursive: true, force: true });
    await rename(this.staging, this.dir);
    return manifest;
  }
}

/** Reads a world folder written by `WorldFolderWriter` (its JSON-lines form). */
export class WorldFolder {
  private constructor(
    readonly dir: string,
    readonly manifest: WorldManifest,
  ) {}

  static async open(dir: string): Promise<WorldFolder> {
    const path = join(dir, 'manifest.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (cause) {
      throw new ForyouError('FY_DATASET_NOT_FOUND', `${dir} is not a world folder: ${path} is missing`, {
        cause,
      });
    }
    return new WorldFolder(dir, JSON.parse(text) as WorldManifest);
  }

  path(table: WorldTable, format: WorldFormat): string {
    return join(this.dir, `${table}.${format}`);
  }

  records<T extends WorldTable>(table: T): AsyncGenerator<RecordOf[T]> {
    if (!this.manifest.formats.includes('jsonl'))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `${this.dir} was written without JSON lines; read its Parquet files instead`,
      );
    return readJsonLines<RecordOf[T]>(this.path(table, 'jsonl'));
  }

  async sizes(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of WORLD_TABLES)
      for (const format of this.manifest.formats)
        out[`${table}.${format}`] = (await stat(this.path(table, format))).size;
    return out;
  }
}
