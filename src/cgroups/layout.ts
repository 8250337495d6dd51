// Which cgroup hierarchies a host has, read from /proc/self/mountinfo:
//  - v1:     one cgroup (v1) mount per controller (or per co-mounted group);
//  - v2:     a single cgroup2 mount holding every controller;
//  - hybrid: v1 controllers plus a cgroup2 mount (systemd's /sys/fs/cgroup/unified),
//            which offers whatever controllers v1 did not claim.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Layout {
  kind: 'v1' | 'v2' | 'hybrid';
  /** v1 controller (or `name=systemd`) -> its mount point. */
  v1: Record<string, string>;
  /** The cgroup2 mount point, when there is one. */
  unified?: string;
  /** Controllers the cgroup2 root offers (its cgroup.controllers). */
  unifiedControllers: string[];
}

/** v1 mount options that are not controller names. */
const NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'noexec', 'nosuid', 'nodev', 'relatime', 'noatime', 'xattr', 'clone_children', 'cpuset_v2_mode', 'noprefix', 'nsdelegate', 'memory_recursiveprot', 'memory_localevents']);

/** Undo mountinfo's octal escapes (\040 for a space). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parse mountinfo text. Only mounts of the whole hierarchy (root `/`) count: a bind
 * mount of a sub-cgroup (as inside a container) is not where berth creates cgroups.
 */
export function parseLayout(mountinfo: string, unifiedControllers: readonly string[] = []): Layout {
  const v1: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root !== '/' || mountPoint === undefined) continue;
    if (fstype === 'cgroup2') {
      unified ??= unescape(mountPoint);
    } else if (fstype === 'cgroup') {
      for (const option of superOptions.split(',')) {
        if (NON_CONTROLLER_OPTIONS.has(option) || option.startsWith('release_agent=')) continue;
        v1[option] ??= unescape(mountPoint);
      }
    }
  }
  const hasV1Controllers = Object.keys(v1).some((c) => !c.startsWith('name='));
  const kind = !hasV1Controllers && unified ? 'v2' : unified ? 'hybrid' : 'v1';
  return { kind, v1, unified, unifiedControllers: [...unifiedControllers] };
}

/** The layout of this host (the mount namespace berth runs in). */
export function detectLayout(): Layout {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const first = parseLayout(mountinfo);
  if (!first.unified) return first;
  let controllers: string[] = [];
  try {
    controllers = readFileSync(join(first.unified, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // An unreadable cgroup.controllers offers nothing.
  }
  return parseLayout(mountinfo, controllers);
}

/**
 * The v1 hierarchies berth places a container in (when the host mounts them): every
 * controller, and systemd's named hierarchy, which runc joins too, so that the
 * container's /sys/fs/cgroup/systemd shows its own cgroup and not the host's tree.
 */
export const V1_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'rdma', 'perf_event', 'name=systemd'] as const;
