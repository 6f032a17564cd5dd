import type { AlsRecommender } from '../models/als.js';
import type { AnnHits } from '../retrieval/ann-index.js';
import type { ServingBundle } from './bundle.js';

/**
 * Item and user vectors from one embedding model, keyed by id: what a bundle is built from. ALS gives one
 * (`alsEmbeddings`); the two-tower model gives another of the same shape.
 */
export interface EmbeddingTable {
  /** Kebab-case model name ("als", "two-tower"). */
  model: string;
  dimensions: number;
  itemIds: readonly string[];
  /** itemIds.length x dimensions. */
  itemVectors: Float32Array;
  userIds: readonly string[];
  userVectors: Float32Array;
}

/**
 * The port a retrieval model's embeddings serve through at request time: a vector for the user (or for a
 * session's context items) and nearest items by inner product. `bundleSpace` serves the bundle's own
 * factors; a two-tower adapter implements the same three members over its own index, and the feed
 * pipeline gets one ANN source per space.
 */
export interface EmbeddingSpace {
  /** Kebab-case, used in source ids (`ann-<id>`). */
  id: string;
  userVector(user: number | null, contextItems: readonly number[]): Float32Array | null;
  search(vector: Float32Array, k: number): AnnHits;
}

/** The bundle's factors: the user's row, or for unknown users the mean of their context items' rows. */
export function bundleSpace(bundle: ServingBundle, id = 'factors'): EmbeddingSpace {
  const d = bundle.data.dimensions;
  return {
    id,
    userVector(user, contextItems) {
      if (user !== null) {
        const v = bundle.userVector(user);
        if (normOf(v) > 0) return v;
      }
      if (contextItems.length === 0) return null;
      const mean = new Float32Array(d);
      for (const i of contextItems) {
        const v = bundle.itemVector(i);
        for (let k = 0; k < d; k++) mean[k]! += v[k]! / contextItems.length;
      }
      return normOf(mean) > 0 ? mean : null;
    },
    search: (vector, k) => bundle.ann.search(vector, k),
  };
}

function normOf(v: Float32Array): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k]! * v[k]!;
  return Math.sqrt(s);
}

/** The factors of a fitted (or loaded) ALS model as an embedding table. */
export function alsEmbeddings(model: AlsRecommender): EmbeddingTable {
  return {
    model: model.name,
    dimensions: model.factors,
    itemIds: model.itemIds,
    itemVectors: Float32Array.from(model.itemFactors),
    userIds: model.userIds,
    userVectors: Float32Array.from(model.userFactors),
  };
}
