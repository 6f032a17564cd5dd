import { MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE } from '../core/clock.js';
import { ForyouError } from '../core/errors.js';
import { type Expr, fieldsOf } from './expr.js';

/**
 * Feature definitions: entities, windowed aggregations over the event stream, and feature views that group
 * them. A definition is plain data, so the same object compiles to the streaming aggregator (online) and to
 * DuckDB SQL (offline), and its canonical JSON is what the registry versions.
 */

/** Entities and how a source row maps to their key. `user_hashtag` fans one row out to each hashtag of the item. */
export const ENTITIES = {
  user: { parts: ['user_id'] },
  item: { parts: ['item_id'] },
  creator: { parts: ['creator_id'] },
  user_creator: { parts: ['user_id', 'creator_id'] },
  user_hashtag: { parts: ['user_id', 'hashtag'] },
} as const;
export type EntityName = keyof typeof ENTITIES;
/** Separator of multi-part entity keys ("u12|c7"); ids never contain it. */
export const KEY_SEPARATOR = '|';

/**
 * Windows and their tile size. A window of length W with tiles of size T covers the tiles from
 * `tile(t) - W/T + 1` up to the current one, the current tile only up to t: the newest events count
 * exactly, the oldest edge moves in steps of T (a 1 h window covers the last 55 to 60 minutes).
 */
export const WINDOWS = {
  '10m': { lengthMs: 10 * MS_PER_MINUTE, tileMs: MS_PER_MINUTE },
  '1h': { lengthMs: MS_PER_HOUR, tileMs: 5 * MS_PER_MINUTE },
  '1d': { lengthMs: MS_PER_DAY, tileMs: MS_PER_HOUR },
  '7d': { lengthMs: 7 * MS_PER_DAY, tileMs: 6 * MS_PER_HOUR },
  '30d': { lengthMs: 30 * MS_PER_DAY, tileMs: MS_PER_DAY },
} as const;
export type WindowName = keyof typeof WINDOWS;

export function tilesIn(window: WindowName): number {
  const w = WINDOWS[window];
  return w.lengthMs / w.tileMs;
}

interface AggregationBase {
  /** Feature name, unique within its view: lower-case words joined by underscores. */
  name: string;
  /** Rows the aggregation sees; all when absent. */
  filter?: Expr;
  window: WindowName;
}

export type AggregationDef =
  | (AggregationBase & { kind: 'count' })
  | (AggregationBase & { kind: 'sum' | 'mean' | 'max'; value: Expr })
  /** Exponentially decayed sum of `value` (1 per row when absent) with the given half-life, over the window. */
  | (AggregationBase & { kind: 'decayed_sum'; value?: Expr; halfLifeMs: number })
  /** The `n` most recent non-null values of `value` in the window, newest first. */
  | (AggregationBase & { kind: 'last_n'; value: Expr; n: number })
  /** Approximate number of distinct non-null values (HyperLogLog with 2^precision registers per tile). */
  | (AggregationBase & { kind: 'distinct_count'; value: Expr; precision?: number });

/** A feature computed from two others of the same view when the row is written: `numerator / denominator`. */
export interface RatioDef {
  name: string;
  kind: 'ratio';
  numerator: string;
  denominator: string;
}

export type FeatureDef = AggregationDef | RatioDef;

export interface FeatureViewDef {
  name: string;
  /** Bumped on any change to the features; the registry refuses a change without a bump. */
  version: number;
  entity: EntityName;
  /** A stored value older than this (by its event time) is treated as absent on reads and in joins. */
  ttlMs: number;
  description?: string;
  features: FeatureDef[];
}

export interface FeatureServiceDef {
  name: string;
  /** `view` or `view:feature` references; a bare view means all its features. */
  features: string[];
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

function invalid(message: string): ForyouError {
  return new ForyouError('FY_INVALID_ARGUMENT', message);
}

/** Checks a view and returns it; throws FY_INVALID_ARGUMENT naming the view, the feature and the rule. */
export function defineView(view: FeatureViewDef): FeatureViewDef {
  const where = `feature view "${view.name}"`;
  if (!NAME.test(view.name))
    throw invalid(`${where}: the name must be lower-case letters, digits and underscores`);
  if (!Number.isInteger(view.version) || view.version < 1)
    throw invalid(`${where}: version must be a whole number >= 1`);
  if (!(view.entity in ENTITIES))
    throw invalid(`${where}: unknown entity "${view.entity}"; known: ${Object.keys(ENTITIES).join(', ')}`);
  if (!(view.ttlMs > 0)) throw invalid(`${where}: ttlMs must be > 0`);
  if (view.features.length === 0) throw invalid(`${where}: needs at least one feature`);
  const seen = new Set<string>();
  for (const f of view.features) {
    const at = `${where}, feature "${f.name}"`;
    if (!NAME.test(f.name))
      throw invalid(`${at}: the name must be lower-case letters, digits and underscores`);
    if (seen.has(f.name)) throw invalid(`${at}: defined twice`);
    if (f.kind === 'ratio') {
      for (const ref of [f.numerator, f.denominator])
        if (!seen.has(ref))
          throw invalid(`${at}: refers to "${ref}", which must be defined earlier in the view`);
      const parts = view.features.filter((g) => g.name === f.numerator || g.name === f.denominator);
      if (parts.some((g) => g.kind === 'last_n' || g.kind === 'ratio'))
        throw invalid(`${at}: a ratio takes two numeric aggregations`);
    } else {
      if (!(f.window in WINDOWS))
        throw invalid(`${at}: unknown window "${f.window}"; known: ${Object.keys(WINDOWS).join(', ')}`);
      if (f.kind === 'last_n' && !(Number.isInteger(f.n) && f.n >= 1 && f.n <= 256))
        throw invalid(`${at}: n must be 1 to 256`);
      if (f.kind === 'decayed_sum' && !(f.halfLifeMs >= WINDOWS[f.window].tileMs / 64))
        throw invalid(
          `${at}: halfLifeMs must be at least 1/64 of the ${f.window} window's tile (${WINDOWS[f.window].tileMs / 64} ms)`,
        );
      if (
        f.kind === 'distinct_count' &&
        f.precision !== undefined &&
        !(Number.isInteger(f.precision) && f.precision >= 4 && f.precision <= 12)
      )
        throw invalid(`${at}: precision must be 4 to 12`);
      if (f.filter) fieldsOf(f.filter);
    }
    seen.add(f.name);
  }
  return view;
}

/** The view's features that are numbers (everything but `last_n`). */
export function numericFeatures(view: FeatureViewDef): FeatureDef[] {
  return view.features.filter((f) => f.kind !== 'last_n');
}

export function listFeatures(view: FeatureViewDef): (AggregationDef & { kind: 'last_n' })[] {
  return view.features.filter((f): f is AggregationDef & { kind: 'last_n' } => f.kind === 'last_n');
}

/** Canonical JSON of a view (keys sorted), the basis of its fingerprint in the registry. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
