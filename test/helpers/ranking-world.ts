/**
 * A simulated world loaded into DuckDB with the lake's `events` and `items` columns, and the ranker's
 * feature views' offline rows computed over it by the offline engine (`featureRowsSql`, the SQL
 * `buildOfflineTable` writes), for the ranker's tests and benchmark. The log and the lake writer are
 * skipped (their own tests cover them): JSON lines go straight into DuckDB tables.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type FeatureRegistry, fingerprint } from '../../src/features/registry.js';
import { featureRowsSql } from '../../src/features/sql.js';
import { openMemoryDuckDb, sqlString } from '../../src/io/duckdb.js';
import { WORLD_COLUMNS } from '../../src/io/world-folder.js';
import {
  buildRankingSamples,
  type RankingSamples,
  rankerFeatureRegistry,
  TASK_COUNT,
} from '../../src/models/ranking-samples.js';
import { simulateHistory } from '../../src/sim/history.js';
import type { WorldParamsInput } from '../../src/sim/params.js';
import { World } from '../../src/sim/world.js';

export interface RankingWorld {
  world: World;
  db: DuckDBConnection;
  registry: FeatureRegistry;
  /** The table of each view's offline feature rows, by view name. */
  featureRows: Record<string, string>;
  events: number;
  close(): void;
}

function readJsonLines(path: string, columns: Readonly<Record<string, string>>): string {
  const types = Object.entries(columns)
    .map(([name, type]) => `${sqlString(name)}: ${sqlString(type === 'TIMESTAMP' ? 'BIGINT' : type)}`)
    .join(', ');
  const select = Object.entries(columns)
    .map(([name, type]) => (type === 'TIMESTAMP' ? `epoch_ms("${name}") AS "${name}"` : `"${name}"`))
    .join(', ');
  return `SELECT ${select} FROM read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${types}})`;
}

/** Simulates `params` into `dir` and loads it; the feature rows are those of `rankerFeatureRegistry()`. */
export async function buildRankingWorld(dir: string, params: WorldParamsInput): Promise<RankingWorld> {
  const world = new World(params);
  const lines: string[] = [];
  for (const batch of simulateHistory(world)) for (const e of batch.events) lines.push(JSON.stringify(e));
  writeFileSync(join(dir, 'events.jsonl'), lines.join('\n'));
  const items: string[] = [];
  for (let i = 0; i < world.itemCount; i++) items.push(JSON.stringify(world.itemRecord(i)));
  writeFileSync(join(dir, 'items.jsonl'), items.join('\n'));
  const duck = await openMemoryDuckDb({ threads: 2, memoryLimit: '2GB' });
  const db = duck.connection;
  await db.run(
    `CREATE TABLE events AS SELECT row_number() OVER () AS log_offset, * FROM (${readJsonLines(join(dir, 'events.jsonl'), WORLD_COLUMNS.events)})`,
  );
  await db.run(`CREATE TABLE items AS ${readJsonLines(join(dir, 'items.jsonl'), WORLD_COLUMNS.items)}`);
  const registry = rankerFeatureRegistry();
  const featureRows: Record<string, string> = {};
  for (const view of registry.allViews()) {
    const table = `feature_rows_${view.name}`;
    await db.run(`CREATE TABLE ${table} AS ${featureRowsSql(view)}`);
    featureRows[view.name] = table;
  }
  return {
    world,
    db,
    registry,
    featureRows,
    events: lines.length,
    close: () => duck.close(),
  };
}

/** A world's ranking samples and the time its simulation starts (where `lastDaySplit` counts days from). */
export interface WorldSamples {
  samples: RankingSamples;
  startMs: number;
}

/**
 * The ranking samples of the world of `params` (users, items, days and seed given): built in a temporary
 * folder, or, with `cacheDir`, loaded from the file an earlier call with the same params and the same
 * feature set kept there (the world and its feature SQL are most of the time at tens of thousands of users).
 */
export async function rankingSamplesOfWorld(
  params: { users: number; items: number; days: number; seed: number },
  cacheDir?: string,
): Promise<WorldSamples> {
  const cached = cacheDir
    ? join(
        cacheDir,
        `samples-u${params.users}-i${params.items}-d${params.days}-s${params.seed}-f${featureSetTag()}.bin`,
      )
    : undefined;
  if (cached && existsSync(cached)) {
    console.error(`samples from ${cached}`);
    return loadSamples(cached);
  }
  const began = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'foryou-ranking-world-'));
  try {
    const world = await buildRankingWorld(dir, params);
    try {
      const samples = await buildRankingSamples(world.db, world.registry, { featureRows: world.featureRows });
      console.error(
        `world: ${world.events} events, ${samples.rows} impressions (${((performance.now() - began) / 1000).toFixed(0)} s)`,
      );
      const result = { samples, startMs: world.world.startMs };
      if (cached) {
        mkdirSync(cacheDir!, { recursive: true });
        saveSamples(cached, result);
      }
      return result;
    } finally {
      world.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A short tag of the ranker's feature set (each trimmed view's registry fingerprint), part of a cached
 * file's name: samples cached before a feature changed are then not read back as if they were current.
 */
function featureSetTag(): string {
  const prints = rankerFeatureRegistry().allViews().map(fingerprint);
  return createHash('sha256').update(prints.join(';')).digest('hex').slice(0, 8);
}

/** Layout: header length (u32), JSON header, padding to 8 bytes, then tsMs, user, candidate and labels. */
function saveSamples(path: string, { samples, startMs }: WorldSamples): void {
  const header = Buffer.from(
    JSON.stringify({
      rows: samples.rows,
      startMs,
      userFeatureNames: samples.userFeatureNames,
      candidateFeatureNames: samples.candidateFeatureNames,
      userIds: samples.userIds,
      itemIds: samples.itemIds,
      requestIds: samples.requestIds,
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const bytes = (a: Float32Array | Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const pad = Buffer.alloc((8 - ((4 + header.length) % 8)) % 8);
  writeFileSync(
    path,
    Buffer.concat([
      length,
      header,
      pad,
      bytes(samples.tsMs),
      bytes(samples.user),
      bytes(samples.candidate),
      bytes(samples.labels),
    ]),
  );
}

function loadSamples(path: string): WorldSamples {
  const file = readFileSync(path);
  const headerLength = file.readUInt32LE(0);
  const h = JSON.parse(file.subarray(4, 4 + headerLength).toString());
  let at = 4 + headerLength;
  at += (8 - (at % 8)) % 8;
  const rows: number = h.rows;
  const take = (n: number, size: 4 | 8) => {
    const buffer = file.buffer.slice(file.byteOffset + at, file.byteOffset + at + n * size);
    at += n * size;
    return buffer;
  };
  const tsMs = new Float64Array(take(rows, 8));
  const user = new Float32Array(take(rows * h.userFeatureNames.length, 4));
  const candidate = new Float32Array(take(rows * h.candidateFeatureNames.length, 4));
  const labels = new Float32Array(take(rows * TASK_COUNT, 4));
  return {
    startMs: h.startMs,
    samples: {
      rows,
      userFeatureNames: h.userFeatureNames,
      candidateFeatureNames: h.candidateFeatureNames,
      user,
      candidate,
      labels,
      userIds: h.userIds,
      itemIds: h.itemIds,
      requestIds: h.requestIds,
      tsMs,
    },
  };
}
