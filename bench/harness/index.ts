/** The benchmark harness: import everything from here in bench/<name>.bench.ts. */
export { type BenchArgs, benchArgs, benchName } from './args.js';
export { formatFigure, formatNumber, formatRatio } from './format.js';
export { keySetReaders } from './key-sets.js';
export {
  type MachineInfo,
  machine,
  machineLabel,
  peakRssMb,
  processTreeCpuMs,
  type RssTracker,
  trackRss,
} from './machine.js';
export {
  type BenchFn,
  blackhole,
  type Measurement,
  type MeasureOptions,
  measure,
  measureEach,
} from './measure.js';
export {
  type FindMaxRateOptions,
  findMaxRate,
  geometricRates,
  type OpenLoopOptions,
  type OpenLoopResult,
  openLoop,
  type RateStep,
} from './open-loop.js';
export {
  type BenchResult,
  type Better,
  describeResult,
  parseResultLine,
  type ReportInput,
  type ReportOptions,
  ratioOf,
  report,
} from './report.js';
export { type ResultsUpdate, renderBlock, updateResultsMarkdown } from './results-md.js';
export {
  max,
  mean,
  median,
  min,
  percentile,
  percentileOfSorted,
  type Samples,
  type Summary,
  sortedCopy,
  summarize,
} from './stats.js';
