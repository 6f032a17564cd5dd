/**
 * Crash safety of the ingest API: the real `foryou serve` runs in a child process with `fsync: always`;
 * the test sends batches of unique events and notes which were acknowledged (200), SIGKILLs the server at
 * seeded random moments, restarts it and re-sends every batch that was not acknowledged, with the same
 * ids. After the final clean shutdown it opens the log itself and checks that every acknowledged event is
 * there exactly once, that no event is there twice, and that the log reads back without error.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { FileEventLog } from '../../src/log/file-log.js';
import { tempDir } from '../helpers/index.js';

const SEED = 7_331;
const KILLS = 12;
const BATCH = 100;
const CONCURRENCY = 4;
/** Batches sent after the last kill, so the final server also takes new work. */
const FINAL_BATCHES = 20;
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Server {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

async function startServer(logDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--port', '0'],
    {
      cwd: root,
      env: {
        ...process.env,
        FORYOU_LOG_URL: pathToFileURL(logDir).href,
        FORYOU_LOG_FSYNC: 'always',
        FORYOU_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) resolve(match[1] as string);
    });
    void exited.then((code) =>
      reject(new Error(`foryou serve exited with ${code} before listening: ${stderr}`)),
    );
  });
  return { child, url, exited };
}

interface Batch {
  ids: string[];
  body: string;
}

function makeBatch(n: number): Batch {
  const events = Array.from({ length: BATCH }, (_, k) => ({
    event_id: `c${n}-${k}`,
    type: 'play',
    user_id: `u${k % 17}`,
    ts: Date.UTC(2026, 0, 5) + n * 1000 + k,
    item_id: `v${(n * 7 + k) % 101}`,
    watch_ms: k * 10,
    duration_ms: 30_000,
  }));
  return { ids: events.map((e) => e.event_id), body: JSON.stringify(events) };
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('ingest under SIGKILL', () => {
  it('keeps every acknowledged event exactly once across repeated crashes and restarts', async () => {
    const rng = new Rng(SEED);
    const logDir = join(tempDir('foryou-crash-'), 'log');
    dirs.push(logDir);
    const acked = new Set<string>();
    const pending: Batch[] = [];
    let made = 0;
    let acknowledgedRequests = 0;
    let failedRequests = 0;
    let duplicatesAnswered = 0;
    const unexpected: string[] = [];

    /** Sends batches until the server dies (or, with `limit`, until `limit` batches exist and all are acknowledged). */
    const worker = async (url: string, limit: number | null) => {
      for (;;) {
        let batch = pending.shift();
        if (!batch) {
          if (limit !== null && made >= limit) return;
          batch = makeBatch(made++);
        }
        let ok = false;
        try {
          const res = await fetch(`${url}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: batch.body,
          });
          const answer = (await res.json()) as { accepted: number; duplicates: number };
          ok = res.status === 200 && answer.accepted + answer.duplicates === BATCH;
          if (!ok) unexpected.push(`HTTP ${res.status}: ${JSON.stringify(answer)}`);
          else duplicatesAnswered += answer.duplicates;
        } catch {
          // The server died under the request: not acknowledged, so it is sent again.
          ok = false;
        }
        if (ok) {
          for (const id of batch.ids) acked.add(id);
          acknowledgedRequests++;
        } else {
          failedRequests++;
          pending.unshift(batch);
          return;
        }
      }
    };

    for (let generation = 0; generation < KILLS; generation++) {
      const server = await startServer(logDir);
      const workers = Array.from({ length: CONCURRENCY }, () => worker(server.url, null));
      await new Promise((r) => setTimeout(r, 30 + rng.int(300)));
      server.child.kill('SIGKILL');
      await server.exited;
      await Promise.all(workers);
    }

    const last = await startServer(logDir);
    const limit = made + FINAL_BATCHES;
    // Unacknowledged batches from the last crash come first, then new ones; loop until all are in.
    while (pending.length > 0 || made < limit)
      await Promise.all(Array.from({ length: CONCURRENCY }, () => worker(last.url, limit)));
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);

    expect(unexpected).toEqual([]);
    expect(failedRequests).toBeGreaterThan(0);
    expect(acked.size).toBe(made * BATCH);

    const log = await FileEventLog.open(logDir, { readOnly: true });
    const seen = new Map<string, number>();
    try {
      for (let offset = 0; ; ) {
        const records = await log.read('events', offset, { maxRecords: 10_000 });
        if (records.length === 0) break;
        for (const r of records) {
          seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
          const event = JSON.parse(Buffer.from(r.payload).toString('utf8'));
          expect(event.event_id).toBe(r.id);
        }
        offset = records.at(-1)!.offset + 1;
      }
    } finally {
      await log.close();
    }
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice).toEqual([]);
    const missing = [...acked].filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
    expect(seen.size).toBe(acked.size);
    console.info(
      `crash test: ${KILLS} kills, ${made} batches of ${BATCH}, ${acknowledgedRequests} acknowledged and ` +
        `${failedRequests} failed requests, ${duplicatesAnswered} events answered as duplicates on re-sending, ` +
        `${seen.size} events in the log`,
    );
  }, 55_000);
});
