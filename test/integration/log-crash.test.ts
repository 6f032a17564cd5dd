import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { tempDir } from '../helpers/index.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'log-appender.ts');
const BATCH = 20;

interface Run {
  sent: Set<number>;
  acked: Set<number>;
}

/** Starts the appender and resolves once it is appending; lines it prints update `run`. */
function startAppender(dir: string, firstBatch: number, run: Run): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', FIXTURE, dir, String(firstBatch), String(BATCH)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, n] = line.split(' ');
      if (word === 'ready') resolve(child);
      else if (word === 'sent') run.sent.add(Number(n));
      else if (word === 'ack') run.acked.add(Number(n));
    });
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('embedded log under SIGKILL', () => {
  it('keeps every acknowledged record exactly once across repeated kills, and reads back clean', async () => {
    const dir = tempDir('foryou-log-crash-');
    const rng = new Rng('log-crash');
    const run: Run = { sent: new Set(), acked: new Set() };
    let firstBatch = 0;
    for (let kill = 0; kill < 12; kill++) {
      const child = await startAppender(dir, firstBatch, run);
      await new Promise((r) => setTimeout(r, 40 + rng.int(250)));
      await killed(child);
      // Batches sent but never acknowledged may or may not be in the log: send them again, as a client
      // retrying would, and rely on the ids to keep them single.
      const unacked = [...run.sent].filter((b) => !run.acked.has(b));
      firstBatch = unacked.length > 0 ? Math.min(...unacked) : Math.max(-1, ...run.sent) + 1;
    }
    expect(run.acked.size).toBeGreaterThan(12);

    const log = await FileEventLog.open(dir, { segmentBytes: 64 * 1024 });
    const seen = new Map<string, number>();
    const { start, end } = await log.bounds('events');
    expect(start).toBe(0);
    for (let offset = 0; offset < end; ) {
      const records = await log.read('events', offset, { maxRecords: 5000 });
      for (const record of records) {
        expect(record.offset).toBe(offset++);
        seen.set(record.id, (seen.get(record.id) ?? 0) + 1);
      }
    }
    await log.close();
    const twice = [...seen].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    for (const batch of run.acked)
      for (let k = 0; k < BATCH; k++) expect(seen.has(`b${batch}-${k}`), `b${batch}-${k}`).toBe(true);
  }, 90_000);
});
