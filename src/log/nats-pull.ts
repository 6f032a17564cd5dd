/**
 * One pull request against a JetStream pull consumer, answered without waiting: `no_wait` makes the server
 * send what it has and then a status (404 nothing, 408 request done, 409 byte limit reached). The client's
 * own `fetch` is built for long-lived consuming (heartbeats, re-pulls, stalls on a byte limit); a one-shot
 * batch with a known size is simpler and faster by hand, and the protocol is the documented pull API.
 */
import { createInbox, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { nanosToMs } from './nats-support.js';

export interface PulledMessage {
  /** Stream sequence. */
  seq: number;
  timestampMs: number;
  /** The Nats-Msg-Id header, '' when the message was published without one. */
  id: string;
  data: Uint8Array;
  /** The ack subject, for acknowledging through this consumer. */
  reply: string;
}

export interface PullResult {
  messages: PulledMessage[];
  /** True when the server stopped because the next message did not fit in `maxBytes`. */
  byteLimited: boolean;
}

export interface PullRequest {
  stream: string;
  consumer: string;
  batch: number;
  maxBytes?: number | undefined;
  timeoutMs: number;
}

/**
 * Delivery facts from an ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ns>.<pending>`
 * (servers before 2.10), or the same after a domain and account-hash token, with a random token at the end.
 */
export function parseAckSubject(reply: string): { seq: number; timestampMs: number; pending: number } {
  const tokens = reply.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK' || (tokens.length !== 9 && tokens.length < 11))
    throw new Error(`unexpected ack subject ${JSON.stringify(reply)} on a JetStream delivery`);
  const base = tokens.length === 9 ? 2 : 4;
  return {
    seq: Number(tokens[base + 3]),
    timestampMs: nanosToMs(tokens[base + 5]!),
    pending: Number(tokens[base + 6]),
  };
}

/** Pulls up to `batch` messages; resolves at the batch size, at the end of the stream, or on a status. */
export function pullBatch(nc: NatsConnection, request: PullRequest): Promise<PullResult> {
  const { stream, consumer, batch, maxBytes, timeoutMs } = request;
  return new Promise<PullResult>((resolve, reject) => {
    const messages: PulledMessage[] = [];
    const inbox = createInbox();
    let settled = false;
    const finish = (error: Error | null, byteLimited = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sub.unsubscribe();
      if (error) reject(error);
      else resolve({ messages, byteLimited });
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `pull of ${batch} message(s) from consumer ${consumer} on stream ${stream} got ${messages.length} in ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    const sub = nc.subscribe(inbox, {
      callback: (error: Error | null, msg: Msg) => {
        if (error) return finish(error);
        const code = msg.headers?.code ?? 0;
        if (code !== 0 && msg.data.length === 0) {
          if (code === 100) return; // idle heartbeat or flow control
          if (code === 404 || code === 408) return finish(null);
          if (code === 409 && /exceeds maxbytes/i.test(msg.headers?.description ?? ''))
            return finish(null, true);
          return finish(
            new Error(
              `pull from consumer ${consumer} on stream ${stream} answered ${code} ${msg.headers?.description ?? ''}`,
            ),
          );
        }
        try {
          const info = parseAckSubject(msg.reply ?? '');
          messages.push({
            seq: info.seq,
            timestampMs: info.timestampMs,
            id: msg.headers?.get('Nats-Msg-Id') ?? '',
            data: msg.data.slice(),
            reply: msg.reply!,
          });
          if (messages.length >= batch || info.pending === 0) finish(null);
        } catch (parseError) {
          finish(parseError as Error);
        }
      },
    });
    const body: Record<string, unknown> = { batch, no_wait: true };
    if (maxBytes !== undefined) body['max_bytes'] = maxBytes;
    try {
      nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, JSON.stringify(body), { reply: inbox });
    } catch (error) {
      finish(error as Error);
    }
  });
}
