// OOM notifications for `events`. cgroup v1: an eventfd registered with
// cgroup.event_control against memory.oom_control, which the kernel signals on every
// OOM in the cgroup (and once more when the cgroup is removed). cgroup2: the oom_kill
// counter in memory.events. Both are polled at a short interval.
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { check, fn } from '../../bindings/libc.js';
import { parseKeyValues, tryRead, writeCgroupFile } from './fsutil.js';
import type { Layout } from './layout.js';
import { UNIFIED, type CgroupPaths } from './types.js';

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

export interface OomWatch {
  /** Stop watching, after reporting an OOM that happened since the last poll. */
  stop(): void;
}

/**
 * The eventfd is non-blocking and polled: a read blocked in libuv's thread pool would
 * keep the process from exiting.
 */
function watchV1(dir: string, onOom: () => void, pollMs: number): OomWatch {
  const efd = check('eventfd', [0, 'EFD_CLOEXEC|EFD_NONBLOCK'], fn('int eventfd(unsigned int initval, int flags)')(0, EFD_CLOEXEC | EFD_NONBLOCK) as number);
  const control = openSync(join(dir, 'memory.oom_control'), 'r');
  try {
    writeCgroupFile(dir, 'cgroup.event_control', `${efd} ${control}`, 'memory.oom_control');
  } catch (e) {
    closeSync(control);
    closeSync(efd);
    throw e;
  }
  const counter = Buffer.alloc(8);
  const poll = () => {
    try {
      readSync(efd, counter, 0, 8, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return;
      throw e;
    }
    // The eventfd also fires when the cgroup goes away: that is no OOM.
    if (existsSync(dir)) onOom();
  };
  const timer = setInterval(poll, pollMs);
  return {
    stop() {
      clearInterval(timer);
      poll();
      closeSync(control);
      closeSync(efd);
    },
  };
}

function watchV2(dir: string, onOom: () => void, pollMs: number): OomWatch {
  const kills = () => parseKeyValues(tryRead(dir, 'memory.events'))['oom_kill'] ?? 0;
  let seen = kills();
  const poll = () => {
    const now = kills();
    if (now > seen) onOom();
    seen = now;
  };
  const timer = setInterval(poll, pollMs);
  return {
    stop() {
      clearInterval(timer);
      poll();
    },
  };
}

/** Call onOom on each OOM in the container's memory cgroup; undefined when there is none. */
export function watchOom(paths: CgroupPaths, layout: Layout, onOom: () => void, pollMs = 250): OomWatch | undefined {
  const v1 = layout.v1['memory'] ? paths['memory'] : undefined;
  if (v1) return watchV1(v1, onOom, pollMs);
  const v2 = paths[UNIFIED];
  if (v2 && existsSync(join(v2, 'memory.events'))) return watchV2(v2, onOom, pollMs);
  return undefined;
}
