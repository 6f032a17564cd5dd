import { describe, expect, it } from 'vitest';
import { IdDictionary } from '../core/id-dictionary.js';
import { CandidatePool, FeedCandidate } from './feed-query.js';

describe('CandidatePool', () => {
  const ids = IdDictionary.of(['v0', 'v1', 'v2', 'v3']);

  it('hands a finished request its candidates again, every field set afresh', () => {
    const pool = new CandidatePool();
    const first = pool.lease();
    const a = first.take(ids, 1, 'ann-factors', 0.5);
    a.featureRow = 7;
    a.score = 3;
    expect(a).toBeInstanceOf(FeedCandidate);
    expect(pool.idle).toBe(0);
    first.giveBack();
    expect(pool.idle).toBe(1);

    const second = pool.lease();
    const b = second.take(ids, 3, 'trending', 0.25);
    expect(b).toBe(a);
    expect(b).toMatchObject({ item: 3, key: 3, source: 'trending', retrieval: 0.25, featureRow: -1 });
    expect(b.score).toBeNaN();
    expect(b.id).toBe('v3');
    // The pool is empty again: the next one is new.
    const c = second.take(ids, 0, 'fresh', 0);
    expect(c).not.toBe(a);
    expect(c.id).toBe('v0');
  });

  it('keeps at most its capacity between requests', () => {
    const pool = new CandidatePool(2);
    const lease = pool.lease();
    for (let i = 0; i < 4; i++) lease.take(ids, i, 'ann-factors', 0);
    lease.giveBack();
    expect(pool.idle).toBe(2);
    // A lease gives back only once: a second call has nothing left to give.
    lease.giveBack();
    expect(pool.idle).toBe(2);
  });
});
