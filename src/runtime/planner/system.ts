// What the container sees of the kernel once it is in its own root: hostname,
// domainname, sysctls, and the paths it must not read (masked) or write (read-only).
// These steps run after pivot_root, so every path is the container's own.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import {
  AT_FDCWD, AT_RECURSIVE, ENOENT, ENOTDIR, MOUNT_ATTR_RDONLY, MOUNT_ATTR_SIZE, MS_BIND, MS_NODEV, MS_NOEXEC,
  MS_NOSUID, MS_RDONLY, MS_REC, MS_REMOUNT, O_CLOEXEC, O_NOFOLLOW, O_WRONLY,
} from './consts.js';
import { mountAttr } from './mount-options.js';
import { step } from './paths.js';

export function hostnameSteps(hostname: string | undefined, domainname: string | undefined, has: Set<string>): Step[] {
  const steps: Step[] = [];
  for (const [field, value, call] of [['hostname', hostname, 'sethostname'], ['domainname', domainname, 'setdomainname']] as const) {
    if (value === undefined || value === '') continue;
    if (!has.has('uts')) throw new BerthError(`${field}: cannot set the ${field} without a uts namespace (linux.namespaces)`);
    steps.push(step(call, [value, Buffer.byteLength(value)], `${call} ${JSON.stringify(value)}`, field));
  }
  return steps;
}

/** The sysctls of ipc namespaces (runc's list), besides fs.mqueue.*. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/**
 * A sysctl is allowed only when it belongs to a namespace the container has: otherwise
 * writing it would change the host (runc's rules).
 */
export function checkSysctl(key: string, has: Set<string>): void {
  const field = `linux.sysctl.${key}`;
  const parts = key.split(/[./]/);
  if (parts.some((p) => p === '' || p === '..')) throw new BerthError(`${field}: not a sysctl name`);
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (has.has('ipc')) return;
    throw new BerthError(`${field}: needs an ipc namespace (it would change the host's)`);
  }
  if (key.startsWith('net.')) {
    if (has.has('network')) return;
    throw new BerthError(`${field}: needs a network namespace (it would change the host's)`);
  }
  if (key === 'kernel.domainname' && has.has('uts')) return;
  if (key === 'kernel.hostname' && has.has('uts')) throw new BerthError(`${field}: conflicts with the hostname field; set that instead`);
  throw new BerthError(`${field}: not in a namespace of the container's own, so it would change the host`);
}

/** Each sysctl: /proc/sys/<key with dots as slashes>, opened, written, closed. */
export function sysctlSteps(sysctl: Record<string, string>, has: Set<string>, scratch: number): Step[] {
  return Object.entries(sysctl).flatMap(([key, value]) => {
    checkSysctl(key, has);
    const field = `linux.sysctl.${key}`;
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    return [
      step('open', [path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW], `open ${path}`, field),
      step('write', [scratch, value, Buffer.byteLength(value)], `write ${JSON.stringify(value)} to ${path}`, field),
      step('close', [scratch], `close fd ${scratch}`, field),
    ];
  });
}

/**
 * linux.readonlyPaths: each bound onto itself and made read-only with its submounts.
 * A path that does not exist in the container is skipped, as runc does.
 */
export function readonlyPathSteps(paths: readonly string[], mountSetattr: boolean): Step[] {
  return paths.flatMap((path, i) => {
    const field = `linux.readonlyPaths[${i}]`;
    absolute(path, field);
    return [
      step('mount', [path, path, null, MS_BIND | MS_REC, null], `bind ${path} onto itself`, field, { ok: [ENOENT] }),
      mountSetattr
        ? step('sys_mount_setattr', [AT_FDCWD, path, AT_RECURSIVE, mountAttr({ set: MOUNT_ATTR_RDONLY, clr: 0 }), MOUNT_ATTR_SIZE],
          `make ${path} read-only`, field, { ok: [ENOENT] })
        : step('mount', [path, path, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, null],
          `make ${path} read-only`, field, { ok: [ENOENT] }),
    ];
  });
}

/**
 * linux.maskedPaths: a directory gets an empty read-only tmpfs, a file /dev/null bound
 * over it. The chain cannot look first, so both are tried: mount(2) refuses a tmpfs on
 * a file and a file (/dev/null) bound on a directory with ENOTDIR, so exactly the one
 * that fits takes effect. The tmpfs comes first: after it, a masked directory still is
 * one. A path that does not exist is skipped.
 */
export function maskedPathSteps(paths: readonly string[]): Step[] {
  return paths.flatMap((path, i) => {
    const field = `linux.maskedPaths[${i}]`;
    absolute(path, field);
    const ok = [ENOENT, ENOTDIR];
    return [
      step('mount', ['tmpfs', path, 'tmpfs', MS_RDONLY, null], `mask ${path} with a read-only tmpfs if it is a directory`, field, { ok }),
      step('mount', ['/dev/null', path, null, MS_BIND, null], `mask ${path} with /dev/null if it is a file`, field, { ok }),
    ];
  });
}

function absolute(path: string, field: string): void {
  if (!path.startsWith('/')) throw new BerthError(`${field}: ${JSON.stringify(path)} is not an absolute path`);
}
