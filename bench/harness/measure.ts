/**
 * Repeated timed runs of one function (or several, interleaved): warm-up, then runs timed with
 * process.hrtime.bigint(). A run is `batch` back-to-back calls; each sample is the run's duration divided by
 * `batch`, so samples are nanoseconds per call. Throughput comes from the median sample.
 */
import { type Summary, summarize } from './stats.js';

/** A function under test. It may return a promise; it is then awaited before the next call. */
export type BenchFn = () => unknown;

export interface MeasureOptions {
  /** Untimed runs before measuring (each of `batch` calls). */
  warmupRuns?: number;
  /** Keep warming up until this much time has passed (after `warmupRuns`, if both are given). */
  warmupMs?: number;
  /** Timed runs to keep. With `minTimeMs` as well, both must be met. */
  runs?: number;
  /** Keep taking timed runs until their total time reaches this. */
  minTimeMs?: number;
  /** Safety cap on timed runs when `minTimeMs` drives the count. Default 1,000,000. */
  maxRuns?: number;
  /**
   * Calls per timed run. 'auto' doubles it during warm-up until one run lasts at least `targetRunMs`, so the
   * timer's own cost (tens of nanoseconds) vanishes against the run. Default 1.
   */
  batch?: number | 'auto';
  /** Run length that batch 'auto' aims for. Default 2 ms. */
  targetRunMs?: number;
  /** Items processed by one call (draws, rows, requests), to derive items/s. Default 1. */
  items?: number;
}

export interface Measurement {
  /** Nanoseconds per call, one sample per timed run, in the order they were taken. */
  samples: Float64Array;
  /** Statistics of `samples` (nanoseconds per call). */
  stats: Summary;
  runs: number;
  batch: number;
  items: number;
  /** Whether the function returned promises (and was awaited). */
  async: boolean;
  /** Warm-up runs actually made, including batch calibration. */
  warmupRuns: number;
  /** Wall time spent warming up. */
  warmupMs: number;
  /** Sum of the timed runs. */
  timedMs: number;
  /** Calls per second at the median sample. */
  opsPerSec: number;
  /** Items per second at the median sample (`opsPerSec * items`). */
  itemsPerSec: number;
}

const DEFAULT_RUNS = 30;
const DEFAULT_WARMUP_MS = 100;
const DEFAULT_MAX_RUNS = 1_000_000;
const MAX_BATCH = 2 ** 30;

/** Results land here so the optimiser cannot drop a call whose value nobody reads. */
let sink: unknown;

/** Read the sink (keeps it observable; benchmarks do not need it). */
export function blackhole(): unknown {
  return sink;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** One function with its batch size; `run()` times one run and returns its total nanoseconds. */
class Runner {
  batch: number;
  async = false;

  constructor(
    private readonly fn: BenchFn,
    batch: number,
  ) {
    this.batch = batch;
  }

  async run(): Promise<number> {
    const fn = this.fn;
    const n = this.batch;
    const t0 = nowNs();
    const first = fn();
    if (isThenable(first)) {
      this.async = true;
      sink = await first;
      for (let i = 1; i < n; i++) sink = await fn();
    } else {
      sink = first;
      for (let i = 1; i < n; i++) sink = fn();
    }
    return Number(nowNs() - t0);
  }
}

interface Plan {
  warmupRuns: number;
  warmupMs: number;
  runs: number;
  minTimeMs: number;
  maxRuns: number;
  batch: number | 'auto';
  targetRunMs: number;
  items: number;
}

function plan(options: MeasureOptions): Plan {
  const noWarmup = options.warmupRuns === undefined && options.warmupMs === undefined;
  const noStop = options.runs === undefined && options.minTimeMs === undefined;
  const p: Plan = {
    warmupRuns: options.warmupRuns ?? 0,
    warmupMs: options.warmupMs ?? (noWarmup ? DEFAULT_WARMUP_MS : 0),
    runs: options.runs ?? (noStop ? DEFAULT_RUNS : 1),
    minTimeMs: options.minTimeMs ?? 0,
    maxRuns: options.maxRuns ?? DEFAULT_MAX_RUNS,
    batch: options.batch ?? 1,
    targetRunMs: options.targetRunMs ?? 2,
    items: options.items ?? 1,
  };
  const counts: [string, number][] = [
    ['warmupRuns', p.warmupRuns],
    ['runs', p.runs],
    ['maxRuns', p.maxRuns],
  ];
  if (p.batch !== 'auto') counts.push(['batch', p.batch]);
  for (const [key, value] of counts) {
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`${key} must be an integer >= 0, got ${value}`);
  }
  if (p.batch !== 'auto' && p.batch < 1) throw new RangeError('batch must be at least 1');
  if (p.runs < 1) throw new RangeError('runs must be at least 1');
  if (!(p.items > 0)) throw new RangeError(`items must be > 0, got ${p.items}`);
  return p;
}

/** Next batch size for 'auto', or the same one when a run of `ns` already meets the target. */
function grow(batch: number, ns: number, targetNs: number): number {
  if (ns >= targetNs || batch >= MAX_BATCH) return batch;
  // Double while runs are too short to time reliably, then jump close to the target in one step.
  const factor = ns > 50_000 ? Math.min(16, Math.max(2, Math.ceil((targetNs / ns) * 1.1))) : 2;
  return Math.min(MAX_BATCH, batch * factor);
}

/**
 * Warm-up for one runner: `warmupRuns`, then until `warmupMs` has passed. With batch 'auto' every warm-up
 * run also grows the batch, and a final calibration continues until a run of the now-optimised code
 * reaches `targetRunMs` (cold code is slower, so calibrating on it alone would pick too small a batch).
 */
async function warmUp(runner: Runner, p: Plan): Promise<{ runs: number; ms: number }> {
  const start = nowNs();
  const auto = p.batch === 'auto';
  const targetNs = p.targetRunMs * 1e6;
  let runs = 0;
  const step = async (): Promise<number> => {
    const ns = await runner.run();
    runs++;
    if (auto) runner.batch = grow(runner.batch, ns, targetNs);
    return ns;
  };
  for (let i = 0; i < p.warmupRuns; i++) await step();
  const warmNs = p.warmupMs * 1e6;
  while (Number(nowNs() - start) < warmNs) await step();
  if (auto) {
    for (;;) {
      const before = runner.batch;
      await step();
      if (runner.batch === before) break;
    }
  }
  return { runs, ms: Number(nowNs() - start) / 1e6 };
}

function finish(runner: Runner, p: Plan, samples: number[], warm: { runs: number; ms: number }): Measurement {
  const arr = Float64Array.from(samples);
  const stats = summarize(arr);
  let timedNs = 0;
  for (const s of samples) timedNs += s * runner.batch;
  const opsPerSec = 1e9 / stats.median;
  return {
    samples: arr,
    stats,
    runs: arr.length,
    batch: runner.batch,
    items: p.items,
    async: runner.async,
    warmupRuns: warm.runs,
    warmupMs: warm.ms,
    timedMs: timedNs / 1e6,
    opsPerSec,
    itemsPerSec: opsPerSec * p.items,
  };
}

function done(p: Plan, runs: number, timedNs: number): boolean {
  if (runs >= p.maxRuns) return true;
  return runs >= p.runs && timedNs >= p.minTimeMs * 1e6;
}

/**
 * Times `fn`: warm-up, then repeated runs. Defaults: 100 ms of warm-up and 30 runs of one call each.
 *
 * ```ts
 * const m = await measure(() => table.sample(rng), { warmupMs: 200, minTimeMs: 1000, batch: 'auto' });
 * m.stats.median; // ns per call
 * ```
 */
export async function measure(fn: BenchFn, options: MeasureOptions = {}): Promise<Measurement> {
  const p = plan(options);
  const runner = new Runner(fn, p.batch === 'auto' ? 1 : p.batch);
  const warm = await warmUp(runner, p);
  const samples: number[] = [];
  let timedNs = 0;
  while (!done(p, samples.length, timedNs)) {
    const ns = await runner.run();
    timedNs += ns;
    samples.push(ns / runner.batch);
  }
  return finish(runner, p, samples, warm);
}

/**
 * Times several functions with the same options, interleaving their runs round by round, every other
 * round in reverse (a, b, c, c, b, a, a, b, c...), so that a slow patch of the machine hits all of them alike. Use it to measure a figure and its baseline
 * in the same run. Each function gets its own batch size; `runs` and `minTimeMs` apply to each.
 */
export async function measureEach<K extends string>(
  fns: Readonly<Record<K, BenchFn>>,
  options: MeasureOptions = {},
): Promise<Record<K, Measurement>> {
  const p = plan(options);
  const keys = Object.keys(fns) as K[];
  if (keys.length === 0) throw new RangeError('measureEach needs at least one function');
  const runners = keys.map((k) => new Runner(fns[k], p.batch === 'auto' ? 1 : p.batch));
  const warms: { runs: number; ms: number }[] = [];
  for (const r of runners) warms.push(await warmUp(r, p));
  const samples: number[][] = keys.map(() => []);
  const timed: number[] = keys.map(() => 0);
  const pending = () => keys.some((_, i) => !done(p, (samples[i] as number[]).length, timed[i] as number));
  // Every other round runs the functions in reverse order, so neither side always follows the other (one
  // that frees or warms what the next one uses would otherwise tilt the comparison the same way each round).
  for (let round = 0; pending(); round++) {
    for (let j = 0; j < runners.length; j++) {
      const i = round % 2 === 0 ? j : runners.length - 1 - j;
      const list = samples[i] as number[];
      if (done(p, list.length, timed[i] as number)) continue;
      const runner = runners[i] as Runner;
      const ns = await runner.run();
      timed[i] = (timed[i] as number) + ns;
      list.push(ns / runner.batch);
    }
  }
  const out = {} as Record<K, Measurement>;
  keys.forEach((k, i) => {
    out[k] = finish(
      runners[i] as Runner,
      p,
      samples[i] as number[],
      warms[i] as { runs: number; ms: number },
    );
  });
  return out;
}
