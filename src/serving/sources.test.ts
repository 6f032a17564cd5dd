import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import type { RunContext } from '../pipeline/components.js';
import { csrOf, ServingBundle } from './bundle.js';
import { FreshSource, ItemToItemSource, TrendingSource } from './sources.js';
import { tinyBundle, tinyQuery } from './testing.js';

const ctx: RunContext = {
  signal: new AbortController().signal,
  deadlineAt: Number.POSITIVE_INFINITY,
  qualityFactor: 1,
  width: (nominal, min = 1) => Math.max(min, nominal),
};

describe('list sources', () => {
  // Locale 2 (global) lists: trending [0, 1, 2, 3]; fresh [39, 38].
  const bundle = tinyBundle(40, 10, 8);

  it('trending walks past served items so a returning user still gets the width asked for', async () => {
    const query = tinyQuery(bundle, 5, { locale: 2, seenItems: new Set([0, 2]) });
    const got = await new TrendingSource(2).fetch(query, { ...ctx, width: () => 2 });
    expect(got.map((c) => c.item)).toEqual([1, 3]);
    // Scores keep the list order.
    expect(got[0]!.retrieval).toBeGreaterThan(got[1]!.retrieval);
    const fresh = await new TrendingSource(2).fetch(tinyQuery(bundle, 5, { locale: 2 }), {
      ...ctx,
      width: () => 2,
    });
    expect(fresh.map((c) => c.item)).toEqual([0, 1]);
  });

  it('fresh samples only videos the user was not served', async () => {
    const query = tinyQuery(bundle, 5, { locale: 2, seenItems: new Set([39]) });
    const got = await new FreshSource(5).fetch(query, ctx);
    expect(got.map((c) => c.item)).toEqual([38]);
    const none = await new FreshSource(5).fetch(
      tinyQuery(bundle, 5, { locale: 2, seenItems: new Set([38, 39]) }),
      ctx,
    );
    expect(none).toEqual([]);
  });
});

describe('item-to-item source', () => {
  it('sums neighbour weights over the seeds, newer seeds weighing more, as a plain map-and-sort does', async () => {
    const rng = new Rng(3);
    const items = 300;
    const lists = Array.from({ length: items }, () => {
      const out = new Set<number>();
      for (let k = 0; k < 40; k++) out.add(rng.int(items));
      return [...out];
    });
    const weight = new Float32Array(lists.reduce((n, l) => n + l.length, 0));
    // Coarse weights, so some sums tie and the tie order (by item) is exercised too.
    for (let e = 0; e < weight.length; e++) weight[e] = 1 + rng.int(4);
    const tiny = tinyBundle(items, 10, 8);
    const bundle = ServingBundle.build(
      { ...tiny.data, neighbours: { ...csrOf(lists), weight } },
      { threads: 1 },
    );
    const { ptr, idx } = bundle.data.neighbours;
    const reference = (seeds: number[], width: number) => {
      const score = new Map<number, number>();
      for (const [rank, seed] of seeds.entries())
        for (let e = ptr[seed]!; e < ptr[seed + 1]!; e++)
          score.set(idx[e]!, (score.get(idx[e]!) ?? 0) + (1 / (1 + 0.2 * rank)) * weight[e]!);
      return [...score].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, width);
    };
    const source = new ItemToItemSource(50, 10);
    for (const seeds of [[5], [7, 8, 9], Array.from({ length: 12 }, (_, k) => k * 20)]) {
      const got = await source.fetch(tinyQuery(bundle, 5, { recent: seeds }), ctx);
      const want = reference(seeds.slice(0, 10), 50);
      expect(got.map((c) => [c.item, c.retrieval])).toEqual(want);
      expect(new Set(got.map((c) => c.source))).toEqual(new Set(['item-to-item']));
    }
    expect(await source.fetch(tinyQuery(bundle, 5, { recent: [] }), ctx)).toEqual([]);
  });
});
