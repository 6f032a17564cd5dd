/**
 * The lake writer (src/lake): rows per second from the event log into committed, partitioned Parquet.
 *
 * - lake.write: a fresh lake written from a log of ~1.5M simulated events (100k users, 50k videos, one
 *   day): log reads, NDJSON staging, DuckDB COPY partitioned by type and hour, fsync, publish, manifest
 *   commit, in batches of the default 500k records. Baseline: the bare DuckDB COPY of the same rows, from
 *   the same staged NDJSON already on disk to the same partitioned zstd Parquet, in the same statement the
 *   writer runs, with the same thread count. The ratio is the share of DuckDB's own conversion speed the
 *   whole writer keeps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENTS_CONVERSION } from '../src/lake/convert.js';
import { openDuckDb } from '../src/lake/duck.js';
import { readManifest } from '../src/lake/manifest.js';
import { stagedLinePrefix } from '../src/lake/staging.js';
import { LakeWriter } from '../src/lake/writer.js';
import { FileEventLog } from '../src/log/file-log.js';
import { simulateHistory } from '../src/sim/history.js';
import { World } from '../src/sim/world.js';
import { benchArgs, measureEach, report, trackRss } from './harness/index.js';

const { size } = benchArgs();
const params = { users: size(100_000, 5_000), items: size(50_000, 2_000), days: 1, seed: 42 };
const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-lake-'));

try {
  // The log: every simulated event appended as a client's event arrives (id = event_id, payload = JSON).
  const log = await FileEventLog.open(join(dir, 'log'), { fsync: 'never' });
  const staged = await open(join(dir, 'events.ndjson'), 'w');
  const encoder = new TextEncoder();
  let events = 0;
  let payloadBytes = 0;
  const started = performance.now();
  for (const step of simulateHistory(new World(params))) {
    const records = step.events.map((e) => ({ id: e.event_id, payload: encoder.encode(JSON.stringify(e)) }));
    const results = await log.append('events', records);
    // The baseline's input: the same lines the writer stages (offset, log time, payload bytes).
    const lines = records.map(
      (r, k) => `${stagedLinePrefix(results[k]!.offset, 0)}${Buffer.from(r.payload).toString('utf8')}}\n`,
    );
    await staged.write(lines.join(''));
    events += records.length;
    for (const r of records) payloadBytes += r.payload.length;
  }
  await staged.close();
  process.stderr.write(
    `lake-writer: ${events.toLocaleString('en-US')} events in the log (${(payloadBytes / 2 ** 20).toFixed(0)} MiB of payload) ` +
      `built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );

  const duck = await openDuckDb({ threads: 2 });
  let run = 0;
  let lastLake = '';
  const rss = trackRss(100);
  const m = await measureEach(
    {
      writer: async () => {
        lastLake = join(dir, `lake-${run++}`);
        const writer = await LakeWriter.open(lastLake, log, { threads: 2 });
        const summary = await writer.runOnce();
        await writer.close();
        if (summary.records !== events) throw new Error(`wrote ${summary.records} of ${events} events`);
        rmSync(join(dir, `lake-${run - 2}`), { recursive: true, force: true });
        return summary;
      },
      copy: async () => {
        const out = join(dir, `copy-${run}`);
        const files = await EVENTS_CONVERSION.write(duck.connection, join(dir, 'events.ndjson'), out);
        rmSync(out, { recursive: true, force: true });
        return files.length;
      },
    },
    { warmupRuns: 1, runs: size(5, 1), items: events },
  );
  const peakMb = rss.stop();
  duck.close();
  const manifest = await readManifest(lastLake);
  const bytes = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  await log.close();

  report({
    name: 'lake.write',
    unit: 'rows/s',
    value: m.writer.itemsPerSec,
    baseline: m.copy.itemsPerSec,
    baselineName: 'bare DuckDB COPY of the same staged NDJSON to the same partitioned Parquet',
    better: 'higher',
    params: { ...params, events, batchRecords: 500_000, threads: 2 },
    notes:
      `median of ${m.writer.runs} runs each (writer ${(m.writer.stats.median / 1e9).toFixed(2)} s, ` +
      `COPY ${(m.copy.stats.median / 1e9).toFixed(2)} s per ${events.toLocaleString('en-US')} events); ` +
      `${manifest.sequence} commits, ${manifest.files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB of Parquet ` +
      `from ${(payloadBytes / 2 ** 20).toFixed(0)} MiB of JSON; peak RSS while measuring ${peakMb.toFixed(0)} MiB`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
