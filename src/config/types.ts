// The config's TypeScript types, generated from spec/config.schema.json at build time so
// that the schema berth validates against and the types its code uses cannot drift.
// Code elsewhere names parts of a config through these types (Mount, Process, Hook, ...)
// or through indexed types such as Config['linux'].
export type * from '../generated/config.js';
export type { State, Status } from '../generated/state.js';
export type { Features, LinuxFeatures } from '../generated/features.js';
