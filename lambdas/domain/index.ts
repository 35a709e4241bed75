export * from './documents.js';
export * from './errors.js';
export * from './users.js';
export * from './records.js';
export * from './features.js';
