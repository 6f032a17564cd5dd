import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import type { InteractionMatrix, RawInteraction } from '../models/interactions.js';
import type { Recommender } from '../models/recommender.js';
import { createModel, MODELS, modelNames, parseModelList } from './model-registry.js';
import { rankingScores } from './ranking-metrics.js';
import { excludedItems, rankingContext, rankUsers } from './ranking-pass.js';
import { recommendersSplit } from './recommenders-protocol.js';
import { formatMarkdownReport } from './report.js';
import { evaluate } from './runner.js';

/**
 * A planted structure: 3 taste groups of unequal size (60, 30, 10 users), each with 15 items of its own,
 * plus 5 items everyone likes a little. A user interacts with 8 of its group's items and 1-2 global ones.
 * Popularity can only recommend the global items and the big group's items; knowing the groups is enough
 * to do far better.
 */
function planted(seed = 3): RawInteraction[] {
  const rng = new Rng(seed);
  const out: RawInteraction[] = [];
  const groups = [60, 30, 10];
  let user = 0;
  groups.forEach((size, g) => {
    for (let n = 0; n < size; n++, user++) {
      const own = rng.shuffle([...Array(15).keys()]).slice(0, 8);
      for (const i of own) out.push({ user: `u${user}`, item: `g${g}-${i}`, value: 1, ts: rng.int(1e6) });
      const global = rng.shuffle([...Array(5).keys()]).slice(0, 1 + rng.int(2));
      for (const i of global) out.push({ user: `u${user}`, item: `pop-${i}`, value: 1, ts: rng.int(1e6) });
    }
  });
  return out;
}

/** A hand-built co-occurrence recommender: score(i) = how often i co-occurs with the user's items in train. */
class CooccurrenceOracle implements Recommender {
  readonly name = 'cooccurrence';
  private train: InteractionMatrix | null = null;

  async fit(train: InteractionMatrix): Promise<void> {
    this.train = train;
  }

  scoreUser(u: number, out: Float32Array): void {
    const m = this.train!;
    out.fill(0);
    for (const j of m.itemsOf(u)) for (const v of m.usersOf(j)) for (const i of m.itemsOf(v)) out[i]! += 1;
  }
}

describe('evaluate on a planted structure', () => {
  it('ranks a model that knows the structure well above popularity', async () => {
    const report = await evaluate({
      dataset: { name: 'planted', interactions: planted() },
      protocol: 'recommenders',
      models: ['popularity', { name: 'oracle', create: () => new CooccurrenceOracle() }],
      seed: 42,
    });
    const [pop, oracle] = report.models;
    expect(pop!.name).toBe('popularity');
    expect(oracle!.metrics['ndcg@10']).toBeGreaterThan(pop!.metrics['ndcg@10']! + 0.2);
    expect(oracle!.metrics['recall@10']).toBeGreaterThan(pop!.metrics['recall@10']!);
    expect(oracle!.metrics['personalisation@10']).toBeGreaterThan(pop!.metrics['personalisation@10']!);
    expect(oracle!.metrics['coverage@10']).toBeGreaterThan(pop!.metrics['coverage@10']!);
    expect(pop!.metrics['gini@10']).toBeGreaterThan(oracle!.metrics['gini@10']!);
    expect(report.ks).toEqual([5, 10, 20, 50]);
    expect(report.protocol).toMatchObject({ name: 'recommenders', evaluatedUsers: 100, candidateItems: 50 });
    expect(report.dataset).toMatchObject({ name: 'planted', users: 100, items: 50 });
    for (const key of [
      'ndcg',
      'precision',
      'recall',
      'map',
      'mrr',
      'hit_rate',
      'coverage',
      'novelty',
      'diversity',
      'personalisation',
      'gini',
    ])
      for (const k of report.ks)
        expect(Number.isFinite(pop!.metrics[`${key}@${k}`]), `${key}@${k}`).toBe(true);
    expect(pop!.metrics['mrr']).toBeGreaterThanOrEqual(pop!.metrics['mrr@50']!);
  });

  it('is deterministic under a seed (apart from timings)', async () => {
    const run = () =>
      evaluate({
        dataset: { name: 'p', interactions: planted() },
        protocol: { name: 'recbole', options: { minRating: 1, core: 5 } },
        models: ['popularity'],
        ks: [10],
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a.models[0]!.metrics).toEqual(b.models[0]!.metrics);
    expect(a.protocol).toEqual(b.protocol);
  });

  it('rejects bad cutoffs and unknown models', async () => {
    const dataset = { name: 'p', interactions: planted() };
    await expect(
      evaluate({ dataset, protocol: 'recommenders', models: ['popularity'], ks: [0] }),
    ).rejects.toThrow('cutoffs must be whole numbers >= 1');
    await expect(evaluate({ dataset, protocol: 'recommenders', models: ['nope'] })).rejects.toThrow(
      'unknown model "nope"; expected one of popularity, trending',
    );
  });
});

describe('rankUsers', () => {
  it('never recommends training items or items unseen in training, and scores lists like the reference', async () => {
    const split = recommendersSplit(planted(5), 1);
    const ctx = rankingContext(split);
    // A model that prefers high indices, so it would pick excluded items if it could.
    const byIndex: Recommender = {
      name: 'by-index',
      fit: async () => {},
      scoreUser: (_u, out) => {
        for (let i = 0; i < out.length; i++) out[i] = i;
      },
    };
    const { lists, accuracy } = rankUsers(byIndex, ctx, [3, 10]);
    let ndcg = 0;
    ctx.users.forEach((u, j) => {
      const list = lists.items.subarray(j * lists.depth, j * lists.depth + lists.lengths[j]!);
      const excluded = new Set(excludedItems(ctx, u));
      for (const i of list) expect(excluded.has(i)).toBe(false);
      for (const i of split.train.itemsOf(u)) expect(excluded.has(i)).toBe(true);
      const held = new Set(split.test.itemsOf(u));
      ndcg += rankingScores(list, (i) => held.has(i), held.size, 10).ndcg;
    });
    expect(accuracy['ndcg@10']).toBeCloseTo(ndcg / ctx.users.length, 12);
  });
});

describe('model registry', () => {
  it('creates fresh models by name and parses lists', () => {
    expect(modelNames()).toEqual(Object.keys(MODELS));
    expect(createModel('popularity').name).toBe('popularity');
    expect(createModel('trending').name).toBe('trending');
    expect(createModel('popularity')).not.toBe(createModel('popularity'));
    expect(parseModelList(' popularity, trending,popularity ')).toEqual(['popularity', 'trending']);
    expect(() => parseModelList(',')).toThrow('expected a comma-separated list of models');
    expect(() => createModel('toString')).toThrow('unknown model "toString"');
  });
});

describe('formatMarkdownReport', () => {
  it('prints one row per model with the headline metrics', async () => {
    const report = await evaluate({
      dataset: { name: 'planted', interactions: planted() },
      protocol: 'recommenders',
      models: ['popularity', 'trending'],
      ks: [5, 10],
    });
    const text = formatMarkdownReport(report, 5);
    expect(text).toContain('# Evaluation: planted, recommenders protocol');
    expect(text).toContain(
      '| model | NDCG@5 | P@5 | R@5 | MAP@5 | MRR | HR@5 | coverage@5 | novelty@5 | personalisation@5 | Gini@5 | train s |',
    );
    const rows = text.split('\n').filter((l) => /^\| (popularity|trending) \|/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain(`| ${report.models[0]!.metrics['ndcg@5']!.toFixed(4)} |`);
    expect(() => formatMarkdownReport(report, 20)).toThrow('no metrics at k = 20');
  });
});
