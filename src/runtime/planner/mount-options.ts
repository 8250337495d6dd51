// config.json mount options -> what the kernel takes: mount(2) flags, propagation
// changes, mount_setattr(2) attributes and the rest as filesystem data. The table is
// runc's (libcontainer/specconv), so a config means the same to berth as to runc.
import { BerthError } from '../../errors.js';
import {
  MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME, MOUNT_ATTR_SIZE,
  MOUNT_ATTR_STRICTATIME, MS_BIND, MS_DIRSYNC, MS_I_VERSION, MS_LAZYTIME, MS_MANDLOCK, MS_NOATIME,
  MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_PRIVATE, MS_RDONLY, MS_REC,
  MS_RELATIME, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_STRICTATIME, MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from './consts.js';

/** Option -> [clears the flag instead of setting it, MS_* flag]. */
const FLAGS: Record<string, [boolean, number]> = {
  async: [true, MS_SYNCHRONOUS],
  atime: [true, MS_NOATIME],
  bind: [false, MS_BIND],
  defaults: [false, 0],
  dev: [true, MS_NODEV],
  diratime: [true, MS_NODIRATIME],
  dirsync: [false, MS_DIRSYNC],
  exec: [true, MS_NOEXEC],
  iversion: [false, MS_I_VERSION],
  lazytime: [false, MS_LAZYTIME],
  loud: [true, MS_SILENT],
  mand: [false, MS_MANDLOCK],
  noatime: [false, MS_NOATIME],
  nodev: [false, MS_NODEV],
  nodiratime: [false, MS_NODIRATIME],
  noexec: [false, MS_NOEXEC],
  noiversion: [true, MS_I_VERSION],
  nolazytime: [true, MS_LAZYTIME],
  nomand: [true, MS_MANDLOCK],
  norelatime: [true, MS_RELATIME],
  nostrictatime: [true, MS_STRICTATIME],
  nosuid: [false, MS_NOSUID],
  nosymfollow: [false, MS_NOSYMFOLLOW],
  rbind: [false, MS_BIND | MS_REC],
  relatime: [false, MS_RELATIME],
  remount: [false, MS_REMOUNT],
  ro: [false, MS_RDONLY],
  rw: [true, MS_RDONLY],
  silent: [false, MS_SILENT],
  strictatime: [false, MS_STRICTATIME],
  suid: [true, MS_NOSUID],
  sync: [false, MS_SYNCHRONOUS],
};

export const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/** What mount_setattr(2) changes: attributes set and cleared. */
export interface Attrs {
  set: number;
  clr: number;
}

/** Recursive per-mount attributes (runc's "rro" & co.), applied with AT_RECURSIVE. */
const RECURSIVE: Record<string, Attrs> = {
  rro: { set: MOUNT_ATTR_RDONLY, clr: 0 },
  rrw: { set: 0, clr: MOUNT_ATTR_RDONLY },
  rnosuid: { set: MOUNT_ATTR_NOSUID, clr: 0 },
  rsuid: { set: 0, clr: MOUNT_ATTR_NOSUID },
  rnodev: { set: MOUNT_ATTR_NODEV, clr: 0 },
  rdev: { set: 0, clr: MOUNT_ATTR_NODEV },
  rnoexec: { set: MOUNT_ATTR_NOEXEC, clr: 0 },
  rexec: { set: 0, clr: MOUNT_ATTR_NOEXEC },
  rnodiratime: { set: MOUNT_ATTR_NODIRATIME, clr: 0 },
  rdiratime: { set: 0, clr: MOUNT_ATTR_NODIRATIME },
  rrelatime: { set: MOUNT_ATTR_RELATIME, clr: MOUNT_ATTR__ATIME },
  rnorelatime: { set: MOUNT_ATTR_RELATIME, clr: MOUNT_ATTR__ATIME },
  rnoatime: { set: MOUNT_ATTR_NOATIME, clr: MOUNT_ATTR__ATIME },
  ratime: { set: MOUNT_ATTR_RELATIME, clr: MOUNT_ATTR__ATIME },
  rstrictatime: { set: MOUNT_ATTR_STRICTATIME, clr: MOUNT_ATTR__ATIME },
  rnostrictatime: { set: MOUNT_ATTR_RELATIME, clr: MOUNT_ATTR__ATIME },
  rnosymfollow: { set: MOUNT_ATTR_NOSYMFOLLOW, clr: 0 },
  rsymfollow: { set: 0, clr: MOUNT_ATTR_NOSYMFOLLOW },
};

/** Options other runtimes define that berth does not implement: refused, never passed on as data. */
const UNSUPPORTED = new Set(['tmpcopyup', 'idmap', 'ridmap']);

export interface MountOptions {
  /** MS_* flags for the mount(2) call (MS_BIND, MS_REC, MS_RDONLY, ...). */
  flags: number;
  /** MS_* flags the options explicitly clear ("rw", "suid", ...). */
  cleared: number;
  /** Propagation changes, in option order, each one mount(2) call. */
  propagation: number[];
  /** Recursive attributes, merged in option order. */
  recursive?: Attrs;
  /** Everything else, for the filesystem: "mode=755", "size=64k". */
  data: string[];
}

export function parseMountOptions(options: readonly string[], field: string): MountOptions {
  const parsed: MountOptions = { flags: 0, cleared: 0, propagation: [], data: [] };
  for (const option of options) {
    const flag = FLAGS[option];
    const recursive = RECURSIVE[option];
    if (flag) {
      const [clear, bits] = flag;
      if (clear) {
        parsed.flags &= ~bits;
        parsed.cleared |= bits;
      } else {
        parsed.flags |= bits;
        parsed.cleared &= ~bits;
      }
    } else if (option in PROPAGATION) {
      parsed.propagation.push(PROPAGATION[option]!);
    } else if (recursive) {
      parsed.recursive = mergeAttrs(parsed.recursive, recursive);
    } else if (UNSUPPORTED.has(option)) {
      throw new BerthError(`${field}: mount option ${JSON.stringify(option)} is not supported`);
    } else {
      parsed.data.push(option);
    }
  }
  return parsed;
}

function mergeAttrs(a: Attrs | undefined, b: Attrs): Attrs {
  if (!a) return { ...b };
  return { set: (a.set & ~b.clr) | b.set, clr: (a.clr & ~b.set) | b.clr };
}

const MS_TO_ATTR: [number, number][] = [
  [MS_RDONLY, MOUNT_ATTR_RDONLY],
  [MS_NOSUID, MOUNT_ATTR_NOSUID],
  [MS_NODEV, MOUNT_ATTR_NODEV],
  [MS_NOEXEC, MOUNT_ATTR_NOEXEC],
  [MS_NODIRATIME, MOUNT_ATTR_NODIRATIME],
  [MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW],
];

const MS_ATIME: [number, number][] = [
  [MS_NOATIME, MOUNT_ATTR_NOATIME],
  [MS_STRICTATIME, MOUNT_ATTR_STRICTATIME],
  [MS_RELATIME, MOUNT_ATTR_RELATIME],
];

/**
 * The per-mount part of the options as mount_setattr attributes. Unlike a bind
 * remount, this changes only what the options name and keeps every other flag of the
 * mount (in a user namespace the kernel locks nosuid/nodev/... and a remount that
 * drops them fails). Superblock flags (sync, dirsync, mand, lazytime) do not apply to
 * a bind mount and are left out, as a bind remount would ignore them too.
 */
export function bindAttrs(options: MountOptions): Attrs | undefined {
  const attrs: Attrs = { set: 0, clr: 0 };
  for (const [ms, attr] of MS_TO_ATTR) {
    if (options.flags & ms) attrs.set |= attr;
    else if (options.cleared & ms) attrs.clr |= attr;
  }
  const atime = MS_ATIME.find(([ms]) => options.flags & ms);
  const atimeCleared = MS_ATIME.some(([ms]) => options.cleared & ms);
  if (atime || atimeCleared) {
    // the kernel takes the atime mode only as a whole: clear the field, set one mode
    attrs.clr |= MOUNT_ATTR__ATIME;
    attrs.set |= atime ? atime[1] : MOUNT_ATTR_RELATIME;
  }
  return attrs.set || attrs.clr ? attrs : undefined;
}

/** The per-mount flags a bind remount applies when mount_setattr is not available. */
export function remountFlags(options: MountOptions): number {
  return options.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
}

/** struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd; } */
export function mountAttr(attrs: Attrs): { bytes: Uint8Array } {
  const bytes = new Uint8Array(MOUNT_ATTR_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(attrs.set), true);
  view.setBigUint64(8, BigInt(attrs.clr), true);
  return { bytes };
}

export function describeAttrs(attrs: Attrs): string {
  const names = (bits: number) => ATTR_NAMES.filter(([b]) => bits & b).map(([, n]) => n);
  const set = names(attrs.set);
  const clr = names(attrs.clr & ~MOUNT_ATTR__ATIME);
  if (attrs.clr & MOUNT_ATTR__ATIME && !(attrs.set & MOUNT_ATTR__ATIME)) set.push('relatime');
  return [...set, ...clr.map((n) => `no-${n}`)].join(',') || 'none';
}

const ATTR_NAMES: [number, string][] = [
  [MOUNT_ATTR_RDONLY, 'ro'],
  [MOUNT_ATTR_NOSUID, 'nosuid'],
  [MOUNT_ATTR_NODEV, 'nodev'],
  [MOUNT_ATTR_NOEXEC, 'noexec'],
  [MOUNT_ATTR_NOATIME, 'noatime'],
  [MOUNT_ATTR_STRICTATIME, 'strictatime'],
  [MOUNT_ATTR_NODIRATIME, 'nodiratime'],
  [MOUNT_ATTR_NOSYMFOLLOW, 'nosymfollow'],
];
