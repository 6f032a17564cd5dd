export * from './clock.js';
export * from './config.js';
export * from './errors.js';
export * from './ids.js';
export * from './rng.js';
export * from './schema/index.js';
