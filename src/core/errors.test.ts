import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ForyouError, isForyouError } from './errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function documentedRows(): Map<string, { status: number; exit: number }> {
  const rows = new Map<string, { status: number; exit: number }>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`(FY_[A-Z_]+)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(line);
    if (m) rows.set(m[1] as string, { status: Number(m[2]), exit: Number(m[3]) });
  }
  return rows;
}

describe('error catalogue', () => {
  it('documents every code in docs/errors.md, with the same HTTP status and exit code', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(rows.get(code), code).toEqual({ status: entry.status, exit: entry.exitCode });
    }
  });

  it('gives every code a summary and an actionable hint', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(entry.summary.length, code).toBeGreaterThan(20);
      expect(entry.hint.length, code).toBeGreaterThan(20);
    }
  });

  it('keeps code, cause and details, and serialises without the stack', () => {
    const cause = new Error('ENOSPC');
    const error = new ForyouError('FY_IO_FAILED', 'cannot write /tmp/x', {
      cause,
      details: { path: '/tmp/x' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(500);
    expect(error.exitCode).toBe(74);
    expect(isForyouError(error, 'FY_IO_FAILED')).toBe(true);
    expect(isForyouError(error, 'FY_INTERNAL')).toBe(false);
    expect(isForyouError(new Error('x'))).toBe(false);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'FY_IO_FAILED',
      message: 'cannot write /tmp/x',
      hint: ERROR_CATALOGUE.FY_IO_FAILED.hint,
      details: { path: '/tmp/x' },
    });
  });
});
