// The record berth keeps for each container in <root>/<id>/state.json. Status is not in
// it: a stored status would go stale the moment the process exits, so it is derived
// whenever the record is read (see status.ts).
import type { CgroupPaths } from '../cgroups/index.js';
import type { Config } from '../config/types.js';

export interface ContainerRecord {
  /** The runtime-spec version berth implements (the state's ociVersion). */
  ociVersion: string;
  id: string;
  /** The container process (pid 1 of its pid namespace); 0 while it does not exist yet. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat when the process was created: a reused pid differs. */
  pidStartTime: string;
  /** Absolute bundle directory. */
  bundle: string;
  /** Absolute root filesystem on the host. */
  rootfs: string;
  /** ISO 8601 time of creation. */
  created: string;
  annotations: Record<string, string>;
  /** The user that owns the container: "" for root, as runc reports it. */
  owner: string;
  /** The container's cgroups (src/cgroups: controller -> directory), for kill --all, pause, delete. */
  cgroupPaths?: CgroupPaths;
  /** The config as create loaded it: delete needs its poststop hooks, exec its namespaces. */
  config: Config;
}

const REQUIRED: Record<string, string> = {
  ociVersion: 'string',
  id: 'string',
  pid: 'number',
  pidStartTime: 'string',
  bundle: 'string',
  rootfs: 'string',
  created: 'string',
  annotations: 'object',
  owner: 'string',
  config: 'object',
};

/** The first reason `value` is not a ContainerRecord, or null when it is one. */
export function recordProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const fields = value as Record<string, unknown>;
  for (const [name, type] of Object.entries(REQUIRED)) {
    const actual = fields[name] === null ? 'null' : typeof fields[name];
    if (actual !== type) return `field "${name}" is ${actual === 'undefined' ? 'missing' : actual}, expected ${type}`;
  }
  return null;
}
