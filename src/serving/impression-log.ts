import type { EventLog } from '../log/port.js';
import type { Scored, SideEffect } from '../pipeline/components.js';
import type { FeedCandidate, FeedQuery } from './feed-query.js';

/** The log topic impressions go to: the same one ingest writes behaviour events to. */
export const IMPRESSIONS_TOPIC = 'events';

const encoder = new TextEncoder();

export interface ImpressionLoggerOptions {
  /**
   * Appends are grouped for up to this long (default 25 ms). Under cluster serving every append is an IPC
   * message and a write in the primary, so grouping a few requests' impressions matters: at 5 ms the
   * primary spent 0.28-0.31 ms of CPU per feed request, at 25 ms 0.20.
   */
  lingerMs?: number;
  /** Or until this many impressions are waiting (default 2,000). */
  maxBatch?: number;
  clock?: () => number;
}

/**
 * Impression logging (shaped as a pipeline side effect; the feed service calls it with the page it
 * actually serves): every served item becomes an `impression` event (user, item, the feed request's id and the
 * item's position in the session's scroll) appended to the event log, so plays and likes that carry the
 * same request id attribute to the ranking that caused them. The event id is `<request id>:<position>`,
 * so a retried append is a duplicate, not a second impression. Appends are batched; `flush` waits.
 */
export class ImpressionLogger implements SideEffect<FeedQuery, FeedCandidate> {
  readonly kind = 'side-effect' as const;
  readonly id = 'impression-log';
  private pending: { id: string; payload: Uint8Array }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = new Set<Promise<void>>();
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly clock: () => number;
  /** Impressions appended, and appends that failed (their impressions are lost). */
  appended = 0;
  failedAppends = 0;

  constructor(
    private readonly log: EventLog,
    options: ImpressionLoggerOptions = {},
  ) {
    this.lingerMs = options.lingerMs ?? 25;
    this.maxBatch = options.maxBatch ?? 2000;
    this.clock = options.clock ?? Date.now;
  }

  async run(query: FeedQuery, result: Scored<FeedCandidate>[], requestId: string): Promise<void> {
    if (query.dryRun) return;
    const ts = this.clock();
    for (const [k, s] of result.entries()) {
      const position = query.offset + k;
      const eventId = `${requestId}:${position}`;
      // Keys in the event schema's order, as ingest's canonical JSON has them.
      const json = JSON.stringify({
        event_id: eventId,
        user_id: query.userId,
        ts,
        type: 'impression',
        item_id: s.candidate.id,
        request_id: requestId,
        position,
      });
      this.pending.push({ id: eventId, payload: encoder.encode(json) });
    }
    if (this.pending.length >= this.maxBatch) this.drain();
    else this.timer ??= setTimeout(() => this.drain(), this.lingerMs);
  }

  private drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const append = this.log
      .append(IMPRESSIONS_TOPIC, batch)
      .then(
        () => {
          this.appended += batch.length;
        },
        () => {
          this.failedAppends++;
        },
      )
      .finally(() => this.inFlight.delete(append));
    this.inFlight.add(append);
  }

  /** Appends what is waiting and resolves when every append so far has finished. */
  async flush(): Promise<void> {
    this.drain();
    await Promise.all([...this.inFlight]);
  }
}
