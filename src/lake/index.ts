export * from './compaction.js';
export type { Row } from './duck.js';
export * from './lake.js';
export * from './layout.js';
export * from './manifest.js';
export * from './status.js';
export * from './views.js';
export * from './writer.js';
