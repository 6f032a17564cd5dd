/**
 * Seeded random numbers (src/core/rng.ts), which the simulator draws millions of times per simulated day.
 *
 * - rng.float and rng.normal: draws per second against Math.random() (V8's xorshift128+, unseeded), the
 *   floor any JavaScript generator is held to.
 * - alias.sample: weighted draws per second from an AliasTable over 1,000 Zipf weights against
 *   Rng.weightedIndex, the linear scan it replaces.
 *
 * Every function makes a fixed number of draws per call so the call itself costs next to nothing, and all
 * four are timed round-robin in one process so machine noise hits figure and baseline alike.
 */
import { AliasTable, Rng } from '../src/core/rng.js';
import { benchArgs, formatNumber, type Measurement, measureEach, report } from './harness/index.js';

const { size } = benchArgs();

const SEED = 42;
const DRAWS = 1_000;
const WEIGHTS = 1_000;
const SCAN_DRAWS = 100;

const floatRng = new Rng(SEED);
const normalRng = new Rng(SEED);
const aliasRng = new Rng(SEED);
const scanRng = new Rng(SEED);

const weights = new Float64Array(WEIGHTS);
for (let i = 0; i < WEIGHTS; i++) weights[i] = 1 / (i + 1);
const table = new AliasTable(weights);

const options = {
  warmupMs: size(300, 30),
  runs: size(40, 5),
  minTimeMs: size(1_500, 50),
  batch: 'auto' as const,
};

const m = await measureEach(
  {
    float: () => {
      let s = 0;
      for (let i = 0; i < DRAWS; i++) s += floatRng.float();
      return s;
    },
    normal: () => {
      let s = 0;
      for (let i = 0; i < DRAWS; i++) s += normalRng.normal();
      return s;
    },
    mathRandom: () => {
      let s = 0;
      for (let i = 0; i < DRAWS; i++) s += Math.random();
      return s;
    },
  },
  { ...options, items: DRAWS },
);

const w = await measureEach(
  {
    alias: () => {
      let s = 0;
      for (let i = 0; i < DRAWS; i++) s += table.sample(aliasRng);
      return s;
    },
    scan: () => {
      let s = 0;
      for (let i = 0; i < SCAN_DRAWS; i++) s += scanRng.weightedIndex(weights);
      return s;
    },
  },
  options,
);
const aliasPerSec = w.alias.opsPerSec * DRAWS;
const scanPerSec = w.scan.opsPerSec * SCAN_DRAWS;

const params = { warmupMs: options.warmupMs, minTimeMs: options.minTimeMs };

/** "median of 812 runs of 96 calls; p99 run 10.4 ns/draw". */
function runNote(x: Measurement, drawsPerCall: number): string {
  return (
    `median of ${x.runs} runs of ${x.batch} calls; ` +
    `p99 run ${formatNumber(x.stats.p99 / drawsPerCall)} ns/draw, baseline measured interleaved`
  );
}

report({
  name: 'rng.float',
  unit: 'draws/s',
  value: m.float.itemsPerSec,
  baseline: m.mathRandom.itemsPerSec,
  baselineName: 'Math.random()',
  better: 'higher',
  params: { ...params, drawsPerCall: DRAWS },
  notes: runNote(m.float, DRAWS),
});

report({
  name: 'rng.normal',
  unit: 'draws/s',
  value: m.normal.itemsPerSec,
  baseline: m.mathRandom.itemsPerSec,
  baselineName: 'Math.random()',
  better: 'higher',
  params: { ...params, drawsPerCall: DRAWS },
  notes: `${runNote(m.normal, DRAWS)}; polar method, the baseline draws one uniform per draw`,
});

report({
  name: 'alias.sample',
  unit: 'draws/s',
  value: aliasPerSec,
  baseline: scanPerSec,
  baselineName: 'Rng.weightedIndex (linear scan)',
  better: 'higher',
  params: {
    ...params,
    weights: WEIGHTS,
    distribution: 'zipf s=1',
    drawsPerCall: DRAWS,
    scanDrawsPerCall: SCAN_DRAWS,
  },
  notes: `${runNote(w.alias, DRAWS)}; table built once outside the timing, the scan re-sums all weights per draw`,
});
