import { ForyouError } from '../core/errors.js';

/**
 * A tiny expression language for feature filters and values. One expression compiles to a JavaScript
 * function (the streaming engine) and to DuckDB SQL (the offline engine) with the same meaning, including
 * SQL's NULL rules: a missing field is NULL, any comparison or arithmetic with NULL is NULL, division by
 * zero is NULL, and a filter that is NULL does not match.
 */
export type Scalar = number | string | boolean | null;

export type Expr =
  | { op: 'field'; name: SourceField }
  | { op: 'const'; value: Scalar }
  | { op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; a: Expr; b: Expr }
  | { op: 'and' | 'or'; args: Expr[] }
  | { op: 'not'; a: Expr }
  | { op: 'in'; a: Expr; values: Scalar[] }
  | { op: 'add' | 'sub' | 'mul' | 'div'; a: Expr; b: Expr }
  | { op: 'least' | 'greatest'; a: Expr; b: Expr };

/**
 * Columns of the source row every feature is computed from: an event joined with the catalogue entry of
 * its item. `creator_id` is the event's own (follows) or else the item's creator.
 */
export const SOURCE_FIELDS = {
  type: 'string',
  user_id: 'string',
  item_id: 'string',
  creator_id: 'string',
  request_id: 'string',
  query: 'string',
  ts: 'number',
  position: 'number',
  watch_ms: 'number',
  duration_ms: 'number',
  value: 'number',
  count: 'number',
  item_language: 'string',
  item_duration_ms: 'number',
} as const;

export type SourceField = keyof typeof SOURCE_FIELDS;
export type SourceRow = {
  [K in SourceField]?: (typeof SOURCE_FIELDS)[K] extends 'number' ? number | null : string | null;
};

const toExpr = (x: Expr | Scalar): Expr =>
  x !== null && typeof x === 'object' ? x : { op: 'const', value: x };

export const field = (name: SourceField): Expr => {
  if (!(name in SOURCE_FIELDS))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `unknown source field "${name}"; known: ${Object.keys(SOURCE_FIELDS).join(', ')}`,
    );
  return { op: 'field', name };
};
export const lit = (value: Scalar): Expr => ({ op: 'const', value });
export const eq = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'eq', a: toExpr(a), b: toExpr(b) });
export const ne = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'ne', a: toExpr(a), b: toExpr(b) });
export const lt = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'lt', a: toExpr(a), b: toExpr(b) });
export const le = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'le', a: toExpr(a), b: toExpr(b) });
export const gt = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'gt', a: toExpr(a), b: toExpr(b) });
export const ge = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'ge', a: toExpr(a), b: toExpr(b) });
export const and = (...args: Expr[]): Expr => ({ op: 'and', args });
export const or = (...args: Expr[]): Expr => ({ op: 'or', args });
export const not = (a: Expr): Expr => ({ op: 'not', a });
export const isIn = (a: Expr | Scalar, values: Scalar[]): Expr => ({ op: 'in', a: toExpr(a), values });
export const add = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'add', a: toExpr(a), b: toExpr(b) });
export const sub = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'sub', a: toExpr(a), b: toExpr(b) });
export const mul = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'mul', a: toExpr(a), b: toExpr(b) });
export const div = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({ op: 'div', a: toExpr(a), b: toExpr(b) });
export const least = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({
  op: 'least',
  a: toExpr(a),
  b: toExpr(b),
});
export const greatest = (a: Expr | Scalar, b: Expr | Scalar): Expr => ({
  op: 'greatest',
  a: toExpr(a),
  b: toExpr(b),
});
/** Shorthand for `type = <t>` or `type IN (...)`. */
export const eventType = (...types: string[]): Expr =>
  types.length === 1 ? eq(field('type'), types[0]!) : isIn(field('type'), types);

export type Compiled = (row: SourceRow) => Scalar;

const COMPARE: Record<string, (x: Scalar, y: Scalar) => boolean> = {
  eq: (x, y) => x === y,
  ne: (x, y) => x !== y,
  lt: (x, y) => (x as number) < (y as number),
  le: (x, y) => (x as number) <= (y as number),
  gt: (x, y) => (x as number) > (y as number),
  ge: (x, y) => (x as number) >= (y as number),
};

function numeric(x: Scalar): number | null {
  return typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : null;
}

/** Compiles to a JavaScript function with SQL NULL semantics. */
export function compileJs(expr: Expr): Compiled {
  switch (expr.op) {
    case 'field': {
      const name = expr.name;
      return (row) => row[name] ?? null;
    }
    case 'const': {
      const value = expr.value;
      return () => value;
    }
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge': {
      const a = compileJs(expr.a);
      const b = compileJs(expr.b);
      const test = COMPARE[expr.op]!;
      return (row) => {
        const x = a(row);
        const y = b(row);
        return x === null || y === null ? null : test(x, y);
      };
    }
    case 'and': {
      const args = expr.args.map(compileJs);
      return (row) => {
        let unknown = false;
        for (const arg of args) {
          const v = arg(row);
          if (v === false) return false;
          if (v === null) unknown = true;
        }
        return unknown ? null : true;
      };
    }
    case 'or': {
      const args = expr.args.map(compileJs);
      return (row) => {
        let unknown = false;
        for (const arg of args) {
          const v = arg(row);
          if (v === true) return true;
          if (v === null) unknown = true;
        }
        return unknown ? null : false;
      };
    }
    case 'not': {
      const a = compileJs(expr.a);
      return (row) => {
        const v = a(row);
        return v === null ? null : !v;
      };
    }
    case 'in': {
      const a = compileJs(expr.a);
      const values = new Set(expr.values.filter((v) => v !== null));
      return (row) => {
        const v = a(row);
        return v === null ? null : values.has(v);
      };
    }
    case 'add':
    case 'sub':
    case 'mul':
    case 'div':
    case 'least':
    case 'greatest': {
      const a = compileJs(expr.a);
      const b = compileJs(expr.b);
      const op = expr.op;
      return (row) => {
        const x = numeric(a(row));
        const y = numeric(b(row));
        if (x === null || y === null) return null;
        switch (op) {
          case 'add':
            return x + y;
          case 'sub':
            return x - y;
          case 'mul':
            return x * y;
          case 'div':
            return y === 0 ? null : x / y;
          case 'least':
            return Math.min(x, y);
          default:
            return Math.max(x, y);
        }
      };
    }
  }
}

function sqlScalar(value: Scalar): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new ForyouError('FY_INVALID_ARGUMENT', `feature expressions take finite numbers, got ${value}`);
    return Number.isInteger(value) ? `${value}` : `CAST(${value} AS DOUBLE)`;
  }
  return `'${value.replaceAll("'", "''")}'`;
}

const SQL_OPS = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' } as const;

/** Compiles to a DuckDB SQL expression over the source row's columns. */
export function compileSql(expr: Expr): string {
  switch (expr.op) {
    case 'field':
      return `"${expr.name}"`;
    case 'const':
      return sqlScalar(expr.value);
    case 'eq':
    case 'ne':
    case 'lt':
    case 'le':
    case 'gt':
    case 'ge':
      return `(${compileSql(expr.a)} ${SQL_OPS[expr.op]} ${compileSql(expr.b)})`;
    case 'and':
    case 'or':
      return expr.args.length === 0
        ? expr.op === 'and'
          ? 'TRUE'
          : 'FALSE'
        : `(${expr.args.map(compileSql).join(` ${expr.op.toUpperCase()} `)})`;
    case 'not':
      return `(NOT ${compileSql(expr.a)})`;
    case 'in': {
      const values = expr.values.filter((v) => v !== null);
      return values.length === 0
        ? 'FALSE'
        : `(${compileSql(expr.a)} IN (${values.map(sqlScalar).join(', ')}))`;
    }
    case 'add':
      return `(CAST(${compileSql(expr.a)} AS DOUBLE) + ${compileSql(expr.b)})`;
    case 'sub':
      return `(CAST(${compileSql(expr.a)} AS DOUBLE) - ${compileSql(expr.b)})`;
    case 'mul':
      return `(CAST(${compileSql(expr.a)} AS DOUBLE) * ${compileSql(expr.b)})`;
    case 'div':
      return `(CASE WHEN ${compileSql(expr.b)} = 0 THEN NULL ELSE CAST(${compileSql(expr.a)} AS DOUBLE) / ${compileSql(expr.b)} END)`;
    case 'least':
    case 'greatest':
      // DuckDB's LEAST/GREATEST skip NULLs; SQL NULL rules (and the JS engine) make the result NULL instead.
      return `(CASE WHEN ${compileSql(expr.a)} IS NULL OR ${compileSql(expr.b)} IS NULL THEN NULL ELSE ${expr.op.toUpperCase()}(CAST(${compileSql(expr.a)} AS DOUBLE), ${compileSql(expr.b)}) END)`;
  }
}

/** Fields an expression reads. */
export function fieldsOf(expr: Expr, out = new Set<SourceField>()): Set<SourceField> {
  switch (expr.op) {
    case 'field':
      out.add(expr.name);
      break;
    case 'const':
      break;
    case 'and':
    case 'or':
      for (const a of expr.args) fieldsOf(a, out);
      break;
    case 'not':
    case 'in':
      fieldsOf(expr.a, out);
      break;
    default:
      fieldsOf(expr.a, out);
      fieldsOf(expr.b, out);
  }
  return out;
}
