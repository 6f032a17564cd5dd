import type { FeatureViewDef } from './definition.js';
import type { Scalar } from './expr.js';

/**
 * One feature row: the values of a view's features for one entity as of `eventTs` (the newest event that
 * went into them). Numeric features are numbers or null; last_n features are lists, newest first.
 */
export interface FeatureRow {
  eventTs: number;
  values: (number | null)[];
  lists: Scalar[][];
}

/** Column layout of a view's rows: numeric features (ratios included) in order, then list features. */
export interface RowLayout {
  numeric: string[];
  lists: string[];
}

export function rowLayout(view: FeatureViewDef): RowLayout {
  return {
    numeric: view.features.filter((f) => f.kind !== 'last_n').map((f) => f.name),
    lists: view.features.filter((f) => f.kind === 'last_n').map((f) => f.name),
  };
}

/**
 * Builds a row from the evaluated aggregations (definition order, ratios excluded), computing ratios the
 * way SQL does: NULL when either side is NULL or the denominator is 0.
 */
export function assembleRow(
  view: FeatureViewDef,
  aggregated: (Scalar | Scalar[])[],
  eventTs: number,
): FeatureRow {
  const byName = new Map<string, Scalar | Scalar[]>();
  const values: (number | null)[] = [];
  const lists: Scalar[][] = [];
  let k = 0;
  for (const f of view.features) {
    if (f.kind === 'ratio') {
      const a = byName.get(f.numerator);
      const b = byName.get(f.denominator);
      const v = typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : null;
      byName.set(f.name, v);
      values.push(v);
      continue;
    }
    const v = aggregated[k++]!;
    byName.set(f.name, v);
    if (f.kind === 'last_n') lists.push(v as Scalar[]);
    else values.push(v as number | null);
  }
  return { eventTs, values, lists };
}
