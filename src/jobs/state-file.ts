import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { JobState, JobStateStore } from './graph.js';

/** Job state in one JSON file, replaced atomically. */
export class JobStateFile implements JobStateStore {
  constructor(readonly path: string) {}

  async load(): Promise<JobState> {
    try {
      return JSON.parse(await readFile(this.path, 'utf8')) as JobState;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { success: {}, failure: {} };
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot read the job state ${this.path}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  async save(state: JobState): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(`${this.path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${this.path}.tmp`, this.path);
  }
}
