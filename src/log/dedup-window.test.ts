import { describe, expect, it } from 'vitest';
import { DedupWindow } from './dedup-window.js';

describe('DedupWindow', () => {
  it('remembers the newest ids up to its capacity, in arrival order', () => {
    const window = new DedupWindow(3);
    for (const [k, id] of ['a', 'b', 'c', 'd'].entries()) window.add(id, k);
    expect(window.get('a')).toBeUndefined();
    expect([window.get('b'), window.get('c'), window.get('d')]).toEqual([1, 2, 3]);
    expect(window.size).toBe(3);
  });

  it('evicts the right id through many wraps of the ring', () => {
    const window = new DedupWindow(1000);
    for (let k = 0; k < 200_000; k++) window.add(`id-${k}`, k);
    expect(window.size).toBe(1000);
    expect(window.get('id-198999')).toBeUndefined();
    expect(window.get('id-199000')).toBe(199_000);
  });
});

describe('DedupWindow against a Map reference', () => {
  it('answers exactly like a map of the newest ids, through many evictions and re-insertions', () => {
    const capacity = 257;
    const window = new DedupWindow(capacity);
    const reference = new Map<string, number>();
    const order: string[] = [];
    let offset = 0;
    let state = 12345;
    for (let step = 0; step < 50_000; step++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      const id = `id-${state % 2000}`;
      const want = reference.get(id);
      expect(window.get(id)).toBe(want);
      if (want !== undefined) continue;
      window.add(id, offset);
      reference.set(id, offset++);
      order.push(id);
      if (order.length > capacity) reference.delete(order.shift()!);
      expect(window.size).toBe(reference.size);
    }
  });
});
