// What the cgroup commands (pause, resume, update, events, ps) need to know of a
// container: its init pid and its cgroup paths. They come from the state record the
// lifecycle commands keep in <root>/<id>/state.json; this is the one place that reads
// it for these commands, so that a change of the store's format is a change here only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../errors.js';
import { openCgroups, type CgroupHandle } from './index.js';
import type { CgroupPaths } from './types.js';

export interface ContainerView {
  id: string;
  /** The container's init process on the host. */
  pid: number;
  cgroupPaths: CgroupPaths;
}

/** runc's container id rule: no path separators, nothing that climbs. */
const ID = /^[\w+.-]+$/;

export function loadContainer(root: string, id: string): ContainerView {
  if (!ID.test(id) || id === '.' || id === '..') throw new BerthError(`invalid container id ${JSON.stringify(id)}`);
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BerthError(`container ${id} does not exist`);
    throw new BerthError(`container ${id}: unreadable state: ${(e as Error).message}`);
  }
  const r = record as Partial<ContainerView>;
  if (typeof r.pid !== 'number' || !r.cgroupPaths || typeof r.cgroupPaths !== 'object') {
    throw new BerthError(`container ${id}: its state records no pid or cgroup paths`);
  }
  return { id, pid: r.pid, cgroupPaths: r.cgroupPaths };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The cgroups of a container whose init is still running (runc: "container not running"). */
export function runningCgroups(root: string, id: string): CgroupHandle {
  const c = loadContainer(root, id);
  if (c.pid <= 0 || !alive(c.pid)) throw new BerthError(`container ${id} is not running`);
  return openCgroups(c.cgroupPaths);
}
