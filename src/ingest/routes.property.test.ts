/**
 * Hostile input against the ingest API, through fastify's inject (no port): malformed, oversized and
 * adversarial batches must be answered 4xx with a message naming the problem (or 200 when everything was
 * valid), never 5xx, without crashing the process; and every valid event of a mixed batch must be in the
 * log exactly once afterwards.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { EventSchema } from '../core/schema/event.js';
import { createHttpApp } from '../http/app.js';
import { FileEventLog } from '../log/file-log.js';
import { ingestRoutes } from './routes.js';

const MAX_BODY = 256 * 1024;
const MAX_RECORDS = 50;
const SEED = 20_260_105;

let dir: string;
let log: FileEventLog;
let app: FastifyInstance;

beforeAll(async () => {
  dir = tempDir('foryou-ingest-prop-');
  log = await FileEventLog.open(dir, { fsync: 'never' });
  app = createHttpApp({ logLevel: 'silent' });
  await app.register(ingestRoutes, { log, maxBodyBytes: MAX_BODY, maxBatchRecords: MAX_RECORDS });
});

afterAll(async () => {
  await app.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function send(url: string, payload: string | Buffer, contentType: string | null): Promise<Answer> {
  const res = await app.inject({
    method: 'POST',
    url,
    payload,
    headers: contentType === null ? {} : { 'content-type': contentType },
  });
  return { status: res.statusCode, body: res.json() };
}

/** What every answer must look like: 200/4xx, and a 4xx carries a catalogue code and a message. */
function expectWellFormed(answer: Answer): void {
  expect([200, 400, 413, 415, 422]).toContain(answer.status);
  if (answer.status !== 200) {
    expect(answer.body.code).toMatch(/^FY_[A-Z_]+$/);
    expect(typeof answer.body.message).toBe('string');
    expect((answer.body.message as string).length).toBeGreaterThan(5);
  }
}

const ID = fc.string({ unit: fc.constantFrom(...'abcxyz0189-_.:@'.split('')), minLength: 1, maxLength: 20 });
const validEvent = fc.oneof(
  fc.record({
    type: fc.constant('play'),
    user_id: ID,
    ts: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    item_id: ID,
    watch_ms: fc.integer({ min: 0, max: 86_400_000 }),
    duration_ms: fc.integer({ min: 1, max: 3_600_000 }),
  }),
  fc.record({
    type: fc.constant('impression'),
    user_id: ID,
    ts: fc.nat(),
    item_id: ID,
    request_id: ID,
    position: fc.integer({ min: 0, max: 100 }),
  }),
  fc.record({ type: fc.constant('search'), user_id: ID, ts: fc.nat(), query: fc.string({ minLength: 1 }) }),
  fc.record({ type: fc.constant('comment'), user_id: ID, ts: fc.nat(), item_id: ID, text: fc.string() }),
);

/** Values that break an event: wrong types, out-of-range numbers, huge strings, pollution keys, nesting. */
const breakage = fc.oneof(
  fc.record({
    field: fc.constantFrom('ts', 'user_id', 'type', 'watch_ms', 'item_id'),
    value: fc.jsonValue(),
  }),
  fc.record({
    field: fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra'),
    value: fc.constantFrom({ polluted: true }, { prototype: { polluted: true } }, 1),
  }),
  fc.record({ field: fc.constantFrom('ts', 'watch_ms'), value: fc.constantFrom(-1, 1.5, 1e300, 'NaN') }),
  fc.record({ field: fc.constant('user_id'), value: fc.constant('u'.repeat(10_000)) }),
);

/** An entry of a mixed batch: a valid event, a broken one, or an arbitrary JSON value. */
const entry = fc.oneof(
  {
    weight: 5,
    arbitrary: validEvent.map((event) => ({ event: event as Record<string, unknown>, broken: null })),
  },
  {
    weight: 3,
    arbitrary: fc.record({ event: validEvent as fc.Arbitrary<Record<string, unknown>>, broken: breakage }),
  },
  { weight: 1, arbitrary: fc.jsonValue().map((value) => ({ raw: value })) },
);

/** JSON text of one entry, with overflowing numbers and pollution keys written literally. */
function entryText(
  e: { event?: Record<string, unknown>; broken?: { field: string; value: unknown } | null; raw?: unknown },
  id: string,
): string {
  if ('raw' in e) return JSON.stringify(e.raw) ?? 'null';
  const fields = Object.entries({ event_id: id, ...e.event }).map(
    ([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`,
  );
  if (e.broken) {
    const value = e.broken.value === 1e300 ? '1e400' : (JSON.stringify(e.broken.value) ?? 'null');
    fields.push(`${JSON.stringify(e.broken.field)}:${value}`);
  }
  return `{${fields.join(',')}}`;
}

describe('ingest API under hostile input (property-based)', () => {
  it('stores every valid event of a mixed batch exactly once and names every rejected one', async () => {
    const expected = new Map<string, string>();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { minLength: 1, maxLength: 30 }),
        fc.constantFrom('json', 'ndjson'),
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
        fc.boolean(),
        async (entries, format, junkLines, resend) => {
          run++;
          const texts = entries.map((e, k) => entryText(e, `m${run}-${k}`));
          // NDJSON may also carry lines that are not JSON at all; each rejects only itself.
          if (format === 'ndjson') for (const junk of junkLines) texts.push(`{${junk}`);
          const payload = format === 'json' ? `[${texts.join(',')}]` : texts.join('\n');
          const type = format === 'json' ? 'application/json' : 'application/x-ndjson';
          const first = await send('/v1/events', payload, type);
          expectWellFormed(first);

          const oracle = texts.map((text) => {
            try {
              return EventSchema.safeParse(JSON.parse(text));
            } catch {
              return null;
            }
          });
          const valid = oracle.filter((r) => r?.success).length;
          const rejected = texts.length - valid;
          expect(first.status).toBe(rejected === 0 ? 200 : 422);
          expect(first.body).toMatchObject({ accepted: valid, duplicates: 0, rejected });
          const notAccepted = first.body.not_accepted as { index: number; status: string; reason?: string }[];
          expect(notAccepted.map((n) => n.index)).toEqual(oracle.flatMap((r, k) => (r?.success ? [] : [k])));
          for (const n of notAccepted) {
            expect(n.status).toBe('rejected');
            expect(n.reason?.length ?? 0).toBeGreaterThan(5);
          }
          for (const r of oracle) if (r?.success) expected.set(r.data.event_id, JSON.stringify(r.data));

          if (resend) {
            const again = await send('/v1/events', payload, type);
            expect(again.status).toBe(first.status);
            expect(again.body).toMatchObject({ accepted: 0, duplicates: valid, rejected });
          }
        },
      ),
      { numRuns: 150, seed: SEED },
    );

    const records = await log.read('events', 0, { maxRecords: 1_000_000 });
    const ids = records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => id.startsWith('m')).sort()).toEqual([...expected.keys()].sort());
    for (const r of records)
      if (expected.has(r.id)) expect(Buffer.from(r.payload).toString('utf8')).toBe(expected.get(r.id));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers arbitrary bodies and content types with 200 or a named 4xx, never 5xx', async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 500 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
      fc.array(fc.jsonValue(), { maxLength: 60 }).map((v) => JSON.stringify(v)),
      fc.nat({ max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
      fc.nat({ max: 5000 }).map((depth) => `[${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]`),
      fc.constantFrom('[1e400]', '[-1e400]', '[{"__proto__":null}]', '[\uFEFF]', '\uFEFF[{}]', '[{}]\n'),
    );
    const contentType = fc.oneof(
      fc.constantFrom(
        'application/json',
        'application/x-ndjson',
        'application/ndjson',
        'APPLICATION/JSON; charset=utf-8',
      ),
      fc.constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data',
        'application/json; charset=latin1',
        '',
      ),
      fc.constant(null),
      fc.string({ maxLength: 30 }).filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        contentType,
        fc.constantFrom('/v1/events', '/v1/items', '/v1/users'),
        async (b, t, url) => {
          expectWellFormed(await send(url, b, t));
        },
      ),
      { numRuns: 400, seed: SEED },
    );
    const health = await app.inject({ url: '/healthz' });
    expect(health.statusCode).toBe(200);
  });

  it('answers the extremes: deep nesting, huge strings, oversized bodies, too many records', async () => {
    const deep = 100_000;
    const started = performance.now();
    const nested = await send('/v1/events', `[${'['.repeat(deep)}${']'.repeat(deep)}]`, 'application/json');
    expect(nested.status).toBe(400);
    expect(nested.body.message).toBe('body nests arrays or objects deeper than 64 levels');
    const deepLine = `${'{"a":'.repeat(40_000)}1${'}'.repeat(40_000)}\n{"event_id":"d1","type":"like","user_id":"u","ts":1,"item_id":"v"}`;
    const nestedLine = await send('/v1/events', deepLine, 'application/x-ndjson');
    expect(nestedLine.status).toBe(422);
    expect(nestedLine.body).toMatchObject({
      accepted: 1,
      not_accepted: [
        { index: 0, status: 'rejected', reason: 'line nests arrays or objects deeper than 64 levels' },
      ],
    });
    // Refused before parsing: far quicker than JSON.parse of that nesting (about 20 ms per 100,000 levels).
    expect(performance.now() - started).toBeLessThan(2000);

    const hugeField = JSON.stringify([
      { event_id: 'h1', type: 'comment', user_id: 'u', ts: 1, item_id: 'v', text: 'x'.repeat(200_000) },
    ]);
    const huge = await send('/v1/events', hugeField, 'application/json');
    expect(huge.status).toBe(422);
    expect((huge.body.not_accepted as { reason: string }[])[0]!.reason).toBe(
      'text: must be at most 2,000 characters',
    );

    const oversized = await send('/v1/events', `["${'x'.repeat(MAX_BODY)}"]`, 'application/json');
    expect(oversized.status).toBe(413);
    expect(oversized.body.code).toBe('FY_PAYLOAD_TOO_LARGE');

    const many = await send(
      '/v1/events',
      JSON.stringify(Array(MAX_RECORDS + 1).fill({})),
      'application/json',
    );
    expect(many.status).toBe(413);

    const badLine = Buffer.concat([
      Buffer.from('{"event_id":"b1","type":"like","user_id":"u","ts":1,"item_id":"v"}\n'),
      Buffer.from([0xc0, 0xaf, 0x0a]),
      Buffer.from('{"event_id":"b2","type":"like","user_id":"u","ts":1,"item_id":"v"}'),
    ]);
    const mixed = await send('/v1/events', badLine, 'application/x-ndjson');
    expect(mixed.status).toBe(422);
    expect(mixed.body).toMatchObject({
      accepted: 2,
      rejected: 1,
      not_accepted: [{ index: 1, line: 2, status: 'rejected', reason: 'line is not valid UTF-8' }],
    });
  });
});
