import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ForyouError } from '../core/errors.js';
import { createHttpApp } from './app.js';
import { acceptRawBodies, type RawBody } from './raw-body.js';

/** Collects the server's log lines. */
function logSink() {
  const lines: Record<string, unknown>[] = [];
  return { lines, stream: { write: (line: string) => lines.push(JSON.parse(line)) } };
}

let app: ReturnType<typeof createHttpApp> | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

function appWithRoutes(options: Parameters<typeof createHttpApp>[0] = {}) {
  app = createHttpApp({ logLevel: 'silent', ...options });
  app.get('/fail/foryou', async () => {
    throw new ForyouError('FY_DATASET_NOT_FOUND', 'no dataset at /x', { details: { path: '/x' } });
  });
  app.get('/fail/bug', async () => {
    throw new TypeError('secret internals at /srv/app.js:12');
  });
  app.get('/fail/thrown-string', async () => {
    throw 'just a string';
  });
  app.post('/echo', async (request) => ({ got: request.body }));
  app.register(async (raw) => {
    acceptRawBodies(raw, ['application/json', 'application/x-ndjson']);
    raw.post('/raw', { bodyLimit: 64 }, async (request) => {
      const body = request.body as RawBody;
      return { mediaType: body.mediaType, bytes: body.bytes.length };
    });
  });
  return app;
}

describe('createHttpApp', () => {
  it('answers GET /healthz with ok and the extra facts', async () => {
    const a = appWithRoutes({ health: () => ({ log: 'file' }) });
    const res = await a.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', log: 'file' });
  });

  it('answers 503 from /healthz when the health check throws', async () => {
    const a = appWithRoutes({
      health: () => {
        throw new Error('log closed');
      },
    });
    const res = await a.inject({ url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unhealthy', reason: 'log closed' });
  });

  it('maps a ForyouError to its catalogue status and body', async () => {
    const res = await appWithRoutes().inject({ url: '/fail/foryou' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      code: 'FY_DATASET_NOT_FOUND',
      message: 'no dataset at /x',
      hint: ERROR_CATALOGUE.FY_DATASET_NOT_FOUND.hint,
      details: { path: '/x' },
    });
  });

  it('answers an unexpected error with 500 FY_INTERNAL naming the request id, logs the stack, never leaks it', async () => {
    const sink = logSink();
    const a = appWithRoutes({ logLevel: 'error', logStream: sink.stream });
    const res = await a.inject({ url: '/fail/bug', headers: { 'x-request-id': 'trace-123' } });
    expect(res.statusCode).toBe(500);
    expect(res.headers['x-request-id']).toBe('trace-123');
    const body = res.json();
    expect(body.code).toBe('FY_INTERNAL');
    expect(body.message).toBe(
      'internal error while answering request trace-123; the server log has the details',
    );
    expect(res.body).not.toContain('secret internals');
    expect(res.body).not.toContain('app.js');
    const logged = sink.lines.find((l) => l.level === 50);
    expect(logged?.reqId).toBe('trace-123');
    expect(JSON.stringify(logged)).toContain('secret internals');
    const other = await a.inject({ url: '/fail/thrown-string' });
    expect(other.statusCode).toBe(500);
    expect(other.json().code).toBe('FY_INTERNAL');
  });

  it('answers an unknown route with 404 FY_ROUTE_NOT_FOUND', async () => {
    const res = await appWithRoutes().inject({ method: 'DELETE', url: '/v1/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'FY_ROUTE_NOT_FOUND',
      message: 'no endpoint answers DELETE /v1/nothing',
    });
  });

  it('mints request ids, keeps a well-formed caller id and replaces a malformed one', async () => {
    const a = appWithRoutes();
    const first = await a.inject({ url: '/healthz' });
    const second = await a.inject({ url: '/healthz' });
    expect(first.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    const kept = await a.inject({ url: '/healthz', headers: { 'x-request-id': 'abc.DEF-1' } });
    expect(kept.headers['x-request-id']).toBe('abc.DEF-1');
    const replaced = await a.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\twith tabs' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-/);
  });

  it('maps framework errors: malformed JSON to 400, oversized body to 413, unknown type to 415', async () => {
    const a = appWithRoutes({ bodyLimitBytes: 32 });
    const bad = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'FY_BODY_MALFORMED', message: 'body is not valid JSON' });
    const big = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ a: 'x'.repeat(100) }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({
      code: 'FY_PAYLOAD_TOO_LARGE',
      message: 'request body is over the limit of 32 bytes',
    });
    const type = await a.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'image/png' },
      payload: 'x',
    });
    expect(type.statusCode).toBe(415);
    expect(type.json().code).toBe('FY_UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('acceptRawBodies', () => {
  it('hands the handler the bytes and the media type, without parameters, in lower case', async () => {
    const res = await appWithRoutes().inject({
      method: 'POST',
      url: '/raw',
      headers: { 'content-type': 'Application/X-NDJSON; charset=UTF-8' },
      payload: '{}\n{}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ mediaType: 'application/x-ndjson', bytes: 5 });
  });

  it.each([
    [
      'text/plain',
      'content type "text/plain" is not accepted: send application/json or application/x-ndjson',
    ],
    [undefined, 'the request has no Content-Type: send application/json or application/x-ndjson'],
    [
      'application/json; charset=iso-8859-1',
      'charset "iso-8859-1" is not accepted: send UTF-8 (application/json or application/x-ndjson)',
    ],
  ])('refuses content type %s with 415 and the accepted types', async (type, message) => {
    const res = await appWithRoutes().inject({
      method: 'POST',
      url: '/raw',
      headers: type ? { 'content-type': type } : {},
      payload: '[]',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'FY_UNSUPPORTED_MEDIA_TYPE', message });
  });

  it("applies the route's own body limit", async () => {
    const res = await appWithRoutes().inject({
      method: 'POST',
      url: '/raw',
      headers: { 'content-type': 'application/json' },
      payload: `[${'1,'.repeat(40)}1]`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toBe('request body is over the limit of 64 bytes');
  });
});
