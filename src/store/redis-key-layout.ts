/**
 * How port keys map to Redis keys, so that every key of one entity lands in one Redis Cluster slot.
 *
 *   port key   fv:user_stats:v3:u123          (the last `:` segment names the entity)
 *   Redis key  <prefix>fv:user_stats:v3:{u123}
 *
 * Redis Cluster hashes only the text between the first `{` and the next `}` (the hash tag), so
 * `fv:user_stats:v3:{u123}` and `fv:user_embedding:v1:{u123}` share a slot and one MGET reads both. Port
 * keys and prefixes may not contain braces (keys.ts), so the tag is always the entity. A key with no `:`
 * is all entity (`{u123}`); a key ending in `:` has an empty tag, and Redis then hashes the whole key.
 */

/** The Redis key of port key `key` under `prefix`. */
export function redisKeyOf(prefix: string, key: string): string {
  const cut = key.lastIndexOf(':') + 1;
  return `${prefix}${key.slice(0, cut)}{${key.slice(cut)}}`;
}

/** The port key of a Redis key, or null when it is not one this layout writes under `prefix`. */
export function keyOfRedisKey(prefix: string, redisKey: string): string | null {
  if (!redisKey.startsWith(prefix) || !redisKey.endsWith('}')) return null;
  const body = redisKey.slice(prefix.length);
  const cut = body.lastIndexOf(':') + 1;
  if (body[cut] !== '{' || body.indexOf('{') !== cut) return null;
  return body.slice(0, cut) + body.slice(cut + 1, -1);
}

const GLOB_SPECIAL = /[*?[\]\\]/g;

/** `text` as a literal in a Redis glob pattern (SCAN MATCH). */
export function globLiteral(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&');
}

/**
 * SCAN MATCH patterns that together find every Redis key whose port key starts with `keyPrefix`: one for
 * port keys where the prefix ends before the entity segment, and, when the prefix ends inside a segment,
 * one for keys where that segment is the (braced) entity. The two never match the same key.
 */
export function scanPatterns(prefix: string, keyPrefix: string): string[] {
  const cut = keyPrefix.lastIndexOf(':') + 1;
  const partial = keyPrefix.slice(cut);
  const whole = `${globLiteral(prefix + keyPrefix)}*`;
  if (partial === '') return [whole];
  return [whole, `${globLiteral(prefix + keyPrefix.slice(0, cut))}{${globLiteral(partial)}*`];
}

/** CRC16-CCITT (XModem), the checksum Redis Cluster takes modulo 16384. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/**
 * The Redis Cluster slot (0..16383) of a Redis key, by the cluster's own rule: hash the tag when the key
 * has a non-empty `{...}`, else the whole key. A cluster-aware getMany groups keys by this to send one
 * MGET per slot (docs/online-store.md).
 */
export function hashSlotOf(redisKey: string): number {
  let hashed = redisKey;
  const open = redisKey.indexOf('{');
  if (open >= 0) {
    const close = redisKey.indexOf('}', open + 1);
    if (close > open + 1) hashed = redisKey.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, 'utf8')) % 16384;
}
