/**
 * The NATS JetStream adapter against a live server (NATS_URL, default nats://127.0.0.1:4222): the shared
 * conformance suite, then what only this adapter has (stream limits, the duplicate window, durable consumers).
 * Without a reachable server the suite is skipped with the reason, except under CI=true, where it fails.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../test/helpers/index.js';
import { describeEventLogConformance, type LogStorage } from './event-log.conformance.js';
import { NatsEventLog, type NatsEventLogOptions } from './nats-log.js';
import type { AppendInput } from './port.js';

const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const encoder = new TextEncoder();

/** Null when a JetStream server answers at `url`, else why not. */
async function serverProblem(): Promise<string | null> {
  try {
    const log = await NatsEventLog.connect(url, { timeoutMs: 2_000 });
    await log.close();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const problem = await serverProblem();

function uniquePrefix(): string {
  return `T${randomBytes(5).toString('hex')}`;
}

/** Deletes every stream whose name starts with `<PREFIX>_`. */
async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names())
      if (name.startsWith(`${prefix.toUpperCase()}_`)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

/** Runs `fn` with a JetStream manager on its own connection, for looking at what the adapter made. */
async function withManager<T>(
  fn: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>,
): Promise<T> {
  const nc = await connect({ servers: url });
  try {
    return await fn(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

function storage(options: NatsEventLogOptions = {}): LogStorage & { prefix: string } {
  const prefix = options.prefix ?? uniquePrefix();
  return {
    prefix,
    open: () => NatsEventLog.connect(url, { ...options, prefix }),
    destroy: () => deleteStreams(prefix),
  };
}

async function withLog(
  options: NatsEventLogOptions,
  fn: (log: NatsEventLog, prefix: string) => Promise<void>,
) {
  const s = storage(options);
  const log = (await s.open()) as NatsEventLog;
  try {
    await fn(log, s.prefix);
  } finally {
    await log.close();
    await s.destroy();
  }
}

function records(prefix: string, n: number, start = 0): AppendInput[] {
  return Array.from({ length: n }, (_, k) => ({
    id: `${prefix}-${start + k}`,
    payload: encoder.encode(JSON.stringify({ n: start + k })),
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('NatsEventLog without a server', () => {
  it('fails fast with FY_LOG_UNAVAILABLE naming the URL when nothing listens', async () => {
    const started = Date.now();
    const message = await failureOf(
      NatsEventLog.connect('nats://127.0.0.1:1', { timeoutMs: 1_000 }),
      'FY_LOG_UNAVAILABLE',
    );
    expect(message).toContain('nats://127.0.0.1:1');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses bad options with FY_INVALID_ARGUMENT before connecting', async () => {
    await failureOf(NatsEventLog.connect(url, { prefix: 'has_underscore' }), 'FY_INVALID_ARGUMENT');
    await failureOf(NatsEventLog.connect(url, { duplicateWindowMs: -1 }), 'FY_INVALID_ARGUMENT');
  });
});

if (problem === null) {
  describeEventLogConformance('nats', async () => storage());

  describe('NatsEventLog on JetStream', () => {
    it('maps a topic to one stream and subject and keeps the id as Nats-Msg-Id', async () => {
      await withLog({}, async (log, prefix) => {
        await log.append('user-events', records('u', 3));
        const stream = `${prefix.toUpperCase()}_USER-EVENTS`;
        await withManager(async (jsm) => {
          const info = await jsm.streams.info(stream);
          expect(info.config.subjects).toEqual([`${prefix.toLowerCase()}.user-events`]);
          expect(info.config.storage).toBe('file');
          expect(info.config.retention).toBe('limits');
          expect(info.config.duplicate_window).toBe(3_600_000 * 1_000_000);
          const stored = await jsm.direct.getMessage(stream, { seq: 2 });
          expect(stored?.header.get('Nats-Msg-Id')).toBe('u-1');
        });
        expect(await log.topics()).toEqual(['user-events']);
      });
    });

    it('reads the same records through direct gets (short reads) and a consumer (long reads)', async () => {
      await withLog({}, async (log) => {
        await log.append('events', records('p', 30));
        const long = await log.read('events', 5, { maxRecords: 20 });
        expect(long.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, k) => 5 + k));
        const short = await log.read('events', 5, { maxRecords: 3 });
        expect(short).toEqual(long.slice(0, 3));
        // A byte limit below the first record's size still returns that record, on both paths.
        expect((await log.read('events', 10, { maxBytes: 1 })).map((r) => r.offset)).toEqual([10]);
        expect((await log.read('events', 10, { maxBytes: 1, maxRecords: 2 })).map((r) => r.offset)).toEqual([
          10,
        ]);
      });
    });

    it('treats a topic never written as empty without creating it', async () => {
      await withLog({}, async (log) => {
        expect(await log.bounds('nothing')).toEqual({ start: 0, end: 0 });
        expect(await log.read('nothing', 0)).toEqual([]);
        expect(await log.offsetForTime('nothing', Date.now())).toBe(0);
        expect(await log.committed('nothing', 'lake')).toBeNull();
        expect(await log.topics()).toEqual([]);
      });
    });

    it('drops the oldest records past maxMessages: reads below the start fail and the start moves', async () => {
      await withLog({ maxMessages: 10 }, async (log) => {
        await log.append('events', records('m', 25));
        expect(await log.bounds('events')).toEqual({ start: 15, end: 25 });
        const message = await failureOf(log.read('events', 3), 'FY_LOG_OFFSET_OUT_OF_RANGE');
        expect(message).toContain('15');
        expect((await log.read('events', 15)).map((r) => r.id)).toEqual(
          records('m', 10, 15).map((r) => r.id),
        );
        expect(await log.offsetForTime('events', 0)).toBe(15);
        expect(await log.stats('events')).toMatchObject({ start: 15, end: 25, records: 10 });
      });
    });

    it('gives start = end for a stream emptied by max age, and keeps counting after it', async () => {
      await withLog({ maxAgeMs: 500 }, async (log) => {
        await log.append('events', records('a', 3));
        const deadline = Date.now() + 10_000;
        while ((await log.stats('events')).records > 0 && Date.now() < deadline) await sleep(100);
        expect(await log.bounds('events')).toEqual({ start: 3, end: 3 });
        expect(await log.read('events', 3)).toEqual([]);
        await failureOf(log.read('events', 0), 'FY_LOG_OFFSET_OUT_OF_RANGE');
        expect(await log.offsetForTime('events', 0)).toBe(3);
        expect(await log.append('events', records('a', 1, 3))).toEqual([{ offset: 3, duplicate: false }]);
      });
    });

    it('forgets ids after the duplicate window: the same id is then stored again', async () => {
      await withLog({ duplicateWindowMs: 500 }, async (log) => {
        const started = Date.now();
        expect(await log.append('events', records('w', 1))).toEqual([{ offset: 0, duplicate: false }]);
        expect(await log.append('events', records('w', 1))).toEqual([{ offset: 0, duplicate: true }]);
        let result = await log.append('events', records('w', 1));
        while (result[0]!.duplicate && Date.now() - started < 10_000) {
          await sleep(100);
          result = await log.append('events', records('w', 1));
        }
        expect(result).toEqual([{ offset: 1, duplicate: false }]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(400);
      });
    });

    it('keeps each committed position in a durable consumer that `nats consumer info` shows', async () => {
      await withLog({ commitAckLimit: 5 }, async (log, prefix) => {
        await log.append('events', records('k', 20));
        const stream = `${prefix.toUpperCase()}_EVENTS`;
        const info = () => withManager((jsm) => jsm.consumers.info(stream, 'lake'));
        await log.commit('events', 'lake', 4); // creates the durable at offset 4
        expect(await info()).toMatchObject({ delivered: { stream_seq: 4 }, num_pending: 16 });
        expect((await info()).config).toMatchObject({ durable_name: 'lake', ack_policy: 'all' });
        await log.commit('events', 'lake', 7); // forward by 3 <= 5: acknowledged through the durable
        expect(await info()).toMatchObject({
          delivered: { stream_seq: 7 },
          ack_floor: { stream_seq: 7 },
          num_pending: 13,
          num_ack_pending: 0,
        });
        await log.commit('events', 'lake', 2); // backwards: the durable is recreated
        expect(await info()).toMatchObject({ delivered: { stream_seq: 2 }, num_pending: 18 });
        expect(await log.committed('events', 'lake')).toBe(2);
        await log.commit('events', 'lake', 20); // forward by 18 > 5: recreated as well
        expect(await info()).toMatchObject({ delivered: { stream_seq: 20 }, num_pending: 0 });
        expect(await log.committed('events', 'lake')).toBe(20);
        await failureOf(log.commit('events', 'lake', 21), 'FY_INVALID_ARGUMENT');
        expect((await log.stats('events')).consumers).toEqual({ lake: 20 });
      });
    });

    it('recovers a consumer left with unacknowledged deliveries, as a crash in mid-commit leaves it', async () => {
      await withLog({}, async (log, prefix) => {
        await log.append('events', records('x', 10));
        await log.commit('events', 'lake', 2);
        const stream = `${prefix.toUpperCase()}_EVENTS`;
        // Deliver two records through the durable without acknowledging them.
        const nc = await connect({ servers: url });
        try {
          const inbox = `_INBOX.${randomBytes(6).toString('hex')}`;
          const sub = nc.subscribe(inbox, { max: 2 });
          nc.publish(
            `$JS.API.CONSUMER.MSG.NEXT.${stream}.lake`,
            JSON.stringify({ batch: 2, no_wait: true }),
            {
              reply: inbox,
            },
          );
          for await (const _ of sub) {
            // drain the two deliveries
          }
        } finally {
          await nc.close();
        }
        const left = await withManager((jsm) => jsm.consumers.info(stream, 'lake'));
        expect(left).toMatchObject({ delivered: { stream_seq: 4 }, num_ack_pending: 2 });
        expect(await log.committed('events', 'lake')).toBe(2);
        await log.commit('events', 'lake', 5);
        expect(await log.committed('events', 'lake')).toBe(5);
        const after = await withManager((jsm) => jsm.consumers.info(stream, 'lake'));
        expect(after).toMatchObject({ delivered: { stream_seq: 5 }, num_ack_pending: 0, num_pending: 5 });
      });
    });

    it('refuses a record larger than the server takes before sending anything', async () => {
      await withLog({}, async (log) => {
        const big = { id: 'big', payload: new Uint8Array(2 << 20) };
        const message = await failureOf(
          log.append('events', [...records('b', 1), big]),
          'FY_INVALID_ARGUMENT',
        );
        expect(message).toContain('max_payload');
        expect(await log.bounds('events')).toEqual({ start: 0, end: 0 });
      });
    });

    it('wakes a waiter on a record appended through another connection', async () => {
      await withLog({}, async (log, prefix) => {
        const other = await NatsEventLog.connect(url, { prefix });
        try {
          const waiting = log.waitFor('events', 0, 5_000);
          await sleep(30);
          await other.append('events', records('o', 1));
          expect(await waiting).toBe(true);
          // A zero timeout still looks once.
          expect(await log.waitFor('events', 0, 0)).toBe(true);
          expect(await log.waitFor('events', 1, 0)).toBe(false);
        } finally {
          await other.close();
        }
      });
    });

    it('fails clearly after close, and a pending wait ends with the close', async () => {
      const s = storage();
      const log = await s.open();
      try {
        const waiting = log.waitFor('events', 0, 5_000);
        await sleep(20);
        const ended = failureOf(waiting, 'FY_LOG_UNAVAILABLE');
        await log.close();
        expect(await ended).toContain('closed');
        expect(await failureOf(log.append('events', records('c', 1)), 'FY_LOG_UNAVAILABLE')).toContain(
          'closed',
        );
        await failureOf(log.read('events', 0), 'FY_LOG_UNAVAILABLE');
      } finally {
        await s.destroy();
      }
    });
  });
} else if (process.env.CI === 'true') {
  describe('NatsEventLog on JetStream', () => {
    it(`needs a NATS server with JetStream at ${url}`, () => {
      throw new Error(
        `no usable NATS server at ${url} (CI=true, so this fails instead of skipping): ${problem}`,
      );
    });
  });
} else {
  console.warn(`nats-log.test.ts: skipping the JetStream tests, no usable server at ${url}: ${problem}`);
  describe.skip(`NatsEventLog on JetStream (skipped: no usable NATS server at ${url}: ${problem})`, () => {
    it('needs a NATS server with JetStream', () => {});
  });
}
