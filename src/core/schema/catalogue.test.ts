import { describe, expect, it } from 'vitest';
import { CreatorSchema } from './creator.js';
import { ItemSchema } from './item.js';
import { UserSchema } from './user.js';
import { safeParseRecord } from './validate.js';

const ts = Date.UTC(2026, 0, 1);

function check(schema: Parameters<typeof safeParseRecord>[0], input: unknown): string {
  const r = safeParseRecord(schema, input);
  return r.ok ? 'ok' : r.message;
}

describe('user schema', () => {
  const user = {
    user_id: 'u1',
    country: 'JP',
    language: 'ja',
    signup_ts: ts,
    interests: ['anime', 'street-food'],
  };
  it('accepts a valid user and defaults interests', () => {
    expect(check(UserSchema, user)).toBe('ok');
    const parsed = UserSchema.parse({ ...user, interests: undefined });
    expect(parsed.interests).toEqual([]);
  });
  it.each([
    [{ ...user, country: 'jp' }, 'country: must be an ISO 3166-1 alpha-2 code'],
    [{ ...user, language: 'Japanese' }, 'language: must be a BCP 47 language tag'],
    [{ ...user, interests: ['Street Food'] }, 'interests.0: must be lower-case words joined by hyphens'],
    [{ ...user, signup_ts: -1 }, 'signup_ts: must be milliseconds since the epoch, not negative'],
  ])('rejects %o', (input, expected) => {
    expect(check(UserSchema, input)).toContain(expected);
  });
});

describe('creator schema', () => {
  it('accepts a valid creator and rejects an empty name', () => {
    const creator = {
      creator_id: 'c1',
      name: 'Chef Aiko',
      country: 'JP',
      language: 'ja',
      topics: ['cooking'],
      created_ts: ts,
    };
    expect(check(CreatorSchema, creator)).toBe('ok');
    expect(check(CreatorSchema, { ...creator, name: '' })).toContain('name: must not be empty');
  });
});

describe('item schema', () => {
  const item = {
    item_id: 'v1',
    creator_id: 'c1',
    caption: '深夜の屋台ラーメン',
    hashtags: ['ラーメン', 'foodie_tokyo'],
    language: 'ja',
    duration_ms: 21_000,
    created_ts: ts,
  };
  it('accepts CJK captions and hashtags, and imported items without creator, language or duration', () => {
    expect(check(ItemSchema, item)).toBe('ok');
    expect(check(ItemSchema, { item_id: 'ml-1', caption: 'Toy Story (1995)', created_ts: 0 })).toBe('ok');
  });
  it.each([
    [
      { ...item, hashtags: ['#food'] },
      'hashtags.0: must be letters, digits or "_" only, without the leading "#"',
    ],
    [
      { ...item, hashtags: Array.from({ length: 31 }, (_, i) => `t${i}`) },
      'hashtags: must list at most 30 hashtags',
    ],
    [{ ...item, caption: 'x'.repeat(2201) }, 'caption: must be at most 2,200 characters'],
    [{ ...item, duration_ms: 0 }, 'duration_ms: must be > 0 milliseconds'],
    [{ ...item, created_ts: undefined }, 'created_ts: is required'],
  ])('rejects %#', (input, expected) => {
    expect(check(ItemSchema, input)).toContain(expected);
  });
});
