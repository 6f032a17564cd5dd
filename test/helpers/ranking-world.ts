/**
 * A simulated world loaded into DuckDB with the lake's `events` and `items` columns, and the ranker's
 * feature views' offline rows computed over it by the offline engine (`featureRowsSql`, the SQL
 * `buildOfflineTable` writes), for the ranker's tests and benchmark. The log and the lake writer are
 * skipped (their own tests cover them): JSON lines go straight into DuckDB tables.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { FeatureRegistry } from '../../src/features/registry.js';
import { featureRowsSql } from '../../src/features/sql.js';
import { sqlString } from '../../src/io/duckdb.js';
import { WORLD_COLUMNS } from '../../src/io/world-folder.js';
import { rankerFeatureRegistry } from '../../src/models/ranking-samples.js';
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
  const instance = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '2GB' });
  const db = await instance.connect();
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
    close: () => {
      db.closeSync();
      instance.closeSync();
    },
  };
}
