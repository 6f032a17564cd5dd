import { describe, expect, it } from 'vitest';
import { type RequestTrace, TraceBuffer } from './trace.js';

const traceOf = (requestId: string, ms = 1): RequestTrace => ({
  requestId,
  pipeline: 'p',
  startedAt: '2026-11-27T00:00:00.000Z',
  ms,
  deadlineMs: 80,
  qualityFactor: 1,
  degraded: false,
  reasons: [],
  components: [
    {
      id: 'ranker',
      kind: 'scorer',
      startMs: 0,
      ms,
      callMs: ms,
      in: 2,
      out: 2,
      status: 'ok',
      scores: [
        { id: 'v1', score: 0.5 },
        { id: 'v2', score: Number.NaN },
      ],
    },
  ],
});

describe('TraceBuffer', () => {
  it('keeps the last traces, newest first, and finds one by request id', () => {
    const buffer = new TraceBuffer(3);
    expect(buffer.recent()).toEqual([]);
    for (const id of ['a', 'b', 'c', 'd', 'e']) buffer.add(traceOf(id));
    expect(buffer.recent().map((t) => t.requestId)).toEqual(['e', 'd', 'c']);
    expect(buffer.recent(2).map((t) => t.requestId)).toEqual(['e', 'd']);
    expect(buffer.find('c')?.requestId).toBe('c');
    expect(buffer.find('b')).toBeUndefined();
    // A repeated id finds the newest.
    buffer.add(traceOf('d', 7));
    expect(buffer.find('d')?.ms).toBe(7);
  });

  it('gives back what it was given, but for numbers JSON cannot hold, which read as null', () => {
    const buffer = new TraceBuffer(2);
    const trace = traceOf('a');
    buffer.add(trace);
    const kept = buffer.find('a')!;
    expect(kept).not.toBe(trace);
    expect(kept.components[0]!.scores).toEqual([
      { id: 'v1', score: 0.5 },
      { id: 'v2', score: null },
    ]);
    expect({ ...kept, components: [] }).toEqual({ ...trace, components: [] });
  });

  it('refuses a capacity that is not a whole number >= 1', () => {
    expect(() => new TraceBuffer(0)).toThrow(/capacity must be a whole number >= 1, not 0/);
  });
});
