import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, tempDir } from '../../../test/helpers/index.js';
import { FileEventLog } from '../../log/file-log.js';
import { buildProgram, runCli } from '../program.js';

afterEach(() => vi.restoreAllMocks());

describe('foryou serve', () => {
  it('serves the ingest API on the given port, prints the URL and closes the log on SIGTERM', async () => {
    const root = tempDir('foryou-serve-');
    const logDir = join(root, 'log');
    const io = captureOutput();
    const env = {
      FORYOU_LOG_URL: pathToFileURL(logDir).href,
      FORYOU_LOG_FSYNC: 'always',
      FORYOU_LOG_LEVEL: 'silent',
    };
    const running = runCli(['serve', '--port', '0', '--host', '127.0.0.1'], buildProgram(env));
    let url: string | undefined;
    for (let k = 0; k < 200 && !url; k++) {
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 25));
    }
    expect(url).toBeDefined();
    expect(io.out()).toContain(`(log ${env.FORYOU_LOG_URL}, fsync always)`);
    // The topics it appends to are open before it listens (their duplicate windows reloaded).
    expect(readdirSync(logDir)).toEqual(expect.arrayContaining(['catalog', 'events']));
    const res = await fetch(`${url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ event_id: 'e1', type: 'like', user_id: 'u', ts: 1, item_id: 'v' }]),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0, rejected: 0, not_accepted: [] });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    process.emit('SIGTERM');
    expect(await running).toBe(0);
    expect(io.out()).toContain('foryou serve: stopped');
    expect(process.listenerCount('SIGTERM')).toBe(0);
    // The writer lock is released: the log opens for writing again and holds the event.
    const log = await FileEventLog.open(logDir);
    expect((await log.read('events', 0)).map((r) => r.id)).toEqual(['e1']);
    await log.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses a port out of range', async () => {
    const io = captureOutput();
    expect(await runCli(['serve', '--port', '70000'], buildProgram({}))).toBe(64);
    expect(io.err()).toContain('expected a whole number from 0 to 65535, got 70000');
  });
});
