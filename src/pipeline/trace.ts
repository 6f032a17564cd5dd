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
 * The last `capacity` request traces. Each is kept as its JSON text, one string instead of the hundred-odd
 * objects a trace is made of (components, removals, scores), and parsed again when read. Kept as objects,
 * 200 traces of a serving process lived long enough to be promoted and fed its old generation: a full
 * collection every 1.5-2 s at 100 requests/s, with pauses of up to 16 ms (docs/serving.md). A number a
 * trace holds that JSON cannot (NaN, an infinity) reads back as null, as it does over HTTP.
 */
export class TraceBuffer {
  private readonly texts: string[];
  private readonly ids: string[];
  /** Slot of the next trace (the oldest once full) and how many are kept. */
  private next = 0;
  private size = 0;

  constructor(readonly capacity = 200) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a whole number >= 1, not ${capacity}`);
    this.texts = new Array<string>(capacity);
    this.ids = new Array<string>(capacity);
  }

  add(trace: RequestTrace): void {
    this.texts[this.next] = JSON.stringify(trace);
    this.ids[this.next] = trace.requestId;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Up to `limit` traces, newest first. */
  recent(limit = 50): RequestTrace[] {
    const out: RequestTrace[] = [];
    for (let k = 1; k <= Math.min(limit, this.size); k++)
      out.push(JSON.parse(this.texts[(this.next - k + this.capacity) % this.capacity]!) as RequestTrace);
    return out;
  }

  /** The kept trace of a request, newest first if an id repeats. */
  find(requestId: string): RequestTrace | undefined {
    for (let k = 1; k <= this.size; k++) {
      const slot = (this.next - k + this.capacity) % this.capacity;
      if (this.ids[slot] === requestId) return JSON.parse(this.texts[slot]!) as RequestTrace;
    }
    return undefined;
  }
}
