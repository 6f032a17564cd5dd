import { describe, expect, it } from 'vitest';
import { keySetReaders } from './key-sets.js';

describe('keySetReaders', () => {
  it('gives each reader the same cycle of sets, each starting 17 sets after the previous reader', () => {
    const sets = Array.from({ length: 20 }, (_, i) => [`k${i}`]);
    const reader = keySetReaders(sets);
    const a = reader((keys) => keys[0]);
    const b = reader((keys) => keys[0]);
    const other = reader((keys) => keys[0], [['x'], ['y']]);
    expect([a(), a(), a()]).toEqual(['k0', 'k1', 'k2']);
    expect([b(), b(), b(), b()]).toEqual(['k17', 'k18', 'k19', 'k0']);
    expect([other(), other()]).toEqual(['x', 'y']);
  });
});
