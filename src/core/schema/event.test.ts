import { describe, expect, it } from 'vitest';
import { ForyouError } from '../errors.js';
import { EVENT_TYPES, EventSchema } from './event.js';
import { parseRecord, safeParseRecord } from './validate.js';

const base = { event_id: 'e-1', user_id: 'u1', ts: Date.UTC(2026, 0, 1) };

const valid: Record<string, object> = {
  impression: { ...base, type: 'impression', item_id: 'v1', request_id: 'r1', position: 0 },
  play: { ...base, type: 'play', item_id: 'v1', watch_ms: 12_000, duration_ms: 15_000, request_id: 'r1' },
  like: { ...base, type: 'like', item_id: 'v1' },
  share: { ...base, type: 'share', item_id: 'v1' },
  comment: { ...base, type: 'comment', item_id: 'v1', text: '好看 😍' },
  follow: { ...base, type: 'follow', creator_id: 'c1', item_id: 'v1' },
  skip: { ...base, type: 'skip', item_id: 'v1', watch_ms: 800 },
  not_interested: { ...base, type: 'not_interested', item_id: 'v1' },
  search: { ...base, type: 'search', query: 'street food tokyo' },
  rating: { ...base, type: 'rating', item_id: 'v1', value: 4.5 },
  play_count: { ...base, type: 'play_count', item_id: 'a1', count: 13 },
};

function messageOf(input: unknown): string {
  const result = safeParseRecord(EventSchema, input);
  if (result.ok) throw new Error('expected a rejection');
  return result.message;
}

describe('event schema', () => {
  it('accepts one valid example of every event type', () => {
    expect(Object.keys(valid).sort()).toEqual([...EVENT_TYPES].sort());
    for (const [type, event] of Object.entries(valid)) {
      const result = safeParseRecord(EventSchema, event);
      expect(result.ok, `${type}: ${result.ok ? '' : result.message}`).toBe(true);
    }
  });

  it.each([
    ['an unknown type', { ...base, type: 'poke', item_id: 'v1' }, 'type: must be one of impression, play'],
    ['a negative watch time', { ...valid.play, watch_ms: -1 }, 'watch_ms: must be >= 0'],
    [
      'a fractional watch time',
      { ...valid.play, watch_ms: 1.5 },
      'watch_ms: must be a whole number of milliseconds',
    ],
    ['a zero duration', { ...valid.play, duration_ms: 0 }, 'duration_ms: must be > 0'],
    [
      'a video over an hour',
      { ...valid.play, duration_ms: 3_600_001 },
      'duration_ms: must be at most one hour',
    ],
    [
      'an impression without request id',
      { ...base, type: 'impression', item_id: 'v1', position: 1 },
      'request_id: is required',
    ],
    ['a negative position', { ...valid.impression, position: -1 }, 'position: must be >= 0'],
    [
      'a timestamp in microseconds',
      { ...valid.like, ts: Date.UTC(2026, 0, 1) * 1000 },
      'ts: is after the year 2100',
    ],
    ['a timestamp as a string', { ...valid.like, ts: '2026-01-01' }, 'ts: must be a number of milliseconds'],
    ['an id with a space', { ...valid.like, user_id: 'user 1' }, 'user_id: user id must be 1-128 characters'],
    ['an empty item id', { ...valid.like, item_id: '' }, 'item_id: item id must be 1-128 characters'],
    ['a blank search', { ...valid.search, query: '   ' }, 'query: must not be empty'],
    ['a follow without a creator', { ...base, type: 'follow' }, 'creator_id: is required'],
    ['an unknown field', { ...valid.like, watch_ms: 3 }, 'unknown field "watch_ms"'],
    ['a rating above 10', { ...valid.rating, value: 11 }, 'value: must be at most 10'],
    ['a zero play count', { ...valid.play_count, count: 0 }, 'count: must be > 0'],
    ['null', null, 'expected object, received null'],
  ])('rejects %s with a message naming the field', (_label, input, expected) => {
    expect(messageOf(input)).toContain(expected);
  });

  it('reports every broken field at once', () => {
    const message = messageOf({ ...valid.play, watch_ms: -1, duration_ms: 'long', event_id: '' });
    expect(message).toContain('watch_ms');
    expect(message).toContain('duration_ms');
    expect(message).toContain('event_id');
  });

  it('parseRecord throws FY_VALIDATION_FAILED with the issues in its details', () => {
    try {
      parseRecord(EventSchema, { ...valid.play, watch_ms: -1 }, 'event');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ForyouError);
      const e = error as ForyouError;
      expect(e.code).toBe('FY_VALIDATION_FAILED');
      expect(e.message).toBe('invalid event: watch_ms: must be >= 0');
      expect(e.details.issues).toEqual([{ path: 'watch_ms', message: 'must be >= 0' }]);
    }
  });
});
