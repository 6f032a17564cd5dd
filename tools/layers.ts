/**
 * The module layering of ARCHITECTURE.md as data: each module under src/ and the modules it may import.
 * Imports flow down this list and never up; `lint-layers.ts` enforces it and a test holds ARCHITECTURE.md
 * to the same table. Modules planned but not built yet are listed so the rule is already in place.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  io: ['core'],
  sim: ['core', 'io'],
  datasets: ['core', 'io'],
  log: ['core', 'io'],
  http: ['core'],
  ingest: ['core', 'log', 'http'],
  lake: ['core', 'io', 'log'],
  store: ['core'],
  features: ['core', 'io', 'log', 'lake', 'store'],
  models: ['core', 'io', 'lake', 'features'],
  retrieval: ['core', 'models', 'store'],
  pipeline: ['core'],
  search: ['core', 'models'],
  analytics: ['core', 'lake'],
  serving: [
    'core',
    'io',
    'log',
    'ingest',
    'lake',
    'store',
    'features',
    'models',
    'retrieval',
    'pipeline',
    'search',
    'analytics',
  ],
  jobs: ['core', 'io', 'log', 'lake', 'store', 'features', 'models', 'retrieval', 'search', 'analytics'],
  cli: ['*'],
};
