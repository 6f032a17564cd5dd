import type { Dirent } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ForyouError } from '../core/errors.js';

/**
 * File-system steps whose order the lake's exactly-once guarantee depends on: a file's bytes are on disk
 * before any name points at it, and a rename is on disk before anything that relies on it is written.
 */

/** fsyncs a file (or a folder) so its contents, or its entries, survive a power failure. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs each folder once. */
export async function fsyncDirs(dirs: Iterable<string>): Promise<void> {
  for (const dir of new Set(dirs)) await fsyncPath(dir);
}

/** Writes `path` so that readers see either its old or its new contents, never a mix (temp, fsync, rename). */
export async function writeFileAtomic(path: string, contents: string): Promise<void> {
  const temp = `${path}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await fsyncPath(dirname(path));
  } catch (cause) {
    await rm(temp, { force: true }).catch(() => {});
    throw new ForyouError('FY_IO_FAILED', `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
      details: { path },
    });
  }
}

/** Every file under `dir`, as paths relative to `dir` with `/` separators; none when `dir` does not exist. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Removes the empty folders under `dir` (not `dir` itself); returns whether `dir` ended up empty. */
export async function removeEmptyDirs(dir: string): Promise<boolean> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  let empty = true;
  for (const entry of entries) {
    if (entry.isDirectory() && (await removeEmptyDirs(join(dir, entry.name)))) {
      await rm(join(dir, entry.name), { recursive: true, force: true });
      continue;
    }
    empty = false;
  }
  return empty;
}

/** The folders from `path`'s parent up to and including `root`, innermost first. */
export function parentsUpTo(path: string, root: string): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); dir.length >= root.length; dir = dirname(dir)) {
    out.push(dir);
    if (dir === root || dirname(dir) === dir) break;
  }
  return out;
}
