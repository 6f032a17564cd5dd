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
  const plan = rowPlan(view);
  const values: (number | null)[] = new Array(plan.numeric.length);
  const lists: Scalar[][] = [];
  for (let i = 0; i < plan.numeric.length; i++) {
    const p = plan.numeric[i]!;
    if (p.aggregation >= 0) values[i] = aggregated[p.aggregation] as number | null;
    else {
      const a = values[p.numerator]!;
      const b = values[p.denominator]!;
      values[i] = a !== null && b !== null && b !== 0 ? a / b : null;
    }
  }
  for (const at of plan.lists) lists.push(aggregated[at] as Scalar[]);
  return { eventTs, values, lists };
}

export interface RowPlan {
  /** Per numeric column: the aggregation it reads, or (-1 and) the numeric columns of a ratio. */
  numeric: { aggregation: number; numerator: number; denominator: number }[];
  lists: number[];
}

const plans = new WeakMap<FeatureViewDef, RowPlan>();

/** Where each row column comes from, worked out once per view (rows are assembled in hot loops). */
export function rowPlan(view: FeatureViewDef): RowPlan {
  let plan = plans.get(view);
  if (plan) return plan;
  const numericNames = view.features.filter((f) => f.kind !== 'last_n').map((f) => f.name);
  const built: RowPlan = { numeric: [], lists: [] };
  let k = 0;
  for (const f of view.features) {
    if (f.kind === 'ratio')
      built.numeric.push({
        aggregation: -1,
        numerator: numericNames.indexOf(f.numerator),
        denominator: numericNames.indexOf(f.denominator),
      });
    else if (f.kind === 'last_n') built.lists.push(k++);
    else built.numeric.push({ aggregation: k++, numerator: -1, denominator: -1 });
  }
  plans.set(view, built);
  plan = built;
  return plan;
}
