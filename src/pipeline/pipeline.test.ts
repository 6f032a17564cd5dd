import { describe, expect, it } from 'vitest';
import { isForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { CandidateSource, Filter, Scorer, Selector } from './components.js';
import { KeyMarks, Pipeline, type PipelineDefinition } from './pipeline.js';
import { TraceBuffer } from './trace.js';

interface Q {
  user: string;
  history?: string[];
}
interface C {
  id: string;
  origin: string;
  key?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });

function source(
  id: string,
  ids: string[],
  delayMs = 0,
  extra: Partial<CandidateSource<Q, C>> = {},
): CandidateSource<Q, C> {
  return {
    id,
    kind: 'candidate-source',
    fetch: async (_q, ctx) => {
      if (delayMs > 0) await sleep(delayMs);
      return ids.slice(0, ctx.width(ids.length)).map((x) => ({ id: x, origin: id }));
    },
    ...extra,
  };
}

const byIndex: Scorer<Q, C> = {
  id: 'by-index',
  kind: 'scorer',
  score: async (_q, cs) => cs.map((c) => Number(c.id.slice(1))),
};
const takeAll: Selector<Q, C> = { id: 'take-all', kind: 'selector', select: (_q, s) => s };

function definition(extra: Partial<PipelineDefinition<Q, C>> = {}): PipelineDefinition<Q, C> {
  return {
    id: 'test',
    deadlineMs: 200,
    sources: [source('a', ['v1', 'v2'])],
    scorers: [byIndex],
    selector: takeAll,
    ...extra,
  };
}

describe('Pipeline', () => {
  it('runs sources in parallel, merges duplicates (first source wins) and ranks by the scores', async () => {
    const pipeline = new Pipeline(
      definition({ sources: [source('slow-a', ['v1', 'v3'], 60), source('slow-b', ['v3', 'v2'], 60)] }),
    );
    const started = performance.now();
    const result = await pipeline.run({ user: 'u1' });
    expect(performance.now() - started).toBeLessThan(110); // 2 x 60 ms would be sequential
    expect(result.items.map((s) => [s.candidate.id, s.candidate.origin])).toEqual([
      ['v3', 'slow-a'],
      ['v2', 'slow-b'],
      ['v1', 'slow-a'],
    ]);
    expect(result.degraded).toBe(false);
  });

  it('degrades a source that throws or hangs and still answers within the deadline', async () => {
    const hangs: CandidateSource<Q, C> = {
      id: 'hangs',
      kind: 'candidate-source',
      fetch: () => new Promise(() => {}),
    };
    const throws: CandidateSource<Q, C> = {
      id: 'throws',
      kind: 'candidate-source',
      fetch: async () => {
        throw new Error('index missing');
      },
    };
    const pipeline = new Pipeline(
      definition({ deadlineMs: 80, sources: [source('ok', ['v1']), hangs, throws] }),
    );
    const started = performance.now();
    const result = await pipeline.run({ user: 'u1' });
    expect(performance.now() - started).toBeLessThan(150);
    expect(result.items.map((s) => s.candidate.id)).toEqual(['v1']);
    expect(result.degraded).toBe(true);
    // The hanging source gets 60% of the deadline (its default share), which leaves time to rank.
    expect(result.reasons).toHaveLength(2);
    expect(result.reasons[0]).toMatch(/^hangs: timed out after 4[6-8] ms$/);
    expect(result.reasons[1]).toBe('throws: failed: index missing');
    expect(result.trace.components.find((c) => c.id === 'hangs')).toMatchObject({
      status: 'degraded',
      out: 0,
    });
  });

  it('honours a component timeout shorter than the deadline, and aborts its signal', async () => {
    let aborted = false;
    const slow: CandidateSource<Q, C> = {
      id: 'slow',
      kind: 'candidate-source',
      timeoutMs: 20,
      fetch: async (_q, ctx) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
        });
        await sleep(100);
        return [{ id: 'v9', origin: 'slow' }];
      },
    };
    const result = await new Pipeline(definition({ sources: [source('a', ['v1']), slow] })).run({
      user: 'u',
    });
    expect(result.reasons).toEqual(['slow: timed out after 20 ms']);
    expect(aborted).toBe(true);
  });

  it('fails the request when a fail-policy component fails', async () => {
    const critical: Scorer<Q, C> = {
      id: 'ranker',
      kind: 'scorer',
      policy: 'fail',
      score: async () => {
        throw new Error('model not loaded');
      },
    };
    const error = await new Pipeline(definition({ scorers: [critical] }))
      .run({ user: 'u' })
      .catch((e: unknown) => e);
    expect(isForyouError(error, 'FY_PIPELINE_FAILED')).toBe(true);
    expect((error as Error).message).toBe('pipeline test: ranker failed: model not loaded');
  });

  it('keeps the input when a filter or hydrator fails, and neutral scores when a scorer does', async () => {
    const badFilter: Filter<Q, C> = {
      id: 'bad-filter',
      kind: 'filter',
      apply: () => {
        throw new Error('store down');
      },
    };
    const badScorer: Scorer<Q, C> = { id: 'bad-scorer', kind: 'scorer', score: async () => [1] };
    const result = await new Pipeline(
      definition({
        sources: [source('a', ['v1', 'v2'])],
        filters: [badFilter],
        scorers: [byIndex, badScorer],
      }),
    ).run({ user: 'u' });
    expect(result.items.map((s) => s.candidate.id)).toEqual(['v2', 'v1']);
    expect(result.reasons).toEqual([
      'bad-filter: failed: store down',
      'bad-scorer: failed: returned 1 scores for 2 candidates',
    ]);
  });

  it('traces counts, removals with reasons, scores, and gates', async () => {
    const seen: Filter<Q, C> = {
      id: 'seen',
      kind: 'filter',
      apply: (q, cs) => ({
        kept: cs.filter((c) => !q.history?.includes(c.id)),
        removed: cs
          .filter((c) => q.history?.includes(c.id))
          .map((candidate) => ({ candidate, reason: 'already seen' })),
      }),
    };
    const traces = new TraceBuffer(10);
    const pipeline = new Pipeline(
      definition({
        gates: [{ id: 'known-user', kind: 'gate', allow: (q) => q.user !== 'banned' }],
        queryHydrators: [
          { id: 'history', kind: 'query-hydrator', hydrate: async () => ({ history: ['v2'] }) },
        ],
        sources: [source('a', ['v1', 'v2', 'v3'])],
        filters: [seen],
      }),
      { traces },
    );
    const result = await pipeline.run({ user: 'u1' }, { requestId: 'r-1' });
    const filter = result.trace.components.find((c) => c.id === 'seen')!;
    expect(filter).toMatchObject({
      in: 3,
      out: 2,
      removedCount: 1,
      removed: [{ id: 'v2', reason: 'already seen' }],
    });
    expect(result.trace.components.find((c) => c.id === 'by-index')!.scores).toEqual([
      { id: 'v1', score: 1 },
      { id: 'v3', score: 3 },
    ]);
    expect(result.trace.components.map((c) => c.id)).toEqual([
      'known-user',
      'history',
      'a',
      'seen',
      'by-index',
      'take-all',
    ]);
    expect(traces.find('r-1')?.components).toHaveLength(6);
    // A buffer that samples one request in 100 still keeps one asked for.
    const sampled = new TraceBuffer(10, 100);
    const sampling = new Pipeline(pipeline.definition, { traces: sampled });
    for (const [k, keepTrace] of [false, false, true].entries())
      await sampling.run({ user: 'u1' }, { requestId: `s-${k}`, keepTrace });
    expect(sampled.recent().map((t) => t.requestId)).toEqual(['s-2', 's-0']);
    const blocked = await pipeline.run({ user: 'banned' });
    expect(blocked.blockedBy).toBe('known-user');
    expect(blocked.items).toEqual([]);
  });

  it("traces each parallel component's own time beside its time to result", async () => {
    const busy = (id: string, ms: number): CandidateSource<Q, C> => ({
      id,
      kind: 'candidate-source',
      fetch: async () => {
        const until = performance.now() + ms;
        while (performance.now() < until) {
          // Work that does not await, as the feed's sources do.
        }
        return [{ id: `v-${id}`, origin: id }];
      },
    });
    const result = await new Pipeline(definition({ sources: [busy('slow', 30), busy('quick', 10)] })).run({
      user: 'u',
    });
    const [slow, quick] = ['slow', 'quick'].map((id) => result.trace.components.find((c) => c.id === id)!);
    // The slow source's result waits for the quick one's turn too; its own call does not include it.
    expect(slow!.callMs).toBeGreaterThanOrEqual(30);
    expect(slow!.ms - slow!.callMs).toBeGreaterThanOrEqual(10);
    expect(quick!.callMs).toBeGreaterThanOrEqual(10);
    for (const c of result.trace.components) expect(c.callMs).toBeLessThanOrEqual(c.ms);
  });

  it('cascades: a limited scorer rescores only the best candidates so far, which then rank first', async () => {
    const preRank: Scorer<Q, C> = {
      id: 'pre-rank',
      kind: 'scorer',
      score: async (_q, cs) => cs.map((c) => Number(c.id.slice(1))),
    };
    const rank: Scorer<Q, C> = {
      id: 'rank',
      kind: 'scorer',
      limit: 2,
      score: async (_q, cs) => cs.map((c) => -Number(c.id.slice(1))),
    };
    const result = await new Pipeline(
      definition({ sources: [source('a', ['v1', 'v2', 'v3', 'v4'])], scorers: [preRank, rank] }),
    ).run({ user: 'u' });
    expect(result.items.map((s) => s.candidate.id)).toEqual(['v3', 'v4', 'v2', 'v1']);
    expect(result.trace.components.find((c) => c.id === 'rank')).toMatchObject({ in: 2, out: 2 });
  });

  it('orders a cascade of limited scorers as sorting everything by (last scorer, score) before each would', async () => {
    const rng = new Rng('cascade');
    for (let round = 0; round < 30; round++) {
      const n = 1 + rng.int(40);
      const ids = Array.from({ length: n }, (_, k) => `v${k}`);
      // Few distinct scores, so ties are common; a scorer may fail (its candidates keep their scores).
      const stages = Array.from({ length: 1 + rng.int(4) }, (_, t) => ({
        limit: rng.float() < 0.3 ? undefined : rng.int(n + 3),
        fails: rng.float() < 0.2,
        score: new Map(ids.map((id) => [id, rng.int(5)])),
        t,
      }));
      const scorers: Scorer<Q, C>[] = stages.map((st) => ({
        id: `s${st.t}`,
        kind: 'scorer',
        ...(st.limit === undefined ? {} : { limit: st.limit }),
        score: async (_q, cs) => {
          if (st.fails) throw new Error('down');
          return cs.map((c) => st.score.get(c.id)!);
        },
      }));
      const result = await new Pipeline(definition({ sources: [source('a', ids)], scorers })).run({
        user: 'u',
      });
      // Reference: a stable sort of every candidate by (tier, score) before each scorer and at the end.
      let ranked = ids.map((id) => ({ id, score: 0, tier: -1 }));
      const order = () => [...ranked].sort((a, b) => b.tier - a.tier || b.score - a.score);
      for (const st of stages) {
        ranked = order();
        if (st.fails) continue;
        for (const r of st.limit === undefined ? ranked : ranked.slice(0, st.limit)) {
          r.score = st.score.get(r.id)!;
          r.tier = st.t;
        }
      }
      expect(result.items.map((x) => x.candidate.id)).toEqual(order().map((r) => r.id));
    }
  });

  it('merges candidates on their integer key when they have one', async () => {
    const keyed: CandidateSource<Q, C> = {
      id: 'keyed',
      kind: 'candidate-source',
      fetch: async () => [
        { id: 'v1', origin: 'keyed', key: 1 },
        { id: 'v2', origin: 'keyed', key: 2 },
        { id: 'v1', origin: 'keyed-again', key: 1 },
      ],
    };
    const result = await new Pipeline(definition({ sources: [keyed] })).run({ user: 'u' });
    expect(result.items.map((s) => [s.candidate.id, s.candidate.origin])).toEqual([
      ['v2', 'keyed'],
      ['v1', 'keyed'],
    ]);
  });

  it('merges keys the stamp array cannot hold, and starts every run with nothing marked', async () => {
    const odd: CandidateSource<Q, C> = {
      id: 'odd',
      kind: 'candidate-source',
      fetch: async () => [
        { id: 'v1', origin: 'odd', key: -1 },
        { id: 'v2', origin: 'odd', key: 2 ** 40 },
        { id: 'v3', origin: 'odd', key: 2 ** 40 },
        { id: 'v4', origin: 'odd', key: 1.5 },
        { id: 'v5', origin: 'odd', key: 5_000_000 },
        { id: 'v6', origin: 'odd', key: 5_000_000 },
      ],
    };
    const pipeline = new Pipeline(definition({ sources: [odd] }));
    for (let run = 0; run < 3; run++) {
      const result = await pipeline.run({ user: 'u' });
      expect(result.items.map((s) => s.candidate.id)).toEqual(['v5', 'v4', 'v2', 'v1']);
    }
  });

  it('marks keys once per pass, growing to the largest key', () => {
    const marks = new KeyMarks();
    marks.begin();
    expect([3, 70_000, 3, 70_000, 0].map((k) => marks.mark(k))).toEqual([false, false, true, true, false]);
    marks.begin();
    expect([70_000, 3, 3].map((k) => marks.mark(k))).toEqual([false, false, true]);
    expect([0, 2 ** 28 - 1, 1.5, -1, 2 ** 28].map((k) => KeyMarks.fits(k))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('narrows candidate width under load and widens it again', async () => {
    const slowScorer: Scorer<Q, C> = {
      id: 'slow-scorer',
      kind: 'scorer',
      score: async (_q, cs) => {
        await sleep(15);
        return cs.map(() => 0);
      },
    };
    const ids = Array.from({ length: 100 }, (_, k) => `v${k}`);
    const pipeline = new Pipeline(
      definition({
        sources: [source('a', ids)],
        scorers: [slowScorer],
        qualityFactor: { targetMs: 5, window: 2 },
      }),
    );
    for (let k = 0; k < 6; k++) await pipeline.run({ user: 'u' });
    expect(pipeline.qualityFactor).toBeLessThan(0.6);
    const narrowed = await pipeline.run({ user: 'u' });
    expect(narrowed.trace.components.find((c) => c.id === 'a')!.out).toBeLessThan(100);
  });

  it('refuses duplicate or malformed component ids', () => {
    expect(() => new Pipeline(definition({ sources: [source('a', []), source('a', [])] }))).toThrow(
      'two components with id "a"',
    );
    expect(() => new Pipeline(definition({ sources: [source('Bad_Id', [])] }))).toThrow('must be kebab-case');
  });
});
