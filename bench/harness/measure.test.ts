import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { measure, measureEach } from './measure.js';

function spin(n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.sqrt(i);
  return s;
}

describe('measure', () => {
  it('takes exactly the requested runs after the requested warm-up runs', async () => {
    let calls = 0;
    const m = await measure(
      () => {
        calls++;
        return spin(100);
      },
      { warmupRuns: 3, runs: 7, batch: 2 },
    );
    expect(m.runs).toBe(7);
    expect(m.samples).toHaveLength(7);
    expect(m.warmupRuns).toBe(3);
    expect(m.batch).toBe(2);
    expect(calls).toBe((3 + 7) * 2);
    expect(m.async).toBe(false);
    for (const s of m.samples) expect(s).toBeGreaterThan(0);
    expect(m.stats.count).toBe(7);
    expect(m.stats.min).toBeLessThanOrEqual(m.stats.median);
    expect(m.stats.median).toBeLessThanOrEqual(m.stats.max);
  });

  it('warms up for at least warmupMs before timing', async () => {
    let calls = 0;
    const m = await measure(
      () => {
        calls++;
        return spin(1000);
      },
      { warmupMs: 30, runs: 1 },
    );
    expect(m.warmupMs).toBeGreaterThanOrEqual(30);
    expect(m.warmupRuns).toBeGreaterThan(0);
    expect(calls).toBe(m.warmupRuns + 1);
  });

  it('keeps going until minTimeMs of timed runs when asked', async () => {
    const m = await measure(() => spin(1000), { warmupRuns: 0, runs: 2, minTimeMs: 20 });
    expect(m.timedMs).toBeGreaterThanOrEqual(20);
    expect(m.runs).toBeGreaterThanOrEqual(2);
  });

  it('awaits async functions and times their whole duration', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const m = await measure(
      async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep(5);
        inFlight--;
      },
      { warmupRuns: 1, runs: 3 },
    );
    expect(m.async).toBe(true);
    expect(maxInFlight).toBe(1);
    // setTimeout(5) never fires early; 4 ms leaves room for timer rounding.
    expect(m.stats.min).toBeGreaterThan(4e6);
  });

  it('derives throughput from the median and the items per call', async () => {
    const m = await measure(() => spin(500), { warmupRuns: 2, runs: 9, items: 500 });
    expect(m.opsPerSec).toBeCloseTo(1e9 / m.stats.median, 6);
    expect(m.itemsPerSec).toBeCloseTo(m.opsPerSec * 500, 3);
  });

  it("grows the batch with 'auto' until a run is long enough to time", async () => {
    const m = await measure(() => spin(10), { batch: 'auto', targetRunMs: 1, runs: 3 });
    expect(m.batch).toBeGreaterThan(1);
    expect(m.stats.median * m.batch).toBeGreaterThan(0.5e6);
  });

  it('rejects nonsense options', async () => {
    await expect(measure(() => 0, { runs: 0 })).rejects.toThrow(RangeError);
    await expect(measure(() => 0, { batch: 1.5 })).rejects.toThrow(RangeError);
  });
});

describe('measureEach', () => {
  it('measures every function the requested number of runs, interleaved, the order reversed every other round', async () => {
    const order: string[] = [];
    const m = await measureEach(
      {
        a: () => {
          order.push('a');
          return spin(100);
        },
        b: () => {
          order.push('b');
          return spin(200);
        },
      },
      { warmupRuns: 1, runs: 4 },
    );
    expect(m.a.runs).toBe(4);
    expect(m.b.runs).toBe(4);
    // Warm-up a, warm-up b, then rounds of a b and b a in turn.
    expect(order).toEqual(['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b', 'b', 'a']);
  });
});
