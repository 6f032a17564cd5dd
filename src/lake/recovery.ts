import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles, removeEmptyDirs } from './durable.js';
import { LAKE_TABLES, MANIFEST_FILE, STAGING_DIR } from './layout.js';
import type { LakeManifest } from './manifest.js';

/**
 * Brings the lake folder back to exactly what its manifest says, after a crash or a failed batch: removes
 * the staging folder, a half-written manifest, and every file under the table folders that the manifest
 * does not list (Parquet files of a batch or compaction that never committed, inputs of a compaction that
 * committed but had not deleted them yet). Only the lake writer calls it, holding the lock; files outside
 * the table folders are left alone. Returns the paths it removed, relative to `dir`.
 */
export async function removeOrphans(dir: string, manifest: LakeManifest): Promise<string[]> {
  const removed = await listFiles(join(dir, STAGING_DIR), STAGING_DIR);
  await rm(join(dir, STAGING_DIR), { recursive: true, force: true });
  if (existsSync(join(dir, `${MANIFEST_FILE}.tmp`))) {
    await rm(join(dir, `${MANIFEST_FILE}.tmp`), { force: true });
    removed.push(`${MANIFEST_FILE}.tmp`);
  }
  const live = new Set(manifest.files.map((f) => f.path));
  for (const table of LAKE_TABLES) {
    for (const rel of await listFiles(join(dir, table), table)) {
      if (live.has(rel)) continue;
      await rm(join(dir, rel), { force: true });
      removed.push(rel);
    }
    await removeEmptyDirs(join(dir, table));
  }
  return removed;
}
