import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForyouError } from '../core/errors.js';
import { LmdbKeyValueStore, type LmdbKeyValueStoreOptions } from './lmdb-store.js';
import type { KeyValueStore } from './port.js';
import type { RedisKeyValueStoreOptions } from './redis-store.js';

export interface OpenKeyValueStoreOptions {
  /** Used when the URL is `lmdb://`. */
  lmdb?: LmdbKeyValueStoreOptions;
  /** Used when the URL is `redis://`. */
  redis?: RedisKeyValueStoreOptions;
}

/**
 * The folder of an `lmdb://` URL: `lmdb:///var/lib/foryou/store` is absolute, `lmdb://.foryou/store` is
 * relative to the working folder (the config default).
 */
export function lmdbUrlPath(url: string): string {
  const rest = url.slice('lmdb://'.length);
  if (rest === '')
    throw new ForyouError('FY_CONFIG_INVALID', `store URL ${url} names no folder (lmdb://PATH)`);
  if (rest.startsWith('/')) return fileURLToPath(`file://${rest}`);
  return resolve(rest);
}

/** Opens the key-value store `url` names, choosing the adapter by scheme. */
export async function openKeyValueStore(
  url: string,
  options: OpenKeyValueStoreOptions = {},
): Promise<KeyValueStore> {
  if (url.startsWith('lmdb://')) return LmdbKeyValueStore.open(lmdbUrlPath(url), options.lmdb);
  if (url.startsWith('redis://')) {
    // Loaded on demand so the embedded default never loads the Redis client.
    const { RedisKeyValueStore } = await import('./redis-store.js');
    return RedisKeyValueStore.connect(url, options.redis);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw new ForyouError(
    'FY_CONFIG_INVALID',
    `store URL ${JSON.stringify(url)} ${scheme ? `has scheme ${scheme}://, which no adapter serves` : 'has no scheme'}; ` +
      'use lmdb://PATH (embedded) or redis://HOST:PORT[/DB]',
    { details: { url } },
  );
}
