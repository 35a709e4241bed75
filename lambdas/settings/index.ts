export * from './active-twin.js';
export * from './data-dir.js';
export * from './secrets.js';
export * from './settings.js';
