// Where a container's cgroups go, from linux.cgroupsPath, as runc 1.1 places them with
// its cgroupfs driver:
//  - absolute ("/berth/web"): under each hierarchy's root;
//  - relative ("berth/web"): under the cgroup berth itself runs in (v1: per controller;
//    v2: its parent, since a cgroup with processes cannot delegate controllers);
//  - empty: the container id, relative.
// `..` never climbs out of the hierarchy: the path is cleaned as if rooted first.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { BerthError } from '../errors.js';
import { V1_CONTROLLERS, type Layout } from './layout.js';
import { UNIFIED, type CgroupPaths } from './types.js';

/** The caller's own cgroups, from /proc/self/cgroup: controller -> path ('' for cgroup2). */
export function parseOwnCgroups(text: string): Record<string, string> {
  const own: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const controller of m[1]!.split(',')) own[controller] = m[2]!;
  }
  return own;
}

/** runc's CleanPath: lexically clean, and never above the root. */
export function cleanPath(path: string): string {
  if (path === '') return '';
  const cleaned = posix.normalize('/' + path).replace(/\/+$/, '') || '/';
  return path.startsWith('/') ? cleaned : cleaned.slice(1);
}

export function resolvePaths(cgroupsPath: string | undefined, id: string, layout: Layout, own: Record<string, string>): CgroupPaths {
  const inner = cleanPath(cgroupsPath ?? '') || id;
  const absolute = inner.startsWith('/');
  const paths: CgroupPaths = {};
  if (layout.kind !== 'v2') {
    for (const controller of V1_CONTROLLERS) {
      const mount = layout.v1[controller];
      if (!mount) continue;
      paths[controller] = absolute ? posix.join(mount, inner) : posix.join(mount, own[controller] ?? '/', inner);
    }
  }
  if (layout.unified) {
    paths[UNIFIED] = absolute ? posix.join(layout.unified, inner) : posix.join(layout.unified, posix.dirname(own[''] ?? '/'), inner);
  }
  return paths;
}

/** `slice:prefix:name`, the systemd driver's cgroupsPath. */
export function parseSystemdPath(cgroupsPath: string | undefined, id: string): { slice: string; prefix: string; name: string } {
  if (!cgroupsPath) return { slice: 'system.slice', prefix: 'berth', name: id };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) throw new BerthError(`linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} is not slice:prefix:name, as --systemd-cgroup needs`);
  const [slice, prefix, name] = parts as [string, string, string];
  return { slice: slice || 'system.slice', prefix, name };
}

/** The cgroup directories for a container on this host. */
export function containerPaths(cgroupsPath: string | undefined, id: string, layout: Layout, systemd: boolean): CgroupPaths {
  if (systemd) {
    const unit = parseSystemdPath(cgroupsPath, id);
    // A transient scope is created by asking systemd over D-Bus; quietly using
    // cgroupfs instead would leave systemd fighting over a cgroup it does not know.
    throw new BerthError(`--systemd-cgroup: creating the scope ${unit.prefix}-${unit.name}.scope in ${unit.slice} needs systemd over D-Bus, which berth cannot reach here; run without --systemd-cgroup`);
  }
  return resolvePaths(cgroupsPath, id, layout, parseOwnCgroups(readFileSync('/proc/self/cgroup', 'utf8')));
}
