// The slice of the runtime-spec config that cgroups read (config-linux.md "Control
// groups"), named through the generated Config type so that the two cannot drift.
import type { Config } from '../config/types.js';

type Linux = NonNullable<Config['linux']>;
export type Resources = NonNullable<Linux['resources']>;
export type DeviceRule = NonNullable<Resources['devices']>[number];
export type ThrottleDevice = NonNullable<NonNullable<Resources['blockIO']>['throttleReadBpsDevice']>[number];

/** The part of a config that setupCgroups reads. */
export interface CgroupConfig {
  linux?: Pick<Linux, 'cgroupsPath' | 'resources'>;
}

/**
 * Where a container's cgroups are: v1 controller name -> absolute directory, and
 * `unified` -> the directory on the cgroup2 hierarchy (pure v2, or hybrid). Plain data,
 * stored in the container's state record and handed back to openCgroups.
 */
export type CgroupPaths = Record<string, string>;

/** The key of the cgroup2 directory in CgroupPaths and in plan entries. */
export const UNIFIED = 'unified';
