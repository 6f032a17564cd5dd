export * from './components.js';
export * from './pipeline.js';
export * from './quality-factor.js';
export * from './trace.js';
