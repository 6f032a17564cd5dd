import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { createHttpApp } from '../http/app.js';
import { FileEventLog } from '../log/file-log.js';
import { IngestClient } from './ingest-client.js';
import { ingestRoutes } from './routes.js';

const like = (id: string) => ({ event_id: id, type: 'like', user_id: 'u1', ts: 1, item_id: 'v1' });

let dir: string;
let log: FileEventLog;
let app: FastifyInstance;

/** A fetch that goes through inject; `plan` decides per call whether to fail before or after the server. */
function injectFetch(plan: (call: number) => 'ok' | 'lose-request' | 'lose-answer' | 503): typeof fetch {
  let calls = 0;
  return (async (url: string | URL, init?: RequestInit) => {
    const step = plan(++calls);
    if (step === 'lose-request') throw new TypeError('fetch failed: connection reset');
    if (step === 503)
      return new Response(JSON.stringify({ code: 'FY_LOG_LOCKED', message: 'busy' }), { status: 503 });
    const res = await app.inject({
      method: 'POST',
      url: new URL(String(url)).pathname,
      headers: init?.headers as Record<string, string>,
      payload: init?.body as string,
    });
    if (step === 'lose-answer') throw new TypeError('fetch failed: socket hang up');
    return new Response(res.body, {
      status: res.statusCode,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof fetch;
}

beforeEach(async () => {
  dir = tempDir('foryou-client-');
  log = await FileEventLog.open(dir, { fsync: 'never' });
  app = createHttpApp({ logLevel: 'silent' });
  await app.register(ingestRoutes, { log, maxBodyBytes: 1 << 20, maxBatchRecords: 100 });
});

afterEach(async () => {
  await app.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('IngestClient', () => {
  it('re-sends a request whose answer was lost; the stored events come back as duplicates, stored once', async () => {
    const client = new IngestClient({
      url: 'http://ingest.test',
      retryDelayMs: 1,
      fetch: injectFetch((call) => (call === 1 ? 'lose-answer' : call === 2 ? 503 : 'ok')),
    });
    const result = await client.send('events', [like('a'), like('b')]);
    expect(result).toMatchObject({ accepted: 0, duplicates: 2, rejected: 0, attempts: 3 });
    const stored = await log.read('events', 0);
    expect(stored.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('returns a 422 outcome without retrying', async () => {
    const client = new IngestClient({ url: 'http://ingest.test', fetch: injectFetch(() => 'ok') });
    const result = await client.send('events', [like('a'), { ...like('b'), ts: -1 }]);
    expect(result).toMatchObject({ accepted: 1, rejected: 1, attempts: 1 });
  });

  it('throws the server error of a 4xx it cannot fix by retrying', async () => {
    const client = new IngestClient({ url: 'http://ingest.test', fetch: injectFetch(() => 'ok') });
    const message = await failureOf(client.send('events', []), 'FY_BODY_MALFORMED');
    expect(message).toBe('the server refused the batch (400): batch is empty; send at least one record');
  });

  it('gives up with FY_SERVER_UNREACHABLE after its attempts', async () => {
    const client = new IngestClient({
      url: 'http://ingest.test/',
      attempts: 3,
      retryDelayMs: 1,
      fetch: injectFetch(() => 'lose-request'),
    });
    const message = await failureOf(client.send('users', [{}]), 'FY_SERVER_UNREACHABLE');
    expect(message).toBe(
      'POST http://ingest.test/v1/users failed 3 times; last: fetch failed: connection reset',
    );
  });
});
