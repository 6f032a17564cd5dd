import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { LOCK_FILE } from './layout.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The lake's single-writer lock: a file holding the pid of the process that may change the lake (write
 * batches, compact, remove orphans). Readers never take it. A lock left by a process that no longer exists
 * (killed, crashed) is taken over.
 */
export class LakeLock {
  private released = false;

  private constructor(readonly path: string) {}

  static async acquire(dir: string): Promise<LakeLock> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(path, 'wx');
        try {
          await handle.writeFile(String(process.pid));
        } finally {
          await handle.close();
        }
        return new LakeLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 0 && processAlive(pid))
          throw new ForyouError('FY_LAKE_LOCKED', `the lake in ${dir} is being written by process ${pid}`, {
            details: { pid, lockPath: path },
          });
        // Empty (the holder died between creating and writing it) or stale: take it over.
        await rm(path, { force: true });
      }
    }
    throw new ForyouError('FY_LAKE_LOCKED', `could not take the lake lock ${path}`, {
      details: { lockPath: path },
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await rm(this.path, { force: true });
  }
}
