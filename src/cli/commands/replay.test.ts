import { rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { captureOutput, tempDir } from '../../../test/helpers/index.js';
import { loadConfig } from '../../core/config.js';
import { WorldFolder } from '../../io/world-folder.js';
import { FileEventLog } from '../../log/file-log.js';
import { generateWorld } from '../../sim/generate.js';
import { buildProgram, runCli } from '../program.js';
import { type RunningServer, startServer } from './serve.js';

let root: string;
let worldDir: string;
let server: RunningServer;
let counts: { users: number; items: number; events: number };

beforeAll(async () => {
  root = tempDir('foryou-replay-');
  worldDir = join(root, 'world');
  const { manifest } = await generateWorld(
    worldDir,
    { seed: 3, users: 50, items: 60, days: 0.3 },
    { formats: ['jsonl'] },
  );
  counts = manifest.counts;
  const config = loadConfig({
    env: {},
    overrides: {
      logLevel: 'silent',
      http: { host: '127.0.0.1', port: 0 },
      log: { url: pathToFileURL(join(root, 'log')).href, fsync: 'interval' },
    },
  });
  server = await startServer(config);
});

afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

afterEach(() => vi.restoreAllMocks());

function replay(url: string, ...extra: string[]): Promise<number> {
  return runCli(
    [
      'sim',
      'replay',
      '--world',
      worldDir,
      '--url',
      url,
      '--batch',
      '40',
      '--concurrency',
      '3',
      '--quiet',
      ...extra,
    ],
    buildProgram({}),
  );
}

/** A proxy to the server that forwards every request but, for every third one, drops the answer. */
async function lossyProxy(
  target: string,
): Promise<{ url: string; dropped: () => number; close: () => Promise<void> }> {
  let n = 0;
  let dropped = 0;
  const proxy = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = await fetch(`${target}${req.url}`, {
      method: req.method ?? 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: Buffer.concat(chunks),
    });
    const text = await answer.text();
    if (++n % 3 === 1) {
      dropped++;
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    dropped: () => dropped,
    close: () => new Promise((resolve) => proxy.close(() => resolve())),
  };
}

async function storedIds(topic: string): Promise<string[]> {
  const log = await FileEventLog.open(join(root, 'log'), { readOnly: true });
  try {
    const records = await log.read(topic, 0, { maxRecords: 1_000_000 });
    return records.map((r) => r.id);
  } finally {
    await log.close();
  }
}

describe('foryou sim replay', () => {
  it('pushes users, items and events through the API, then answers a second run with duplicates', async () => {
    const io = captureOutput();
    expect(await replay(server.url)).toBe(0);
    const catalogue = counts.users + counts.items;
    const total = catalogue + counts.events;
    expect(io.out()).toContain(
      `replayed ${counts.users} users, ${counts.items} items and ${counts.events.toLocaleString('en-US')} events`,
    );
    expect(io.out()).toContain(`accepted ${total.toLocaleString('en-US')}, duplicates 0, rejected 0`);
    expect(io.out()).toMatch(/events: [\d,]+ events\/s/);

    const events = await storedIds('events');
    expect(events.length).toBe(counts.events);
    expect(new Set(events).size).toBe(counts.events);
    const world = await WorldFolder.open(worldDir);
    const ids: string[] = [];
    for await (const e of world.records('events')) ids.push(e.event_id);
    expect([...events].sort()).toEqual(ids.sort());
    const catalog = await storedIds('catalog');
    expect(catalog.filter((id) => id.startsWith('user:')).length).toBe(counts.users);
    expect(catalog.filter((id) => id.startsWith('item:')).length).toBe(counts.items);

    expect(await replay(server.url)).toBe(0);
    expect(io.out()).toContain(`accepted 0, duplicates ${total.toLocaleString('en-US')}, rejected 0`);
    expect((await storedIds('events')).length).toBe(counts.events);
  });

  it('retries requests whose answers are lost, with the same ids, so nothing is stored twice', async () => {
    const proxy = await lossyProxy(server.url);
    try {
      const before = (await storedIds('events')).length;
      const io = captureOutput();
      expect(await replay(proxy.url)).toBe(0);
      expect(proxy.dropped()).toBeGreaterThan(0);
      expect(io.out()).toMatch(/\(\d+ requests, [1-9]\d* retried\)/);
      const events = await storedIds('events');
      expect(events.length).toBe(before);
      expect(new Set(events).size).toBe(events.length);
    } finally {
      await proxy.close();
    }
  });

  it('fails with FY_SERVER_UNREACHABLE (exit 69) when nothing listens at the URL', async () => {
    const io = captureOutput();
    const code = await runCli(
      ['sim', 'replay', '--world', worldDir, '--url', 'http://127.0.0.1:9', '--attempts', '2', '--quiet'],
      buildProgram({}),
    );
    expect(code).toBe(69);
    expect(io.err()).toContain(
      'error FY_SERVER_UNREACHABLE: POST http://127.0.0.1:9/v1/users failed 2 times',
    );
  });

  it('refuses a --url that is not http', async () => {
    const io = captureOutput();
    const code = await runCli(['sim', 'replay', '--world', worldDir, '--url', 'ftp://x'], buildProgram({}));
    expect(code).toBe(64);
    expect(io.err()).toContain('expected an http:// or https:// URL, got "ftp://x"');
  });
});
