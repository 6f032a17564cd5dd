import type { EventLog } from '../log/port.js';
import { LAKE_TABLES, LAKE_TOPICS, type LakeTable, type LakeTopic, partitionKey } from './layout.js';
import { type LakeManifest, offsetOf } from './manifest.js';

export interface TableStatus {
  table: LakeTable;
  partitions: number;
  files: number;
  rows: number;
  bytes: number;
}

export interface LakeStatus {
  dir: string;
  /** Manifest sequence: the number of commits so far. */
  sequence: number;
  committedAt: string | null;
  /** Per topic, the next log offset the lake will write. */
  offsets: Record<LakeTopic, number>;
  tables: TableStatus[];
}

/** What the lake holds, from its manifest alone (no Parquet file is opened). */
export function lakeStatus(dir: string, manifest: LakeManifest): LakeStatus {
  const tables = LAKE_TABLES.map((table) => {
    const files = manifest.files.filter((f) => f.table === table);
    return {
      table,
      partitions: new Set(files.map((f) => partitionKey(f.table, f.partition))).size,
      files: files.length,
      rows: files.reduce((sum, f) => sum + f.rows, 0),
      bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    };
  });
  return {
    dir,
    sequence: manifest.sequence,
    committedAt: manifest.committedAt,
    offsets: Object.fromEntries(LAKE_TOPICS.map((t) => [t, offsetOf(manifest, t)])) as Record<
      LakeTopic,
      number
    >,
    tables,
  };
}

export interface TopicLag {
  topic: LakeTopic;
  /** Next offset the lake will write. */
  lake: number;
  /** The log's live range. */
  logStart: number;
  logEnd: number;
  /** Records in the log the lake has not written yet. */
  lag: number;
  /** Records the log removed (retention) before the lake wrote them: they are lost to the lake. */
  missed: number;
}

/** How far the lake is behind the log, per topic. */
export async function lakeLag(manifest: LakeManifest, log: EventLog): Promise<TopicLag[]> {
  const out: TopicLag[] = [];
  for (const topic of LAKE_TOPICS) {
    const { start, end } = await log.bounds(topic);
    const lake = offsetOf(manifest, topic);
    out.push({
      topic,
      lake,
      logStart: start,
      logEnd: end,
      lag: Math.max(0, end - Math.max(lake, start)),
      missed: Math.max(0, start - lake),
    });
  }
  return out;
}
