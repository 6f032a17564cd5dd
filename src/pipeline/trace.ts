/** What one component did in one request, as returned with `?debug=1` and kept for recent requests. */
export interface ComponentTrace {
  id: string;
  kind: string;
  /** Milliseconds after the request started. */
  startMs: number;
  /** Milliseconds until its result was there; for components run in parallel, this includes the others' turns. */
  ms: number;
  /**
   * Milliseconds inside the component's own call, until it returned: its own time when it does not await
   * (which `ms` of a parallel component is not); a component that awaits returns at its first await.
   */
  callMs: number;
  in: number;
  out: number;
  status: 'ok' | 'degraded' | 'failed' | 'skipped';
  error?: string;
  /** Filters: what was removed and why (first 50). */
  removed?: { id: string; reason: string }[];
  removedCount?: number;
  /** Scorers: score of the first candidates (first 20), in input order. */
  scores?: { id: string; score: number }[];
}

export interface RequestTrace {
  requestId: string;
  pipeline: string;
  startedAt: string;
  ms: number;
  deadlineMs: number;
  qualityFactor: number;
  degraded: boolean;
  reasons: string[];
  components: ComponentTrace[];
}

/**
 * The last `capacity` kept request traces, newest last: the trace of every `every`-th request, of every
 * degraded one and of every one that asked for it (`?debug=1`). Sampling
 * makes the window longer and the memory churn smaller: a serving process at 100 requests/s keeping
 * every trace holds 2 s of them, long enough to be promoted to V8's old generation and short enough to die
 * there, which fed its full collections (docs/serving.md).
 */
export class TraceBuffer {
  private readonly traces: RequestTrace[] = [];
  private seen = 0;

  constructor(
    readonly capacity = 200,
    readonly every = 1,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a whole number >= 1, not ${capacity}`);
    if (!Number.isInteger(every) || every < 1)
      throw new RangeError(`every must be a whole number >= 1, not ${every}`);
  }

  /** Keeps `trace` when it is sampled, degraded, or `always` (a request that asked for its trace). */
  add(trace: RequestTrace, always = false): void {
    const sampled = this.seen++ % this.every === 0;
    if (!sampled && !trace.degraded && !always) return;
    this.traces.push(trace);
    if (this.traces.length > this.capacity) this.traces.shift();
  }

  recent(limit = 50): RequestTrace[] {
    return this.traces.slice(-limit).reverse();
  }

  find(requestId: string): RequestTrace | undefined {
    return this.traces.find((t) => t.requestId === requestId);
  }
}
