import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { expectFieldCount, parseDatasetId, parseDecimal, parseWholeNumber, splitCsvLine } from './fields.js';

const at = { path: '/data/x.csv', line: 7 };

describe('splitCsvLine', () => {
  it.each([
    ['1,Toy Story (1995),Comedy', ['1', 'Toy Story (1995)', 'Comedy']],
    ['29,"City of Lost Children, The (1995)",Drama', ['29', 'City of Lost Children, The (1995)', 'Drama']],
    ['7789,"11\'09""01 - September 11 (2002)",Drama', ['7789', '11\'09"01 - September 11 (2002)', 'Drama']],
    ['"""quoted"" at start",b', ['"quoted" at start', 'b']],
    ['a,,c', ['a', '', 'c']],
    ['a,b,', ['a', 'b', '']],
    ['"",x', ['', 'x']],
  ])('splits %s', (line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });

  it('returns null for an unclosed quote or text after a closing quote', () => {
    expect(splitCsvLine('1,"Toy Story (1995),Comedy')).toBeNull();
    expect(splitCsvLine('1,"Toy" Story,Comedy')).toBeNull();
  });
});

describe('field parsers', () => {
  it('parses ids, whole numbers and decimals', () => {
    expect(parseDatasetId(at, 'user', ' 0042 ')).toBe('42');
    expect(parseDatasetId(at, 'user', '0')).toBe('0');
    expect(parseWholeNumber(at, 'timestamp', '964982703')).toBe(964982703);
    expect(parseDecimal(at, 'rating', '3.5')).toBe(3.5);
    expect(parseDecimal(at, 'rating', '4')).toBe(4);
  });

  it.each([
    [() => parseDatasetId(at, 'user', 'u1'), '/data/x.csv:7: expected user to be a whole number, got "u1"'],
    [() => parseWholeNumber(at, 'timestamp', '1.5'), 'expected timestamp to be a whole number, got "1.5"'],
    [() => parseDecimal(at, 'rating', 'four'), 'expected rating to be a number, got "four"'],
    [() => parseDecimal(at, 'rating', ''), 'expected rating to be a number, got ""'],
    [
      () =>
        expectFieldCount(at, ['1', '2', '3'], { separator: 'tab-separated', names: ['a', 'b', 'c', 'd'] }),
      '/data/x.csv:7: expected 4 tab-separated fields a b c d, got 3',
    ],
  ])('rejects a bad field with file, line and expectation (%#)', (fn, message) => {
    try {
      fn();
      expect.unreachable();
    } catch (error) {
      expect(isForyouError(error, 'FY_DATASET_MALFORMED')).toBe(true);
      expect((error as Error).message).toContain(message);
      expect((error as { details: object }).details).toMatchObject({ path: '/data/x.csv', line: 7 });
    }
  });
});
