/**
 * An open-loop load generator: requests arrive at a fixed rate whatever the server does, the way users
 * arrive. Request i is due at start + i / rate. Its latency runs from that intended time to its completion,
 * not from the moment it actually left, so when the server (or the generator's own event loop) stalls, the
 * requests that should have gone out during the stall carry the wait in their latency instead of silently
 * vanishing from the record. This is the correction for coordinated omission; a closed-loop generator, or
 * one that measures from the actual send, reports the stall as one slow request among many fast ones.
 *
 * Timing: waits of a millisecond or more sleep on setTimeout; shorter ones spin on setImmediate, which
 * still lets I/O callbacks (responses) run between checks but keeps the generator's thread busy (unless
 * `spin` is false). Requests
 * that fall due together are fired together. `sendLagMs` reports how late the generator itself was; when it
 * is large, the generator, not the server, is the bottleneck.
 */
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { type Summary, summarize } from './stats.js';

export interface OpenLoopOptions {
  /** Arrival rate, requests per second. */
  ratePerSec: number;
  /** Length of the measured window. */
  durationMs: number;
  /** Requests fired at the same rate before the measured window; not recorded. Default 0. */
  warmupMs?: number;
  /** Sends one request; resolves on success, rejects (or throws) on error. */
  fire: () => Promise<unknown>;
  /** A request due while this many are in flight is dropped and counted. Default 10,000. */
  maxInFlight?: number;
  /** After the last send, how long to wait for outstanding requests. Default 10,000 ms. */
  drainTimeoutMs?: number;
  /**
   * Spin (on setImmediate) through waits shorter than a millisecond, for sends on time to the microsecond.
   * Default true. False sleeps on a timer to the next whole millisecond instead: sends are then up to a
   * millisecond or so late (charged to latency, which runs from the intended time), but the generator
   * leaves the CPU alone, which matters when it shares a small machine with the server it measures.
   */
  spin?: boolean;
}

export interface OpenLoopResult {
  targetRatePerSec: number;
  durationMs: number;
  warmupMs: number;
  /** Requests due in the measured window. */
  scheduled: number;
  /** Of those: sent, succeeded, failed, dropped for maxInFlight, still outstanding after the drain timeout. */
  sent: number;
  ok: number;
  errors: number;
  dropped: number;
  incomplete: number;
  /** Sends per second over the window. */
  sentRatePerSec: number;
  /** Successes per second, from the window's start to the later of its end and the last completion. */
  achievedRatePerSec: number;
  /** Successful requests, from intended send time to completion (the latency that matters). */
  latencyMs: Summary;
  /** Successful requests, from actual send time to completion (what a naive generator would report). */
  serviceMs: Summary;
  /** How late the generator sent each request it sent (actual - intended). */
  sendLagMs: Summary;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Latency of each scheduled request in the window, by arrival order; NaN unless it succeeded. */
  latenciesMs: Float64Array;
  /** Message of the first error seen in the window, if any. */
  firstError?: string;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `fire` at a fixed arrival rate and measures latency from each request's intended send time. */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { ratePerSec, durationMs, fire } = options;
  const warmupMs = options.warmupMs ?? 0;
  const maxInFlight = options.maxInFlight ?? 10_000;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const spin = options.spin ?? true;
  if (!(ratePerSec > 0 && Number.isFinite(ratePerSec)))
    throw new RangeError(`ratePerSec must be > 0, got ${ratePerSec}`);
  if (!(durationMs > 0)) throw new RangeError(`durationMs must be > 0, got ${durationMs}`);
  if (!(warmupMs >= 0)) throw new RangeError(`warmupMs must be >= 0, got ${warmupMs}`);
  if (!(maxInFlight >= 1)) throw new RangeError(`maxInFlight must be >= 1, got ${maxInFlight}`);

  const periodNs = 1e9 / ratePerSec;
  // Request i is due at i * period; the window holds those due in [warmupMs, warmupMs + durationMs).
  const countBefore = (ms: number) => Math.max(0, Math.ceil((ms * ratePerSec) / 1000 - 1e-9));
  const first = countBefore(warmupMs);
  const total = countBefore(warmupMs + durationMs);
  const scheduled = total - first;
  const windowStartNs = warmupMs * 1e6;
  const windowEndNs = (warmupMs + durationMs) * 1e6;

  const latencies = new Float64Array(scheduled).fill(Number.NaN);
  const service: number[] = [];
  const lags: number[] = [];
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let dropped = 0;
  let inFlight = 0;
  let lastDoneNs = 0;
  let firstError: string | undefined;
  let allSent = false;
  let drained: (() => void) | null = null;

  const t0 = process.hrtime.bigint();
  const elapsedNs = () => Number(process.hrtime.bigint() - t0);

  const settle = (i: number, intendedNs: number, sentNs: number, error: unknown, failed: boolean) => {
    inFlight--;
    const doneNs = elapsedNs();
    const k = i - first;
    if (k >= 0) {
      if (failed) {
        errors++;
        firstError ??= describe(error);
      } else {
        ok++;
        latencies[k] = (doneNs - intendedNs) / 1e6;
        service.push((doneNs - sentNs) / 1e6);
        if (doneNs > lastDoneNs) lastDoneNs = doneNs;
      }
    }
    if (allSent && inFlight === 0) drained?.();
  };

  const launch = (i: number) => {
    const intendedNs = i * periodNs;
    const measured = i >= first;
    if (inFlight >= maxInFlight) {
      if (measured) dropped++;
      return;
    }
    inFlight++;
    const sentNs = elapsedNs();
    if (measured) {
      sent++;
      lags.push((sentNs - intendedNs) / 1e6);
    }
    let promise: Promise<unknown>;
    try {
      promise = fire();
    } catch (error) {
      settle(i, intendedNs, sentNs, error, true);
      return;
    }
    Promise.resolve(promise).then(
      () => settle(i, intendedNs, sentNs, undefined, false),
      (error: unknown) => settle(i, intendedNs, sentNs, error, true),
    );
  };

  let next = 0;
  while (next < total) {
    const now = elapsedNs();
    while (next < total && next * periodNs <= now) launch(next++);
    if (next >= total) break;
    const waitMs = (next * periodNs - elapsedNs()) / 1e6;
    if (waitMs >= 1) await sleep(Math.floor(waitMs));
    else if (spin) await immediate();
    else await sleep(1);
  }
  allSent = true;

  if (inFlight > 0) {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      drained = resolve;
      timer = setTimeout(resolve, drainTimeoutMs);
    });
    clearTimeout(timer);
  }
  const incomplete = sent - ok - errors;

  const latencyMs = summarize(latencies.filter((v) => !Number.isNaN(v)));
  const spanNs = Math.max(windowEndNs, lastDoneNs) - windowStartNs;
  const result: OpenLoopResult = {
    targetRatePerSec: ratePerSec,
    durationMs,
    warmupMs,
    scheduled,
    sent,
    ok,
    errors,
    dropped,
    incomplete,
    sentRatePerSec: sent / (durationMs / 1000),
    achievedRatePerSec: ok / (spanNs / 1e9),
    latencyMs,
    serviceMs: summarize(service),
    sendLagMs: summarize(lags),
    p50: latencyMs.median,
    p90: latencyMs.p90,
    p99: latencyMs.p99,
    p999: latencyMs.p999,
    max: latencyMs.max,
    latenciesMs: latencies,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}

export interface RateStep {
  ratePerSec: number;
  result: OpenLoopResult;
  pass: boolean;
  /** Why the step failed; empty when it passed. */
  reasons: string[];
}

export interface FindMaxRateOptions extends Omit<OpenLoopOptions, 'ratePerSec'> {
  /** Rates to try, ascending (see geometricRates). */
  rates: readonly number[];
  /** A step passes when its p99 latency is at most this. */
  p99TargetMs: number;
  /** Largest share of scheduled requests that may fail, drop or stay incomplete. Default 0.001. */
  maxFailureRate?: number;
  /** Achieved rate must reach this share of the target rate. Default 0.9. */
  minAchievedFraction?: number;
  /** Keep trying higher rates after a failure (the best passing one still wins). Default false. */
  continueAfterFail?: boolean;
  /** Pause between steps so queues left by one step do not leak into the next. Default 200 ms. */
  pauseMs?: number;
  /** Called after each step, e.g. to log progress. */
  onStep?: (step: RateStep) => void;
  /**
   * Each step runs at least long enough to send this many requests (its duration grows at low rates), so
   * its p99 is not just the second-worst of a hundred latencies. Default 0: every step lasts `durationMs`.
   */
  minRequests?: number;
}

/** `start`, `start * factor`, ... up to and including `max` (rounded to whole requests per second). */
export function geometricRates(start: number, factor: number, max: number): number[] {
  if (!(start > 0) || !(factor > 1) || !(max >= start))
    throw new RangeError('geometricRates needs start > 0, factor > 1 and max >= start');
  const out: number[] = [];
  for (let r = start; r <= max * (1 + 1e-9); r *= factor) out.push(Math.round(r));
  return out;
}

/** Steps through `rates` with openLoop and returns the largest one whose p99 meets the target. */
export async function findMaxRate(
  options: FindMaxRateOptions,
): Promise<{ best: RateStep | null; steps: RateStep[] }> {
  const { rates, p99TargetMs, onStep, continueAfterFail, minRequests = 0, ...loop } = options;
  const maxFailureRate = options.maxFailureRate ?? 0.001;
  const minAchievedFraction = options.minAchievedFraction ?? 0.9;
  const pauseMs = options.pauseMs ?? 200;
  const steps: RateStep[] = [];
  let best: RateStep | null = null;
  for (const [index, ratePerSec] of rates.entries()) {
    if (index > 0 && pauseMs > 0) await sleep(pauseMs);
    const result = await openLoop({
      ratePerSec,
      durationMs: Math.max(loop.durationMs, Math.ceil((1000 * minRequests) / ratePerSec)),
      fire: loop.fire,
      ...(loop.warmupMs === undefined ? {} : { warmupMs: loop.warmupMs }),
      ...(loop.maxInFlight === undefined ? {} : { maxInFlight: loop.maxInFlight }),
      ...(loop.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: loop.drainTimeoutMs }),
      ...(loop.spin === undefined ? {} : { spin: loop.spin }),
    });
    const reasons: string[] = [];
    if (!(result.p99 <= p99TargetMs))
      reasons.push(`p99 ${result.p99.toFixed(2)} ms > target ${p99TargetMs} ms`);
    const failed = result.errors + result.dropped + result.incomplete;
    if (failed > maxFailureRate * result.scheduled)
      reasons.push(`${failed} of ${result.scheduled} requests failed, dropped or incomplete`);
    if (result.achievedRatePerSec < minAchievedFraction * ratePerSec)
      reasons.push(`achieved ${result.achievedRatePerSec.toFixed(1)}/s of ${ratePerSec}/s`);
    const step: RateStep = { ratePerSec, result, pass: reasons.length === 0, reasons };
    steps.push(step);
    onStep?.(step);
    if (step.pass) {
      if (best === null || ratePerSec > best.ratePerSec) best = step;
    } else if (!continueAfterFail) break;
  }
  return { best, steps };
}
