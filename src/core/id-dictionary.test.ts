import { describe, expect, it } from 'vitest';
import { failureOf } from '../../test/helpers/index.js';
import { ForyouError } from './errors.js';

import { IdDictionary } from './id-dictionary.js';

describe('IdDictionary', () => {
  it('maps ids to their positions and back, as an array and a Map would', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `v${(i * 7919) % 100_003}`);
    const dict = IdDictionary.of(ids);
    expect(dict.size).toBe(ids.length);
    for (const [i, id] of ids.entries()) {
      expect(dict.indexOf(id)).toBe(i);
      expect(dict.id(i)).toBe(id);
    }
    expect(dict.indexOf('v100004')).toBe(-1);
    expect(dict.indexOf('')).toBe(-1);
    expect(dict.has('v0')).toBe(true);
    expect(dict.toArray()).toEqual(ids);
    expect([...dict]).toEqual(ids);
  });

  it('keeps ids outside Latin-1 and ids that are prefixes of one another apart', () => {
    const ids = ['视频1', 'v1', 'v10', '', 'é', 'e\u0301', '🎬clip', 'v'];
    const dict = IdDictionary.of(ids);
    for (const [i, id] of ids.entries()) {
      expect(dict.indexOf(id)).toBe(i);
      expect(dict.id(i)).toBe(id);
    }
    expect(dict.indexOf('视频2')).toBe(-1);
    expect(dict.indexOf('v100')).toBe(-1);
  });

  it('round-trips through its arrays', () => {
    for (const ids of [
      ['a', 'bb', 'ccc'],
      ['ü', '视频'],
    ]) {
      const { chars, starts, wide } = IdDictionary.of(ids).toArrays();
      const back = IdDictionary.fromArrays(new Uint8Array(chars), new Int32Array(starts), wide);
      expect(back.toArray()).toEqual(ids);
      expect(back.indexOf(ids[1]!)).toBe(1);
    }
  });

  it('refuses a repeated id, naming it, and arrays that do not fit together', () => {
    expect(() => IdDictionary.of(['a', 'b', 'a'])).toThrow(/id "a" appears twice/);
    const { chars, starts } = IdDictionary.of(['a', 'bb']).toArrays();
    expect(() => IdDictionary.fromArrays(chars.subarray(0, 2), starts, false)).toThrow(ForyouError);
    expect(() => IdDictionary.fromArrays(chars, Int32Array.of(0, 2, 1), false)).toThrow(/inconsistent/);
  });

  it('refuses an index outside the list', async () => {
    const dict = IdDictionary.of(['a']);
    expect(() => dict.id(1)).toThrow(/outside 0..0/);
    expect(await failureOf((async () => dict.id(1))(), 'FY_INTERNAL')).toMatch(/outside 0..0/);
    expect(() => dict.id(-1)).toThrow(ForyouError);
  });

  it('holds an empty list', () => {
    const dict = IdDictionary.of([]);
    expect(dict.size).toBe(0);
    expect(dict.indexOf('a')).toBe(-1);
  });
});
