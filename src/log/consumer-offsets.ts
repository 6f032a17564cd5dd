import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';

/** Committed offsets of a topic's named consumers, one small file each, replaced atomically. */
export class ConsumerOffsets {
  constructor(private readonly dir: string) {}

  private path(consumer: string): string {
    return join(this.dir, `${consumer}.offset`);
  }

  /** Reads the file every time: another process (a read-only follower) may have committed since. */
  async get(consumer: string): Promise<number | null> {
    try {
      const parsed = JSON.parse(await readFile(this.path(consumer), 'utf8')) as { offset: number };
      return parsed.offset;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new ForyouError('FY_IO_FAILED', `cannot read the offset of consumer ${consumer} in ${this.dir}`, {
        cause: error,
      });
    }
  }

  /** Writes the offset durably (temp file, fdatasync, rename) before resolving. */
  async set(consumer: string, offset: number): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(consumer)}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(JSON.stringify({ offset, committedAt: new Date().toISOString() }));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path(consumer));
  }

  async all(): Promise<Record<string, number>> {
    let names: string[] = [];
    try {
      names = (await readdir(this.dir))
        .filter((n) => n.endsWith('.offset'))
        .map((n) => n.slice(0, -'.offset'.length));
    } catch {
      return {};
    }
    const out: Record<string, number> = {};
    for (const name of names.sort()) {
      const offset = await this.get(name);
      if (offset !== null) out[name] = offset;
    }
    return out;
  }
}
