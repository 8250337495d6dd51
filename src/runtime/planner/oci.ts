// Names for the parts of config.json the filesystem/namespace planner reads, taken from
// the generated `Config` type so the planner and the schema cannot drift apart.
import type { Config } from '../../config/types.js';

type Linux = NonNullable<Config['linux']>;

export type OciMount = NonNullable<Config['mounts']>[number];
export type OciNamespace = NonNullable<Linux['namespaces']>[number];
export type OciDevice = NonNullable<Linux['devices']>[number];
export type IdMapping = NonNullable<Linux['uidMappings']>[number];

