import type { DuckDBConnection } from '@duckdb/node-api';
import type { Event } from '../core/schema/index.js';

/**
 * Test support: creates `events` and `items` tables with the lake's columns in a DuckDB connection from
 * plain arrays, so the offline engine can be exercised without writing a lake.
 */
export interface TestItem {
  item_id: string;
  creator_id: string | null;
  hashtags: string[];
  language?: string;
  duration_ms?: number;
}

const sql = (v: unknown): string =>
  v === undefined || v === null
    ? 'NULL'
    : typeof v === 'number'
      ? String(v)
      : `'${String(v).replaceAll("'", "''")}'`;

export async function createSourceTables(
  db: DuckDBConnection,
  events: readonly Event[],
  items: readonly TestItem[],
): Promise<void> {
  const rows = events.map((e, off) => {
    const r = e as Record<string, unknown>;
    return `(${off}, epoch_ms(${e.ts}), ${sql(e.type)}, ${sql(e.user_id)}, ${sql(r.item_id)}, ${sql(r.creator_id)}, ${sql(r.request_id)}, ${sql(r.query)}, ${sql(r.position)}, ${sql(r.watch_ms)}, ${sql(r.duration_ms)}, ${sql(r.value)}, ${sql(r.count)})`;
  });
  const columns =
    'log_offset, ts, type, user_id, item_id, creator_id, request_id, query, position, watch_ms, duration_ms, value, count';
  await db.run(`CREATE OR REPLACE TABLE events (log_offset BIGINT, ts TIMESTAMP, type VARCHAR, user_id VARCHAR, item_id VARCHAR,
    creator_id VARCHAR, request_id VARCHAR, query VARCHAR, position INTEGER, watch_ms INTEGER, duration_ms INTEGER, value DOUBLE, count INTEGER)`);
  for (let k = 0; k < rows.length; k += 500)
    await db.run(`INSERT INTO events (${columns}) VALUES ${rows.slice(k, k + 500).join(',\n')}`);
  await db.run(
    `CREATE OR REPLACE TABLE items (item_id VARCHAR, creator_id VARCHAR, language VARCHAR, duration_ms INTEGER, hashtags VARCHAR[])`,
  );
  if (items.length > 0)
    await db.run(
      `INSERT INTO items VALUES ${items
        .map(
          (i) =>
            `(${sql(i.item_id)}, ${sql(i.creator_id)}, ${sql(i.language ?? null)}, ${sql(i.duration_ms ?? null)}, [${i.hashtags.map(sql).join(', ')}]::VARCHAR[])`,
        )
        .join(', ')}`,
    );
}
