import { describe, expect, it } from 'vitest';
import { collect, tempFile } from '../../test/helpers/index.js';
import { readTextLines, type TextEncoding } from './text-lines.js';

const file = (content: string | Buffer) => tempFile('f.txt', content);

async function lines(path: string, encoding?: TextEncoding) {
  return (await collect(readTextLines(path, encoding))).map((l): [number, string] => [l.line, l.text]);
}

describe('readTextLines', () => {
  it('strips LF and CRLF endings, skips blank lines but keeps their numbers', async () => {
    const expected = [
      [1, 'a'],
      [3, 'b c'],
      [4, 'd'],
    ];
    expect(await lines(file('a\n\nb c\nd\n'))).toEqual(expected);
    expect(await lines(file('a\r\n\r\nb c\r\nd\r\n'))).toEqual(expected);
    expect(await lines(file('a\r\n\r\nb c\r\nd'))).toEqual(expected);
  });

  it('drops a UTF-8 byte-order mark', async () => {
    expect(await lines(file('\uFEFFid,name\n1,x\n'))).toEqual([
      [1, 'id,name'],
      [2, '1,x'],
    ]);
    expect(await lines(file('\uFEFFid\n'), 'auto')).toEqual([[1, 'id']]);
  });

  it('decodes Latin-1 and UTF-8 lines in auto mode', async () => {
    const bytes = Buffer.concat([
      Buffer.from('1::Misérables, Les (1995)\n', 'latin1'),
      Buffer.from('2::Léon (1994) 東京\n', 'utf8'),
    ]);
    expect(await lines(file(bytes), 'auto')).toEqual([
      [1, '1::Misérables, Les (1995)'],
      [2, '2::Léon (1994) 東京'],
    ]);
    expect((await lines(file(bytes), 'latin1'))[0]).toEqual([1, '1::Misérables, Les (1995)']);
  });

  it('streams a file larger than its read buffer', async () => {
    const n = 60_000;
    const path = file(Array.from({ length: n }, (_, i) => `${i},${'x'.repeat(20)}`).join('\n'));
    let count = 0;
    let last = '';
    for await (const l of readTextLines(path)) {
      count++;
      last = l.text;
    }
    expect(count).toBe(n);
    expect(last).toBe(`${n - 1},${'x'.repeat(20)}`);
  });
});
