/**
 * The event log port: durable, ordered, replayable topics of records. Two adapters implement it (an
 * embedded segmented log, NATS JetStream) and one conformance suite (`conformance.ts`) holds both to the
 * same behaviour. Adapters are opened by URL scheme (`file://`, `nats://`) through `openEventLog`.
 *
 * Offsets are dense per topic: the first record ever appended has offset 0, the next 1, and so on; retention
 * may remove a prefix, so a topic's live range is [start, end).
 */

/** One record as stored: the payload bytes are opaque to the log (JSON lines for events). */
export interface LogRecord {
  offset: number;
  /** Idempotency key: a second append with the same id inside the dedup window is not stored again. */
  id: string;
  /** Wall-clock time the log accepted the record, epoch ms; non-decreasing along a topic. */
  timestampMs: number;
  payload: Uint8Array;
}

export interface AppendInput {
  id: string;
  payload: Uint8Array;
}

export interface AppendResult {
  offset: number;
  /** True when the id was already in the log; `offset` is then the original record's offset. */
  duplicate: boolean;
}

export interface ReadOptions {
  /** Upper bound on records returned (default 1,000). */
  maxRecords?: number;
  /** Soft upper bound on payload bytes returned; at least one record is returned when one exists. */
  maxBytes?: number;
}

export interface TopicBounds {
  /** First offset still stored (0 until retention removes something). */
  start: number;
  /** One past the last offset: the offset the next record will get. */
  end: number;
}

export interface TopicStats extends TopicBounds {
  topic: string;
  records: number;
  bytes: number;
  segments: number;
  firstTimestampMs: number | null;
  lastTimestampMs: number | null;
  consumers: Record<string, number>;
}

/**
 * When an append is acknowledged, and so what a crash can lose (see docs/event-log.md):
 * - `always`: after fdatasync of the record (appends that arrive together share one fdatasync);
 *   nothing acknowledged is lost, even on power failure.
 * - `interval`: after the write reached the OS; fdatasync runs every `fsyncIntervalMs`. A process crash
 *   loses nothing acknowledged; a power failure can lose the last interval.
 * - `never`: after the write reached the OS; no fdatasync. A process crash loses nothing acknowledged;
 *   a power failure can lose whatever the OS had not written back.
 */
export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface EventLog {
  /** Adapter name for logs and stats ("file", "nats"). */
  readonly kind: string;

  /**
   * Appends records to `topic` in order and resolves once they are durable per the adapter's policy. Ids
   * already in the topic's dedup window are reported as duplicates and not stored again; a repeated id
   * within one call is a duplicate of its first occurrence.
   */
  append(topic: string, records: readonly AppendInput[]): Promise<AppendResult[]>;

  /** Records from `fromOffset` on, in offset order; empty at the end. Below `start` fails with FY_LOG_OFFSET_OUT_OF_RANGE. */
  read(topic: string, fromOffset: number, options?: ReadOptions): Promise<LogRecord[]>;

  /** The first offset whose timestamp is at or after `timestampMs` (`end` when there is none). */
  offsetForTime(topic: string, timestampMs: number): Promise<number>;

  bounds(topic: string): Promise<TopicBounds>;

  /**
   * Resolves true as soon as `topic` has a record at `offset` or beyond, or false after `timeoutMs`. Lets
   * consumers follow the log without busy polling.
   */
  waitFor(topic: string, offset: number, timeoutMs: number): Promise<boolean>;

  /** Records that `consumer` has processed everything before `offset`. */
  commit(topic: string, consumer: string, offset: number): Promise<void>;

  /** The offset `consumer` committed last, or null when it never committed. */
  committed(topic: string, consumer: string): Promise<number | null>;

  stats(topic: string): Promise<TopicStats>;

  /** Topics that exist. */
  topics(): Promise<string[]>;

  close(): Promise<void>;
}

/** Topic and consumer names: safe as file names and NATS subject tokens. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
