import { ERROR_CATALOGUE, type ErrorCode, ForyouError } from '../core/errors.js';
import type { IngestOutcome } from './ingest-batch.js';

export type IngestEndpoint = 'events' | 'items' | 'users';

export interface IngestClientOptions {
  /** Base URL of a Foryou server, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Attempts per request before giving up (a failed request is re-sent unchanged). Default 8. */
  attempts?: number;
  /** First wait between attempts; doubles each time, capped at 5 s. Default 100 ms. */
  retryDelayMs?: number;
  /** A request that has not answered after this long is abandoned and retried. Default 60 s. */
  timeoutMs?: number;
  /** The fetch to use (tests pass one that fails on purpose). Default the global fetch. */
  fetch?: typeof fetch;
}

export interface SendResult extends IngestOutcome {
  /** 1 when the first attempt was answered. */
  attempts: number;
}

const MAX_RETRY_DELAY_MS = 5000;

function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function isOutcome(value: unknown): value is IngestOutcome {
  const v = value as Record<string, unknown> | null;
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof v.accepted === 'number' &&
    typeof v.duplicates === 'number' &&
    typeof v.rejected === 'number' &&
    Array.isArray(v.not_accepted)
  );
}

/** The server's error answer as a ForyouError, keeping its code when it is one of the catalogue's. */
function answerError(status: number, body: unknown): ForyouError {
  const b = body as { code?: unknown; message?: unknown } | null;
  const code = typeof b?.code === 'string' && b.code in ERROR_CATALOGUE ? (b.code as ErrorCode) : null;
  const message = typeof b?.message === 'string' ? b.message : `HTTP ${status}`;
  return new ForyouError(
    code ?? 'FY_INVALID_ARGUMENT',
    `the server refused the batch (${status}): ${message}`,
    {
      details: { status },
    },
  );
}

/**
 * Sends batches to the ingest API. A request that fails in transit, times out or gets a 5xx is re-sent
 * unchanged: the same ids, so records that the failed attempt did store come back as duplicates and are
 * never stored twice. 200 and 422 answers are outcomes; any other 4xx is thrown (re-sending cannot help).
 */
export class IngestClient {
  private readonly base: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(options: IngestClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.attempts = options.attempts ?? 8;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  async send(endpoint: IngestEndpoint, records: readonly unknown[]): Promise<SendResult> {
    const body = JSON.stringify(records);
    const url = `${this.base}/v1/${endpoint}`;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1)
        await new Promise((r) =>
          setTimeout(r, Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (attempt - 2))),
        );
      let response: Response;
      let parsed: unknown;
      try {
        response = await this.fetchFn(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        parsed = await response.json().catch(() => null);
      } catch (error) {
        lastProblem = (error as Error).message ?? String(error);
        continue;
      }
      if (retryable(response.status)) {
        lastProblem = `HTTP ${response.status}${(parsed as { message?: string } | null)?.message ? `: ${(parsed as { message: string }).message}` : ''}`;
        continue;
      }
      if ((response.status === 200 || response.status === 422) && isOutcome(parsed))
        return { ...parsed, attempts: attempt };
      throw answerError(response.status, parsed);
    }
    throw new ForyouError(
      'FY_SERVER_UNREACHABLE',
      `POST ${url} failed ${this.attempts} times; last: ${lastProblem}`,
      { details: { url, attempts: this.attempts } },
    );
  }
}
