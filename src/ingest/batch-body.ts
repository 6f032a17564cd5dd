import { isUtf8 } from 'node:buffer';
import { ForyouError } from '../core/errors.js';

/** How a batch is sent: one JSON array, or one JSON value per line. */
export type BatchFormat = 'json' | 'ndjson';

/** Media types of the ingest endpoints and the format each one carries. */
export const BATCH_MEDIA_TYPES: Readonly<Record<string, BatchFormat>> = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/ndjson': 'ndjson',
};

/** A body split into records; records that could not even be read (an NDJSON line) carry a reason instead. */
export interface ParsedBatch {
  format: BatchFormat;
  /** Each record as parsed JSON; `undefined` where `unreadable` has a reason. */
  values: unknown[];
  /** Index → why that record could not be read (NDJSON only; a broken JSON array rejects the whole body). */
  unreadable: Map<number, string>;
  /** Index → 1-based line number (NDJSON only), to point at a line in messages. */
  lines: number[] | null;
}

const MAX_REASON_CHARS = 200;

function clip(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

/**
 * Deepest nesting of arrays and objects a body may have. Records need 3 (batch, record, a list field);
 * the limit exists because JSON.parse spends some 25 times longer per byte on nesting than on records,
 * so a body that is nothing but `[[[[...` would hold the event loop for seconds.
 */
export const MAX_DEPTH = 64;

/**
 * The lines of `bytes` (split at \n when `perLine`, else the whole body as line 0) whose JSON nests arrays
 * and objects deeper than `limit`, ignoring brackets inside strings. One pass over the bytes without
 * decoding them; whether the text is valid JSON is JSON.parse's business.
 */
export function linesNestedDeeperThan(bytes: Buffer, limit: number, perLine: boolean): number[] {
  const deep: number[] = [];
  let line = 0;
  let depth = 0;
  let inString = false;
  let tooDeep = false;
  for (let i = 0, n = bytes.length; i < n; i++) {
    const c = bytes[i];
    if (c === 0x0a && perLine) {
      if (tooDeep) deep.push(line);
      line++;
      depth = 0;
      inString = false;
      tooDeep = false;
    } else if (inString) {
      // An escape skips the next byte, except a line break (a broken line must not swallow the next one).
      if (c === 0x5c && !(perLine && bytes[i + 1] === 0x0a)) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) tooDeep = true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  if (tooDeep) deep.push(line);
  return deep;
}

function malformed(message: string): ForyouError {
  return new ForyouError('FY_BODY_MALFORMED', message);
}

function tooMany(count: number | string, max: number, unit: string): ForyouError {
  return new ForyouError(
    'FY_PAYLOAD_TOO_LARGE',
    `batch of ${count} ${unit} is over the limit of ${max.toLocaleString('en-US')} records (ingest.maxBatchEvents)`,
    { details: { maxRecords: max } },
  );
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function parseJsonArray(bytes: Buffer, maxRecords: number): ParsedBatch {
  if (!isUtf8(bytes)) throw malformed('body is not valid UTF-8');
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw malformed('body is empty; send a JSON array of records');
  if (linesNestedDeeperThan(bytes, MAX_DEPTH, false).length > 0)
    throw malformed(`body nests arrays or objects deeper than ${MAX_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw malformed(`body is not valid JSON: ${clip((error as Error).message)}`);
  }
  if (!Array.isArray(value))
    throw malformed(
      `body must be a JSON array of records, got ${kindOf(value)}` +
        (kindOf(value) === 'an object' ? ' (wrap a single record in [ ])' : ''),
    );
  if (value.length === 0) throw malformed('batch is empty; send at least one record');
  if (value.length > maxRecords) throw tooMany(value.length.toLocaleString('en-US'), maxRecords, 'records');
  return { format: 'json', values: value, unreadable: new Map(), lines: null };
}

/** Lines of the body as text; a line that is not UTF-8 becomes null so that only it is rejected. */
function splitLines(bytes: Buffer): (string | null)[] {
  if (isUtf8(bytes)) return bytes.toString('utf8').split('\n');
  const out: (string | null)[] = [];
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(0x0a, start);
    const line = bytes.subarray(start, end === -1 ? bytes.length : end);
    out.push(isUtf8(line) ? line.toString('utf8') : null);
    if (end === -1) return out;
    start = end + 1;
  }
}

function parseNdjson(bytes: Buffer, maxRecords: number): ParsedBatch {
  if (bytes.length === 0) throw malformed('body is empty; send one JSON record per line');
  const rawLines = splitLines(bytes);
  const deep = new Set(linesNestedDeeperThan(bytes, MAX_DEPTH, true));
  const values: unknown[] = [];
  const lines: number[] = [];
  const unreadable = new Map<number, string>();
  for (let n = 0; n < rawLines.length; n++) {
    let line = rawLines[n];
    let value: unknown;
    let problem: string | undefined;
    if (line === null || line === undefined) problem = 'line is not valid UTF-8';
    else {
      if (n === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      // Blank lines (a trailing newline, \r\n endings) are not records.
      if (line.length === 0 || line.trim() === '') continue;
      if (deep.has(n)) problem = `line nests arrays or objects deeper than ${MAX_DEPTH} levels`;
      else {
        try {
          value = JSON.parse(line);
        } catch (error) {
          problem = `line is not valid JSON: ${clip((error as Error).message)}`;
        }
      }
    }
    if (values.length === maxRecords)
      throw tooMany(`more than ${maxRecords.toLocaleString('en-US')}`, maxRecords, 'lines');
    if (problem !== undefined) unreadable.set(values.length, problem);
    values.push(value);
    lines.push(n + 1);
  }
  if (values.length === 0) throw malformed('body holds no records, only blank lines');
  return { format: 'ndjson', values, unreadable, lines };
}

/**
 * Reads a batch body. A body that cannot be a batch at all (not UTF-8 or not JSON for an array, not an
 * array, empty) throws FY_BODY_MALFORMED; more than `maxRecords` records throws FY_PAYLOAD_TOO_LARGE. In
 * NDJSON a line that is not JSON (or not UTF-8) rejects only that record.
 */
export function parseBatchBody(bytes: Buffer, format: BatchFormat, maxRecords: number): ParsedBatch {
  return format === 'json' ? parseJsonArray(bytes, maxRecords) : parseNdjson(bytes, maxRecords);
}
