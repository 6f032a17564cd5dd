import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failureOf, tempDir } from '../../test/helpers/index.js';
import { FileEventLog } from './file-log.js';
import type { AppendInput } from './port.js';

const encoder = new TextEncoder();
const records = (prefix: string, n: number, start = 0): AppendInput[] =>
  Array.from({ length: n }, (_, k) => ({
    id: `${prefix}${start + k}`,
    payload: encoder.encode(`{"n":${start + k},"pad":"${'x'.repeat(60)}"}`),
  }));

const segmentFiles = (dir: string) =>
  readdirSync(join(dir, 'events'))
    .filter((n) => n.endsWith('.log'))
    .sort();

describe('FileEventLog recovery and retention', () => {
  it('truncates a torn tail on open and keeps every complete record', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir);
    await log.append('events', records('a', 10));
    await log.close();
    const active = join(dir, 'events', segmentFiles(dir).at(-1)!);
    const size = statSync(active).size;
    // Half a frame: a length field promising more bytes than were written, as a crash mid-write leaves.
    const torn = Buffer.alloc(30);
    torn.writeUInt32LE(500, 0);
    appendFileSync(active, torn);
    const reopened = await FileEventLog.open(dir);
    expect(await reopened.bounds('events')).toEqual({ start: 0, end: 10 });
    expect(statSync(active).size).toBe(size);
    expect(await reopened.append('events', records('a', 2, 10))).toEqual([
      { offset: 10, duplicate: false },
      { offset: 11, duplicate: false },
    ]);
    expect((await reopened.read('events', 0, { maxRecords: 100 })).map((r) => r.id)).toEqual(
      records('a', 12).map((r) => r.id),
    );
    await reopened.close();
  });

  it('drops a tail frame whose checksum does not match', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir);
    await log.append('events', records('c', 5));
    await log.close();
    const active = join(dir, 'events', segmentFiles(dir).at(-1)!);
    const bytes = readFileSync(active);
    bytes[bytes.length - 3]! ^= 0xff; // flip a payload byte of the last frame
    writeFileSync(active, bytes);
    const reopened = await FileEventLog.open(dir);
    expect((await reopened.bounds('events')).end).toBe(4);
    await reopened.close();
  });

  it('reports a damaged sealed segment as FY_LOG_CORRUPT with the file and position', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { segmentBytes: 1024 });
    await log.append('events', records('s', 60));
    await log.close();
    const sealed = join(dir, 'events', segmentFiles(dir)[0]!);
    const bytes = readFileSync(sealed);
    bytes[40]! ^= 0xff;
    writeFileSync(sealed, bytes);
    const reopened = await FileEventLog.open(dir, { segmentBytes: 1024 });
    const message = await failureOf(reopened.read('events', 0), 'FY_LOG_CORRUPT');
    expect(message).toContain(sealed);
    expect(message).toMatch(/at byte \d+/);
    await reopened.close();
  });

  it('rolls segments, writes their indexes, and reopens without rescanning sealed segments', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { segmentBytes: 2048 });
    await log.append('events', records('r', 200));
    await log.close();
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    const indexes = readdirSync(join(dir, 'events')).filter((n) => n.endsWith('.index'));
    expect(indexes.length).toBe(files.length - 1);
    // A damaged index is ignored and the segment rescanned.
    writeFileSync(join(dir, 'events', indexes[0]!), 'garbage');
    const reopened = await FileEventLog.open(dir, { segmentBytes: 2048 });
    const all = await reopened.read('events', 0, { maxRecords: 1000 });
    expect(all.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, k) => k));
    expect(await reopened.offsetForTime('events', all[150]!.timestampMs)).toBeLessThanOrEqual(150);
    await reopened.close();
  });

  it('removes the oldest segments past the size limit; reads below the start fail clearly', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { segmentBytes: 2048, retentionBytes: 6000 });
    for (let k = 0; k < 10; k++) await log.append('events', records('t', 30, k * 30));
    const bounds = await log.bounds('events');
    expect(bounds.end).toBe(300);
    expect(bounds.start).toBeGreaterThan(0);
    expect((await log.stats('events')).bytes).toBeLessThanOrEqual(6000 + 2048);
    const message = await failureOf(log.read('events', 0), 'FY_LOG_OFFSET_OUT_OF_RANGE');
    expect(message).toContain(`starts at offset ${bounds.start}`);
    expect((await log.read('events', bounds.start, { maxRecords: 1 }))[0]!.offset).toBe(bounds.start);
    await log.close();
  });

  it('removes segments older than the age limit', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { segmentBytes: 1024, retentionMs: 50 });
    await log.append('events', records('o', 40));
    await new Promise((r) => setTimeout(r, 80));
    await log.append('events', records('o', 40, 40));
    const { start } = await log.bounds('events');
    expect(start).toBeGreaterThanOrEqual(40);
    await log.close();
  });

  it('lets one process write: a second writer is refused, a stale lock is taken over', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir);
    writeFileSync(join(dir, '.lock'), '999999999');
    const second = await FileEventLog.open(dir).catch((e: unknown) => e);
    // The lock file now names a process that does not exist, so the second opener takes it over.
    expect(second).toBeInstanceOf(FileEventLog);
    await (second as FileEventLog).close();
    const third = await FileEventLog.open(dir);
    const message = await failureOf(FileEventLog.open(dir), 'FY_LOG_LOCKED');
    expect(message).toContain(`process ${process.pid}`);
    await third.close();
    await log.close();
  });

  it('follows a writer from a read-only opener', async () => {
    const dir = tempDir('foryou-log-');
    const writer = await FileEventLog.open(dir, { segmentBytes: 1024 });
    await writer.append('events', records('f', 5));
    const reader = await FileEventLog.open(dir, { readOnly: true });
    expect(await reader.bounds('events')).toEqual({ start: 0, end: 5 });
    const waiting = reader.waitFor('events', 5, 5_000);
    await new Promise((r) => setTimeout(r, 20));
    await writer.append('events', records('f', 40, 5));
    expect(await waiting).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect((await reader.read('events', 0, { maxRecords: 100 })).map((r) => r.id)).toEqual(
      records('f', 45).map((r) => r.id),
    );
    await writer.commit('events', 'lake', 7);
    expect(await reader.committed('events', 'lake')).toBe(7);
    await reader.commit('events', 'features', 9);
    expect(await writer.committed('events', 'features')).toBe(9);
    await expect(reader.append('events', records('x', 1))).rejects.toThrow('read-only');
    await reader.close();
    await writer.close();
  });

  it('remembers only the newest ids up to the dedup window', async () => {
    const dir = tempDir('foryou-log-');
    const log = await FileEventLog.open(dir, { dedupWindow: 10 });
    await log.append('events', records('w', 30));
    expect(await log.append('events', records('w', 1, 25))).toEqual([{ offset: 25, duplicate: true }]);
    expect(await log.append('events', records('w', 1, 0))).toEqual([{ offset: 30, duplicate: false }]);
    await log.close();
  });
});
