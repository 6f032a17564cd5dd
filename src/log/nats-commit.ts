/**
 * Committed offsets as JetStream durable pull consumers, one per topic and consumer name, so `nats consumer
 * info <stream> <consumer>` shows where each consumer is. See docs/event-log-nats.md for the measurements.
 *
 * A durable's position only moves forward, and only by delivering and acknowledging messages, while the
 * port lets a consumer commit any offset. Two ways to move it, chosen per commit:
 * - ack path (forward by at most `ackLimit` records, consumer in a clean state): pull the records between the
 *   current position and the new one (headers only), then ack-all the last, waiting for the server's
 *   confirmation. One atomic step on the server: a crash leaves either the old or the new position.
 * - recreate path (backwards, large jumps, or a consumer left with unacknowledged deliveries): delete the
 *   durable and create it again starting at the new offset. Constant cost, but two API calls: a crash
 *   between them leaves no consumer, which then reads as never committed.
 *
 * The committed offset is the larger of the configured start (opt_start_seq - 1) and the ack floor.
 */
import {
  AckPolicy,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  ReplayPolicy,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { pullBatch } from './nats-pull.js';
import { isNotFound } from './nats-support.js';
import { NAME_PATTERN, type TopicBounds } from './port.js';

export interface DurableRef {
  nc: NatsConnection;
  jsm: JetStreamManager;
  stream: string;
  topic: string;
  consumer: string;
  timeoutMs: number;
  /** Largest forward step taken through acknowledgements; also the durable's max_ack_pending. */
  ackLimit: number;
}

export type CommitPath = 'created' | 'unchanged' | 'acked' | 'recreated';

export function committedFrom(info: ConsumerInfo): number {
  const { deliver_policy, opt_start_seq } = info.config;
  const base = deliver_policy === DeliverPolicy.StartSequence ? Math.max(0, (opt_start_seq ?? 1) - 1) : 0;
  return Math.max(base, info.ack_floor?.stream_seq ?? 0);
}

export async function durableInfo(ref: DurableRef): Promise<ConsumerInfo | null> {
  try {
    return await ref.jsm.consumers.info(ref.stream, ref.consumer);
  } catch (error) {
    if (isNotFound(error, 'consumer') || isNotFound(error, 'stream')) return null;
    throw error;
  }
}

/** Moves the durable to `offset` (everything before it processed); `bounds` is the stream's current range. */
export async function commitDurable(
  ref: DurableRef,
  offset: number,
  bounds: TopicBounds,
): Promise<CommitPath> {
  const info = await durableInfo(ref);
  if (!info) {
    await createDurable(ref, offset);
    return 'created';
  }
  const current = committedFrom(info);
  if (offset === current) return 'unchanged';
  // Records in (current, offset] still stored; retention may have removed the older ones.
  const count = offset - Math.max(current, bounds.start);
  const maxAckPending = info.config.max_ack_pending ?? 0;
  const clean =
    info.delivered.stream_seq === current && info.num_ack_pending === 0 && (info.num_redelivered ?? 0) === 0;
  if (
    offset > current &&
    count > 0 &&
    count <= ref.ackLimit &&
    (maxAckPending <= 0 || count <= maxAckPending) &&
    clean &&
    (await ackThrough(ref, offset, count))
  )
    return 'acked';
  await deleteDurable(ref);
  await createDurable(ref, offset);
  return 'recreated';
}

/** Pulls the next `count` deliveries and acks all of them; false when they do not end exactly at `offset`. */
async function ackThrough(ref: DurableRef, offset: number, count: number): Promise<boolean> {
  const { messages } = await pullBatch(ref.nc, {
    stream: ref.stream,
    consumer: ref.consumer,
    batch: count,
    timeoutMs: ref.timeoutMs,
  });
  const last = messages.at(-1);
  // Committing offset N means offsets 0..N-1 are done: stream sequences 1..N. Ack-all on sequence N covers
  // every sequence before it.
  if (!last || last.seq !== offset || messages.some((m) => m.seq > offset)) return false;
  await ref.nc.request(last.reply, '+ACK', { timeout: ref.timeoutMs });
  return true;
}

async function createDurable(ref: DurableRef, offset: number): Promise<void> {
  await ref.jsm.consumers.add(ref.stream, {
    durable_name: ref.consumer,
    description: `Foryou consumer ${ref.consumer} of topic ${ref.topic}; committed offset = ack floor or start sequence - 1`,
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: offset + 1,
    replay_policy: ReplayPolicy.Instant,
    headers_only: true,
    max_ack_pending: ref.ackLimit,
  });
}

async function deleteDurable(ref: DurableRef): Promise<void> {
  try {
    await ref.jsm.consumers.delete(ref.stream, ref.consumer);
  } catch (error) {
    if (!isNotFound(error, 'consumer')) throw error;
  }
}

/** Committed offsets of every durable consumer on the stream, by consumer name. */
export async function listCommitted(jsm: JetStreamManager, stream: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for await (const info of jsm.consumers.list(stream)) {
    const name = info.config.durable_name;
    if (name && NAME_PATTERN.test(name)) out[name] = committedFrom(info);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
