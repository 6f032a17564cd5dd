/**
 * Argument checks shared by every adapter, so both refuse exactly the same keys, values and options with
 * FY_INVALID_ARGUMENT (the rules are in port.ts). They run on the read path too: about 30 µs per 1,000
 * keys here, a few per cent of an LMDB getMany.
 */
import { ForyouError } from '../core/errors.js';
import { MAX_KEY_BYTES, type PutEntry } from './port.js';

/** A control character, a brace, or a UTF-16 surrogate without its partner. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it refuses.
const FORBIDDEN = /[\u0000-\u001f{}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const RULE = `keys are 1 to ${MAX_KEY_BYTES} bytes of UTF-8 without control characters or braces`;

export const DEFAULT_SCAN_LIMIT = 1000;

function shown(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

/** Why `text` cannot be a key (or a key prefix, when `allowEmpty`), or null when it can. */
export function keyProblem(text: unknown, allowEmpty = false): string | null {
  if (typeof text !== 'string') return `must be a string, got ${text === null ? 'null' : typeof text}`;
  if (text.length === 0) return allowEmpty ? null : 'is empty';
  if (text.length <= MAX_KEY_BYTES && isPlainAscii(text)) return null;
  // A UTF-16 unit takes at most 3 bytes of UTF-8, so only long strings need the exact count.
  if (text.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(text, 'utf8') > MAX_KEY_BYTES)
    return `is ${Buffer.byteLength(text, 'utf8')} bytes of UTF-8, over the limit of ${MAX_KEY_BYTES}`;
  const bad = FORBIDDEN.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0);
    const what =
      code >= 0xd800 ? 'a lone UTF-16 surrogate' : `U+${code.toString(16).padStart(4, '0').toUpperCase()}`;
    return `contains ${what} at index ${bad.index}`;
  }
  return null;
}

/** Printable ASCII without braces: always a valid key within the length limit (the common case, no regex). */
function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x7b || c === 0x7d) return false;
  }
  return true;
}

function invalid(message: string, details: Record<string, unknown>): ForyouError {
  return new ForyouError('FY_INVALID_ARGUMENT', message, { details });
}

export function checkKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== null)
    throw invalid(`key ${shown(String(key))} ${problem}; ${RULE}`, { key: String(key).slice(0, 100) });
}

/** Checks `prefix + key` for every key (the prefix once, then each key's own characters). */
export function checkKeys(keys: readonly string[], prefix = ''): void {
  if (!Array.isArray(keys)) throw invalid('keys must be an array of strings', {});
  if (prefix !== '') checkPrefix(prefix);
  const plainPrefix = prefix === '' || isPlainAscii(prefix);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (
      plainPrefix &&
      typeof key === 'string' &&
      key.length > 0 &&
      key.length + prefix.length <= MAX_KEY_BYTES &&
      isPlainAscii(key)
    )
      continue;
    const problem = typeof key === 'string' ? keyProblem(prefix + key) : keyProblem(key);
    if (problem !== null)
      throw invalid(`key ${i} ${shown(String(key))} ${problem}; ${RULE}`, {
        index: i,
        key: String(key).slice(0, 100),
      });
  }
}

export function checkPrefix(prefix: string): void {
  const problem = keyProblem(prefix, true);
  if (problem !== null)
    throw invalid(`prefix ${shown(String(prefix))} ${problem}; ${RULE}`, {
      prefix: String(prefix).slice(0, 100),
    });
}

export function checkEntries(entries: readonly PutEntry[]): void {
  if (!Array.isArray(entries)) throw invalid('entries must be an array of { key, value, ttlMs? }', {});
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as PutEntry;
    if (entry === null || typeof entry !== 'object')
      throw invalid(`entry ${i} must be an object { key, value, ttlMs? }`, { index: i });
    const problem = keyProblem(entry.key);
    if (problem !== null)
      throw invalid(`entry ${i}: key ${shown(String(entry.key))} ${problem}; ${RULE}`, { index: i });
    if (!(entry.value instanceof Uint8Array))
      throw invalid(`entry ${i} (${shown(entry.key)}): value must be a Uint8Array`, {
        index: i,
        key: entry.key,
      });
    const ttl = entry.ttlMs;
    if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl >= 1))
      throw invalid(
        `entry ${i} (${shown(entry.key)}): ttlMs must be a whole number of milliseconds >= 1, got ${ttl}`,
        {
          index: i,
          key: entry.key,
          ttlMs: ttl,
        },
      );
  }
}

/** The scan limit, defaulted and checked. */
export function scanLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_SCAN_LIMIT;
  if (!(Number.isSafeInteger(value) && value >= 1))
    throw invalid(`scan limit must be a whole number >= 1, got ${value}`, { limit: value });
  return value;
}
