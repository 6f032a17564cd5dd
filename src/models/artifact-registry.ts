import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';

/**
 * The artifact registry: every trained model and built index, versioned, with the config it was trained
 * with, its metrics, the inputs it read (lake snapshot, partitions) and its parent version. Versions are
 * immutable folders; one version per name is *promoted* (the one serving loads), with a history for
 * rollback.
 *
 *   <dir>/<name>/<version>/artifact.json   metadata
 *   <dir>/<name>/<version>/...             payload files
 *   <dir>/<name>/promoted.json             { current, history }
 */
export interface ArtifactMeta {
  name: string;
  version: number;
  kind: 'model' | 'index' | 'report';
  createdAt: string;
  config: Record<string, unknown>;
  metrics: Record<string, number>;
  /** What it was built from, e.g. { lakeSequence: 12, partitions: [...] }. */
  inputs: Record<string, unknown>;
  parent: number | null;
  files: string[];
}

interface Promotion {
  current: number | null;
  history: { version: number; at: string; action: 'promote' | 'rollback' }[];
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class ArtifactRegistry {
  constructor(readonly dir: string) {}

  private check(name: string): void {
    if (!NAME.test(name))
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `artifact name ${JSON.stringify(name)} must be kebab-case (a-z 0-9 -)`,
      );
  }

  async names(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir)).filter((n) => NAME.test(n)).sort();
  }

  async versions(name: string): Promise<number[]> {
    this.check(name);
    const dir = join(this.dir, name);
    if (!existsSync(dir)) return [];
    return (await readdir(dir))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  async show(name: string, version?: number): Promise<ArtifactMeta> {
    const v = version ?? (await this.current(name)) ?? (await this.versions(name)).at(-1);
    if (v === undefined || v === null)
      throw new ForyouError('FY_ARTIFACT_NOT_FOUND', `no artifact named "${name}"`);
    try {
      return JSON.parse(
        await readFile(join(this.dir, name, String(v), 'artifact.json'), 'utf8'),
      ) as ArtifactMeta;
    } catch (cause) {
      throw new ForyouError(
        'FY_ARTIFACT_NOT_FOUND',
        `artifact ${name} has no version ${v}; versions: ${(await this.versions(name)).join(', ') || 'none'}`,
        { cause },
      );
    }
  }

  /** Folder of a version's payload files. */
  pathOf(name: string, version: number): string {
    return join(this.dir, name, String(version));
  }

  /**
   * Publishes a new version: `write(dir)` fills a staging folder with the payload; the version appears
   * (atomically renamed into place) only when it resolves. The parent defaults to the promoted version.
   */
  async publish(
    name: string,
    meta: Omit<ArtifactMeta, 'name' | 'version' | 'createdAt' | 'files' | 'parent'> & {
      parent?: number | null;
    },
    write: (dir: string) => Promise<void>,
  ): Promise<ArtifactMeta> {
    this.check(name);
    await mkdir(join(this.dir, name), { recursive: true });
    const staging = join(this.dir, name, `.staging-${process.pid}-${Date.now()}`);
    await mkdir(staging);
    try {
      await write(staging);
      const version = ((await this.versions(name)).at(-1) ?? 0) + 1;
      const full: ArtifactMeta = {
        ...meta,
        name,
        version,
        createdAt: new Date().toISOString(),
        parent: meta.parent === undefined ? await this.current(name) : meta.parent,
        files: (await readdir(staging)).sort(),
      };
      await writeFile(join(staging, 'artifact.json'), `${JSON.stringify(full, null, 2)}\n`);
      await rename(staging, this.pathOf(name, version));
      return full;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  private async promotion(name: string): Promise<Promotion> {
    try {
      return JSON.parse(await readFile(join(this.dir, name, 'promoted.json'), 'utf8')) as Promotion;
    } catch {
      return { current: null, history: [] };
    }
  }

  private async savePromotion(name: string, promotion: Promotion): Promise<void> {
    const path = join(this.dir, name, 'promoted.json');
    await writeFile(`${path}.tmp`, `${JSON.stringify(promotion, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  }

  /** The promoted version, or null. */
  async current(name: string): Promise<number | null> {
    this.check(name);
    return (await this.promotion(name)).current;
  }

  async promote(name: string, version: number): Promise<void> {
    if (!(await this.versions(name)).includes(version))
      throw new ForyouError(
        'FY_ARTIFACT_NOT_FOUND',
        `artifact ${name} has no version ${version}; versions: ${(await this.versions(name)).join(', ') || 'none'}`,
      );
    const promotion = await this.promotion(name);
    promotion.current = version;
    promotion.history.push({ version, at: new Date().toISOString(), action: 'promote' });
    await this.savePromotion(name, promotion);
  }

  /** Goes back to the version promoted before the current one. */
  async rollback(name: string): Promise<number> {
    const promotion = await this.promotion(name);
    const promoted = promotion.history.filter((h) => h.action === 'promote').map((h) => h.version);
    const currentAt = promoted.lastIndexOf(promotion.current ?? -1);
    const previous = [...promoted.slice(0, currentAt)].reverse().find((v) => v !== promotion.current);
    if (previous === undefined)
      throw new ForyouError(
        'FY_ARTIFACT_NOT_FOUND',
        `artifact ${name} has no earlier promoted version to roll back to`,
      );
    promotion.current = previous;
    promotion.history.push({ version: previous, at: new Date().toISOString(), action: 'rollback' });
    await this.savePromotion(name, promotion);
    return previous;
  }
}
