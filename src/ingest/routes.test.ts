import { rmSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { ERROR_CATALOGUE, ForyouError } from '../core/errors.js';
import { createHttpApp } from '../http/app.js';
import { FileEventLog } from '../log/file-log.js';
import type { AppendInput, AppendResult, EventLog } from '../log/port.js';
import { ingestRoutes } from './routes.js';

const TS = Date.UTC(2026, 0, 5);
const play = (id: string, extra: Record<string, unknown> = {}) => ({
  event_id: id,
  type: 'play',
  user_id: 'u1',
  ts: TS,
  item_id: 'v1',
  watch_ms: 1200,
  duration_ms: 15_000,
  ...extra,
});

let dir: string;
let log: FileEventLog;
let app: FastifyInstance;

async function appOver(eventLog: EventLog): Promise<FastifyInstance> {
  const a = createHttpApp({ logLevel: 'silent' });
  await a.register(ingestRoutes, { log: eventLog, maxBodyBytes: 64 * 1024, maxBatchRecords: 5 });
  return a;
}

beforeEach(async () => {
  dir = tempDir('foryou-ingest-');
  log = await FileEventLog.open(dir, { fsync: 'never' });
  app = await appOver(log);
});

afterEach(async () => {
  await app.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

function post(url: string, payload: string | Buffer | unknown[], type = 'application/json') {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload: body });
}

async function stored(topic: string): Promise<{ id: string; payload: string }[]> {
  const records = await log.read(topic, 0, { maxRecords: 100_000 });
  return records.map((r) => ({ id: r.id, payload: Buffer.from(r.payload).toString('utf8') }));
}

describe('POST /v1/events', () => {
  it('answers 200 with counts only when every event is accepted, and stores canonical JSON', async () => {
    const search = { event_id: 's1', type: 'search', ts: TS, user_id: 'u2', query: '  street food  ' };
    const res = await post('/v1/events', [play('e1'), search]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 2, duplicates: 0, rejected: 0, not_accepted: [] });
    expect(await stored('events')).toEqual([
      {
        id: 'e1',
        payload:
          '{"event_id":"e1","user_id":"u1","ts":1767571200000,"type":"play","item_id":"v1","watch_ms":1200,"duration_ms":15000}',
      },
      {
        id: 's1',
        payload: '{"event_id":"s1","user_id":"u2","ts":1767571200000,"type":"search","query":"street food"}',
      },
    ]);
  });

  it('answers a re-sent batch with 200 and every event a duplicate, stored once', async () => {
    await post('/v1/events', [play('e1'), play('e2')]);
    const res = await post('/v1/events', [play('e1'), play('e2'), play('e3')]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 1,
      duplicates: 2,
      rejected: 0,
      not_accepted: [
        { index: 0, status: 'duplicate' },
        { index: 1, status: 'duplicate' },
      ],
    });
    expect((await stored('events')).map((r) => r.id)).toEqual(['e1', 'e2', 'e3']);
  });

  it('treats a repeated id inside one batch as a duplicate of its first occurrence', async () => {
    const res = await post('/v1/events', [play('e1'), play('e1', { watch_ms: 5 })]);
    expect(res.json()).toMatchObject({
      accepted: 1,
      duplicates: 1,
      not_accepted: [{ index: 1, status: 'duplicate' }],
    });
  });

  it('answers 422 naming each rejected event and its field, and still stores the valid ones', async () => {
    const res = await post('/v1/events', [
      play('e1'),
      play('e2', { watch_ms: -1 }),
      play('e3'),
      { event_id: 'e4', type: 'poke' },
    ]);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      code: 'FY_BATCH_PARTLY_REJECTED',
      message:
        '2 of 4 events rejected: [1] watch_ms: must be >= 0; [3] type: must be one of impression, play, like, share, comment, follow, skip, not_interested, search, rating, play_count',
      hint: ERROR_CATALOGUE.FY_BATCH_PARTLY_REJECTED.hint,
      accepted: 2,
      duplicates: 0,
      rejected: 2,
      not_accepted: [
        { index: 1, status: 'rejected', reason: 'watch_ms: must be >= 0' },
        {
          index: 3,
          status: 'rejected',
          reason:
            'type: must be one of impression, play, like, share, comment, follow, skip, not_interested, search, rating, play_count',
        },
      ],
    });
    expect((await stored('events')).map((r) => r.id)).toEqual(['e1', 'e3']);
  });

  it('lists rejected and duplicate events together in index order', async () => {
    await post('/v1/events', [play('e3')]);
    const res = await post('/v1/events', [play('e1', { ts: 'yesterday' }), play('e2'), play('e3')]);
    expect(res.statusCode).toBe(422);
    expect(res.json().not_accepted).toEqual([
      {
        index: 0,
        status: 'rejected',
        reason: 'ts: must be a number of milliseconds since 1970-01-01T00:00:00Z',
      },
      { index: 2, status: 'duplicate' },
    ]);
  });

  it('reads NDJSON, rejecting only a malformed line and naming its line number', async () => {
    const body = `${JSON.stringify(play('n1'))}\n{"event_id": \n\n${JSON.stringify(play('n2'))}\n`;
    const res = await post('/v1/events', body, 'application/x-ndjson');
    expect(res.statusCode).toBe(422);
    const answer = res.json();
    expect(answer).toMatchObject({ accepted: 2, duplicates: 0, rejected: 1 });
    expect(answer.message).toMatch(/^1 of 3 events rejected: \[1\] line is not valid JSON: /);
    expect(answer.not_accepted).toEqual([
      { index: 1, line: 2, status: 'rejected', reason: expect.stringMatching(/^line is not valid JSON: /) },
    ]);
    expect((await stored('events')).map((r) => r.id)).toEqual(['n1', 'n2']);
  });

  it('answers 200 for NDJSON sent as application/ndjson too', async () => {
    const res = await post('/v1/events', JSON.stringify(play('n1')), 'application/ndjson');
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['not JSON', '[{"event_id":', /^body is not valid JSON: /],
    [
      'an object',
      JSON.stringify(play('e1')),
      /^body must be a JSON array of records, got an object \(wrap a single record in \[ \]\)$/,
    ],
    ['an empty array', '[]', /^batch is empty; send at least one record$/],
    ['whitespace', '   ', /^body is empty; send a JSON array of records$/],
    ['not UTF-8', Buffer.from([0x5b, 0xfe, 0x5d]), /^body is not valid UTF-8$/],
  ])('answers 400 FY_BODY_MALFORMED for a body that is %s', async (_label, body, message) => {
    const res = await post('/v1/events', body as string | Buffer);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('FY_BODY_MALFORMED');
    expect(res.json().message).toMatch(message);
  });

  it('answers 400 for a POST without a body', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/events' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'FY_BODY_MALFORMED',
      message:
        'body is empty; send a JSON array of events (application/json) or one per line (application/x-ndjson)',
    });
  });

  it('answers 400 for NDJSON of blank lines only', async () => {
    const res = await post('/v1/events', '\n\n', 'application/x-ndjson');
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('body holds no records, only blank lines');
  });

  it('answers 413 for a body over maxBodyBytes and for more records than maxBatchRecords', async () => {
    const big = await post('/v1/events', [play('e1', { text: 'x'.repeat(70_000), type: 'comment' })]);
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({
      code: 'FY_PAYLOAD_TOO_LARGE',
      message: 'request body is over the limit of 65,536 bytes',
    });
    const many = await post(
      '/v1/events',
      ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => play(id)),
    );
    expect(many.statusCode).toBe(413);
    expect(many.json().message).toBe(
      'batch of 6 records is over the limit of 5 records (ingest.maxBatchEvents)',
    );
    const lines = await post(
      '/v1/events',
      Array(6)
        .fill(JSON.stringify(play('x')))
        .join('\n'),
      'application/x-ndjson',
    );
    expect(lines.statusCode).toBe(413);
    expect(lines.json().message).toBe(
      'batch of more than 5 lines is over the limit of 5 records (ingest.maxBatchEvents)',
    );
    expect(await stored('events')).toEqual([]);
  });

  it('answers 415 for an unsupported content type, naming the accepted ones', async () => {
    const res = await post('/v1/events', JSON.stringify([play('e1')]), 'text/csv');
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({
      code: 'FY_UNSUPPORTED_MEDIA_TYPE',
      message:
        'content type "text/csv" is not accepted: send application/json or application/x-ndjson or application/ndjson',
    });
  });

  it('rejects prototype-pollution keys as unknown fields and pollutes nothing', async () => {
    const body = `[{"__proto__":{"polluted":true},"event_id":"p1","type":"like","user_id":"u","ts":1,"item_id":"v"},
      {"constructor":{"prototype":{"polluted":true}},"event_id":"p2","type":"like","user_id":"u","ts":1,"item_id":"v"}]`;
    const res = await post('/v1/events', body);
    expect(res.statusCode).toBe(422);
    expect(res.json().not_accepted).toEqual([
      { index: 0, status: 'rejected', reason: 'unknown field "__proto__"' },
      { index: 1, status: 'rejected', reason: 'unknown field "constructor"' },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects numbers out of range such as 1e400 with the field named', async () => {
    const res = await post(
      '/v1/events',
      '[{"event_id":"r1","type":"rating","user_id":"u","ts":1,"item_id":"v","value":1e400}]',
    );
    expect(res.statusCode).toBe(422);
    expect(res.json().not_accepted[0].reason).toBe('value: must be a number');
  });

  it('clips a long reason so an answer stays small', async () => {
    const key = 'k'.repeat(5000);
    const res = await post('/v1/events', [{ ...play('k1'), [key]: 1 }]);
    const reason: string = res.json().not_accepted[0].reason;
    expect(reason.length).toBeLessThanOrEqual(301);
    expect(reason.endsWith('…')).toBe(true);
  });
});

describe('acknowledgement and failures of the log', () => {
  it('answers only after the append has resolved', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: EventLog = Object.create(log, {
      append: {
        value: async (topic: string, records: readonly AppendInput[]): Promise<AppendResult[]> => {
          await gate;
          return log.append(topic, records);
        },
      },
    });
    const gated = await appOver(slow);
    let answered = false;
    const pending = gated.inject({ method: 'POST', url: '/v1/events', payload: [play('g1')] }).then((res) => {
      answered = true;
      return res;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    release();
    expect((await pending).statusCode).toBe(200);
    await gated.close();
  });

  it('answers a failed append with the log error status, never a stack', async () => {
    const broken: EventLog = Object.create(log, {
      append: {
        value: async () => {
          throw new ForyouError('FY_IO_FAILED', 'cannot write topic events: ENOSPC');
        },
      },
    });
    const failing = await appOver(broken);
    const res = await failing.inject({ method: 'POST', url: '/v1/events', payload: [play('f1')] });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'FY_IO_FAILED', message: 'cannot write topic events: ENOSPC' });
    await failing.close();
  });
});

describe('POST /v1/items and /v1/users', () => {
  const item = { item_id: 'v1', creator_id: 'c1', caption: 'ramen', hashtags: ['food'], created_ts: TS };
  const user = { user_id: 'u1', country: 'JP', language: 'ja', signup_ts: TS, interests: ['food'] };

  it('stores upserts in the catalog topic: same content is a duplicate, changed content a new version', async () => {
    expect((await post('/v1/items', [item])).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    const again = await post('/v1/items', [item, { ...item, caption: 'ramen at night' }]);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({
      accepted: 1,
      duplicates: 1,
      rejected: 0,
      not_accepted: [{ index: 0, status: 'duplicate' }],
    });
    expect((await post('/v1/users', [user])).statusCode).toBe(200);
    const records = await stored('catalog');
    expect(records.map((r) => r.id)).toEqual([
      expect.stringMatching(/^item:v1:[0-9a-f]{16}$/),
      expect.stringMatching(/^item:v1:[0-9a-f]{16}$/),
      expect.stringMatching(/^user:u1:[0-9a-f]{16}$/),
    ]);
    expect(records[0]!.id).not.toBe(records[1]!.id);
    expect(JSON.parse(records[1]!.payload)).toEqual({
      kind: 'item',
      record: { ...item, caption: 'ramen at night' },
    });
    expect(JSON.parse(records[2]!.payload)).toEqual({ kind: 'user', record: user });
  });

  it('fills defaults before hashing, so an item sent with and without them is the same version', async () => {
    const bare = { item_id: 'v9', created_ts: TS };
    await post('/v1/items', [bare]);
    const res = await post('/v1/items', [{ ...bare, caption: '', hashtags: [] }]);
    expect(res.json()).toMatchObject({ accepted: 0, duplicates: 1 });
  });

  it('answers 422 naming the field of a rejected user', async () => {
    const res = await post('/v1/users', [user, { ...user, user_id: 'u2', country: 'jp' }]);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({
      message:
        '1 of 2 users rejected: [1] country: must be an ISO 3166-1 alpha-2 code in upper case, like "US" or "JP"',
      accepted: 1,
      rejected: 1,
    });
  });
});
