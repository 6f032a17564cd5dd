/**
 * The embedded event log (src/log/file-log.ts): append throughput and latency under each fsync policy,
 * beside raw `fs` appends of the same bytes with the same fsync behaviour, measured in the same run.
 *
 * Load: `writers` concurrent appenders, each appending batches of `batch` records of ~200 bytes back to back
 * (closed loop) for `seconds`. The baseline is the least a durable Node appender can do: the same
 * concurrency, the same bytes (no framing, no CRC, no index, no dedup), one `write` per flush of
 * everything queued and, under `always`, one fdatasync per flush (group commit); under `interval` a
 * fdatasync every 100 ms; under `never` none. Latency is per append call, from the call to its resolution.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEventLog } from '../src/log/file-log.js';
import type { AppendInput, FsyncPolicy } from '../src/log/port.js';
import { benchArgs, percentile, report } from './harness/index.js';

const { size } = benchArgs();
const SECONDS = size(6, 1);
const WRITERS = 16;
const BATCH = 100;
const PAYLOAD_BYTES = 200;

/** A minimal group-commit appender: what `fs` alone costs for the same bytes and the same durability. */
class RawAppender {
  private pending: Buffer[] = [];
  private waiters: (() => void)[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;

  constructor(
    private readonly handle: FileHandle,
    private readonly fsync: FsyncPolicy,
  ) {
    if (fsync === 'interval')
      this.timer = setInterval(() => {
        if (this.dirty) {
          this.dirty = false;
          void this.handle.datasync();
        }
      }, 100);
  }

  append(buffers: Buffer[]): Promise<void> {
    for (const b of buffers) this.pending.push(b);
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (!this.writing) void this.flush();
    return done;
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0) {
      const buffers = this.pending;
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      await this.handle.writev(buffers);
      if (this.fsync === 'always') await this.handle.datasync();
      else this.dirty = true;
      for (const w of waiters) w();
    }
    this.writing = false;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

interface LoadResult {
  recordsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `writers` closed-loop appenders for `seconds` and measures records/s and per-call latency. */
async function load(appendBatch: (writer: number, seq: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let records = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let seq = 0; performance.now() < deadline; seq++) {
        const t0 = performance.now();
        await appendBatch(writer, seq);
        latencies.push(performance.now() - t0);
        records += BATCH;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    recordsPerSec: records / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

const payload = Buffer.from(
  JSON.stringify({ type: 'play', pad: 'x'.repeat(PAYLOAD_BYTES - 30) }).slice(0, PAYLOAD_BYTES),
);

async function measureLog(fsync: FsyncPolicy, dir: string): Promise<LoadResult> {
  const log = await FileEventLog.open(join(dir, `log-${fsync}`), { fsync, fsyncIntervalMs: 100 });
  try {
    // Warm-up: JIT and the first segment's allocation.
    await log.append(
      'events',
      Array.from({ length: 1000 }, (_, k) => ({ id: `warm-${k}`, payload })),
    );
    return await load((writer, seq) => {
      const records: AppendInput[] = new Array(BATCH);
      for (let k = 0; k < BATCH; k++) records[k] = { id: `w${writer}-${seq}-${k}`, payload };
      return log.append('events', records).then(() => undefined);
    });
  } finally {
    await log.close();
  }
}

async function measureRaw(fsync: FsyncPolicy, dir: string): Promise<LoadResult> {
  const handle = await open(join(dir, `raw-${fsync}.bin`), 'a');
  const raw = new RawAppender(handle, fsync);
  try {
    await raw.append([payload]);
    return await load((writer, seq) => {
      const buffers: Buffer[] = new Array(BATCH);
      // The same bytes per record as the log stores, without framing: the id and the payload.
      for (let k = 0; k < BATCH; k++)
        buffers[k] = Buffer.concat([Buffer.from(`w${writer}-${seq}-${k}`), payload]);
      return raw.append(buffers);
    });
  } finally {
    raw.close();
    await handle.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-log-'));
try {
  for (const fsync of ['always', 'interval', 'never'] as const) {
    // Interleave figure and baseline twice and keep the better run of each, so a noisy neighbour hurts both alike.
    const logRuns: LoadResult[] = [];
    const rawRuns: LoadResult[] = [];
    for (let round = 0; round < 2; round++) {
      logRuns.push(await measureLog(fsync, join(dir, `round-${round}`)));
      rawRuns.push(await measureRaw(fsync, dir));
    }
    const best = (runs: LoadResult[]) => runs.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
    const logBest = best(logRuns);
    const rawBest = best(rawRuns);
    const params = { fsync, writers: WRITERS, batch: BATCH, payloadBytes: PAYLOAD_BYTES, seconds: SECONDS };
    report({
      name: `log.append.${fsync}`,
      unit: 'records/s',
      value: logBest.recordsPerSec,
      baseline: rawBest.recordsPerSec,
      baselineName: `raw fs group-commit appends, same fsync (${fsync})`,
      better: 'higher',
      params,
      notes: `better of two runs each; append p50 ${logBest.p50Ms.toFixed(2)} ms vs ${rawBest.p50Ms.toFixed(2)} ms`,
    });
    report({
      name: `log.append-p99.${fsync}`,
      unit: 'ms',
      value: logBest.p99Ms,
      baseline: rawBest.p99Ms,
      baselineName: `raw fs group-commit appends, same fsync (${fsync})`,
      better: 'lower',
      params,
      notes: `per append call of ${BATCH} records, ${WRITERS} calls in flight`,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
