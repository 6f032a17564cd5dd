/**
 * `waitFor` without polling the server in a loop: a core NATS subscription on the topic's subject sees every
 * publish, and the stream's end is asked for only when the publishes seen could have reached the wanted
 * offset. A publish is seen by the subscription at about the time the stream stores it, sometimes just
 * before, so a check that comes up short is retried after 2, 4, 8 ... ms. A slow safety check (every second)
 * covers publishes the subscription missed, for example across a reconnect.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';

export interface WaitRequest {
  nc: NatsConnection;
  subject: string;
  offset: number;
  timeoutMs: number;
  /** The topic's end offset now. */
  readEnd: () => Promise<number>;
  /** Registers a canceller (called on close); returns its removal. */
  register: (cancel: (error: Error) => void) => () => void;
}

const SAFETY_CHECK_MS = 1000;
const FIRST_RETRY_MS = 2;

/** Longest delay setTimeout takes; a longer wait is cut to it (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function waitForOffset(request: WaitRequest): Promise<boolean> {
  const started = Date.now();
  // Most waits find the record there already: one request, no subscription.
  if ((await request.readEnd()) > request.offset) return true;
  const remaining = request.timeoutMs - (Date.now() - started);
  if (remaining <= 0) return false;
  return subscribeAndWait(request, Math.min(remaining, MAX_TIMER_MS));
}

function subscribeAndWait(request: WaitRequest, timeoutMs: number): Promise<boolean> {
  const { nc, subject, offset, readEnd, register } = request;
  return new Promise<boolean>((resolve, reject) => {
    let done = false;
    let sub: Subscription | null = null;
    let knownEnd = -1;
    let seenSinceCheck = 0;
    let checking = false;
    let retryMs = FIRST_RETRY_MS;
    let retryTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: boolean | Error) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(retryTimer);
      unregister();
      sub?.unsubscribe();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const schedule = (ms: number) => {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(check, ms);
    };
    const check = () => {
      if (done || checking) return; // a check in flight re-evaluates what it missed when it returns
      checking = true;
      const seenBefore = seenSinceCheck;
      readEnd().then(
        (end) => {
          checking = false;
          if (done) return;
          if (end > offset) return finish(true);
          // Publishes seen before this check said the offset could be there, and it is not: they are not
          // stored yet (or were rejected duplicates), so look again shortly, backing off.
          const shortOfSeen = seenBefore > 0 && (knownEnd >= 0 ? knownEnd : end) + seenBefore > offset;
          knownEnd = end;
          seenSinceCheck -= seenBefore;
          if (knownEnd + seenSinceCheck > offset) return check();
          if (shortOfSeen) {
            schedule(retryMs);
            retryMs = Math.min(retryMs * 2, SAFETY_CHECK_MS);
          } else {
            retryMs = FIRST_RETRY_MS;
            schedule(SAFETY_CHECK_MS);
          }
        },
        (error: unknown) => {
          checking = false;
          finish(error instanceof Error ? error : new Error(String(error)));
        },
      );
    };
    const deadline = setTimeout(() => finish(false), timeoutMs);
    const unregister = register((error) => finish(error));
    try {
      sub = nc.subscribe(subject, {
        callback: () => {
          seenSinceCheck++;
          if (knownEnd >= 0 && knownEnd + seenSinceCheck > offset) check();
        },
      });
    } catch (error) {
      finish(error as Error);
      return;
    }
    // Subscribe first, then read the end: a publish in between is counted rather than missed.
    nc.flush().then(check, (error: unknown) => finish(error as Error));
  });
}
