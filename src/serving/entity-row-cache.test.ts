import { describe, expect, it } from 'vitest';
import { IdDictionary } from '../core/id-dictionary.js';
import { EntityRowCache } from './entity-row-cache.js';

describe('EntityRowCache', () => {
  const owner = {};
  const layout = {};
  const ids = IdDictionary.of(Array.from({ length: 10 }, (_, i) => `e${i}`));
  const row = (v: number) => Float64Array.of(v, v + 1);
  const read = (cache: EntityRowCache, entity: number, now: number) => {
    const out = new Float64Array(2).fill(Number.NaN);
    return cache.copyOut(entity, now, out, 0) ? Array.from(out) : null;
  };

  it('serves a row until it is older than maxAgeMs, and counts hits and misses', () => {
    const cache = new EntityRowCache({ rows: 4, maxAgeMs: 100 });
    cache.prepare(owner, layout, ids, 2);
    expect(read(cache, 3, 0)).toBeNull();
    cache.put(3, 0, row(30), 0, null);
    expect(read(cache, 3, 100)).toEqual([30, 31]);
    expect(read(cache, 3, 101)).toBeNull();
    cache.put(3, 101, row(7), 0, null);
    expect(read(cache, 3, 150)).toEqual([7, 8]);
    expect([cache.hits, cache.misses]).toEqual([2, 2]);
  });

  it.each([
    ['a slot per entity', {}],
    ['a ring of slots', { rows: 4 }],
  ])('serves a row no later than its expiry, and not after it is invalidated by id (%s)', (_, limits) => {
    const cache = new EntityRowCache({ maxAgeMs: 60_000, ...limits });
    cache.prepare(owner, layout, ids, 2);
    cache.put(1, 0, row(10), 0, null, 50);
    cache.put(2, 0, row(20), 0, null);
    cache.put(3, 0, row(30), 0, null);
    expect(read(cache, 1, 50)).toEqual([10, 11]);
    expect(read(cache, 1, 51)).toBeNull();
    cache.invalidate(['e2', 'unknown', 'e7']);
    expect(read(cache, 2, 1)).toBeNull();
    expect(read(cache, 3, 1)).toEqual([30, 31]);
    cache.put(2, 2, row(21), 0, null);
    expect(read(cache, 2, 3)).toEqual([21, 22]);
    cache.invalidateAll();
    expect([read(cache, 2, 3), read(cache, 3, 3)]).toEqual([null, null]);
  });

  it('keeps the columns a projection picks', () => {
    const cache = new EntityRowCache({ maxAgeMs: 100 });
    cache.prepare(owner, layout, ids, 2);
    cache.put(4, 0, Float64Array.of(9, 9, 40, 41, 42), 2, Int32Array.of(2, 0));
    expect(read(cache, 4, 0)).toEqual([42, 40]);
  });

  it('overwrites rows in the order they were stored once full', () => {
    const cache = new EntityRowCache({ rows: 2, maxAgeMs: 1000 });
    cache.prepare(owner, layout, ids, 2);
    for (const e of [1, 2, 3]) cache.put(e, 0, row(e * 10), 0, null);
    expect(read(cache, 1, 0)).toBeNull();
    expect(read(cache, 2, 0)).toEqual([20, 21]);
    expect(read(cache, 3, 0)).toEqual([30, 31]);
  });

  it('holds as many rows as its byte budget, and never more than there are entities', () => {
    // A row of 2 takes 24 bytes with its expiry.
    const cache = new EntityRowCache({ maxBytes: 96, maxAgeMs: 1000 });
    cache.prepare(owner, layout, ids, 2);
    expect(cache.capacity).toBe(4);
    const roomy = new EntityRowCache({ maxAgeMs: 1000 });
    roomy.prepare(owner, layout, ids, 2);
    expect(roomy.capacity).toBe(10);
  });

  it('starts over for another owner, layout or row width, and knows nothing before prepare', () => {
    const cache = new EntityRowCache({ rows: 4, maxAgeMs: 1000 });
    expect(cache.widthFor(owner, layout)).toBe(0);
    cache.prepare(owner, layout, ids, 2);
    cache.put(1, 0, row(10), 0, null);
    expect(cache.widthFor(owner, layout)).toBe(2);
    expect(cache.widthFor(owner, {})).toBe(0);
    const other = {};
    expect(cache.widthFor(other, layout)).toBe(0);
    cache.prepare(other, layout, ids, 2);
    expect(read(cache, 1, 0)).toBeNull();
    cache.put(1, 0, row(10), 0, null);
    cache.prepare(other, layout, ids, 3);
    expect(cache.widthFor(other, layout)).toBe(3);
    expect(cache.copyOut(1, 0, new Float64Array(3), 0)).toBe(false);
  });

  it('rejects limits that make no sense', () => {
    expect(() => new EntityRowCache({ rows: 0, maxAgeMs: 10 })).toThrow(
      /rows must be a whole number >= 1, not 0/,
    );
    expect(() => new EntityRowCache({ maxBytes: 4, maxAgeMs: 10 })).toThrow(
      /maxBytes must be at least 8, not 4/,
    );
    expect(() => new EntityRowCache({ maxAgeMs: -1 })).toThrow(/maxAgeMs must be >= 0, not -1/);
  });
});
