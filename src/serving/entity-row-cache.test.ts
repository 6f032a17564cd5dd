import { describe, expect, it } from 'vitest';
import { EntityRowCache } from './entity-row-cache.js';

describe('EntityRowCache', () => {
  const owner = {};
  const row = (v: number) => Float64Array.of(v, v + 1);
  const read = (cache: EntityRowCache, entity: number, now: number) => {
    const out = new Float64Array(2).fill(Number.NaN);
    return cache.copyOut(entity, now, out, 0) ? Array.from(out) : null;
  };

  it('serves a row until it is older than maxAgeMs, and counts hits and misses', () => {
    const cache = new EntityRowCache(4, 100);
    cache.prepare(owner, 10, 2);
    expect(read(cache, 3, 0)).toBeNull();
    cache.put(3, 0, row(30), 0);
    expect(read(cache, 3, 100)).toEqual([30, 31]);
    expect(read(cache, 3, 101)).toBeNull();
    cache.put(3, 101, row(7), 0);
    expect(read(cache, 3, 150)).toEqual([7, 8]);
    expect([cache.hits, cache.misses]).toEqual([2, 2]);
  });

  it('overwrites rows in the order they were stored once full', () => {
    const cache = new EntityRowCache(2, 1000);
    cache.prepare(owner, 10, 2);
    for (const e of [1, 2, 3]) cache.put(e, 0, row(e * 10), 0);
    expect(read(cache, 1, 0)).toBeNull();
    expect(read(cache, 2, 0)).toEqual([20, 21]);
    expect(read(cache, 3, 0)).toEqual([30, 31]);
  });

  it('starts over for another owner or row width, and knows nothing before prepare', () => {
    const cache = new EntityRowCache(4, 1000);
    expect(cache.widthFor(owner)).toBe(0);
    cache.prepare(owner, 10, 2);
    cache.put(1, 0, row(10), 0);
    expect(cache.widthFor(owner)).toBe(2);
    const other = {};
    expect(cache.widthFor(other)).toBe(0);
    cache.prepare(other, 10, 2);
    expect(read(cache, 1, 0)).toBeNull();
    cache.put(1, 0, row(10), 0);
    cache.prepare(other, 10, 3);
    expect(cache.widthFor(other)).toBe(3);
    expect(cache.copyOut(1, 0, new Float64Array(3), 0)).toBe(false);
  });

  it('rejects a capacity or age that makes no sense', () => {
    expect(() => new EntityRowCache(0, 10)).toThrow(/capacity must be a whole number >= 1, not 0/);
    expect(() => new EntityRowCache(2, -1)).toThrow(/maxAgeMs must be >= 0, not -1/);
  });
});
