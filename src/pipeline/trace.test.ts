import { describe, expect, it } from 'vitest';
import { type RequestTrace, TraceBuffer } from './trace.js';

const traceOf = (requestId: string, degraded = false): RequestTrace => ({
  requestId,
  pipeline: 'p',
  startedAt: '2026-11-27T00:00:00.000Z',
  ms: 1,
  deadlineMs: 80,
  qualityFactor: 1,
  degraded,
  reasons: degraded ? ['ranker: timed out after 5 ms'] : [],
  components: [],
});

describe('TraceBuffer', () => {
  it('keeps the last traces, newest first, and finds one by request id', () => {
    const buffer = new TraceBuffer(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) buffer.add(traceOf(id));
    expect(buffer.recent().map((t) => t.requestId)).toEqual(['e', 'd', 'c']);
    expect(buffer.recent(2).map((t) => t.requestId)).toEqual(['e', 'd']);
    expect(buffer.find('c')?.requestId).toBe('c');
    expect(buffer.find('b')).toBeUndefined();
  });

  it('keeps every n-th trace, every degraded one and every one asked for', () => {
    const buffer = new TraceBuffer(10, 3);
    for (let k = 0; k < 9; k++) buffer.add(traceOf(`r${k}`, k === 4), k === 8);
    expect(buffer.recent().map((t) => t.requestId)).toEqual(['r8', 'r6', 'r4', 'r3', 'r0']);
  });

  it('refuses a capacity or a sampling step that is not a whole number >= 1', () => {
    expect(() => new TraceBuffer(0)).toThrow(/capacity must be a whole number >= 1, not 0/);
    expect(() => new TraceBuffer(10, 0.5)).toThrow(/every must be a whole number >= 1, not 0.5/);
  });
});
