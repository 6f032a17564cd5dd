import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.js';
import { ForyouError } from '../core/errors.js';
import type {
  Candidate,
  CandidateHydrator,
  CandidateSource,
  Filter,
  Gate,
  QueryHydrator,
  RunContext,
  Scored,
  Scorer,
  Selector,
  SideEffect,
} from './components.js';
import { QualityFactor, type QualityFactorOptions } from './quality-factor.js';
import { sortByScoreDescending } from './score-sort.js';
import type { ComponentTrace, RequestTrace, TraceBuffer } from './trace.js';

/**
 * A serving pipeline as configuration, read top to bottom in execution order: gates, query hydrators (in
 * parallel), candidate sources (in parallel), candidate hydrators, filters, scorers (a cascade), the
 * selector, side effects. The engine knows nothing about feeds.
 */
export interface PipelineDefinition<Q, C extends Candidate> {
  id: string;
  /** The whole request's budget; every component gets at most what is left of it. */
  deadlineMs: number;
  gates?: Gate<Q>[];
  queryHydrators?: QueryHydrator<Q>[];
  sources: CandidateSource<Q, C>[];
  candidateHydrators?: CandidateHydrator<Q, C>[];
  filters?: Filter<Q, C>[];
  /**
   * Scorers run in order. A scorer with a `limit` rescores only the best `limit` candidates so far (a
   * ranker after a pre-ranker); the rest keep their earlier score but rank below every rescored candidate.
   */
  scorers?: Scorer<Q, C>[];
  selector: Selector<Q, C>;
  sideEffects?: SideEffect<Q, C>[];
  /** Adaptive candidate width; off when absent. */
  qualityFactor?: QualityFactorOptions;
}

export interface PipelineResult<C extends Candidate> {
  requestId: string;
  items: Scored<C>[];
  /** True when a component failed or timed out and its fallback was used; `reasons` say which and why. */
  degraded: boolean;
  reasons: string[];
  /** Set when a gate stopped the pipeline. */
  blockedBy?: string;
  trace: RequestTrace;
}

export interface ComponentMetrics {
  calls: number;
  errors: number;
  timeouts: number;
  totalMs: number;
  maxMs: number;
}

class Timeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${Math.round(ms)} ms`);
  }
}

class ComponentFailed extends Error {}

interface Ranked<C extends Candidate> extends Scored<C> {
  /** Index of the last scorer that scored it; higher tiers rank first. */
  tier: number;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Marks small non-negative integer keys within one synchronous pass, in a stamp array that grows to the
 * largest key seen: `begin` starts a new pass without clearing it.
 */
export class KeyMarks {
  private stamps = new Uint32Array(1024);
  private pass = 0;

  /** Keys this can mark: integers in [0, 2^28); others need a set. */
  static fits(key: number): boolean {
    return Number.isInteger(key) && key >= 0 && key < 2 ** 28;
  }

  begin(): void {
    this.pass++;
    if (this.pass === 0xffffffff) {
      this.stamps.fill(0);
      this.pass = 1;
    }
  }

  /** Marks `key`; true when it was already marked in this pass. */
  mark(key: number): boolean {
    if (key >= this.stamps.length) {
      const grown = new Uint32Array(Math.max(key + 1, this.stamps.length * 2));
      grown.set(this.stamps);
      this.stamps = grown;
    }
    if (this.stamps[key] === this.pass) return true;
    this.stamps[key] = this.pass;
    return false;
  }
}

export class Pipeline<Q extends object, C extends Candidate> {
  private readonly quality: QualityFactor | null;
  private readonly stats = new Map<string, ComponentMetrics>();
  private readonly keys = new KeyMarks();

  constructor(
    readonly definition: PipelineDefinition<Q, C>,
    private readonly options: { traces?: TraceBuffer; clock?: Clock } = {},
  ) {
    const ids = new Set<string>();
    const all = [
      ...(definition.gates ?? []),
      ...(definition.queryHydrators ?? []),
      ...definition.sources,
      ...(definition.candidateHydrators ?? []),
      ...(definition.filters ?? []),
      ...(definition.scorers ?? []),
      definition.selector,
      ...(definition.sideEffects ?? []),
    ];
    for (const c of all) {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(c.id))
        throw new ForyouError('FY_INVALID_ARGUMENT', `component id "${c.id}" must be kebab-case`);
      if (ids.has(c.id))
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `pipeline ${definition.id} has two components with id "${c.id}"`,
        );
      ids.add(c.id);
    }
    this.quality = definition.qualityFactor ? new QualityFactor(definition.qualityFactor) : null;
  }

  /** Per-component call counts, errors, timeouts and times since start. */
  metrics(): Record<string, ComponentMetrics> {
    return Object.fromEntries(this.stats);
  }

  get qualityFactor(): number {
    return this.quality?.value ?? 1;
  }

  /** `keepTrace`: keep this request's trace in the trace buffer even when it samples (a debug request). */
  async run(
    query: Q,
    options: { requestId?: string; deadlineMs?: number; keepTrace?: boolean } = {},
  ): Promise<PipelineResult<C>> {
    const clock = this.options.clock ?? systemClock;
    const def = this.definition;
    const requestId = options.requestId ?? randomUUID();
    const startedAt = performance.now();
    const deadlineMs = options.deadlineMs ?? def.deadlineMs;
    const deadlineAt = clock.now() + deadlineMs;
    const deadline = performance.now() + deadlineMs;
    const qualityFactor = this.qualityFactor;
    const components: ComponentTrace[] = [];
    const reasons: string[] = [];
    const request = new AbortController();
    const width = (nominal: number, min = 1) => Math.max(min, Math.round(nominal * qualityFactor));
    const requestTimer = setTimeout(() => request.abort(new Timeout(deadlineMs)), deadlineMs);

    const guarded = async <T>(
      component: {
        id: string;
        kind: string;
        policy?: 'fail' | 'degrade';
        timeoutMs?: number;
        deadlineShare?: number;
      },
      size: number,
      work: (ctx: RunContext) => Promise<T> | T,
      fallback: () => T,
      describe?: (value: T, trace: ComponentTrace) => void,
    ): Promise<T> => {
      const start = performance.now();
      const trace: ComponentTrace = {
        id: component.id,
        kind: component.kind,
        startMs: start - startedAt,
        ms: 0,
        callMs: 0,
        in: size,
        out: 0,
        status: 'ok',
      };
      components.push(trace);
      const stats = this.stats.get(component.id) ?? {
        calls: 0,
        errors: 0,
        timeouts: 0,
        totalMs: 0,
        maxMs: 0,
      };
      this.stats.set(component.id, stats);
      stats.calls++;
      const share =
        component.deadlineShare ??
        (component.kind === 'candidate-source' || component.kind === 'query-hydrator' ? 0.6 : 1);
      const budget = Math.min(component.timeoutMs ?? Number.POSITIVE_INFINITY, (deadline - start) * share);
      // The component's signal is made only when the component asks for it (most never do): it aborts when
      // the component's time is up or the request's is.
      let controller: AbortController | null = null;
      let expired: Timeout | null = null;
      const onAbort = () => controller?.abort(request.signal.reason);
      const ctx: RunContext = {
        get signal() {
          if (controller === null) {
            controller = new AbortController();
            if (expired) controller.abort(expired);
            else if (request.signal.aborted) controller.abort(request.signal.reason);
            else request.signal.addEventListener('abort', onAbort, { once: true });
          }
          return controller.signal;
        },
        deadlineAt,
        qualityFactor,
        width,
      };
      let timer: NodeJS.Timeout | undefined;
      let onRequestAbort: (() => void) | undefined;
      try {
        if (budget <= 0) throw new Timeout(0);
        // Synchronous work cannot be interrupted, so only a promise is raced against the component's time.
        const returned = work(ctx);
        trace.callMs = performance.now() - start;
        const value = isPromiseLike(returned)
          ? await new Promise<T>((resolve, reject) => {
              timer = setTimeout(() => {
                expired = new Timeout(budget);
                controller?.abort(expired);
                reject(expired);
              }, budget);
              onRequestAbort = () => reject(request.signal.reason);
              request.signal.addEventListener('abort', onRequestAbort, { once: true });
              returned.then(resolve, reject);
            })
          : returned;
        describe?.(value, trace);
        return value;
      } catch (error) {
        if (trace.callMs === 0) trace.callMs = performance.now() - start;
        const timedOut = error instanceof Timeout;
        if (timedOut) stats.timeouts++;
        else stats.errors++;
        const message = error instanceof Error ? error.message : String(error);
        trace.error = message;
        if ((component.policy ?? 'degrade') === 'fail') {
          trace.status = 'failed';
          throw new ComponentFailed(`${component.id} ${timedOut ? message : `failed: ${message}`}`);
        }
        trace.status = 'degraded';
        trace.error = timedOut ? message : `failed: ${message}`;
        const value = fallback();
        describe?.(value, trace);
        return value;
      } finally {
        clearTimeout(timer);
        if (onRequestAbort) request.signal.removeEventListener('abort', onRequestAbort);
        if (controller) request.signal.removeEventListener('abort', onAbort);
        trace.ms = performance.now() - start;
        stats.totalMs += trace.ms;
        if (trace.ms > stats.maxMs) stats.maxMs = trace.ms;
      }
    };

    const finish = (items: Scored<C>[], blockedBy?: string): PipelineResult<C> => {
      clearTimeout(requestTimer);
      // Reasons in pipeline order (parallel components finish in any order).
      for (const c of components) if (c.status === 'degraded') reasons.push(`${c.id}: ${c.error}`);
      const ms = performance.now() - startedAt;
      this.quality?.observe(ms);
      const trace: RequestTrace = {
        requestId,
        pipeline: def.id,
        startedAt: new Date(clock.now() - ms).toISOString(),
        ms,
        deadlineMs,
        qualityFactor,
        degraded: reasons.length > 0,
        reasons,
        components,
      };
      this.options.traces?.add(trace, options.keepTrace ?? false);
      return {
        requestId,
        items,
        degraded: reasons.length > 0,
        reasons,
        ...(blockedBy ? { blockedBy } : {}),
        trace,
      };
    };

    try {
      for (const gate of def.gates ?? []) {
        const allowed = await guarded(
          gate,
          1,
          (ctx) => gate.allow(query, ctx),
          () => true,
          (v, t) => {
            t.out = v ? 1 : 0;
          },
        );
        if (!allowed) return finish([], gate.id);
      }
      const hydrated = await Promise.all(
        (def.queryHydrators ?? []).map((h) =>
          guarded(
            h,
            1,
            (ctx) => h.hydrate(query, ctx),
            () => ({}) as Partial<Q>,
            (_v, t) => {
              t.out = 1;
            },
          ),
        ),
      );
      const q = Object.assign({}, query, ...hydrated) as Q;

      const fetched = await Promise.all(
        def.sources.map((s) =>
          guarded(
            s,
            0,
            (ctx) => s.fetch(q, ctx),
            () => [] as C[],
            (v, t) => {
              t.out = v.length;
            },
          ),
        ),
      );
      // First source wins a duplicate. Integer keys are merged with the stamp array (no per-request set).
      const seenIds = new Set<string>();
      const otherKeys = new Set<number>();
      this.keys.begin();
      let candidates: C[] = [];
      for (const list of fetched)
        for (const c of list) {
          const key = c.key;
          if (key === undefined) {
            if (seenIds.has(c.id)) continue;
            seenIds.add(c.id);
          } else if (KeyMarks.fits(key)) {
            if (this.keys.mark(key)) continue;
          } else {
            if (otherKeys.has(key)) continue;
            otherKeys.add(key);
          }
          candidates.push(c);
        }

      for (const h of def.candidateHydrators ?? []) {
        const input = candidates;
        candidates = await guarded(
          h,
          input.length,
          async (ctx) => {
            const out = await h.hydrate(q, input, ctx);
            if (out.length !== input.length)
              throw new Error(`returned ${out.length} candidates for ${input.length}`);
            return out;
          },
          () => input,
          (v, t) => {
            t.out = v.length;
          },
        );
      }

      for (const f of def.filters ?? []) {
        const input = candidates;
        const result = await guarded(
          f,
          input.length,
          (ctx) => f.apply(q, input, ctx),
          () => ({ kept: input, removed: [] }),
          (v, t) => {
            t.out = v.kept.length;
            t.removedCount = v.removed.length;
            t.removed = v.removed.slice(0, 50).map((r) => ({ id: r.candidate.id, reason: r.reason }));
          },
        );
        candidates = result.kept;
      }

      // `ranked` stays ordered by (tier, score), best first: a scorer rescores a prefix of it (the best
      // `limit`, or all), which then outranks the rest, so only that prefix is sorted again.
      const ranked: Ranked<C>[] = candidates.map((candidate) => ({ candidate, score: 0, tier: -1 }));
      for (const [tier, scorer] of (def.scorers ?? []).entries()) {
        const count = scorer.limit === undefined ? ranked.length : Math.min(scorer.limit, ranked.length);
        const chosen = count === ranked.length ? ranked : ranked.slice(0, count);
        const input = chosen.map((r) => r.candidate);
        const scores = await guarded(
          scorer,
          input.length,
          async (ctx) => {
            const out = await scorer.score(q, input, ctx);
            if (out.length !== input.length)
              throw new Error(`returned ${out.length} scores for ${input.length} candidates`);
            return out;
          },
          () => null,
          (v, t) => {
            t.out = input.length;
            if (v) t.scores = input.slice(0, 20).map((c, k) => ({ id: c.id, score: Number(v[k]) }));
          },
        );
        if (scores) {
          for (let k = 0; k < count; k++) {
            chosen[k]!.score = Number(scores[k]);
            chosen[k]!.tier = tier;
          }
          // Stable, so ties keep the order the earlier scorers gave them; a NaN score ranks last.
          sortByScoreDescending(chosen);
          if (chosen !== ranked) for (let k = 0; k < count; k++) ranked[k] = chosen[k]!;
        }
      }
      // Ranked entries are Scored ones with a tier the selector ignores.
      const scored: Scored<C>[] = ranked;

      const selected = await guarded(
        def.selector,
        scored.length,
        (ctx) => def.selector.select(q, scored, ctx),
        () => scored,
        (v, t) => {
          t.out = v.length;
        },
      );
      const result = finish(selected);
      for (const effect of def.sideEffects ?? []) {
        const stats = this.stats.get(effect.id) ?? { calls: 0, errors: 0, timeouts: 0, totalMs: 0, maxMs: 0 };
        this.stats.set(effect.id, stats);
        stats.calls++;
        void effect.run(q, selected, requestId).catch(() => {
          stats.errors++;
        });
      }
      return result;
    } catch (error) {
      clearTimeout(requestTimer);
      if (error instanceof ComponentFailed)
        throw new ForyouError('FY_PIPELINE_FAILED', `pipeline ${def.id}: ${error.message}`, {
          cause: error,
          details: { requestId, components },
        });
      throw error;
    }
  }
}
