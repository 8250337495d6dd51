// The config's TypeScript types, generated from spec/config.schema.json at build time so
// that the schema berth validates against and the types its code uses cannot drift.
// Code elsewhere names parts of a config through these indexed types.
export type { Config } from '../generated/config.js';
export type { State } from '../generated/state.js';
export type { Features } from '../generated/features.js';
