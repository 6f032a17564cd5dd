import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, tempDir } from '../../../test/helpers/index.js';
import { FileEventLog } from '../../log/file-log.js';
import { buildProgram, runCli } from '../program.js';

let root: string;
let logDir: string;

const payload = (n: number) => Buffer.from(JSON.stringify({ event_id: `e${n}`, n }));

beforeEach(async () => {
  root = tempDir('foryou-log-cli-');
  logDir = join(root, 'log');
  const log = await FileEventLog.open(logDir, { fsync: 'never' });
  await log.append(
    'events',
    Array.from({ length: 25 }, (_, n) => ({ id: `e${n}`, payload: payload(n) })),
  );
  await log.append('catalog', [{ id: 'user:u1:abc', payload: Buffer.from('not json \u0001') }]);
  await log.commit('events', 'lake', 20);
  await log.close();
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

function foryou(...args: string[]): Promise<number> {
  return runCli(args, buildProgram({ FORYOU_LOG_URL: pathToFileURL(logDir).href }));
}

function lines(text: string): Record<string, unknown>[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
}

describe('foryou log tail', () => {
  it('prints the last 10 records as JSON lines by default', async () => {
    const io = captureOutput();
    expect(await foryou('log', 'tail')).toBe(0);
    const out = lines(io.out());
    expect(out.map((r) => r.offset)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(out[0]).toMatchObject({ topic: 'events', id: 'e15', payload: { event_id: 'e15', n: 15 } });
    expect(out[0]!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('reads from an offset with a limit, from a time, and another topic (base64 when not JSON)', async () => {
    const io = captureOutput();
    expect(await foryou('log', 'tail', '--from', '3', '--limit', '2')).toBe(0);
    expect(lines(io.out()).map((r) => r.id)).toEqual(['e3', 'e4']);
    const io2 = captureOutput();
    expect(await foryou('log', 'tail', '--since', '2000-01-01T00:00:00Z')).toBe(0);
    expect(lines(io2.out()).length).toBe(25);
    const io3 = captureOutput();
    expect(await foryou('log', 'tail', '--topic', 'catalog')).toBe(0);
    expect(lines(io3.out())).toEqual([
      expect.objectContaining({
        id: 'user:u1:abc',
        payload_base64: Buffer.from('not json \u0001').toString('base64'),
      }),
    ]);
  });

  it('works while another process holds the log open for writing', async () => {
    const writer = await FileEventLog.open(logDir, { fsync: 'never' });
    try {
      const io = captureOutput();
      expect(await foryou('log', 'tail', '--limit', '1')).toBe(0);
      expect(lines(io.out()).map((r) => r.id)).toEqual(['e24']);
    } finally {
      await writer.close();
    }
  });

  it('follows new records until interrupted', async () => {
    const io = captureOutput();
    const writer = await FileEventLog.open(logDir, { fsync: 'never' });
    const running = foryou('log', 'tail', '--from', '24', '--follow');
    await new Promise((r) => setTimeout(r, 100));
    await writer.append('events', [{ id: 'late', payload: payload(99) }]);
    for (let k = 0; k < 100 && !io.out().includes('"late"'); k++) await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGINT');
    expect(await running).toBe(0);
    await writer.close();
    expect(lines(io.out()).map((r) => r.id)).toEqual(['e24', 'late']);
  });

  it('refuses --from and --since together', async () => {
    const io = captureOutput();
    expect(await foryou('log', 'tail', '--from', '1', '--since', '2026-01-01T00:00:00Z')).toBe(64);
    expect(io.err()).toContain('give --from or --since, not both');
  });
});

describe('foryou log stats', () => {
  it('prints a table of every topic with its bounds, size, time range and consumers', async () => {
    const io = captureOutput();
    expect(await foryou('log', 'stats')).toBe(0);
    const [header, catalog, events] = io.out().trim().split('\n');
    expect(header).toMatch(
      /^topic\s+records\s+offsets\s+bytes\s+segments\s+first appended\s+last appended\s+consumers$/,
    );
    expect(catalog).toMatch(/^catalog\s+1\s+0\.\.1\s+[\d.]+ (B|KiB)\s+1\s+\S+Z\s+\S+Z\s+-$/);
    expect(events).toMatch(/^events\s+25\s+0\.\.25\s+[\d.]+ (B|KiB)\s+1\s+\S+Z\s+\S+Z\s+lake@20$/);
  });

  it('prints JSON with --json', async () => {
    const io = captureOutput();
    expect(await foryou('log', 'stats', '--json')).toBe(0);
    const [, events] = lines(io.out());
    expect(events).toMatchObject({
      topic: 'events',
      start: 0,
      end: 25,
      records: 25,
      segments: 1,
      consumers: { lake: 20 },
    });
  });

  it('says so when the log holds no topic', async () => {
    const io = captureOutput();
    const empty = join(root, 'empty');
    expect(await runCli(['log', 'stats'], buildProgram({ FORYOU_LOG_URL: pathToFileURL(empty).href }))).toBe(
      0,
    );
    expect(io.out()).toBe(`no topics in ${pathToFileURL(empty).href}\n`);
  });
});
