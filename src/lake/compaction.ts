import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { sqlString } from '../io/duckdb.js';
import type { WrittenFile } from './convert.js';
import { copyWithStats, ident, type LakeDuckDbOptions } from './duck.js';
import { partitionKey, TABLE_SPECS } from './layout.js';
import type { LakeFile, LakeManifest } from './manifest.js';
import { publishFiles } from './publish.js';
import { LakeSession } from './session.js';

/**
 * Compaction merges the small files of a partition into one, so a lake fed by frequent small batches still
 * reads as few, large files. Rows are copied unchanged (every catalogue version is kept) in log-offset order.
 * The merged files replace their inputs in one manifest commit, and the inputs are deleted only after it:
 * a crash before the commit leaves the merged files as orphans, a crash after it leaves the inputs as
 * orphans, and either kind is removed by the next writer. Readers see the old files or the new, never both.
 */

export interface CompactionOptions {
  /** Merge a partition's small files once it has at least this many of them (default 2). */
  minFiles?: number;
  /** Files of at least this size are left alone, and merges stop growing at it (default 128 MiB). */
  targetBytes?: number;
  /** Most merges in one run (default: no limit). */
  maxMerges?: number;
}

export interface CompactionResult {
  merges: number;
  /** Files replaced, and files that replaced them. */
  filesIn: number;
  filesOut: number;
  rows: number;
  /** Manifest sequence after the run (unchanged when nothing was merged). */
  sequence: number;
}

const DEFAULT_TARGET_BYTES = 128 * 1024 * 1024;

/** The groups of files to merge: per partition, runs of small files in offset order, up to the target size. */
export function compactionPlan(manifest: LakeManifest, options: CompactionOptions = {}): LakeFile[][] {
  const minFiles = Math.max(2, options.minFiles ?? 2);
  const target = options.targetBytes ?? DEFAULT_TARGET_BYTES;
  const byPartition = new Map<string, LakeFile[]>();
  for (const file of manifest.files) {
    if (file.bytes >= target) continue;
    const key = partitionKey(file.table, file.partition);
    const group = byPartition.get(key);
    if (group) group.push(file);
    else byPartition.set(key, [file]);
  }
  const plan: LakeFile[][] = [];
  for (const key of [...byPartition.keys()].sort()) {
    const files = byPartition.get(key)!.sort((a, b) => a.minOffset - b.minOffset);
    let run: LakeFile[] = [];
    let bytes = 0;
    const close = () => {
      if (run.length >= minFiles) plan.push(run);
      run = [];
      bytes = 0;
    };
    for (const file of files) {
      run.push(file);
      bytes += file.bytes;
      if (bytes >= target) close();
    }
    close();
  }
  return options.maxMerges === undefined ? plan : plan.slice(0, options.maxMerges);
}

/** Runs compaction inside an open session (the lake writer calls this between batches). */
export async function compactSession(
  session: LakeSession,
  options: CompactionOptions = {},
): Promise<CompactionResult> {
  const plan = compactionPlan(session.manifest, options);
  const result: CompactionResult = {
    merges: 0,
    filesIn: 0,
    filesOut: 0,
    rows: 0,
    sequence: session.manifest.sequence,
  };
  if (plan.length === 0) return result;
  const scratch = await session.scratchDir('compact');
  const written: WrittenFile[] = [];
  for (const [k, group] of plan.entries()) {
    const first = group[0]!;
    const columns = Object.keys(TABLE_SPECS[first.table].columns).map(ident).join(', ');
    const sources = group.map((f) => sqlString(join(session.dir, f.path))).join(', ');
    const [file] = await copyWithStats(
      session.connection,
      `COPY (SELECT ${columns} FROM read_parquet([${sources}], hive_partitioning = false))
       TO ${sqlString(join(scratch, `merge-${k}.parquet`))} (FORMAT parquet, COMPRESSION zstd, RETURN_STATS true)`,
    );
    const rows = group.reduce((sum, f) => sum + f.rows, 0);
    if (!file || file.rows !== rows)
      throw new ForyouError(
        'FY_INTERNAL',
        `compaction of ${group.length} files of ${first.path} wrote ${file?.rows ?? 0} rows instead of ${rows}`,
      );
    written.push({ ...file, table: first.table, partition: first.partition });
    result.rows += rows;
  }
  const inputs = plan.flat();
  const merged = await publishFiles(session.dir, written, session.livePaths());
  const next = await session.commit({ add: merged, remove: new Set(inputs.map((f) => f.path)) });
  for (const file of inputs) await rm(join(session.dir, file.path), { force: true });
  await rm(scratch, { recursive: true, force: true });
  return {
    merges: plan.length,
    filesIn: inputs.length,
    filesOut: merged.length,
    rows: result.rows,
    sequence: next.sequence,
  };
}

/** Compacts the lake in `dir` on its own (takes the writer lock, so not while a writer runs). */
export async function compactLake(
  dir: string,
  options: CompactionOptions & LakeDuckDbOptions = {},
): Promise<CompactionResult> {
  const session = await LakeSession.open(dir, options);
  try {
    return await compactSession(session, options);
  } finally {
    await session.close();
  }
}
