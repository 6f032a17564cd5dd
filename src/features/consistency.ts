import type { DuckDBConnection } from '@duckdb/node-api';
import type { EventLog } from '../log/port.js';
import { ENTITIES, KEY_SEPARATOR } from './definition.js';
import { historicalSql } from './historical.js';
import type { OnlineFeatures } from './online.js';
import type { FeatureRegistry } from './registry.js';

/**
 * The consistency check: what the online store served is logged, then recomputed offline from the same
 * definitions at the same instants (a point-in-time join at each served time); the mismatch rate per
 * feature says whether the two engines agree in practice (late events, missing catalogue entries and
 * stale rows all show up here).
 */
export const FEATURE_LOG_TOPIC = 'feature_log';

interface ServedRecord {
  service: string;
  key: string;
  servedAt: number;
  values: (number | null)[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Appends the served rows of one read to the feature log (one record per key). */
export async function logServed(
  log: EventLog,
  service: string,
  keys: readonly string[],
  served: OnlineFeatures,
  servedAt: number,
): Promise<void> {
  const width = served.names.length;
  await log.append(
    FEATURE_LOG_TOPIC,
    keys.map((key, k) => {
      const values = Array.from(served.values.subarray(k * width, (k + 1) * width), (v) =>
        Number.isNaN(v) ? null : v,
      );
      const record: ServedRecord = { service, key, servedAt, values };
      return { id: `${service}:${key}:${servedAt}:${k}`, payload: encoder.encode(JSON.stringify(record)) };
    }),
  );
}

export interface FeatureConsistency {
  feature: string;
  compared: number;
  mismatches: number;
  rate: number;
  /** How far apart two values may be before they count as a mismatch. */
  tolerance: string;
}

export interface ConsistencyReport {
  servedRows: number;
  features: FeatureConsistency[];
}

/**
 * Recomputes every logged served row offline and compares feature by feature. `featureRows` gives each
 * view's offline rows (see offline.ts). Numbers must agree to 1e-9 relative; HyperLogLog distinct counts
 * within three standard errors of the exact offline count.
 */
export async function checkConsistency(
  db: DuckDBConnection,
  log: EventLog,
  registry: FeatureRegistry,
  featureRows: Record<string, string>,
  options: { fromOffset?: number; maxRecords?: number } = {},
): Promise<ConsistencyReport> {
  const served: ServedRecord[] = [];
  let offset = options.fromOffset ?? (await log.bounds(FEATURE_LOG_TOPIC)).start;
  const limit = options.maxRecords ?? 1_000_000;
  while (served.length < limit) {
    const records = await log.read(FEATURE_LOG_TOPIC, offset, {
      maxRecords: Math.min(10_000, limit - served.length),
    });
    if (records.length === 0) break;
    for (const r of records) served.push(JSON.parse(decoder.decode(r.payload)) as ServedRecord);
    offset = records.at(-1)!.offset + 1;
  }
  const stats = new Map<string, FeatureConsistency>();
  const byService = new Map<string, ServedRecord[]>();
  for (const s of served) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  for (const [name, rows] of byService) {
    const service = registry.resolve(name);
    const parts = ENTITIES[service.def.entity].parts as readonly string[];
    await db.run('CREATE OR REPLACE TEMP TABLE _served (row_id INTEGER, k VARCHAR, ts BIGINT)');
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows
        .slice(i, i + 1000)
        .map((r, j) => `(${i + j}, '${r.key.replaceAll("'", "''")}', ${r.servedAt})`);
      await db.run(`INSERT INTO _served VALUES ${chunk.join(', ')}`);
    }
    const labelColumns = parts
      .map((p, i) => `split_part(k, '${KEY_SEPARATOR}', ${i + 1}) AS "${p}"`)
      .join(', ');
    const labels = `(SELECT row_id, ${labelColumns}, ts FROM _served ORDER BY row_id)`;
    const result = await db.runAndReadAll(
      historicalSql(labels, service, { featureRows, tsIsTimestamp: false, keepOrder: true }),
    );
    const offline = result.getRowObjectsJson() as Record<string, unknown>[];
    const tolerances = service.views.flatMap(({ view, numeric }) => {
      const defs = view.features.filter((f) => f.kind !== 'last_n');
      return numeric.map((i) => {
        const f = defs[i]!;
        return f.kind === 'distinct_count' ? 3 * (1.04 / Math.sqrt(2 ** (f.precision ?? 7))) : 1e-9;
      });
    });
    service.numericNames.forEach((feature, c) => {
      const entry = stats.get(feature) ?? {
        feature,
        compared: 0,
        mismatches: 0,
        rate: 0,
        tolerance:
          tolerances[c]! > 1e-6 ? `${(100 * tolerances[c]!).toFixed(0)}% (HyperLogLog)` : '1e-9 relative',
      };
      for (let i = 0; i < rows.length; i++) {
        const a = rows[i]!.values[c] ?? null;
        const raw = offline[i]![feature];
        const b = raw === null || raw === undefined ? null : Number(raw);
        entry.compared++;
        const same =
          a === null || b === null
            ? a === b
            : Math.abs(a - b) <= tolerances[c]! * Math.max(1, Math.abs(b)) + (tolerances[c]! > 1e-6 ? 1 : 0);
        if (!same) entry.mismatches++;
      }
      entry.rate = entry.compared === 0 ? 0 : entry.mismatches / entry.compared;
      stats.set(feature, entry);
    });
  }
  return { servedRows: served.length, features: [...stats.values()] };
}
