/**
 * The event log on NATS JetStream (docs/event-log-nats.md): one stream per topic (nats-streams.ts), offsets
 * are stream sequences minus one, record ids travel as Nats-Msg-Id (JetStream's deduplication inside the
 * stream's duplicate window), reads are direct gets or short-lived consumers (nats-read.ts), and committed
 * offsets are durable pull consumers (nats-commit.ts).
 */
import { type JetStreamClient, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ForyouError } from '../core/errors.js';
import { commitDurable, committedFrom, type DurableRef, durableInfo, listCommitted } from './nats-commit.js';
import { firstSeqAtOrAfter, type ReadContext, readRange } from './nats-read.js';
import { NatsStreams } from './nats-streams.js';
import {
  asUnavailable,
  boundsOf,
  checkId,
  checkName,
  checkOffset,
  checkPositive,
  checkSizes,
  PREFIX_PATTERN,
  parseNatsTime,
} from './nats-support.js';
import { waitForOffset } from './nats-wait.js';
import type {
  AppendInput,
  AppendResult,
  EventLog,
  LogRecord,
  ReadOptions,
  TopicBounds,
  TopicStats,
} from './port.js';

export interface NatsEventLogOptions {
  /** Streams are `<PREFIX>_<TOPIC>` on subjects `<prefix>.<topic>`: a letter, then letters or digits. Default `FORYOU`. */
  prefix?: string;
  /**
   * How long JetStream remembers a record id for duplicate detection (the stream's duplicate_window), set
   * when the adapter creates a stream. Unlike a permanent index, an id appended again after this window is
   * stored again. Default one hour.
   */
  duplicateWindowMs?: number;
  /** Timeout of each request to the server (connect, JetStream API calls, publish acks). Default 5,000 ms. */
  timeoutMs?: number;
  /** Stream limits (limits retention drops the oldest records), set when the adapter creates a stream. */
  maxMessages?: number;
  maxBytes?: number;
  maxAgeMs?: number;
  /**
   * A commit moving a consumer forward by at most this many records acknowledges them through its durable
   * (atomic on the server); larger or backward moves recreate the durable. Default 10,000.
   */
  commitAckLimit?: number;
}

interface Resolved {
  prefix: string;
  duplicateWindowMs: number;
  timeoutMs: number;
  maxMessages: number | undefined;
  maxBytes: number | undefined;
  maxAgeMs: number | undefined;
  commitAckLimit: number;
}

function resolveOptions(options: NatsEventLogOptions): Resolved {
  const prefix = options.prefix ?? 'FORYOU';
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `stream prefix ${JSON.stringify(prefix)} must be a letter then up to 31 letters or digits`,
    );
  checkPositive('duplicateWindowMs', options.duplicateWindowMs, false);
  checkPositive('timeoutMs', options.timeoutMs, false);
  checkPositive('maxMessages', options.maxMessages, true);
  checkPositive('maxBytes', options.maxBytes, true);
  checkPositive('maxAgeMs', options.maxAgeMs, false);
  checkPositive('commitAckLimit', options.commitAckLimit, true);
  return {
    prefix,
    duplicateWindowMs: options.duplicateWindowMs ?? 3_600_000,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxMessages: options.maxMessages,
    maxBytes: options.maxBytes,
    maxAgeMs: options.maxAgeMs,
    commitAckLimit: options.commitAckLimit ?? 10_000,
  };
}

export class NatsEventLog implements EventLog {
  readonly kind = 'nats';
  private readonly streams: NatsStreams;
  private readonly commitQueues = new Map<string, Promise<void>>();
  private readonly waiters = new Set<(error: Error) => void>();
  private closed = false;

  private constructor(
    readonly url: string,
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly options: Resolved,
  ) {
    this.streams = new NatsStreams(jsm, url, options.prefix, options);
  }

  /** Connects to `url` (`nats://host:port`) and checks that JetStream answers. */
  static async connect(url: string, options: NatsEventLogOptions = {}): Promise<NatsEventLog> {
    if (typeof url !== 'string' || url.length === 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `the NATS URL must be a non-empty string, got ${url}`);
    const resolved = resolveOptions(options);
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: url, timeout: resolved.timeoutMs, name: 'foryou-event-log' });
    } catch (error) {
      throw asUnavailable(url, 'connecting', error);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: resolved.timeoutMs });
      return new NatsEventLog(url, nc, jsm, jsm.jetstream(), resolved);
    } catch (error) {
      const failure = asUnavailable(
        url,
        'reaching the JetStream API (is the server started with -js?)',
        error,
      );
      await nc.close().catch((closeError: unknown) => {
        failure.details['closeError'] = String(closeError);
      });
      throw failure;
    }
  }

  async append(topic: string, records: readonly AppendInput[]): Promise<AppendResult[]> {
    this.checkOpen();
    checkName('topic', topic);
    if (!Array.isArray(records))
      throw new ForyouError('FY_INVALID_ARGUMENT', 'append takes an array of { id, payload } records');
    records.forEach((record, k) => {
      checkId(record?.id, k);
      if (!(record.payload instanceof Uint8Array))
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `record ${k} (id ${record.id}) has no Uint8Array payload`,
        );
    });
    if (records.length === 0) return [];
    const stream = this.streams.name(topic);
    const subject = this.streams.subject(topic);
    checkSizes(records, stream, this.nc.info?.max_payload, this.url);
    await this.streams.ensure(topic);
    // Every publish leaves in this one synchronous loop, so a batch is contiguous in the stream even with
    // other appends in flight; the acks are awaited together (pipelined, not one round trip per record).
    const acks = await Promise.allSettled(
      records.map((record) =>
        this.js.publish(subject, record.payload, {
          msgID: record.id,
          expect: { streamName: stream },
          timeout: this.options.timeoutMs,
        }),
      ),
    );
    const failed = acks.findIndex((a) => a.status === 'rejected');
    if (failed >= 0) {
      this.streams.forget(topic); // look at the stream again next time: it may have been deleted
      const reason = (acks[failed] as PromiseRejectedResult).reason;
      const stored = acks.filter((a) => a.status === 'fulfilled').length;
      const noStream =
        reason instanceof Error && reason.name === 'JetStreamNotEnabled'
          ? ` (no stream answered on ${subject}: was stream ${stream} deleted?)`
          : '';
      throw asUnavailable(
        this.url,
        `publishing record ${failed} (id ${records[failed]!.id}) of ${records.length} to ${subject} in stream ${stream}`,
        reason,
        { stream, stored },
        `${noStream}; ${stored} of the records were acknowledged, and appending the same ids again within the duplicate window stores each once`,
      );
    }
    return acks.map((a) => {
      const ack = (a as PromiseFulfilledResult<{ seq: number; duplicate: boolean }>).value;
      return { offset: ack.seq - 1, duplicate: ack.duplicate };
    });
  }

  async read(topic: string, fromOffset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.checkOpen();
    checkName('topic', topic);
    checkOffset('fromOffset', fromOffset);
    checkPositive('maxRecords', options.maxRecords, true);
    checkPositive('maxBytes', options.maxBytes, false);
    const info = await this.streams.info(topic);
    if (!info) return [];
    const { start, end } = boundsOf(info.state);
    if (fromOffset < start) throw this.outOfRange(topic, fromOffset, start, end);
    if (fromOffset >= end) return [];
    const stream = this.streams.name(topic);
    const count = Math.min(options.maxRecords ?? 1000, end - fromOffset);
    const records = await this.guard(
      `reading ${count} record(s) of stream ${stream} from offset ${fromOffset}`,
      () =>
        readRange(this.reader(), {
          stream,
          seq: fromOffset + 1,
          count,
          maxBytes: options.maxBytes,
          direct: info.config.allow_direct === true,
        }),
    );
    if (records.length > 0 && records[0]!.offset !== fromOffset) {
      // Retention may have removed the offset between the bounds check and the read.
      const now = await this.bounds(topic);
      if (fromOffset < now.start) throw this.outOfRange(topic, fromOffset, now.start, now.end);
    }
    return records;
  }

  async offsetForTime(topic: string, timestampMs: number): Promise<number> {
    this.checkOpen();
    checkName('topic', topic);
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs))
      throw new ForyouError('FY_INVALID_ARGUMENT', `timestampMs must be a finite number, got ${timestampMs}`);
    const info = await this.streams.info(topic);
    if (!info) return 0;
    const { start, end } = boundsOf(info.state);
    if (start === end) return end;
    const stream = this.streams.name(topic);
    const when = new Date(Math.min(Math.max(timestampMs, 0), 8.64e15)).toISOString();
    const seq = await this.guard(`finding the first record at or after ${when} in stream ${stream}`, () =>
      firstSeqAtOrAfter(this.reader(), stream, when),
    );
    return seq === null ? end : seq - 1;
  }

  async bounds(topic: string): Promise<TopicBounds> {
    this.checkOpen();
    checkName('topic', topic);
    const info = await this.streams.info(topic);
    return info ? boundsOf(info.state) : { start: 0, end: 0 };
  }

  async waitFor(topic: string, offset: number, timeoutMs: number): Promise<boolean> {
    this.checkOpen();
    checkName('topic', topic);
    checkOffset('offset', offset);
    if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))
      throw new ForyouError('FY_INVALID_ARGUMENT', `timeoutMs must be a number >= 0, got ${timeoutMs}`);
    const subject = this.streams.subject(topic);
    return this.guard(`waiting for offset ${offset} on ${subject}`, () =>
      waitForOffset({
        nc: this.nc,
        subject,
        offset,
        timeoutMs,
        readEnd: async () => (await this.bounds(topic)).end,
        register: (cancel) => {
          this.waiters.add(cancel);
          return () => this.waiters.delete(cancel);
        },
      }),
    );
  }

  async commit(topic: string, consumer: string, offset: number): Promise<void> {
    this.checkOpen();
    checkName('topic', topic);
    checkName('consumer', consumer);
    checkOffset('offset', offset);
    await this.streams.ensure(topic);
    await this.serialize(`${topic}\u0000${consumer}`, async () => {
      const info = await this.streams.info(topic);
      const bounds = info ? boundsOf(info.state) : { start: 0, end: 0 };
      if (offset > bounds.end)
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `cannot commit offset ${offset} for consumer ${consumer}: topic ${topic} ends at ${bounds.end}`,
          { details: { topic, consumer, offset, end: bounds.end } },
        );
      const ref = this.durable(topic, consumer);
      await this.guard(`committing offset ${offset} for consumer ${consumer} on stream ${ref.stream}`, () =>
        commitDurable(ref, offset, bounds),
      );
    });
  }

  async committed(topic: string, consumer: string): Promise<number | null> {
    this.checkOpen();
    checkName('topic', topic);
    checkName('consumer', consumer);
    const ref = this.durable(topic, consumer);
    const info = await this.guard(`reading consumer ${consumer} of stream ${ref.stream}`, () =>
      durableInfo(ref),
    );
    return info ? committedFrom(info) : null;
  }

  async stats(topic: string): Promise<TopicStats> {
    this.checkOpen();
    checkName('topic', topic);
    const info = await this.streams.info(topic);
    if (!info) {
      const empty = { start: 0, end: 0, records: 0, bytes: 0, segments: 0 };
      return { topic, ...empty, firstTimestampMs: null, lastTimestampMs: null, consumers: {} };
    }
    const { state } = info;
    const stream = this.streams.name(topic);
    const consumers = await this.guard(`listing consumers of stream ${stream}`, () =>
      listCommitted(this.jsm, stream),
    );
    return {
      topic,
      ...boundsOf(state),
      records: state.messages,
      bytes: state.bytes,
      // JetStream does not report its file store's message blocks through the API.
      segments: 0,
      firstTimestampMs: state.messages > 0 ? parseNatsTime(state.first_ts) : null,
      lastTimestampMs: state.messages > 0 ? parseNatsTime(state.last_ts) : null,
      consumers,
    };
  }

  async topics(): Promise<string[]> {
    this.checkOpen();
    return this.streams.topics();
  }

  /** Ends pending waits, then drains the connection (in-flight replies are delivered, then it closes). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new ForyouError('FY_LOG_UNAVAILABLE', `the NATS event log for ${this.url} was closed`);
    for (const cancel of [...this.waiters]) cancel(closing);
    if (this.nc.isClosed()) return;
    await this.guard('draining the connection', () => this.nc.drain());
  }

  private checkOpen(): void {
    if (this.closed)
      throw new ForyouError('FY_LOG_UNAVAILABLE', `the NATS event log for ${this.url} is closed`);
    if (this.nc.isClosed())
      throw new ForyouError('FY_LOG_UNAVAILABLE', `the connection to NATS at ${this.url} is closed`);
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asUnavailable(this.url, what, error);
    }
  }

  private reader(): ReadContext {
    return { nc: this.nc, jsm: this.jsm, timeoutMs: this.options.timeoutMs };
  }

  private durable(topic: string, consumer: string): DurableRef {
    return {
      nc: this.nc,
      jsm: this.jsm,
      stream: this.streams.name(topic),
      topic,
      consumer,
      timeoutMs: this.options.timeoutMs,
      ackLimit: this.options.commitAckLimit,
    };
  }

  private outOfRange(topic: string, offset: number, start: number, end: number): ForyouError {
    return new ForyouError(
      'FY_LOG_OFFSET_OUT_OF_RANGE',
      `offset ${offset} of topic ${topic} is gone: stream ${this.streams.name(topic)} now holds offsets ${start} to ${end - 1}`,
      { details: { topic, offset, start, end } },
    );
  }

  /** Runs `fn` after every earlier call with the same key has finished (commits of one consumer). */
  private serialize(key: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.commitQueues.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    // The queue only orders calls; each caller gets its own outcome through `run`.
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.commitQueues.set(key, tail);
    void tail.then(() => {
      if (this.commitQueues.get(key) === tail) this.commitQueues.delete(key);
    });
    return run;
  }
}
