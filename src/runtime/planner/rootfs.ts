// The root filesystem: made a mount of its own in the container's mount namespace,
// opened as the resolution root for everything mounted into it, then made "/" with
// pivot_root (or MS_MOVE + chroot with --no-pivot), then finished (propagation, ro).
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import {
  AT_FDCWD, MNT_DETACH, MOUNT_ATTR_RDONLY, MOUNT_ATTR_SIZE, MS_BIND, MS_MOVE, MS_PRIVATE, MS_RDONLY, MS_REC,
  MS_REMOUNT, MS_SHARED, MS_SLAVE, O_CLOEXEC, O_DIRECTORY, O_PATH,
} from './consts.js';
import { mountAttr, PROPAGATION } from './mount-options.js';
import { step } from './paths.js';

const ROOT = 'root.path';
const PROPAGATION_FIELD = 'linux.rootfsPropagation';

export function rootPropagation(value: string | undefined): number {
  if (!value) return 0;
  const flag = PROPAGATION[value];
  if (flag === undefined) throw new BerthError(`${PROPAGATION_FIELD}: ${JSON.stringify(value)} is not one of ${Object.keys(PROPAGATION).join(', ')}`);
  return flag;
}

/**
 * Before any mount: stop mount events from reaching the host (rslave unless the config
 * asks otherwise, as runc), make the mount holding the rootfs private if that made it
 * shared (pivot_root refuses a new root whose parent mount is shared), bind the rootfs onto itself and open
 * it. The fd is opened after the bind on purpose: one opened before would refer to the
 * mount underneath and never see what is mounted on the bind.
 */
export function prepareRoot(rootfs: string, propagation: number, parentMount: string | undefined, rootFd: number): Step[] {
  return [
    step('mount', [null, '/', null, propagation || MS_SLAVE | MS_REC, null], 'keep mount events from reaching the host (/)', PROPAGATION_FIELD, { sync: true }),
    ...(parentMount && propagation & MS_SHARED ? [step('mount', [null, parentMount, null, MS_PRIVATE, null], `make ${parentMount} private for pivot_root`, ROOT)] : []),
    step('mount', [rootfs, rootfs, null, MS_BIND | MS_REC, null], `bind ${rootfs} onto itself`, ROOT, { sync: true }),
    step('open', [rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC], `open ${rootfs} as fd ${rootFd}`, ROOT),
  ];
}

/**
 * pivot_root(".", ".") stacks the old root on top of the new one, so "." is the old
 * root right after it: it is made rslave (so its unmount does not propagate to the
 * host) and lazily unmounted.
 */
export function pivotRoot(rootFd: number, scratch: number): Step[] {
  return [
    step('open', ['/', O_PATH | O_DIRECTORY | O_CLOEXEC], `open the old root / as fd ${scratch}`, ROOT),
    step('fchdir', [rootFd], 'chdir to the rootfs', ROOT),
    step('sys_pivot_root', ['.', '.'], 'pivot_root to the rootfs', ROOT, { sync: true }),
    step('fchdir', [scratch], 'chdir to the old root', ROOT),
    step('mount', [null, '.', null, MS_SLAVE | MS_REC, null], 'make the old root rslave', ROOT),
    step('umount2', ['.', MNT_DETACH], 'detach the old root', ROOT),
    step('chdir', ['/'], 'chdir to the new root', ROOT, { sync: true }),
    step('close', [scratch], `close fd ${scratch}`, ROOT),
    step('close', [rootFd], `close fd ${rootFd}`, ROOT),
  ];
}

/** --no-pivot: move the rootfs mount onto "/" and chroot into it. */
export function moveRoot(rootfs: string, rootFd: number): Step[] {
  return [
    step('fchdir', [rootFd], 'chdir to the rootfs', ROOT),
    step('mount', [rootfs, '/', null, MS_MOVE, null], `move ${rootfs} onto /`, ROOT),
    step('chroot', ['.'], 'chroot to the rootfs', ROOT),
    step('chdir', ['/'], 'chdir to the new root', ROOT, { sync: true }),
    step('close', [rootFd], `close fd ${rootFd}`, ROOT),
  ];
}

/** After pivot_root: the configured propagation of the container's "/" (runc does it here, not before, so the host is never affected). */
export function finishPropagation(propagation: number): Step[] {
  if (!propagation) return [];
  return [step('mount', [null, '/', null, propagation, null], 'set the propagation of /', PROPAGATION_FIELD)];
}

/** root.readonly: "/" alone (not its submounts) read-only, keeping its other flags. */
export function readonlyRoot(mountSetattr: boolean): Step[] {
  const what = 'make / read-only';
  return [mountSetattr
    ? step('sys_mount_setattr', [AT_FDCWD, '/', 0, mountAttr({ set: MOUNT_ATTR_RDONLY, clr: 0 }), MOUNT_ATTR_SIZE], what, 'root.readonly')
    : step('mount', [null, '/', null, MS_BIND | MS_REMOUNT | MS_RDONLY, null], what, 'root.readonly')];
}
