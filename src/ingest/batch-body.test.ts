import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { linesNestedDeeperThan, MAX_DEPTH, parseBatchBody } from './batch-body.js';

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isForyouError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a ForyouError');
}

describe('parseBatchBody: JSON arrays', () => {
  it('reads an array, ignoring a byte-order mark', () => {
    const batch = parseBatchBody(Buffer.from('\uFEFF[{"a":1}, 2]'), 'json', 10);
    expect(batch.values).toEqual([{ a: 1 }, 2]);
    expect(batch.unreadable.size).toBe(0);
    expect(batch.lines).toBeNull();
  });

  it.each([
    ['', 'FY_BODY_MALFORMED', 'body is empty; send a JSON array of records'],
    ['  \n', 'FY_BODY_MALFORMED', 'body is empty; send a JSON array of records'],
    ['[]', 'FY_BODY_MALFORMED', 'batch is empty; send at least one record'],
    [
      '{"a":1}',
      'FY_BODY_MALFORMED',
      'body must be a JSON array of records, got an object (wrap a single record in [ ])',
    ],
    ['"x"', 'FY_BODY_MALFORMED', 'body must be a JSON array of records, got a string'],
    ['null', 'FY_BODY_MALFORMED', 'body must be a JSON array of records, got null'],
    [
      '[1,2,3,4]',
      'FY_PAYLOAD_TOO_LARGE',
      'batch of 4 records is over the limit of 3 records (ingest.maxBatchEvents)',
    ],
  ])('refuses %j', (body, code, message) => {
    expect(failure(() => parseBatchBody(Buffer.from(body), 'json', 3))).toEqual({ code, message });
  });

  it('refuses text that is not JSON, quoting the parser', () => {
    const { code, message } = failure(() => parseBatchBody(Buffer.from('[{"a":1},'), 'json', 3));
    expect(code).toBe('FY_BODY_MALFORMED');
    expect(message).toMatch(/^body is not valid JSON: /);
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(
      failure(() => parseBatchBody(Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]), 'json', 3)),
    ).toEqual({
      code: 'FY_BODY_MALFORMED',
      message: 'body is not valid UTF-8',
    });
  });

  it('reads 1e400 as Infinity (left to the schema) and keeps __proto__ as a plain key', () => {
    const batch = parseBatchBody(Buffer.from('[1e400, {"__proto__": {"polluted": 1}}]'), 'json', 3);
    expect(batch.values[0]).toBe(Number.POSITIVE_INFINITY);
    expect(Object.keys(batch.values[1] as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseBatchBody: NDJSON', () => {
  it('reads one value per line, skipping blank lines and \\r, and numbers lines from 1', () => {
    const batch = parseBatchBody(Buffer.from('{"a":1}\r\n\n  \n{"a":2}\n'), 'ndjson', 10);
    expect(batch.values).toEqual([{ a: 1 }, { a: 2 }]);
    expect(batch.lines).toEqual([1, 4]);
  });

  it('marks a line that is not JSON, or not UTF-8, and keeps the others', () => {
    const body = Buffer.concat([
      Buffer.from('{"a":1}\n{oops\n'),
      Buffer.from([0x7b, 0xff, 0x7d, 0x0a]),
      Buffer.from('{"a":4}'),
    ]);
    const batch = parseBatchBody(body, 'ndjson', 10);
    expect(batch.values).toEqual([{ a: 1 }, undefined, undefined, { a: 4 }]);
    expect(batch.unreadable.get(1)).toMatch(/^line is not valid JSON: /);
    expect(batch.unreadable.get(2)).toBe('line is not valid UTF-8');
    expect(batch.lines).toEqual([1, 2, 3, 4]);
  });

  it.each([
    ['', 'FY_BODY_MALFORMED', 'body is empty; send one JSON record per line'],
    ['\n \r\n', 'FY_BODY_MALFORMED', 'body holds no records, only blank lines'],
    [
      '1\n2\n3\n4',
      'FY_PAYLOAD_TOO_LARGE',
      'batch of more than 3 lines is over the limit of 3 records (ingest.maxBatchEvents)',
    ],
  ])('refuses %j', (body, code, message) => {
    expect(failure(() => parseBatchBody(Buffer.from(body), 'ndjson', 3))).toEqual({ code, message });
  });
});

describe('nesting limit', () => {
  it(`refuses a JSON body nesting deeper than ${MAX_DEPTH} levels, counting no bracket inside strings`, () => {
    const deep = `[${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}]`;
    expect(failure(() => parseBatchBody(Buffer.from(deep), 'json', 3))).toEqual({
      code: 'FY_BODY_MALFORMED',
      message: `body nests arrays or objects deeper than ${MAX_DEPTH} levels`,
    });
    const ok = `[${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}, "${'['.repeat(500)}\\"["]`;
    expect(parseBatchBody(Buffer.from(ok), 'json', 3).values.length).toBe(2);
  });

  it('rejects only the NDJSON line that nests too deep, even after a broken line', () => {
    const body = ['{"a":1}', '{"s":"\\', `${'['.repeat(MAX_DEPTH + 1)}`, '{"a":"[[[["}', '[[1]]'].join('\n');
    const batch = parseBatchBody(Buffer.from(body), 'ndjson', 10);
    expect(batch.values).toEqual([{ a: 1 }, undefined, undefined, { a: '[[[[' }, [[1]]]);
    expect(batch.unreadable.get(1)).toMatch(/^line is not valid JSON/);
    expect(batch.unreadable.get(2)).toBe(`line nests arrays or objects deeper than ${MAX_DEPTH} levels`);
  });

  it('finds deep lines in one pass over the bytes', () => {
    expect(linesNestedDeeperThan(Buffer.from('[[[]]]\n[]\n[[[[\n"[[[["'), 3, true)).toEqual([2]);
    expect(linesNestedDeeperThan(Buffer.from('[[[]]]\n[]\n[[[[\n'), 3, false)).toEqual([0]);
  });
});
