import { ForyouError } from '../core/errors.js';
import type { InteractionMatrix, RawInteraction } from '../models/interactions.js';
import {
  catalogueCoverage,
  cooccurrenceCosine,
  type ItemSimilarity,
  intraListDiversity,
  itemSelfInformation,
  meanNovelty,
  personalisation,
  recommendationGini,
} from './beyond-accuracy.js';
import { createModel, type ModelFactory } from './model-registry.js';
import { applyProtocol, type ProtocolSpec } from './protocols.js';
import { type RankingContext, rankingContext, rankUsers } from './ranking-pass.js';
import type { ProtocolName, Split } from './split.js';

export const DEFAULT_KS: readonly number[] = [5, 10, 20, 50];

/** A dataset already read into memory, with a name for the report. */
export interface EvaluationDataset {
  name: string;
  interactions: readonly RawInteraction[];
}

/** A model by registry name, or any factory under a name of its own (tests, experiments). */
export type ModelChoice = string | { name: string; create: ModelFactory };

export interface EvaluateOptions {
  dataset: EvaluationDataset;
  protocol: ProtocolName | ProtocolSpec;
  models: readonly ModelChoice[];
  /** Cutoffs (default 5, 10, 20, 50). */
  ks?: readonly number[];
  /** Seeds the split and every model's `fit` (default 42). */
  seed?: number;
  /** The similarity behind intra-list diversity (default `cooccurrenceCosine`). */
  similarity?: (train: InteractionMatrix) => ItemSimilarity;
  /** Passed to `fit`: worker threads a model may use for its heavy kernels. */
  threads?: number;
  onProgress?: (message: string) => void;
}

export interface MatrixCounts {
  users: number;
  items: number;
  interactions: number;
}

export interface ModelReport {
  name: string;
  trainSeconds: number;
  /** Scoring, ranking and accuracy metrics for every evaluated user. */
  rankSeconds: number;
  /** Named metrics: `ndcg@10`, `precision@10`, ..., `coverage@10`, ..., and `mrr` (no cutoff). */
  metrics: Record<string, number>;
}

export interface EvaluationReport {
  dataset: { name: string } & MatrixCounts;
  protocol: {
    name: ProtocolName;
    params: Readonly<Record<string, number | string>>;
    train: MatrixCounts;
    validation: MatrixCounts | null;
    test: MatrixCounts;
    /** Users with at least one training and one test interaction. */
    evaluatedUsers: number;
    /** Items with at least one training interaction: what every ranking is over. */
    candidateItems: number;
  };
  ks: number[];
  seed: number;
  models: ModelReport[];
  generatedAt: string;
}

function counts(m: InteractionMatrix): MatrixCounts {
  let users = 0;
  for (let u = 0; u < m.users; u++) if (m.userPtr[u + 1]! > m.userPtr[u]!) users++;
  let items = 0;
  for (const c of m.itemCounts()) if (c > 0) items++;
  return { users, items, interactions: m.nnz };
}

function checkKs(ks: readonly number[]): number[] {
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1))
    throw new ForyouError('FY_INVALID_ARGUMENT', `cutoffs must be whole numbers >= 1, got ${ks.join(', ')}`);
  return [...new Set(ks)].sort((a, b) => a - b);
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** The beyond-accuracy metrics of one model's lists, at every k. */
function beyondAccuracy(
  ctx: RankingContext,
  lists: ReturnType<typeof rankUsers>['lists'],
  ks: readonly number[],
  similarity: ItemSimilarity,
): Record<string, number> {
  const { train } = ctx.split;
  const selfInformation = itemSelfInformation(train);
  const diversity = intraListDiversity(lists, ks, similarity);
  const out: Record<string, number> = {};
  ks.forEach((k, x) => {
    out[`coverage@${k}`] = catalogueCoverage(lists, k, train.items, ctx.candidates);
    out[`novelty@${k}`] = meanNovelty(lists, k, selfInformation);
    out[`diversity@${k}`] = diversity[x]!;
    out[`personalisation@${k}`] = personalisation(lists, k, train.items);
    out[`gini@${k}`] = recommendationGini(lists, k, train.items, ctx.candidates);
  });
  return out;
}

/**
 * Evaluates models on a split made already: each model is created fresh, trained on `split.train`
 * (seeded), asked for a full ranking of every evaluated user, and measured at every k.
 */
export async function evaluateSplit(
  split: Split,
  options: Omit<EvaluateOptions, 'dataset' | 'protocol'>,
): Promise<ModelReport[]> {
  const ks = checkKs(options.ks ?? DEFAULT_KS);
  const seed = options.seed ?? 42;
  const log = options.onProgress ?? (() => {});
  const ctx = rankingContext(split);
  if (ctx.users.length === 0)
    throw new ForyouError('FY_INVALID_ARGUMENT', `the ${split.protocol} split has no user to evaluate`);
  const similarity = (options.similarity ?? cooccurrenceCosine)(split.train);
  const reports: ModelReport[] = [];
  for (const choice of options.models) {
    const name = typeof choice === 'string' ? choice : choice.name;
    const model = typeof choice === 'string' ? createModel(choice) : choice.create();
    log(`${name}: training on ${split.train.nnz.toLocaleString('en-US')} interactions`);
    let started = performance.now();
    await model.fit(split.train, {
      seed,
      servedAt: split.servedAt,
      ...(options.threads ? { threads: options.threads } : {}),
      onProgress: (message) => log(`${name}: ${message}`),
    });
    const trainSeconds = seconds(started);
    log(`${name}: ranking ${ctx.users.length.toLocaleString('en-US')} users`);
    started = performance.now();
    const pass = rankUsers(model, ctx, ks);
    const rankSeconds = seconds(started);
    const metrics = { ...pass.accuracy, ...beyondAccuracy(ctx, pass.lists, ks, similarity) };
    log(`${name}: done (train ${trainSeconds.toFixed(2)} s, rank ${rankSeconds.toFixed(2)} s)`);
    reports.push({ name, trainSeconds, rankSeconds, metrics });
  }
  return reports;
}

/**
 * The evaluation harness: splits the dataset by the protocol (seeded), evaluates every model on the split
 * and returns the report (JSON-ready; `formatMarkdownReport` renders its table).
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationReport> {
  const seed = options.seed ?? 42;
  const ks = checkKs(options.ks ?? DEFAULT_KS);
  const log = options.onProgress ?? (() => {});
  log(
    `splitting ${options.dataset.name} by ${typeof options.protocol === 'string' ? options.protocol : options.protocol.name}`,
  );
  const split = applyProtocol(options.protocol, options.dataset.interactions, seed);
  const ctx = rankingContext(split);
  const models = await evaluateSplit(split, { ...options, ks, seed });
  const users = new Set<string>();
  const items = new Set<string>();
  for (const x of options.dataset.interactions) {
    users.add(x.user);
    items.add(x.item);
  }
  return {
    dataset: {
      name: options.dataset.name,
      users: users.size,
      items: items.size,
      interactions: options.dataset.interactions.length,
    },
    protocol: {
      name: split.protocol,
      params: split.params,
      train: counts(split.train),
      validation: split.validation ? counts(split.validation) : null,
      test: counts(split.test),
      evaluatedUsers: ctx.users.length,
      candidateItems: ctx.candidates.length,
    },
    ks,
    seed,
    models,
    generatedAt: new Date().toISOString(),
  };
}
