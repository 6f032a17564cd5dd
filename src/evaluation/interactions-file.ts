import { malformed, requirePath } from '../datasets/dataset-errors.js';
import { shown } from '../datasets/fields.js';
import { readTextLines, type TextLine } from '../datasets/text-lines.js';
import type { RawInteraction } from '../models/interactions.js';

const SEPARATORS = [
  { token: '\t', name: 'tab' },
  { token: '::', name: '"::"' },
  { token: ',', name: 'comma' },
] as const;

const EXPECTED = 'a tab-, comma- or "::"-separated line: user item [rating [timestamp]]';
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isNumber(text: string): boolean {
  return NUMBER.test(text.trim());
}

/**
 * True for a header line: its rating or timestamp field is not a number, or its first field names the
 * user column (`user`, `userId`, `user_id`, any case). MovieLens `ratings.csv` starts with one; `u.data`
 * has none.
 */
function isHeader(fields: readonly string[]): boolean {
  if (/^user(_?id)?$/i.test(fields[0]!.trim())) return true;
  return fields.slice(2).some((f) => !isNumber(f));
}

function parseNumber(at: TextLine, name: string, text: string): number {
  if (!isNumber(text)) throw malformed(at, `${name} to be a number`, shown(text));
  return Number(text.trim());
}

/**
 * Reads a plain interactions file, keeping its ids exactly as written (trimmed of spaces):
 *
 * - one interaction per line, `user item [rating [timestamp]]`, separated by tabs, commas or "::" (the
 *   separator of the first line holds for the whole file); MovieLens `u.data`, `ratings.csv` and
 *   `ratings.dat` read as they are;
 * - an optional header line first (see `isHeader`); blank lines are skipped;
 * - rating defaults to 1 and timestamp (seconds since 1970, stored as milliseconds) to 0;
 * - every line must have the same number of fields, 2 to 4; anything else is `FY_DATASET_MALFORMED`
 *   naming the file and line. UTF-8 and Latin-1 files both read (`auto` decoding, line by line).
 */
export async function readInteractionsFile(path: string): Promise<RawInteraction[]> {
  await requirePath(path, 'file', `an interactions file (${EXPECTED})`);
  const out: RawInteraction[] = [];
  let separator: (typeof SEPARATORS)[number] | null = null;
  let width = 0;
  for await (const at of readTextLines(path, 'auto')) {
    if (separator === null) {
      separator = SEPARATORS.find((s) => at.text.includes(s.token)) ?? null;
      if (separator === null) throw malformed(at, EXPECTED, shown(at.text));
      const fields = at.text.split(separator.token);
      width = fields.length;
      if (width < 2 || width > 4) throw malformed(at, EXPECTED, `${width} fields`);
      if (isHeader(fields)) continue;
    }
    const fields = at.text.split(separator.token);
    if (fields.length !== width)
      throw malformed(
        at,
        `${width} ${separator.name}-separated fields like the first line`,
        `${fields.length}`,
      );
    const user = fields[0]!.trim();
    const item = fields[1]!.trim();
    if (user === '' || item === '') throw malformed(at, 'a user and an item id', shown(at.text));
    out.push({
      user,
      item,
      value: width > 2 ? parseNumber(at, 'rating', fields[2]!) : 1,
      ts: width > 3 ? parseNumber(at, 'timestamp (seconds)', fields[3]!) * 1000 : 0,
    });
  }
  if (separator === null) throw malformed({ path, line: 1 }, EXPECTED, 'an empty file');
  return out;
}
