import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyProblem } from './keys.js';
import { globLiteral, hashSlotOf, keyOfRedisKey, redisKeyOf, scanPatterns } from './redis-key-layout.js';

/** Redis glob (the subset scanPatterns writes: `*` and backslash escapes) as a RegExp. */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '\\') source += (glob[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (c === '*') source += '[\\s\\S]*';
    else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

const segment = fc.string({
  unit: fc.constantFrom('a', 'b', '1', '*', '?', '[', ']', '\\', 'é', '😀'),
  maxLength: 4,
});
const portKey = fc
  .array(segment, { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(':'))
  .filter((key) => keyProblem(key) === null);

describe('Redis key layout', () => {
  it('braces the entity (the last segment) as the hash tag, under the prefix', () => {
    expect(redisKeyOf('fy:', 'fv:user_stats:v3:u123')).toBe('fy:fv:user_stats:v3:{u123}');
    expect(redisKeyOf('fy:', 'u123')).toBe('fy:{u123}');
    expect(redisKeyOf('', 'a:')).toBe('a:{}');
    expect(keyOfRedisKey('fy:', 'fy:fv:user_stats:v3:{u123}')).toBe('fv:user_stats:v3:u123');
    expect(keyOfRedisKey('fy:', 'fy:{u123}')).toBe('u123');
    for (const foreign of ['other:fv:{u1}', 'fy:fv:u1', 'fy:fv:{u1', 'fy:{a}:{b}', 'fy:a{b}:c'])
      expect(keyOfRedisKey('fy:', foreign), foreign).toBeNull();
  });

  it('decodes every key it encodes', () => {
    fc.assert(fc.property(portKey, (key) => keyOfRedisKey('t:', redisKeyOf('t:', key)) === key));
  });

  it('computes Redis Cluster slots like the server (CLUSTER KEYSLOT)', () => {
    expect(hashSlotOf('123456789')).toBe(12739);
    expect(hashSlotOf('foo')).toBe(12182);
    expect(hashSlotOf('bar')).toBe(5061);
    expect(hashSlotOf('{user1000}.following')).toBe(hashSlotOf('{user1000}.followers'));
    expect(hashSlotOf('x{}{foo}')).not.toBe(hashSlotOf('foo'));
    expect(hashSlotOf('x{foo}y')).toBe(hashSlotOf('foo'));
  });

  it('puts every key of one entity in one slot, whatever the view', () => {
    const slot = hashSlotOf(redisKeyOf('fy:', 'fv:user_stats:v3:u123'));
    for (const key of ['fv:user_embedding:v1:u123', 'seen:u123', 'u123', 'fv:a:b:c:d:u123'])
      expect(hashSlotOf(redisKeyOf('fy:', key)), key).toBe(slot);
    expect(hashSlotOf(redisKeyOf('other-prefix:', 'fv:x:v1:u123'))).toBe(slot);
  });

  it('escapes glob characters', () => {
    expect(globLiteral('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f');
  });

  it('finds, with its SCAN patterns, exactly the keys that start with the prefix', () => {
    expect(scanPatterns('fy:', 'fv:user_stats:v3:')).toEqual(['fy:fv:user_stats:v3:*']);
    expect(scanPatterns('fy:', 'fv:user_stats:v3:u1')).toEqual([
      'fy:fv:user_stats:v3:u1*',
      'fy:fv:user_stats:v3:{u1*',
    ]);
    expect(scanPatterns('fy:', '')).toEqual(['fy:*']);
    const prefixOf = portKey.chain((key) => fc.tuple(fc.constant(key), fc.nat(key.length)));
    fc.assert(
      fc.property(prefixOf, portKey, ([key, cut], other) => {
        for (const [candidate, prefix] of [
          [key, key.slice(0, cut)],
          [other, key.slice(0, cut)],
        ] as const) {
          if (keyProblem(prefix, true) !== null) continue;
          const patterns = scanPatterns('p*:', prefix).map(globToRegExp);
          const matches = patterns.filter((p) => p.test(redisKeyOf('p*:', candidate))).length;
          if (matches !== (candidate.startsWith(prefix) ? 1 : 0)) return false;
        }
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
