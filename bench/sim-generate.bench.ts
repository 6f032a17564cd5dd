/**
 * World generation (src/sim): events per second and peak memory for a world of 1M users x 1M videos and
 * one simulated day of history, written as JSON lines (Parquet conversion is DuckDB's work and is left out).
 *
 * - sim.history: events/s of the history phase (simulation + serialisation + writes) against writing the
 *   same number of already-made events with the same JSON-lines writer: the I/O floor the simulator
 *   cannot beat. The ratio says what share of that floor the simulation keeps.
 * - sim.peak-rss: peak resident memory of the whole generation against the bytes of the world's latent
 *   typed arrays (the state any simulator of this world must hold).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Event } from '../src/core/schema/index.js';
import { JsonLinesWriter, readJsonLines } from '../src/io/jsonl.js';
import { generateWorld } from '../src/sim/generate.js';
import { World } from '../src/sim/world.js';
import { benchArgs, report, trackRss } from './harness/index.js';

const { size } = benchArgs();
const params = {
  users: size(1_000_000, 20_000),
  items: size(1_000_000, 20_000),
  days: size(1, 0.5),
  seed: 42,
};
const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-sim-'));

try {
  const rss = trackRss(100);
  const phaseStart: Record<string, number> = {};
  const started = performance.now();
  const { manifest, summary } = await generateWorld(join(dir, 'world'), params, {
    formats: ['jsonl'],
    onProgress: (p) => {
      phaseStart[p.phase] ??= performance.now();
    },
  });
  const ended = performance.now();
  const peakMb = rss.stop();
  const events = manifest.counts.events;
  const historySec = ((phaseStart.parquet ?? ended) - phaseStart.history!) / 1000;
  const catalogueSec = (phaseStart.history! - phaseStart.catalogue!) / 1000;
  const worldSec = (phaseStart.catalogue! - started) / 1000;

  // Baseline: the same writer writing the same number of events that already exist in memory.
  const sample: Event[] = [];
  for await (const e of readJsonLines<Event>(join(dir, 'world', 'events.jsonl'))) {
    sample.push(e);
    if (sample.length === 500_000) break;
  }
  const writer = await JsonLinesWriter.create(join(dir, 'baseline.jsonl'));
  const t0 = performance.now();
  for (let n = 0; n < events; ) {
    for (let k = 0; k < sample.length && n < events; k++, n++) writer.write(sample[k]);
    await writer.flushIfFull();
  }
  await writer.close();
  const baselineSec = (performance.now() - t0) / 1000;

  const latent = new World({ ...params, days: 0.01 });
  const latentBytes = Object.values(latent).reduce(
    (sum, v) => sum + (ArrayBuffer.isView(v) ? v.byteLength : 0),
    0,
  );

  const common = {
    users: params.users,
    items: params.items,
    days: params.days,
    events,
    sessions: summary.sessions.count,
  };
  report({
    name: 'sim.history',
    unit: 'events/s',
    value: events / historySec,
    baseline: events / baselineSec,
    baselineName: 'JSON-lines write of the same number of ready-made events',
    better: 'higher',
    params: common,
    notes:
      `history ${historySec.toFixed(1)} s; world built in ${worldSec.toFixed(1)} s; users, creators and videos ` +
      `written in ${catalogueSec.toFixed(1)} s; whole run ${((ended - started) / 1000).toFixed(1)} s`,
  });
  report({
    name: 'sim.peak-rss',
    unit: 'MiB',
    value: peakMb,
    baseline: latentBytes / 2 ** 20,
    baselineName: "the world's latent typed arrays",
    better: 'lower',
    params: common,
    notes: 'peak resident set of the whole generation, sampled every 100 ms',
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
