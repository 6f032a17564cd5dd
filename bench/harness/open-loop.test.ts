import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { findMaxRate, geometricRates, openLoop } from './open-loop.js';

/**
 * Completes no earlier than `ms` after the call, yielding to the event loop meanwhile. A plain
 * `setTimeout(ms)` may fire up to a millisecond early because libuv measures it from a cached loop time.
 */
async function atLeast(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) await immediate();
}

/** Blocks the event loop, like a synchronous stall in an in-process server. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('openLoop', () => {
  it('sends at the target rate and counts every scheduled request', async () => {
    const r = await openLoop({ ratePerSec: 200, durationMs: 1000, warmupMs: 200, fire: () => atLeast(2) });
    expect(r.scheduled).toBe(200);
    expect(r.sent).toBe(200);
    expect(r.ok).toBe(200);
    expect(r.errors + r.dropped + r.incomplete).toBe(0);
    expect(r.achievedRatePerSec).toBeGreaterThan(140);
    expect(r.achievedRatePerSec).toBeLessThan(220);
    expect(r.sentRatePerSec).toBe(200);
    // Latency covers at least the 2 ms the request takes; generous upper bound for a busy machine.
    expect(r.latencyMs.min).toBeGreaterThanOrEqual(2);
    expect(r.p50).toBeGreaterThanOrEqual(2);
    expect(r.p50).toBeLessThan(100);
    expect(r.p50).toBeLessThanOrEqual(r.p90);
    expect(r.p90).toBeLessThanOrEqual(r.p99);
    expect(r.p99).toBeLessThanOrEqual(r.p999);
    expect(r.p999).toBeLessThanOrEqual(r.max);
    expect(r.latenciesMs).toHaveLength(200);
  });

  it('without spinning still sends every request, none before its time', async () => {
    const r = await openLoop({
      ratePerSec: 200,
      durationMs: 1000,
      warmupMs: 200,
      fire: () => sleep(2),
      spin: false,
    });
    expect(r.sent).toBe(200);
    expect(r.ok).toBe(200);
    // Timers fire late, never early: no request leaves before its time.
    expect(r.sendLagMs.min).toBeGreaterThanOrEqual(0);
  });

  it('charges a stall to every request scheduled behind it (latency from the intended send time)', async () => {
    let calls = 0;
    const stallAt = 50;
    const r = await openLoop({
      ratePerSec: 200,
      durationMs: 1000,
      fire: async () => {
        calls++;
        if (calls === stallAt) busyWait(300);
        await sleep(1);
      },
    });
    expect(r.ok).toBe(r.scheduled);
    // Request stallAt - 1 blocked the generator for 300 ms. The next one was due 5 ms into the stall and
    // left only when it ended, so its latency is about 295 ms although its own service time was ~1 ms.
    const next = r.latenciesMs[stallAt] as number;
    expect(next).toBeGreaterThan(150);
    // About 60 requests fell due during the stall, 30% of the window: they lift p90, while the time from
    // actual send to completion (what a naive generator measures) stays small for all but the stalled one.
    const slow = r.latenciesMs.filter((v) => v > 100).length;
    expect(slow).toBeGreaterThan(20);
    expect(r.p90).toBeGreaterThan(100);
    expect(r.serviceMs.p90).toBeLessThan(50);
    expect(r.sendLagMs.max).toBeGreaterThan(150);
    // Well before the stall, requests were fast.
    expect(r.latenciesMs[10] as number).toBeLessThan(50);
  });

  it('drops requests beyond maxInFlight and counts them', async () => {
    const r = await openLoop({ ratePerSec: 100, durationMs: 500, maxInFlight: 5, fire: () => sleep(300) });
    expect(r.scheduled).toBe(50);
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.sent + r.dropped).toBe(r.scheduled);
    expect(r.ok).toBe(r.sent);
    expect(r.latenciesMs.filter((v) => Number.isNaN(v))).toHaveLength(r.dropped);
  });

  it('counts rejected and throwing requests as errors and keeps the first message', async () => {
    let calls = 0;
    const r = await openLoop({
      ratePerSec: 200,
      durationMs: 200,
      fire: () => {
        calls++;
        if (calls % 4 === 0) return Promise.reject(new Error('boom'));
        if (calls % 4 === 1) throw new Error('sync boom');
        return Promise.resolve();
      },
    });
    expect(r.scheduled).toBe(40);
    expect(r.errors).toBe(20);
    expect(r.ok).toBe(20);
    expect(r.firstError).toBe('sync boom');
    expect(r.latencyMs.count).toBe(20);
  });

  it('reports incomplete requests after the drain timeout instead of hanging', async () => {
    const r = await openLoop({
      ratePerSec: 50,
      durationMs: 100,
      drainTimeoutMs: 50,
      fire: () => new Promise(() => {}),
    });
    expect(r.incomplete).toBe(r.sent);
    expect(r.ok).toBe(0);
    expect(r.latencyMs.count).toBe(0);
  });

  it('drives a local node:http server at the target rate', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const fire = () =>
      new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end();
      });
    try {
      const r = await openLoop({ ratePerSec: 100, durationMs: 1000, warmupMs: 200, fire });
      expect(r.scheduled).toBe(100);
      expect(r.ok).toBe(100);
      expect(r.errors).toBe(0);
      expect(r.achievedRatePerSec).toBeGreaterThan(70);
      expect(r.achievedRatePerSec).toBeLessThan(110);
      expect(r.p99).toBeLessThan(500);
    } finally {
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects a non-positive rate or duration', async () => {
    await expect(openLoop({ ratePerSec: 0, durationMs: 10, fire: async () => {} })).rejects.toThrow(
      RangeError,
    );
    await expect(openLoop({ ratePerSec: 10, durationMs: 0, fire: async () => {} })).rejects.toThrow(
      RangeError,
    );
  });
});

describe('findMaxRate', () => {
  it('returns the largest rate whose p99 meets the target', async () => {
    // A single server that takes 5 ms per request: capacity 200 requests/s, queueing beyond that.
    let busyUntil = 0;
    const fire = () => {
      const now = performance.now();
      const start = Math.max(now, busyUntil);
      busyUntil = start + 5;
      return sleep(busyUntil - now);
    };
    const seen: number[] = [];
    const { best, steps } = await findMaxRate({
      rates: [50, 100, 400, 800],
      p99TargetMs: 60,
      durationMs: 500,
      pauseMs: 100,
      fire,
      onStep: (s) => seen.push(s.ratePerSec),
    });
    expect(best?.ratePerSec).toBe(100);
    expect(steps.map((s) => s.pass)).toEqual([true, true, false]);
    expect(steps[2]?.reasons.join(' ')).toMatch(/p99/);
    expect(seen).toEqual([50, 100, 400]);
  });

  it('lengthens a step at a low rate to send at least minRequests', async () => {
    const { steps } = await findMaxRate({
      rates: [100, 400],
      p99TargetMs: 1000,
      durationMs: 100,
      minRequests: 60,
      pauseMs: 0,
      fire: () => sleep(1),
    });
    // 100/s for 60 requests: 600 ms instead of 100; 400/s sends 60 within 150 ms.
    expect(steps.map((s) => s.result.scheduled)).toEqual([60, 60]);
  });

  it('builds geometric rate ladders', () => {
    expect(geometricRates(100, 2, 800)).toEqual([100, 200, 400, 800]);
    expect(geometricRates(100, 1.5, 400)).toEqual([100, 150, 225, 338]);
    expect(() => geometricRates(100, 1, 800)).toThrow(RangeError);
  });
});
