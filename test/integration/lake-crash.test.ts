/**
 * The lake writer is exactly-once across crashes: a child process runs `foryou lake write --follow` on a
 * log the parent keeps appending to, the parent SIGKILLs it at seeded random moments and starts it again,
 * and at the end every event of the log is in the lake once (count and ids, through DuckDB), none lost or
 * duplicated, and the catalogue keeps every version.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram, runCli } from '../../src/cli/program.js';
import { Rng } from '../../src/core/rng.js';
import { Lake } from '../../src/lake/lake.js';
import { readManifest } from '../../src/lake/manifest.js';
import { appendCatalogue, appendEvents, sampleEvents, sampleItem } from '../../src/lake/testing.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { captureOutput, tempDir } from '../helpers/index.js';

const SEED = 20260105;
const ROUNDS = 12;
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  process: ChildProcess;
  stderr: string[];
  exited: Promise<number | null>;
}

function startWriter(logDir: string, lakeDir: string, args: string[]): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'lake', 'write', ...args], {
    cwd: ROOT,
    env: { ...process.env, FORYOU_LOG_URL: `file://${logDir}`, FORYOU_LAKE_DIR: lakeDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { process: child, stderr, exited };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once the child has written a line matching `pattern` to stderr (or exited, or after `timeoutMs`). */
async function outputOf(child: Child, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(child.stderr.join('')) && child.process.exitCode === null && Date.now() < deadline)
    await sleep(5);
}

describe('lake writer under SIGKILL', () => {
  it('ends with every event of the log in the lake exactly once', { timeout: 55_000 }, async () => {
    const rng = new Rng(SEED);
    const root = tempDir('foryou-lake-crash-');
    const logDir = join(root, 'log');
    const lakeDir = join(root, 'lake');
    const log = await FileEventLog.open(logDir, { fsync: 'never' });
    const ids = new Set<string>();
    let appended = 0;
    const append = async (n: number) => {
      const events = sampleEvents(n, { seed: SEED + appended, hours: 6, idPrefix: `c${appended}-` });
      await appendEvents(log, events);
      for (const e of events) ids.add(e.event_id);
      appended += n;
    };
    try {
      await append(60_000);
      // 300 versions of 40 items (version k is item k % 40): item i<j>'s newest is the last k < 300.
      const catalogue = Array.from({ length: 300 }, (_, k) => sampleItem(`i${k % 40}`, `v${k}`));
      await appendCatalogue(log, catalogue.slice(0, 150));

      const sequences: number[] = [];
      const orphanReports: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const child = startWriter(logDir, lakeDir, [
          '--follow',
          '--batch-records',
          String(400 + rng.int(800)),
          '--batch-seconds',
          '0.2',
          '--compact-min-files',
          String(3 + rng.int(4)),
        ]);
        // Keep the log growing while the writer runs, so kills land mid-batch as well as when idle.
        await append(1000 + rng.int(1000));
        if (round === ROUNDS / 2) await appendCatalogue(log, catalogue.slice(150));
        // Most kills come a random moment after the child's first commit; one in four at a random moment
        // after the start, which can fall into start-up and recovery.
        if (rng.chance(0.25)) await sleep(rng.int(2500));
        else {
          await outputOf(child, /lake: commit/, 15_000);
          await sleep(rng.int(700));
        }
        child.process.kill('SIGKILL');
        await child.exited;
        orphanReports.push(
          ...child.stderr
            .join('')
            .split('\n')
            .filter((l) => l.includes('removed')),
        );
        sequences.push((await readManifest(lakeDir)).sequence);
      }

      // A last run, not killed, catches up with everything the log holds.
      const last = startWriter(logDir, lakeDir, ['--once', '--batch-records', '5000']);
      expect(await last.exited, last.stderr.join('')).toBe(0);

      const manifest = await readManifest(lakeDir);
      expect(manifest.offsets).toEqual({ events: appended, catalog: catalogue.length });
      // The writer made progress between kills, and kills did land inside batches or compactions: the
      // restarts found their half-written files (and removed them).
      expect(new Set(sequences).size).toBeGreaterThan(ROUNDS / 2);
      expect(orphanReports.length, 'restarts that found leftovers of a killed batch').toBeGreaterThanOrEqual(
        2,
      );

      const lake = await Lake.open(lakeDir);
      try {
        expect(await lake.query('SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events')).toEqual(
          [{ n: appended, ids: appended }],
        );
        expect(ids.size).toBe(appended);
        const stored = await lake.query<{ event_id: string }>('SELECT event_id FROM events');
        expect(stored.every((r) => ids.has(r.event_id))).toBe(true);
        expect(await lake.query('SELECT count(*) AS n FROM rejects')).toEqual([{ n: 0 }]);
        expect(
          await lake.query('SELECT count(*) AS n, count(DISTINCT log_offset) AS offsets FROM item_versions'),
        ).toEqual([{ n: catalogue.length, offsets: catalogue.length }]);
        const latest = await lake.query<{ item_id: string; caption: string }>(
          'SELECT item_id, caption FROM items',
        );
        expect(latest).toHaveLength(40);
        for (const { item_id, caption } of latest) {
          const j = Number(item_id.slice(1));
          expect(caption).toBe(`v${j < 20 ? 280 + j : 240 + j}`);
        }
      } finally {
        lake.close();
      }

      // The CLI sees the lake caught up with the log, and a compaction keeps every event exactly once.
      const env = { FORYOU_LOG_URL: `file://${logDir}`, FORYOU_LAKE_DIR: lakeDir };
      const io = captureOutput();
      expect(await runCli(['lake', 'status', '--json'], buildProgram(env))).toBe(0);
      expect(await runCli(['lake', 'compact'], buildProgram(env))).toBe(0);
      vi.restoreAllMocks();
      const status = JSON.parse(io.out().slice(0, io.out().lastIndexOf('}') + 1));
      expect(status.lag.map((l: { lag: number }) => l.lag)).toEqual([0, 0]);
      expect(io.out()).toMatch(/merged \d+ files into \d+/);
      const compacted = await Lake.open(lakeDir);
      try {
        expect(
          await compacted.query('SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events'),
        ).toEqual([{ n: appended, ids: appended }]);
        expect(compacted.manifest.files.length).toBeLessThan(manifest.files.length);
      } finally {
        compacted.close();
      }
      console.log(
        `lake crash test: ${ROUNDS} kills, commits after each ${sequences.join(' ')}; ` +
          `${orphanReports.length} restarts removed leftovers of a killed batch or compaction`,
      );
    } finally {
      await log.close();
    }
  });
});
