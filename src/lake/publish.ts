import { mkdir, rename } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { WrittenFile } from './convert.js';
import { fsyncDirs, fsyncPath, parentsUpTo } from './durable.js';
import { isSafePartitionValue, partFileName, partitionDir, TABLE_SPECS } from './layout.js';
import type { LakeFile } from './manifest.js';

/**
 * Moves Parquet files written in the staging folder to their place in the lake, durably: each file is
 * fsynced, renamed into its partition folder under a name no live file has, and the folders whose entries
 * changed are fsynced. The files are not part of the lake until a manifest lists them, so a crash anywhere
 * in here leaves only orphans, which the next writer removes.
 *
 * `taken` holds the paths of live files; the names chosen here are added to it.
 */
export async function publishFiles(
  lakeDir: string,
  written: readonly WrittenFile[],
  taken: Set<string>,
): Promise<LakeFile[]> {
  const out: LakeFile[] = [];
  const dirs: string[] = [];
  for (const file of written) {
    const spec = TABLE_SPECS[file.table];
    const partition: Record<string, string> = {};
    for (const column of spec.partitionBy) {
      const value = file.partition[column];
      if (value === undefined || !isSafePartitionValue(value))
        throw new ForyouError(
          'FY_INTERNAL',
          `partition ${column}=${JSON.stringify(value)} of ${file.path} is not a plain value`,
        );
      partition[column] = value;
    }
    if (file.minOffset === null || file.maxOffset === null)
      throw new ForyouError('FY_INTERNAL', `${file.path} has rows but no log_offset statistics`);
    const relDir = partitionDir(file.table, partition);
    const rel = posix.join(relDir, partFileName(relDir, file.minOffset, file.maxOffset, taken));
    const target = join(lakeDir, rel);
    await fsyncPath(file.path);
    await mkdir(join(lakeDir, relDir), { recursive: true });
    await rename(file.path, target);
    taken.add(rel);
    dirs.push(...parentsUpTo(target, lakeDir));
    out.push({
      table: file.table,
      path: rel,
      partition,
      rows: file.rows,
      bytes: file.bytes,
      minOffset: file.minOffset,
      maxOffset: file.maxOffset,
    });
  }
  await fsyncDirs(dirs);
  return out;
}
