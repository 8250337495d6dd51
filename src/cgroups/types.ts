// The slice of the runtime-spec config that cgroups read (config-linux.md "Control
// groups"), spelled exactly as the spec spells it. Kept local so this module does not
// depend on the generated Config type while that is still a placeholder; the shapes are
// structurally compatible with it.

export interface DeviceRule {
  allow: boolean;
  /** 'a' (all), 'c' or 'b'; absent means 'a'. */
  type?: string;
  /** Absent or -1 means any. */
  major?: number | null;
  minor?: number | null;
  /** Any of 'r', 'w', 'm'; absent means 'rwm'. */
  access?: string;
}

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number | null;
  leafWeight?: number | null;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface Resources {
  devices?: DeviceRule[];
  memory?: {
    limit?: number | null;
    reservation?: number | null;
    swap?: number | null;
    kernel?: number | null;
    kernelTCP?: number | null;
    swappiness?: number | null;
    disableOOMKiller?: boolean | null;
    useHierarchy?: boolean | null;
    checkBeforeUpdate?: boolean | null;
  };
  cpu?: {
    shares?: number | null;
    quota?: number | null;
    burst?: number | null;
    period?: number | null;
    realtimeRuntime?: number | null;
    realtimePeriod?: number | null;
    cpus?: string | null;
    mems?: string | null;
    idle?: number | null;
  };
  pids?: { limit?: number | null };
  blockIO?: {
    weight?: number | null;
    leafWeight?: number | null;
    weightDevice?: WeightDevice[];
    throttleReadBpsDevice?: ThrottleDevice[];
    throttleWriteBpsDevice?: ThrottleDevice[];
    throttleReadIOPSDevice?: ThrottleDevice[];
    throttleWriteIOPSDevice?: ThrottleDevice[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: { classID?: number | null; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number | null; hcaObjects?: number | null }>;
  unified?: Record<string, string>;
}

/** The part of a config that setupCgroups reads. */
export interface CgroupConfig {
  linux?: {
    cgroupsPath?: string;
    resources?: Resources;
  };
}

/**
 * Where a container's cgroups are: v1 controller name -> absolute directory, and
 * `unified` -> the directory on the cgroup2 hierarchy (pure v2, or hybrid). Plain data,
 * stored in the container's state record and handed back to openCgroups.
 */
export type CgroupPaths = Record<string, string>;

/** The key of the cgroup2 directory in CgroupPaths and in plan entries. */
export const UNIFIED = 'unified';
