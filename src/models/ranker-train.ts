import { trainPreranker } from './prerank.js';
import type { RankerArtifact } from './ranker-artifact.js';
import { type GbdtOptions, trainGbdt } from './ranker-gbdt.js';
import type { LinearOptions } from './ranker-linear.js';
import { DEFAULT_FUSION_WEIGHTS, type FusionWeights } from './ranker-scorer.js';
import { modelInput, type RankingSamples } from './ranking-samples.js';

export interface RankerTrainOptions {
  gbdt?: GbdtOptions;
  preranker?: LinearOptions;
  weights?: FusionWeights;
}

/** Trains the multi-task ranker and the pre-ranker on `samples`; the result saves as one artifact file. */
export function trainRanker(samples: RankingSamples, options: RankerTrainOptions = {}): RankerArtifact {
  const width = samples.userFeatureNames.length + samples.candidateFeatureNames.length;
  const weights = options.weights ?? DEFAULT_FUSION_WEIGHTS;
  return {
    userFeatureNames: samples.userFeatureNames,
    candidateFeatureNames: samples.candidateFeatureNames,
    weights,
    ranker: trainGbdt(modelInput(samples), width, samples.labels, options.gbdt),
    preranker: trainPreranker(
      samples.candidate,
      samples.candidateFeatureNames.length,
      samples.labels,
      weights,
      options.preranker,
    ),
  };
}
