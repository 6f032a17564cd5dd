/**
 * Random-access reads of a stream. Short reads use direct gets (one request per record, all in flight at
 * once); longer ones a short-lived ephemeral pull consumer started at the wanted sequence (three requests,
 * whatever the length: create, one pull, delete). Measured on one 2.9 server with 200-byte records:
 *
 * | records | direct gets | consumer |
 * | ------- | ----------- | -------- |
 * | 1       | 0.2 ms      | 1.0 ms   |
 * | 10      | 0.9 ms      | 1.4 ms   |
 * | 100     | 5.6 ms      | 1.9 ms   |
 * | 1,000   | 44 ms       | 5.7 ms   |
 *
 * Batch direct get (one request, many records) would beat both but needs a 2.11 server.
 */
import { AckPolicy, DeliverPolicy, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type PulledMessage, pullBatch } from './nats-pull.js';
import { nanos, parseNatsTime } from './nats-support.js';
import type { LogRecord } from './port.js';

/** Reads of at most this many records use direct gets. */
export const DIRECT_READ_LIMIT = 8;

export interface ReadContext {
  nc: NatsConnection;
  jsm: JetStreamManager;
  timeoutMs: number;
}

export interface RangeRequest {
  stream: string;
  /** First stream sequence wanted. */
  seq: number;
  count: number;
  maxBytes?: number | undefined;
  /** The stream allows direct gets. */
  direct: boolean;
}

/** Up to `count` records from sequence `seq` on, at most about `maxBytes` of payload but at least one. */
export async function readRange(ctx: ReadContext, request: RangeRequest): Promise<LogRecord[]> {
  const { stream, seq, count, maxBytes } = request;
  if (request.direct && count <= DIRECT_READ_LIMIT) {
    const found = await Promise.all(
      Array.from({ length: count }, (_, k) => ctx.jsm.direct.getMessage(stream, { seq: seq + k })),
    );
    return withinBytes(found.filter((m): m is StoredMsg => m !== null).map(fromStored), maxBytes);
  }
  return withReader(
    ctx,
    stream,
    { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: seq },
    async (name) => {
      const pulled = await pullBatch(ctx.nc, {
        stream,
        consumer: name,
        batch: count,
        maxBytes,
        timeoutMs: ctx.timeoutMs,
      });
      if (pulled.messages.length > 0 || !pulled.byteLimited)
        return withinBytes(pulled.messages.map(toRecord), maxBytes);
      // The first record alone is larger than maxBytes, and the port still returns it: pull it unlimited.
      const first = await pullBatch(ctx.nc, { stream, consumer: name, batch: 1, timeoutMs: ctx.timeoutMs });
      return first.messages.map(toRecord);
    },
  );
}

/** Stream sequence of the first message stored at or after `isoTime`, or null when there is none. */
export function firstSeqAtOrAfter(ctx: ReadContext, stream: string, isoTime: string): Promise<number | null> {
  return withReader(
    ctx,
    stream,
    { deliver_policy: DeliverPolicy.StartTime, opt_start_time: isoTime, headers_only: true },
    async (name) => {
      const { messages } = await pullBatch(ctx.nc, {
        stream,
        consumer: name,
        batch: 1,
        timeoutMs: ctx.timeoutMs,
      });
      return messages[0]?.seq ?? null;
    },
  );
}

interface ReaderConfig {
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  headers_only?: boolean;
}

/** Runs `fn` with a short-lived ephemeral consumer on `stream`, deleting it afterwards. */
async function withReader<T>(
  ctx: ReadContext,
  stream: string,
  config: ReaderConfig,
  fn: (name: string) => Promise<T>,
): Promise<T> {
  const info = await ctx.jsm.consumers.add(stream, {
    ...config,
    ack_policy: AckPolicy.None,
    mem_storage: true,
    num_replicas: 1,
    // The server removes it by itself should this client vanish before deleting it.
    inactive_threshold: nanos(Math.max(30_000, 2 * ctx.timeoutMs)),
  });
  let result: T;
  try {
    result = await fn(info.name);
  } catch (error) {
    await ctx.jsm.consumers.delete(stream, info.name).catch((deleteError: unknown) => {
      if (error instanceof Error) Object.assign(error, { cleanupError: deleteError });
    });
    throw error;
  }
  await ctx.jsm.consumers.delete(stream, info.name);
  return result;
}

function toRecord(m: PulledMessage): LogRecord {
  return { offset: m.seq - 1, id: m.id, timestampMs: m.timestampMs, payload: m.data };
}

function fromStored(m: StoredMsg): LogRecord {
  return {
    offset: m.seq - 1,
    id: m.header.get('Nats-Msg-Id') ?? '',
    timestampMs: parseNatsTime(m.timestamp),
    payload: m.data.slice(),
  };
}

/** Keeps records while their payloads fit in `maxBytes`, and always the first. */
function withinBytes(records: LogRecord[], maxBytes: number | undefined): LogRecord[] {
  if (maxBytes === undefined) return records;
  let total = 0;
  let keep = 0;
  for (const r of records) {
    total += r.payload.length;
    if (keep > 0 && total > maxBytes) break;
    keep++;
  }
  return records.slice(0, keep);
}
