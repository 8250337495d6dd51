// A container's status, derived as runc derives it: from the process (gone, or a
// different process behind the same pid -> stopped), the exec FIFO (still there ->
// created: start removes it), whether the process has exec'd yet (creating) and the
// freezer (paused).
import { existsSync, readlinkSync } from 'node:fs';
import { openCgroups } from '../cgroups/index.js';
import { isAlive } from './proc.js';
import type { ContainerRecord } from './record.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** Whether the container's processes are frozen (its cgroup freezer says so). */
export function isPaused(record: ContainerRecord): boolean {
  if (!record.cgroupPaths) return false;
  try {
    return openCgroups(record.cgroupPaths).isPaused();
  } catch {
    // Cgroups gone or unreadable: not frozen as far as anyone can tell.
    return false;
  }
}

export function deriveStatus(record: ContainerRecord, fifoPath: string): Status {
  if (!isAlive(record.pid, record.pidStartTime)) return 'stopped';
  if (existsSync(fifoPath)) return 'created';
  if (!hasExeced(record.pid)) return 'creating';
  if (isPaused(record)) return 'paused';
  return 'running';
}

/**
 * Until its execve, the container process is a copy of the berth (node) process that
 * cloned it: `run` records it before its setup is done, and it is not running the
 * user's program yet.
 */
function hasExeced(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) !== process.execPath;
  } catch {
    return true;
  }
}
