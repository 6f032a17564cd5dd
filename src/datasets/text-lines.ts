import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ForyouError } from '../core/errors.js';
import type { LineRef } from './dataset-errors.js';

/**
 * How a file's bytes become text. `auto` decodes each line as UTF-8 when it is valid UTF-8 and as Latin-1
 * otherwise: older MovieLens releases (ml-100k `u.item`, ml-1m `movies.dat`) are Latin-1, newer ones UTF-8,
 * and a Latin-1 line with accents is practically never valid UTF-8.
 */
export type TextEncoding = 'utf8' | 'latin1' | 'auto';

export interface TextLine extends LineRef {
  /** The line without its line ending (LF or CRLF) and without a leading byte-order mark. */
  text: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
// biome-ignore lint/suspicious/noControlCharactersInRegex: matches any byte above ASCII
const NON_ASCII = /[^\u0000-\u007f]/;

function decodeAuto(latin1: string): string {
  if (!NON_ASCII.test(latin1)) return latin1;
  try {
    return strictUtf8.decode(Buffer.from(latin1, 'latin1'));
  } catch {
    return latin1;
  }
}

/**
 * Streams a text file line by line (node:readline), so memory stays bounded whatever the file size. Blank
 * lines are skipped but still counted, so `line` always matches what an editor shows. The caller checks the
 * file exists first; a read failure becomes `FY_IO_FAILED`.
 */
export async function* readTextLines(
  path: string,
  encoding: TextEncoding = 'utf8',
): AsyncGenerator<TextLine> {
  const input = createReadStream(path, {
    encoding: encoding === 'utf8' ? 'utf8' : 'latin1',
    highWaterMark: 1 << 20,
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const raw of lines) {
      line++;
      let text = encoding === 'auto' ? decodeAuto(raw) : raw;
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === '') continue;
      yield { path, line, text };
    }
  } catch (error) {
    if (error instanceof ForyouError) throw error;
    throw new ForyouError('FY_IO_FAILED', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path, line },
    });
  } finally {
    lines.close();
    input.destroy();
  }
}
