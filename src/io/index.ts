export * from './duckdb.js';
export * from './jsonl.js';
export * from './world-folder.js';
