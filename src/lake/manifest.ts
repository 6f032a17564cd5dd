import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ForyouError } from '../core/errors.js';
import { writeFileAtomic } from './durable.js';
import { LAKE_TABLES, LAKE_TOPICS, type LakeTable, type LakeTopic, MANIFEST_FILE } from './layout.js';

/**
 * The manifest is the lake's transaction log, reduced to its latest state: the Parquet files that are part
 * of the lake and, per topic, the next log offset the lake has not written. It is replaced as a whole and
 * atomically, so the files it lists and the offsets it records always change together: that is what makes
 * the lake exactly-once (see docs/lake.md).
 */

const offset = z.number().int().min(0);

export const LakeFileSchema = z.strictObject({
  table: z.enum(LAKE_TABLES),
  /** Relative to the lake folder, `/`-separated. */
  path: z.string().min(1),
  /** Hive partition values ({} for unpartitioned tables). */
  partition: z.record(z.string(), z.string()),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** Smallest and largest log offset among the file's rows (of the table's topic). */
  minOffset: offset,
  maxOffset: offset,
});

export const LakeManifestSchema = z.strictObject({
  format: z.literal('foryou-lake'),
  version: z.literal(1),
  /** Increases by one with every commit (0: nothing committed yet). */
  sequence: z.number().int().min(0),
  committedAt: z.string().nullable(),
  /** Per topic, the next log offset to write: every record below it is in the lake exactly once. */
  offsets: z.partialRecord(z.enum(LAKE_TOPICS), offset),
  files: z.array(LakeFileSchema),
});

export type LakeFile = z.infer<typeof LakeFileSchema>;
export type LakeManifest = z.infer<typeof LakeManifestSchema>;

export function emptyManifest(): LakeManifest {
  return { format: 'foryou-lake', version: 1, sequence: 0, committedAt: null, offsets: {}, files: [] };
}

export function manifestPath(dir: string): string {
  return join(dir, MANIFEST_FILE);
}

/** Reads the lake's manifest; an empty manifest when there is none yet (a lake nothing was written to). */
export async function readManifest(dir: string): Promise<LakeManifest> {
  const path = manifestPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return emptyManifest();
    throw new ForyouError('FY_IO_FAILED', `cannot read ${path}: ${(cause as Error).message}`, {
      cause,
      details: { path },
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ForyouError('FY_LAKE_CORRUPT', `the lake manifest ${path} is not valid JSON`, {
      cause,
      details: { path },
    });
  }
  const result = LakeManifestSchema.safeParse(parsed);
  if (!result.success)
    throw new ForyouError(
      'FY_LAKE_CORRUPT',
      `the lake manifest ${path} does not have the expected shape: ${result.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
      { details: { path } },
    );
  return result.data;
}

/** The commit point: replaces the manifest atomically and durably with `next`. */
export async function writeManifest(dir: string, next: LakeManifest): Promise<void> {
  await writeFileAtomic(manifestPath(dir), formatManifest(next));
}

/** JSON with one file per line: small, and still readable with `cat` and `grep`. */
export function formatManifest(manifest: LakeManifest): string {
  const { files, ...head } = manifest;
  const fields = Object.entries(head).map(
    ([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  const lines = files.map((f) => `    ${JSON.stringify(f)}`);
  return `{\n${fields.join(',\n')},\n  "files": [${lines.length > 0 ? `\n${lines.join(',\n')}\n  ` : ''}]\n}\n`;
}

export interface ManifestChange {
  add?: readonly LakeFile[];
  remove?: ReadonlySet<string>;
  offsets?: Partial<Record<LakeTopic, number>>;
}

/** The manifest that follows `base` after a change; `base` is not modified. */
export function nextManifest(base: LakeManifest, change: ManifestChange, now = new Date()): LakeManifest {
  const remove = change.remove ?? new Set<string>();
  return {
    format: 'foryou-lake',
    version: 1,
    sequence: base.sequence + 1,
    committedAt: now.toISOString(),
    offsets: { ...base.offsets, ...change.offsets },
    files: [...base.files.filter((f) => !remove.has(f.path)), ...(change.add ?? [])],
  };
}

/** The next offset to write for `topic` (0 when the lake has never written it). */
export function offsetOf(manifest: LakeManifest, topic: LakeTopic): number {
  return manifest.offsets[topic] ?? 0;
}

export function filesOf(manifest: LakeManifest, table: LakeTable): LakeFile[] {
  return manifest.files.filter((f) => f.table === table);
}
