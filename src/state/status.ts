// A container's status, derived as runc derives it: from the process (gone, or a
// different process behind the same pid -> stopped), the exec FIFO (still there ->
// created: start removes it) and the freezer (paused).
import { existsSync } from 'node:fs';
import { isAlive } from './proc.js';
import type { ContainerRecord } from './record.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/**
 * Whether the container's processes are frozen. The cgroups module owns the freezer and
 * replaces this with a real check (cgroup.freeze / freezer.state of record.cgroups);
 * until then no container can be paused, so false is the truth.
 */
export function isPaused(_record: ContainerRecord): boolean {
  return false;
}

export function deriveStatus(record: ContainerRecord, fifoPath: string): Status {
  if (!isAlive(record.pid, record.pidStartTime)) return 'stopped';
  if (existsSync(fifoPath)) return 'created';
  if (isPaused(record)) return 'paused';
  return 'running';
}
