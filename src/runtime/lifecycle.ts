// What several lifecycle commands share: signalling the container process without ever
// hitting a process that merely reuses its pid, waiting for it to die, and destroying
// a container (process, cgroups, state directory, poststop hooks).
import { closeSync, readlinkSync, unlinkSync } from 'node:fs';
import { SysError } from '../../bindings/libc.js';
import { pidfdOpen, pidfdSendSignal } from '../../bindings/syscalls.js';
import { createCgroups, openCgroups, type CgroupPaths, type CgroupPlacement } from '../cgroups/index.js';
import type { Config } from '../config/types.js';
import { BerthError } from '../errors.js';
import { isAlive, isPaused, ociState, type ContainerRecord, type LockedContainer } from '../state/index.js';
import { openFifoGate } from './executor.js';
import { runHooksWarning } from './hooks.js';

const ESRCH = 3;
const SIGKILL = 9;

// ---- The container's cgroups (src/cgroups) -------------------------------------------

/** Signal every process of the container's cgroup (kill --all). */
export function signalAllInCgroup(record: ContainerRecord, signal: number): void {
  if (!record.cgroupPaths) throw new BerthError('kill --all: the container has no cgroups recorded');
  openCgroups(record.cgroupPaths).killAll(signal);
}

/**
 * Create the container's cgroups, apply linux.resources and move `pid` into them while
 * the child still waits for its setup, so nothing it runs escapes its limits.
 */
export function applyCgroups(config: Config, placement: CgroupPlacement, pid: number): CgroupPaths {
  const cgroups = createCgroups(config, placement);
  try {
    cgroups.addProcess(pid);
  } catch (error) {
    cgroups.destroy({ force: true });
    throw error;
  }
  return cgroups.paths;
}

/** Remove the cgroups create made for the container, killing whatever is left in them. */
export function removeCgroups(record: ContainerRecord): void {
  if (record.cgroupPaths) openCgroups(record.cgroupPaths).destroy({ force: true });
}

// --------------------------------------------------------------------------------------

/**
 * Send `signal` to the container process, but only if it is still the process that
 * create started: a pidfd pins the process, and its start time is checked after the
 * pidfd exists, so no pid reuse can slip in between check and kill.
 * Returns false when the container process is gone.
 */
export function signalContainer(record: ContainerRecord, signal: number): boolean {
  if (record.pid <= 0) return false;
  let pidfd: number;
  try {
    pidfd = pidfdOpen(record.pid);
  } catch {
    return false; // gone already
  }
  try {
    if (!isAlive(record.pid, record.pidStartTime)) return false;
    try {
      pidfdSendSignal(pidfd, signal);
    } catch (error) {
      if (error instanceof SysError && error.errno === ESRCH) return false;
      throw new BerthError(`cannot signal container process ${record.pid}: ${(error as Error).message}`);
    }
    // As runc: a process the v1 freezer holds does not die of SIGKILL until it is thawed.
    if (signal === SIGKILL && isPaused(record)) openCgroups(record.cgroupPaths!).thaw();
    return true;
  } finally {
    closeSync(pidfd);
  }
}

/** Wait until the container process has exited (a zombie counts: it runs no more). */
export async function waitForExit(record: ContainerRecord, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(record.pid, record.pidStartTime)) {
    if (Date.now() > deadline) throw new BerthError(`container process ${record.pid} did not exit within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Tear a container down completely: SIGKILL its process (if still ours), wait for it,
 * remove its cgroups and state directory, then run poststop hooks (runtime.md: after
 * the container is deleted, before delete returns; failures are warnings).
 */
export async function destroyContainer(container: LockedContainer, record: ContainerRecord): Promise<void> {
  if (signalContainer(record, SIGKILL)) await waitForExit(record);
  removeCgroups(record);
  container.remove();
  const hooks = record.config.hooks;
  if (hooks?.poststop?.length) await runHooksWarning('poststop', hooks, ociState(record, 'stopped'), { cwd: record.bundle });
}

/**
 * Release a created container (berth start): the executor's gate write, then the FIFO
 * goes, which is how `state` tells created from running.
 */
export function releaseFifoGate(fifoPath: string): void {
  openFifoGate(fifoPath);
  unlinkSync(fifoPath);
}

/**
 * Wait until the released child has replaced itself with the user's process (its
 * /proc/<pid>/exe no longer is this node binary), so poststart hooks run after the
 * process started, as runtime.md requires. Gives up quietly when the child dies.
 */
export async function waitForExec(record: ContainerRecord, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && isAlive(record.pid, record.pidStartTime)) {
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${record.pid}/exe`);
    } catch {
      return;
    }
    if (exe !== process.execPath) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
