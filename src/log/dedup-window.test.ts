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
