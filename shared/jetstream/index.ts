/** The Jetstream v1 event model: schemas, types, collection names and the line validator. */
export * from './collections.js';
export * from './events.js';
export * from './records.js';
export * from './parse.js';
