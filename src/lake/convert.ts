import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { EVENT_TYPES, MAX_TS_MS } from '../core/schema/index.js';
import { sqlString } from '../io/duckdb.js';
import { WORLD_COLUMNS } from '../io/world-folder.js';
import { type CopiedFile, copyWithStats, ident, structOf } from './duck.js';
import { type LakeTable, type LakeTopic, TABLE_SPECS } from './layout.js';

/**
 * The fast path from staged NDJSON (see staging.ts) to Parquet: DuckDB parses the payloads with explicit
 * column types and writes zstd Parquet, hive-partitioned for events, in one statement per table. JavaScript
 * never parses a payload here.
 *
 * Each topic also defines its refusal rule: an SQL expression that is NULL when a record can be stored and
 * otherwise says why not. Records that DuckDB cannot parse with the column types are refused too (see
 * refusals.ts); refused records go to the `rejects` table instead of stopping the lake.
 */

export interface WrittenFile extends CopiedFile {
  table: LakeTable;
}

export interface TopicConversion {
  topic: LakeTopic;
  /** DuckDB type of a payload. */
  payloadType: string;
  /** SQL over the staged columns `o` (offset), `t` (log time) and `r` (payload): NULL when storable. */
  refusal: string;
  /** Writes the storable records of `ndjson` under `outDir`; throws when DuckDB cannot parse a line. */
  write(connection: DuckDBConnection, ndjson: string, outDir: string): Promise<WrittenFile[]>;
}

/** `read_json` of a staged file with the topic's payload type. */
export function readStaged(path: string, payloadType: string): string {
  return (
    `read_json(${sqlString(path)}, format = 'newline_delimited', ` +
    `columns = {o: 'BIGINT', t: 'BIGINT', r: ${sqlString(payloadType)}}, maximum_object_size = 67108864)`
  );
}

/** `r."name" AS "name"`, or epoch_ms(...) for a timestamp, for each stored column after `log_offset`/`log_ts`. */
function selectColumns(table: LakeTable, source: string): string[] {
  return Object.entries(TABLE_SPECS[table].columns).map(([name, type]) => {
    if (name === 'log_offset') return `o AS ${ident(name)}`;
    if (name === 'log_ts') return `epoch_ms(t) AS ${ident(name)}`;
    const field = `${source}.${ident(name)}`;
    return type === 'TIMESTAMP' ? `epoch_ms(${field}) AS ${ident(name)}` : `${field} AS ${ident(name)}`;
  });
}

const PARQUET = 'FORMAT parquet, COMPRESSION zstd, RETURN_STATS true';

async function dropEmpty(files: WrittenFile[]): Promise<WrittenFile[]> {
  for (const file of files) if (file.rows === 0) await rm(file.path, { force: true });
  return files.filter((f) => f.rows > 0);
}

/** Timestamps are converted with epoch_ms, which fails outside its range: refuse them before. */
const BAD_TS = (field: string) => `${field} is not milliseconds between 1970 and 2100`;

const typeList = EVENT_TYPES.map((t) => sqlString(t)).join(', ');

const EVENT_PAYLOAD = structOf(WORLD_COLUMNS.events);
const EVENT_REFUSAL = `CASE
    WHEN o IS NULL THEN 'the staged line has no offset'
    WHEN r IS NULL THEN 'the payload is not a JSON object'
    WHEN r."event_id" IS NULL THEN 'event_id is missing'
    WHEN r."user_id" IS NULL THEN 'user_id is missing'
    WHEN r."ts" IS NULL THEN 'ts is missing'
    WHEN r."ts" NOT BETWEEN 0 AND ${MAX_TS_MS} THEN '${BAD_TS('ts')}'
    WHEN r."type" IS NULL THEN 'type is missing'
    WHEN r."type" NOT IN (${typeList}) THEN 'type is not an event type'
  END`;

export const EVENTS_CONVERSION: TopicConversion = {
  topic: 'events',
  payloadType: EVENT_PAYLOAD,
  refusal: EVENT_REFUSAL,
  async write(connection, ndjson, outDir) {
    const select = [
      ...selectColumns('events', 'r'),
      `r."type" AS "type"`,
      `strftime(epoch_ms(r."ts"), '%Y-%m-%dT%H') AS "hour"`,
    ];
    await mkdir(outDir, { recursive: true });
    const files = await copyWithStats(
      connection,
      `COPY (SELECT ${select.join(', ')} FROM ${readStaged(ndjson, EVENT_PAYLOAD)} WHERE (${EVENT_REFUSAL}) IS NULL)
       TO ${sqlString(join(outDir, 'events'))} (${PARQUET}, PARTITION_BY ("type", "hour"))`,
    );
    return dropEmpty(files.map((f) => ({ ...f, table: 'events' as const })));
  },
};

/** Item and user fields side by side: a catalogue record is one or the other, the other's fields stay NULL. */
const CATALOGUE_RECORD = { ...WORLD_COLUMNS.items, ...WORLD_COLUMNS.users };

const CATALOG_PAYLOAD = `STRUCT("kind" VARCHAR, "record" ${structOf(CATALOGUE_RECORD)})`;
const CATALOG_REFUSAL = `CASE
    WHEN o IS NULL THEN 'the staged line has no offset'
    WHEN r IS NULL THEN 'the payload is not a JSON object'
    WHEN r."kind" = 'item' THEN CASE
      WHEN r."record"."item_id" IS NULL THEN 'record.item_id is missing'
      WHEN r."record"."created_ts" NOT BETWEEN 0 AND ${MAX_TS_MS} THEN '${BAD_TS('record.created_ts')}' END
    WHEN r."kind" = 'user' THEN CASE
      WHEN r."record"."user_id" IS NULL THEN 'record.user_id is missing'
      WHEN r."record"."signup_ts" NOT BETWEEN 0 AND ${MAX_TS_MS} THEN '${BAD_TS('record.signup_ts')}' END
    ELSE 'kind is neither "item" nor "user"'
  END`;

export const CATALOG_CONVERSION: TopicConversion = {
  topic: 'catalog',
  payloadType: CATALOG_PAYLOAD,
  refusal: CATALOG_REFUSAL,
  async write(connection, ndjson, outDir) {
    await connection.run(
      `CREATE OR REPLACE TEMP TABLE lake_catalog_batch AS
       SELECT o, t, r."kind" AS kind, r."record" AS rec FROM ${readStaged(ndjson, CATALOG_PAYLOAD)}
       WHERE (${CATALOG_REFUSAL}) IS NULL`,
    );
    try {
      await mkdir(outDir, { recursive: true });
      const out: WrittenFile[] = [];
      for (const [table, kind] of [
        ['items', 'item'],
        ['users', 'user'],
      ] as const) {
        const files = await copyWithStats(
          connection,
          `COPY (SELECT ${selectColumns(table, 'rec').join(', ')} FROM lake_catalog_batch WHERE kind = '${kind}')
           TO ${sqlString(join(outDir, `${table}.parquet`))} (${PARQUET})`,
        );
        out.push(...files.map((f) => ({ ...f, table })));
      }
      return await dropEmpty(out);
    } finally {
      await connection.run('DROP TABLE IF EXISTS lake_catalog_batch');
    }
  },
};

export const CONVERSIONS: Readonly<Record<LakeTopic, TopicConversion>> = {
  events: EVENTS_CONVERSION,
  catalog: CATALOG_CONVERSION,
};

/** Writes refused records (NDJSON of {o, topic, reason, payload}) to the `rejects` table, by topic. */
export async function writeRejects(
  connection: DuckDBConnection,
  ndjson: string,
  outDir: string,
): Promise<WrittenFile[]> {
  await mkdir(outDir, { recursive: true });
  const files = await copyWithStats(
    connection,
    `COPY (SELECT o AS log_offset, reason, payload, topic FROM read_json(${sqlString(ndjson)},
       format = 'newline_delimited', columns = {o: 'BIGINT', topic: 'VARCHAR', reason: 'VARCHAR', payload: 'VARCHAR'}))
     TO ${sqlString(join(outDir, 'rejects'))} (${PARQUET}, PARTITION_BY ("topic"))`,
  );
  return dropEmpty(files.map((f) => ({ ...f, table: 'rejects' as const })));
}
