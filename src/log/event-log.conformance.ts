/**
 * The behaviour every EventLog adapter must have. Each adapter's test file calls
 * `describeEventLogConformance` with a factory for fresh, isolated storage.
 */
import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import type { AppendInput, EventLog } from './port.js';

export interface LogStorage {
  /** Opens the log on this storage; called again after `close()` to test what survives a restart. */
  open(): Promise<EventLog>;
  /** Removes everything the storage holds. */
  destroy(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function records(prefix: string, n: number, start = 0): AppendInput[] {
  return Array.from({ length: n }, (_, k) => ({
    id: `${prefix}-${start + k}`,
    payload: encoder.encode(JSON.stringify({ n: start + k, text: `record ${start + k} of ${prefix}` })),
  }));
}

async function withLog(
  makeStorage: () => Promise<LogStorage>,
  fn: (log: EventLog, storage: LogStorage) => Promise<void>,
) {
  const storage = await makeStorage();
  const log = await storage.open();
  try {
    await fn(log, storage);
  } finally {
    await log.close().catch(() => {});
    await storage.destroy();
  }
}

export function describeEventLogConformance(adapter: string, makeStorage: () => Promise<LogStorage>): void {
  describe(`EventLog conformance: ${adapter}`, () => {
    it('appends in order with dense offsets and reads back the same records', async () => {
      await withLog(makeStorage, async (log) => {
        const first = await log.append('events', records('a', 5));
        expect(first.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
        expect(first.every((r) => !r.duplicate)).toBe(true);
        const second = await log.append('events', records('a', 3, 5));
        expect(second.map((r) => r.offset)).toEqual([5, 6, 7]);
        const back = await log.read('events', 0);
        expect(back.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(back.map((r) => r.id)).toEqual(records('a', 8).map((r) => r.id));
        expect(back.map((r) => JSON.parse(decoder.decode(r.payload)).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(await log.bounds('events')).toEqual({ start: 0, end: 8 });
      });
    });

    it('reads from any offset, honours maxRecords and maxBytes, and returns nothing at the end', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('r', 50));
        expect((await log.read('events', 17, { maxRecords: 5 })).map((r) => r.offset)).toEqual([
          17, 18, 19, 20, 21,
        ]);
        const bySize = await log.read('events', 0, { maxBytes: 100 });
        expect(bySize.length).toBeGreaterThanOrEqual(1);
        expect(bySize.length).toBeLessThan(50);
        expect(await log.read('events', 50)).toEqual([]);
        expect(await log.read('events', 500)).toEqual([]);
      });
    });

    it('stores an id once: a repeat is reported as a duplicate of the original offset', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('d', 3));
        const again = await log.append('events', [...records('d', 2, 1), ...records('d', 1, 3)]);
        expect(again).toEqual([
          { offset: 1, duplicate: true },
          { offset: 2, duplicate: true },
          { offset: 3, duplicate: false },
        ]);
        const inOneCall = await log.append('events', [...records('x', 1), ...records('x', 1)]);
        expect(inOneCall).toEqual([
          { offset: 4, duplicate: false },
          { offset: 4, duplicate: true },
        ]);
        expect((await log.bounds('events')).end).toBe(5);
      });
    });

    it('gives every record a non-decreasing timestamp and finds offsets by time', async () => {
      await withLog(makeStorage, async (log) => {
        const before = Date.now();
        await log.append('events', records('t', 3));
        await new Promise((resolve) => setTimeout(resolve, 30));
        const middle = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 5));
        await log.append('events', records('t', 3, 3));
        const after = Date.now();
        const all = await log.read('events', 0);
        for (let k = 1; k < all.length; k++)
          expect(all[k]!.timestampMs).toBeGreaterThanOrEqual(all[k - 1]!.timestampMs);
        expect(all[0]!.timestampMs).toBeGreaterThanOrEqual(before - 1000);
        expect(all.at(-1)!.timestampMs).toBeLessThanOrEqual(after + 1000);
        expect(await log.offsetForTime('events', 0)).toBe(0);
        expect(await log.offsetForTime('events', middle)).toBe(3);
        expect(await log.offsetForTime('events', after + 60_000)).toBe(6);
      });
    });

    it('keeps topics apart', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('e', 2));
        await log.append('catalog', records('c', 3));
        expect((await log.read('events', 0)).map((r) => r.id)).toEqual(['e-0', 'e-1']);
        expect((await log.read('catalog', 0)).map((r) => r.id)).toEqual(['c-0', 'c-1', 'c-2']);
        expect((await log.topics()).sort()).toEqual(['catalog', 'events']);
        // The same id in another topic is not a duplicate.
        expect(await log.append('catalog', records('e', 1))).toEqual([{ offset: 3, duplicate: false }]);
      });
    });

    it('commits offsets per named consumer and topic', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('k', 10));
        expect(await log.committed('events', 'lake')).toBeNull();
        await log.commit('events', 'lake', 4);
        await log.commit('events', 'features', 9);
        expect(await log.committed('events', 'lake')).toBe(4);
        expect(await log.committed('events', 'features')).toBe(9);
        await log.commit('events', 'lake', 10);
        expect(await log.committed('events', 'lake')).toBe(10);
        expect(await log.committed('catalog', 'lake')).toBeNull();
        expect((await log.stats('events')).consumers).toEqual({ features: 9, lake: 10 });
      });
    });

    it('wakes a waiting consumer when a record arrives, and times out otherwise', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('w', 1));
        expect(await log.waitFor('events', 0, 10)).toBe(true);
        const started = Date.now();
        expect(await log.waitFor('events', 1, 100)).toBe(false);
        expect(Date.now() - started).toBeGreaterThanOrEqual(90);
        const waiting = log.waitFor('events', 1, 5_000);
        setTimeout(() => void log.append('events', records('w', 1, 1)), 50);
        expect(await waiting).toBe(true);
      });
    });

    it('serialises concurrent appends into one dense order', async () => {
      await withLog(makeStorage, async (log) => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, k) => log.append('events', records(`c${k}`, 5))),
        );
        const offsets = results
          .flat()
          .map((r) => r.offset)
          .sort((a, b) => a - b);
        expect(offsets).toEqual(Array.from({ length: 200 }, (_, k) => k));
        for (const batch of results)
          for (let k = 1; k < batch.length; k++) expect(batch[k]!.offset).toBe(batch[k - 1]!.offset + 1);
      });
    });

    it('round-trips binary and large payloads', async () => {
      await withLog(makeStorage, async (log) => {
        const big = new Uint8Array(900_000).map((_, k) => (k * 31) % 256);
        const small = new Uint8Array([0, 255, 10, 13, 0]);
        await log.append('events', [
          { id: 'big', payload: big },
          { id: 'small', payload: small },
          { id: 'empty', payload: new Uint8Array(0) },
        ]);
        const back = await log.read('events', 0);
        expect(back.map((r) => r.payload.length)).toEqual([900_000, 5, 0]);
        expect(Buffer.from(back[0]!.payload).equals(Buffer.from(big))).toBe(true);
        expect(Array.from(back[1]!.payload)).toEqual([0, 255, 10, 13, 0]);
      });
    });

    it('keeps records, consumer offsets and duplicate detection across a restart', async () => {
      await withLog(makeStorage, async (log, storage) => {
        await log.append('events', records('s', 20));
        await log.commit('events', 'lake', 12);
        await log.close();
        const reopened = await storage.open();
        try {
          expect(await reopened.bounds('events')).toEqual({ start: 0, end: 20 });
          expect((await reopened.read('events', 0)).map((r) => r.id)).toEqual(
            records('s', 20).map((r) => r.id),
          );
          expect(await reopened.committed('events', 'lake')).toBe(12);
          expect(await reopened.append('events', records('s', 2, 19))).toEqual([
            { offset: 19, duplicate: true },
            { offset: 20, duplicate: false },
          ]);
        } finally {
          await reopened.close();
        }
      });
    });

    it('refuses bad topic names, consumer names and ids with FY_INVALID_ARGUMENT', async () => {
      await withLog(makeStorage, async (log) => {
        const refused = async (p: Promise<unknown>) => {
          const error = await p.then(
            () => null,
            (e: unknown) => e,
          );
          expect(isForyouError(error, 'FY_INVALID_ARGUMENT'), String(error)).toBe(true);
        };
        await refused(log.append('Bad Topic', records('a', 1)));
        await refused(log.append('../escape', records('a', 1)));
        await refused(log.append('events', [{ id: '', payload: new Uint8Array(1) }]));
        await refused(log.commit('events', 'no spaces', 0));
        await refused(log.read('events', -1));
        await log.append('events', records('a', 2));
        await refused(log.commit('events', 'lake', 3));
      });
    });

    it('reports stats that match what was appended', async () => {
      await withLog(makeStorage, async (log) => {
        await log.append('events', records('st', 12));
        const stats = await log.stats('events');
        expect(stats).toMatchObject({ topic: 'events', start: 0, end: 12, records: 12 });
        expect(stats.bytes).toBeGreaterThan(12 * 20);
        expect(stats.firstTimestampMs).not.toBeNull();
        expect(stats.lastTimestampMs!).toBeGreaterThanOrEqual(stats.firstTimestampMs!);
      });
    });
  });
}
