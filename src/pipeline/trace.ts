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

/** The last `capacity` request traces, newest last. */
export class TraceBuffer {
  private readonly traces: RequestTrace[] = [];

  constructor(readonly capacity = 200) {}

  add(trace: RequestTrace): void {
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
