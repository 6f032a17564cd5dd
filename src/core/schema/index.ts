export * from './creator.js';
export * from './event.js';
export * from './fields.js';
export * from './item.js';
export * from './user.js';
export * from './validate.js';
