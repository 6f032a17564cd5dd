export * from './keys.js';
export * from './lmdb-store.js';
export * from './open.js';
export * from './port.js';
export * from './redis-key-layout.js';
// Types only: the Redis client loads when a redis:// URL is opened (open.ts), not with this module.
export type { RedisKeyValueStore, RedisKeyValueStoreOptions } from './redis-store.js';
