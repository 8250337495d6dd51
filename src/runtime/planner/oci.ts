// The parts of config.json the filesystem/namespace planner reads, named exactly as
// runtime-spec config.md / config-linux.md name them.
// TODO: derive these from the generated `Config` type once the real schema is on main;
// until then `ociConfig()` is the one place that casts.
import type { Config } from '../../config/types.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface OciNamespace {
  type: string;
  path?: string;
}

export interface OciDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciConfig {
  root?: { path: string; readonly?: boolean };
  mounts?: OciMount[];
  process?: { cwd?: string };
  hostname?: string;
  domainname?: string;
  linux?: {
    namespaces?: OciNamespace[];
    uidMappings?: IdMapping[];
    gidMappings?: IdMapping[];
    timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
    devices?: OciDevice[];
    rootfsPropagation?: string;
    sysctl?: Record<string, string>;
    maskedPaths?: string[];
    readonlyPaths?: string[];
  };
}

export function ociConfig(config: Config): OciConfig {
  return config as unknown as OciConfig;
}
