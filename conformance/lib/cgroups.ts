// Reading a container's cgroup files from the host, on cgroup v1, v2 and hybrid hosts.
// The suite only reads, and only removes cgroups that its own containers were given
// (unique names under cgroupsPath).
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

const MOUNT = '/sys/fs/cgroup';

/** controller -> path of the process's cgroup in that hierarchy ('' is the v2 one). */
export function cgroupsOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1]!.split(',')) out.set(controller, m[2]!);
  }
  return out;
}

/** The v2 hierarchy's mount: /sys/fs/cgroup on unified hosts, .../unified on hybrid ones. */
function v2Mount(): string {
  return existsSync(join(MOUNT, 'cgroup.controllers')) ? MOUNT : join(MOUNT, 'unified');
}

/**
 * The content of a cgroup file of `pid`: the v1 file when the controller has a v1
 * hierarchy, else the v2 file. Returns undefined when neither exists.
 */
export function readCgroupFile(pid: number, controller: string, v1File: string, v2File: string): string | undefined {
  const groups = cgroupsOf(pid);
  const v1 = groups.get(controller);
  const path = v1 !== undefined ? join(MOUNT, controller, v1, v1File) : join(v2Mount(), groups.get('') ?? '/', v2File);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Every directory named `relative` (a cgroupsPath) in any hierarchy on this host. */
export function cgroupDirs(relative: string): string[] {
  const hierarchies = existsSync(join(MOUNT, 'cgroup.controllers'))
    ? [MOUNT]
    : readdirSync(MOUNT).map((name) => join(MOUNT, name));
  return hierarchies.map((h) => join(h, relative)).filter((dir) => existsSync(dir));
}

/** Removes the (empty) cgroups named `relative` that a test's container left behind. */
export function removeCgroups(relative: string): void {
  if (!/^\/berth-conformance-[\w-]+$/.test(relative)) throw new Error(`refusing to remove cgroup ${relative}: not one of the suite's`);
  for (const dir of cgroupDirs(relative)) {
    try {
      rmdirSync(dir);
    } catch {
      // still in use or already gone: never forced
    }
  }
}
