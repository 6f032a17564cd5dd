import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ForyouError } from '../core/errors.js';
import { sqlString } from '../io/duckdb.js';
import { type DuckDb, type LakeDuckDbOptions, openDuckDb } from './duck.js';
import { checkLakeLocation, STAGING_DIR } from './layout.js';
import { LakeLock } from './lock.js';
import {
  type LakeManifest,
  type ManifestChange,
  nextManifest,
  readManifest,
  writeManifest,
} from './manifest.js';
import { removeOrphans } from './recovery.js';

/**
 * Write access to a lake: the lock, the current manifest, a DuckDB connection and the commit step. The
 * lake writer and compaction both work through a session; opening one removes whatever a crashed session
 * left behind, so every session starts from exactly the committed state.
 */
export class LakeSession {
  private closed = false;
  private scratch = 0;

  private constructor(
    readonly dir: string,
    private readonly lock: LakeLock,
    private readonly duck: DuckDb,
    private current: LakeManifest,
    /** Files removed on open because no manifest listed them. */
    readonly orphansRemoved: readonly string[],
  ) {}

  static async open(dir: string, options: LakeDuckDbOptions = {}): Promise<LakeSession> {
    const root = resolve(dir);
    checkLakeLocation(root);
    const lock = await LakeLock.acquire(root);
    try {
      const manifest = await readManifest(root);
      const orphans = await removeOrphans(root, manifest);
      const duck = await openDuckDb(options);
      await duck.connection.run(`SET temp_directory = ${sqlString(join(root, STAGING_DIR, 'duckdb'))}`);
      // One file per partition and batch: DuckDB's default (100 open files) splits a batch that spans more
      // partitions (a day of events is ~250) into several files per partition.
      await duck.connection.run('SET partitioned_write_max_open_files = 1024');
      return new LakeSession(root, lock, duck, manifest, orphans);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get manifest(): LakeManifest {
    return this.current;
  }

  get connection(): DuckDBConnection {
    if (this.closed)
      throw new ForyouError('FY_INVALID_ARGUMENT', `the lake session on ${this.dir} is closed`);
    return this.duck.connection;
  }

  /** A new empty folder under the staging folder, for one batch or compaction. */
  async scratchDir(label: string): Promise<string> {
    const path = join(this.dir, STAGING_DIR, `${label}-${this.current.sequence + 1}-${this.scratch++}`);
    await rm(path, { recursive: true, force: true });
    await mkdir(path, { recursive: true });
    return path;
  }

  /** The paths of the live files (to choose new names that do not collide). */
  livePaths(): Set<string> {
    return new Set(this.current.files.map((f) => f.path));
  }

  /** Commits a change: the new manifest replaces the old one atomically; nothing before this is visible. */
  async commit(change: ManifestChange): Promise<LakeManifest> {
    const next = nextManifest(this.current, change);
    await writeManifest(this.dir, next);
    this.current = next;
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.duck.close();
    await rm(join(this.dir, STAGING_DIR), { recursive: true, force: true }).catch(() => {});
    await this.lock.release();
  }
}
