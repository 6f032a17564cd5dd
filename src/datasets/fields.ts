import { type LineRef, malformed } from './dataset-errors.js';

/**
 * Splits one CSV line (RFC 4180 within a line): fields are separated by commas, a field may be wrapped in
 * double quotes and then hold commas, and `""` inside quotes is one quote. Returns null when a quote is
 * left open, which for MovieLens means the line is malformed (no field spans lines).
 */
export function splitCsvLine(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) return null;
        value += text.slice(i, close);
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      if (i < text.length && text[i] !== ',') return null;
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      fields.push(text.slice(i, end));
      i = end;
    }
    if (i >= text.length) return fields;
    i++; // the comma
    if (i === text.length) {
      fields.push('');
      return fields;
    }
  }
}

/** Describes a field layout in error messages: `4 tab-separated fields user item rating timestamp`. */
export interface FieldLayout {
  /** How the fields are separated, in words ("tab-separated", "comma-separated", '"::"-separated'). */
  separator: string;
  names: readonly string[];
  /** Replaces the list of names in messages when it would be too long. */
  summary?: string;
}

export function describeLayout(layout: FieldLayout): string {
  return `${layout.names.length} ${layout.separator} fields ${layout.summary ?? layout.names.join(' ')}`;
}

/** Throws `FY_DATASET_MALFORMED` unless the line has exactly the layout's number of fields. */
export function expectFieldCount(at: LineRef, fields: readonly string[], layout: FieldLayout): void {
  if (fields.length !== layout.names.length)
    throw malformed(at, describeLayout(layout), String(fields.length));
}

/** A value quoted for an error message, shortened when long. */
export function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** A dataset id: a whole number written in decimal digits. */
export function parseDatasetId(at: LineRef, name: string, text: string): string {
  const value = text.trim();
  if (!/^\d{1,18}$/.test(value)) throw malformed(at, `${name} to be a whole number`, shown(text));
  return value.replace(/^0+(?=\d)/, '');
}

/** A non-negative whole number (timestamps, play counts). */
export function parseWholeNumber(at: LineRef, name: string, text: string): number {
  const value = text.trim();
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
    throw malformed(at, `${name} to be a whole number`, shown(text));
  return n;
}

/** A finite decimal number (ratings such as 3.5). */
export function parseDecimal(at: LineRef, name: string, text: string): number {
  const value = text.trim();
  const n = Number(value);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(value) || !Number.isFinite(n))
    throw malformed(at, `${name} to be a number`, shown(text));
  return n;
}
