import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { benchArgs, benchName } from './args.js';
import { formatFigure, formatNumber } from './format.js';
import { machine, peakRssMb, trackRss } from './machine.js';
import { parseResultLine, report } from './report.js';

describe('report', () => {
  it('writes one JSON line with the ratio, machine, date and command, and a readable line', () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = report(
      {
        name: 'demo.throughput',
        unit: 'items/s',
        value: 2_000_000,
        baseline: 500_000,
        baselineName: 'brute force',
        better: 'higher',
        params: { n: 1000 },
      },
      {
        bench: 'demo',
        quick: false,
        date: new Date('2026-11-26T12:00:00Z'),
        write: (l) => out.push(l),
        log: (l) => err.push(l),
      },
    );
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0] as string);
    expect(line).toMatchObject({
      bench: 'demo',
      name: 'demo.throughput',
      unit: 'items/s',
      value: 2_000_000,
      baseline: 500_000,
      baselineName: 'brute force',
      ratio: 4,
      better: 'higher',
      params: { n: 1000 },
      quick: false,
      date: '2026-11-26T12:00:00.000Z',
      command: 'npm run bench -- demo',
    });
    expect(Object.keys(line.machine).sort()).toEqual(['arch', 'cores', 'cpu', 'memGiB', 'node', 'os']);
    expect(JSON.stringify(line.machine)).not.toContain('hostname');
    expect(r.ratio).toBe(4);
    expect(err).toEqual([
      'demo.throughput: 2 M items/s vs brute force 500 k items/s = 4x (higher is better)',
    ]);
    expect(parseResultLine(out[0] as string)).toEqual(r);
  });

  it('marks quick runs in the command and the readable line; a zero baseline gives a null ratio', () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = report(
      { name: 'x', unit: 'ms', value: 3, baseline: 0, baselineName: 'nothing', better: 'lower' },
      { bench: 'demo', quick: true, write: (l) => out.push(l), log: (l) => err.push(l) },
    );
    expect(r.ratio).toBeNull();
    expect(r.command).toBe('npm run bench -- demo --quick');
    expect(err[0]).toMatch(/^\[quick\] /);
  });

  it('refuses results without a baseline name or with non-finite figures', () => {
    const quiet = { bench: 'demo', write: () => {}, log: () => {} };
    expect(() =>
      report({ name: 'x', unit: 'ms', value: 1, baseline: 1, baselineName: '', better: 'lower' }, quiet),
    ).toThrow(TypeError);
    expect(() =>
      report(
        { name: 'x', unit: 'ms', value: Number.NaN, baseline: 1, baselineName: 'b', better: 'lower' },
        quiet,
      ),
    ).toThrow(RangeError);
  });
});

describe('parseResultLine', () => {
  it('ignores other output and rejects a half-formed result', () => {
    expect(parseResultLine('hello')).toBeNull();
    expect(parseResultLine('{"other": 1}')).toBeNull();
    expect(parseResultLine('{not json')).toBeNull();
    expect(() => parseResultLine('{"bench":"a","name":"b","value":"fast"}')).toThrow(/malformed/);
  });
});

describe('args, machine and formatting', () => {
  it('reads --quick and picks sizes', () => {
    expect(benchArgs(['--quick']).size(1000, 10)).toBe(10);
    expect(benchArgs([]).size(1000, 10)).toBe(1000);
    const args = benchArgs(['--items', '5000', '--dir', '/tmp/x', '--bad', 'many', '--last']);
    expect(args.number('items', 1)).toBe(5000);
    expect(args.number('users', 7)).toBe(7);
    expect(args.text('dir')).toBe('/tmp/x');
    expect(args.text('profile')).toBeUndefined();
    expect(() => args.number('bad', 1)).toThrow('--bad needs a positive number, not many');
    expect(() => args.text('last')).toThrow('--last needs a value');
    expect(benchName('/x/bench/sim-generate.bench.ts')).toBe('sim-generate');
  });

  it('describes the machine without the hostname and tracks peak RSS', () => {
    const m = machine();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.memGiB).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(peakRssMb()).toBeGreaterThan(0);
    const tracker = trackRss(5);
    const hold = new Float64Array(4_000_000).fill(1);
    const peak = tracker.stop();
    expect(hold[0]).toBe(1);
    expect(peak).toBeGreaterThan(0);
    expect(tracker.stop()).toBe(peak);
  });

  it('samples RSS while the main thread is busy in a synchronous phase', async () => {
    const tracker = trackRss(5);
    try {
      // Wait for the sampler thread's first sample (its start-up is not timed).
      for (let waited = 0; tracker.samples() === 0 && waited < 10_000; waited += 10) await sleep(10);
      const before = tracker.samples();
      expect(before).toBeGreaterThan(0);
      const end = performance.now() + 200;
      while (performance.now() < end) {
        // The main thread never yields here, so a timer on it could not sample.
      }
      expect(tracker.samples()).toBeGreaterThan(before);
    } finally {
      tracker.stop();
    }
  });

  it('formats figures with three significant digits and SI prefixes for rates', () => {
    expect(formatNumber(0.000123456)).toBe('0.000123');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(123456)).toBe('123,456');
    expect(formatFigure(95_123_456, 'draws/s')).toBe('95.1 M draws/s');
    expect(formatFigure(1.5, 'ms')).toBe('1.5 ms');
  });
});
