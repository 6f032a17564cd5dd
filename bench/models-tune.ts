/**
 * Tuning grid for the retrieval models under the "recommenders" protocol (bench/models-protocol.ts).
 *
 *   node --import tsx bench/models-tune.ts MODEL '[{...options}, ...]' [--seeds 42,1] [--threads 2]
 *     [--data PATH --dataset ml-100k]
 *
 * MODEL is one of the names in `MODELS` below; each JSON object is passed to its constructor. Prints one line
 * per (options, seed): NDCG@10, precision@10, recall@10 and the training time. Nothing is recorded: the
 * chosen defaults and what was tried are in docs/models.md.
 */
import { AlsRecommender } from '../src/models/als.js';
import { BprRecommender } from '../src/models/bpr.js';
import { EaseRecommender } from '../src/models/ease.js';
import { ItemKnnRecommender } from '../src/models/item-knn.js';
import { PopularityRecommender } from '../src/models/popularity.js';
import type { Recommender } from '../src/models/recommender.js';
import { loadRatings, ML_LATEST_SMALL, rankingQuality, splitRecommenders } from './models-protocol.js';

// biome-ignore lint/suspicious/noExplicitAny: options come from the command line as JSON.
const MODELS: Record<string, (options: any) => Recommender> = {
  popularity: (o) => new PopularityRecommender(o),
  ease: (o) => new EaseRecommender(o),
  'item-knn': (o) => new ItemKnnRecommender(o),
  als: (o) => new AlsRecommender(o),
  bpr: (o) => new BprRecommender(o),
};

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

const [model, grid] = process.argv.slice(2);
const create = model ? MODELS[model] : undefined;
if (!create || !grid) {
  console.error(
    `usage: models-tune.ts ${Object.keys(MODELS).join('|')} '[{...}]' [--seeds 42] [--threads 2]`,
  );
  process.exit(2);
}
const seeds = flag('seeds', '42').split(',').map(Number);
const threads = Number(flag('threads', '2'));
const rows = await loadRatings(flag('data', ML_LATEST_SMALL), flag('dataset', 'ml-latest-small'));
const configs = JSON.parse(grid) as object[];
for (const seed of seeds) {
  const split = splitRecommenders(rows, seed);
  for (const options of configs) {
    const recommender = create(options);
    const started = performance.now();
    await recommender.fit(split.train, { seed, threads });
    const seconds = (performance.now() - started) / 1000;
    const q = rankingQuality(recommender, split, 10);
    console.log(
      `${model} ${JSON.stringify(options)} seed ${seed}: ndcg@10 ${q.ndcg.toFixed(4)} p@10 ${q.precision.toFixed(4)} ` +
        `r@10 ${q.recall.toFixed(4)} fit ${seconds.toFixed(1)} s`,
    );
  }
}
