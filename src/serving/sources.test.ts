import { describe, expect, it } from 'vitest';
import type { RunContext } from '../pipeline/components.js';
import { FreshSource, TrendingSource } from './sources.js';
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
