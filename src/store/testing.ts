import type { KeyValueStore } from './port.js';

/**
 * For tests: `inner` without its optional range read (`visitPrefix`), as a store without ordered keys
 * (Redis) is; every other member calls through.
 */
export function withoutRangeReads(inner: KeyValueStore): KeyValueStore {
  return {
    kind: inner.kind,
    getMany: (keys) => inner.getMany(keys),
    visitMany: (keys, visit, prefix) => inner.visitMany(keys, visit, prefix),
    get: (key) => inner.get(key),
    putMany: (entries) => inner.putMany(entries),
    deleteMany: (keys) => inner.deleteMany(keys),
    scanPrefix: (prefix, options) => inner.scanPrefix(prefix, options),
    sweepExpired: () => inner.sweepExpired(),
    close: () => inner.close(),
  };
}
