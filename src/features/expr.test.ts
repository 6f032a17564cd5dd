import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { withDuckDb } from '../io/duckdb.js';
import {
  add,
  and,
  compileJs,
  compileSql,
  div,
  type Expr,
  eq,
  field,
  greatest,
  gt,
  isIn,
  le,
  least,
  lit,
  mul,
  ne,
  not,
  or,
  type SourceRow,
  sub,
} from './expr.js';

const numField = fc.constantFrom('watch_ms', 'duration_ms', 'position') as fc.Arbitrary<
  'watch_ms' | 'duration_ms' | 'position'
>;
const numLeaf: fc.Arbitrary<Expr> = fc.oneof(
  numField.map((f) => field(f)),
  fc.integer({ min: -5, max: 5 }).map((n) => lit(n)),
  fc.constant(lit(null)),
);
const numExpr: fc.Arbitrary<Expr> = fc.letrec<{ num: Expr }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small' },
    numLeaf,
    fc
      .tuple(fc.constantFrom(add, sub, mul, div, least, greatest), tie('num'), tie('num'))
      .map(([f, a, b]) => f(a, b)),
  ),
})).num;
const boolExpr: fc.Arbitrary<Expr> = fc.letrec<{ bool: Expr }>((tie) => ({
  bool: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.constantFrom(eq, ne, gt, le), numExpr, numExpr).map(([f, a, b]) => f(a, b)),
    fc.constantFrom('play', 'like', 'skip').map((t) => eq(field('type'), t)),
    fc.constant(isIn(field('type'), ['play', 'like'])),
    fc.tuple(tie('bool'), tie('bool')).map(([a, b]) => and(a, b)),
    fc.tuple(tie('bool'), tie('bool')).map(([a, b]) => or(a, b)),
    tie('bool').map(not),
  ),
})).bool;
const rowArb: fc.Arbitrary<SourceRow> = fc.record({
  type: fc.constantFrom('play', 'like', 'skip'),
  watch_ms: fc.option(fc.integer({ min: -3, max: 3 }), { nil: null }),
  duration_ms: fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
  position: fc.option(fc.integer({ min: 0, max: 2 }), { nil: null }),
});

function sqlValue(v: unknown): string {
  return v === null || v === undefined ? 'NULL' : typeof v === 'number' ? `${v}` : `'${v}'`;
}

describe('feature expressions', () => {
  it('mean the same in JavaScript and in DuckDB SQL, NULLs included', async () => {
    const cases = fc.sample(
      fc.tuple(fc.oneof(numExpr, boolExpr), fc.array(rowArb, { minLength: 1, maxLength: 6 })),
      { numRuns: 300, seed: 42 },
    );
    await withDuckDb(async (db) => {
      for (const [expr, rows] of cases) {
        const values = rows
          .map(
            (r, i) =>
              `(${i}, ${sqlValue(r.type)}, ${sqlValue(r.watch_ms)}::INTEGER, ${sqlValue(r.duration_ms)}::INTEGER, ${sqlValue(r.position)}::INTEGER)`,
          )
          .join(', ');
        const result = await db.runAndReadAll(
          `SELECT i, ${compileSql(expr)} AS v FROM (VALUES ${values}) AS t(i, type, watch_ms, duration_ms, position) ORDER BY i`,
        );
        const fromSql = result.getRowObjects().map((r) => r.v as unknown);
        const js = compileJs(expr);
        const fromJs = rows.map((r) => js(r));
        for (let k = 0; k < rows.length; k++) {
          const a = fromJs[k];
          const b = fromSql[k];
          if (typeof a === 'number' && typeof b === 'number') expect(a, compileSql(expr)).toBeCloseTo(b, 9);
          else expect(a, `${compileSql(expr)} on ${JSON.stringify(rows[k])}`).toEqual(b);
        }
      }
    });
  });

  it('refuses unknown fields and non-finite constants', () => {
    expect(() => field('wach_ms' as never)).toThrow('unknown source field "wach_ms"');
    try {
      compileSql(eq(field('watch_ms'), Number.POSITIVE_INFINITY));
      expect.unreachable();
    } catch (error) {
      expect(isForyouError(error, 'FY_INVALID_ARGUMENT')).toBe(true);
    }
  });
});
