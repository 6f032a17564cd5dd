/**
 * Small pieces the NATS JetStream adapter shares: how topics map to streams and subjects, argument checks,
 * JetStream timestamps, bounds from a stream's state, and the mapping of driver errors to ForyouErrors.
 */
import { JetStreamApiCodes, JetStreamApiError, type StreamState } from '@nats-io/jetstream';
import { ForyouError } from '../core/errors.js';
import { type AppendInput, NAME_PATTERN, type TopicBounds } from './port.js';

/** Stream-name prefixes: a letter, then letters and digits (no `_`, which separates prefix and topic). */
export const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9]{0,31}$/;

export function checkName(kind: 'topic' | 'consumer', name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${kind} name ${JSON.stringify(name)} must be 1-64 characters of a-z 0-9 _ - starting with a letter or digit`,
    );
}

export function checkOffset(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', `${what} must be a whole number >= 0, got ${value}`);
}

export function checkPositive(what: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isSafeInteger(value)))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${what} must be a ${integer ? 'whole number' : 'number'} > 0, got ${value}`,
    );
}

/** Ids travel as the Nats-Msg-Id header, so they must be non-empty and fit on one header line. */
export function checkId(id: unknown, index: number): void {
  if (typeof id !== 'string' || id.length === 0 || /[\r\n]/.test(id))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `record ${index} has id ${JSON.stringify(id)}: ids must be non-empty strings without line breaks`,
    );
}

/** A record the server would refuse (max_payload counts headers too) fails the call before anything is sent. */
export function checkSizes(
  records: readonly AppendInput[],
  stream: string,
  limit: number | undefined,
  url: string,
) {
  if (!limit) return;
  records.forEach((record, k) => {
    // The NATS/1.0, Nats-Msg-Id and Nats-Expected-Stream header lines, with a little to spare.
    const size = record.payload.length + record.id.length + stream.length + 64;
    if (size > limit)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `record ${k} (id ${record.id}) has ${record.payload.length} payload bytes; the NATS server at ${url} takes messages up to ${limit} bytes with headers (max_payload)`,
        { details: { index: k, id: record.id, bytes: record.payload.length, maxPayload: limit } },
      );
  });
}

/**
 * Topic `user-events` under prefix `foryou` is stream `FORYOU_USER-EVENTS` on subject `foryou.user-events`.
 * Topics are lower case by NAME_PATTERN, so upper-casing is reversible; `-` stays `-`, which the NATS naming
 * rules allow (mapping it to `_` would give `a-b` and `a_b` the same stream).
 */
export function streamName(prefix: string, topic: string): string {
  return `${prefix.toUpperCase()}_${topic.toUpperCase()}`;
}

export function subjectFor(prefix: string, topic: string): string {
  return `${prefix.toLowerCase()}.${topic}`;
}

/** The topic a stream name stands for under `prefix`, or null when the stream is not one of ours. */
export function topicOf(prefix: string, stream: string): string | null {
  const head = `${prefix.toUpperCase()}_`;
  if (!stream.startsWith(head)) return null;
  const topic = stream.slice(head.length).toLowerCase();
  return NAME_PATTERN.test(topic) && streamName(prefix, topic) === stream ? topic : null;
}

/**
 * Epoch milliseconds (floored) of an RFC 3339 JetStream timestamp such as `2024-05-01T10:00:00.123456789Z`;
 * parsed by hand because the fraction has nanosecond digits.
 */
export function parseNatsTime(text: string): number {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const seconds = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(seconds))
    throw new Error(`unreadable JetStream timestamp ${JSON.stringify(text)}`);
  return seconds + Number((match[2] ?? '').padEnd(3, '0').slice(0, 3));
}

/** Epoch milliseconds (floored) from a nanosecond count as carried in JetStream ack subjects. */
export function nanosToMs(nanos: string): number {
  return Number(BigInt(nanos) / 1_000_000n);
}

/**
 * Offsets are sequences minus one. A stream that never held a message reports first 0 and last 0; one
 * emptied by retention or purge reports first = last + 1 with no messages, so both give start = end = last.
 */
export function boundsOf(state: Pick<StreamState, 'first_seq' | 'last_seq' | 'messages'>): TopicBounds {
  const end = state.last_seq;
  return { start: state.messages === 0 ? end : Math.max(0, state.first_seq - 1), end };
}

export function isNotFound(error: unknown, what: 'stream' | 'consumer'): boolean {
  return (
    error instanceof JetStreamApiError &&
    error.code === (what === 'stream' ? JetStreamApiCodes.StreamNotFound : JetStreamApiCodes.ConsumerNotFound)
  );
}

/** Rethrows ForyouErrors as they are; anything else becomes FY_LOG_UNAVAILABLE naming the server and step. */
export function asUnavailable(
  url: string,
  what: string,
  error: unknown,
  details: Record<string, unknown> = {},
  note = '',
): ForyouError {
  if (error instanceof ForyouError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ForyouError('FY_LOG_UNAVAILABLE', `NATS JetStream at ${url}: ${what} failed: ${reason}${note}`, {
    cause: error,
    details: { url, ...details },
  });
}

/** Nanoseconds as JetStream's API wants durations. */
export function nanos(ms: number): number {
  return Math.round(ms * 1_000_000);
}
