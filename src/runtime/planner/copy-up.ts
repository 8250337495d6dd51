// tmpcopyup (runc's extension, which podman puts on every --tmpfs): the new tmpfs starts
// with a copy of what the image has at its destination, so a tmpfs on /run or /var/tmp
// does not hide the image's directories and files there.
//
// The chain cannot list a directory, so the host facts list what is there beforehand
// (fs-host.ts, lstat, never following a link) and the copy is planned entry by entry:
// the image's directory is opened before the tmpfs hides it, and each file is read
// through it with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so a path swapped for
// a symlink meanwhile fails the step instead of copying something from outside the
// image. Owners, modes, symlinks and device nodes are kept, as runc's copy keeps them.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import {
  AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY, OPEN_HOW_SIZE,
  RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
} from './consts.js';
import { openHow, step } from './paths.js';

/** One thing in the image under a tmpcopyup destination, as lstat saw it. */
export interface CopyEntry {
  /** Relative to the destination, parents before children: "lock", "lock/subsys". */
  path: string;
  /** st_mode: file type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Regular files: how many bytes to copy. */
  size: number;
  /** Device nodes: st_rdev. */
  rdev: number;
  /** Symlinks: their target. */
  target?: string;
}

/**
 * At most this many entries are copied: each costs the chain a few calls (24 KiB of
 * memory each), and podman's tmpfs destinations hold a handful at most. More is refused.
 */
export const MAX_COPY_UP_ENTRIES = 256;

/** sendfile(2) moves at most this much per call. */
const SENDFILE_MAX = 0x7ffff000;

export function checkCopyUpSize(entries: readonly CopyEntry[], destination: string, field: string): void {
  if (entries.length > MAX_COPY_UP_ENTRIES) {
    throw new BerthError(`${field}.options: tmpcopyup: the image has more than ${MAX_COPY_UP_ENTRIES} files and directories at ${destination}; berth copies at most ${MAX_COPY_UP_ENTRIES}`);
  }
}

/**
 * Copy what the image has from its directory open as `source` into the tmpfs open as
 * `tmpfs`; the next free fds are tmpfs+1 and tmpfs+2. umask 0 first, so that modes are
 * the image's exactly (the process's umask is set later, as always). Unlike runc's copy,
 * a directory keeps its set-gid bit and is not narrowed by the runtime's umask (runc's
 * turns a 1777 directory into 1755 under umask 022).
 */
export function copyUpSteps(entries: readonly CopyEntry[], source: number, tmpfs: number, field: string): Step[] {
  return [step('umask', [0], 'umask 0 while the image is copied', field), ...entries.flatMap((e) => copyEntry(e, source, tmpfs, field))];
}

function copyEntry(e: CopyEntry, source: number, tmpfs: number, field: string): Step[] {
  const perm = e.mode & 0o7777;
  const owner = step('fchownat', [tmpfs, e.path, e.uid, e.gid, AT_SYMLINK_NOFOLLOW], `chown ${e.path} to ${e.uid}:${e.gid}`, field);
  switch (e.mode & S_IFMT) {
    case S_IFDIR:
      return [
        step('mkdirat', [tmpfs, e.path, perm], `copy directory ${e.path}`, field),
        owner,
        // after chown, which clears set-id bits
        step('fchmodat', [tmpfs, e.path, perm, 0], `chmod ${e.path} to ${perm.toString(8).padStart(4, '0')}`, field),
      ];
    case S_IFLNK:
      return [step('symlinkat', [e.target ?? '', tmpfs, e.path], `copy symlink ${e.path} -> ${e.target}`, field), owner];
    case S_IFREG:
      return copyFile(e, source, tmpfs, perm, field);
    default:
      return [step('mknodat', [tmpfs, e.path, e.mode, e.rdev], `copy node ${e.path}`, field), owner];
  }
}

function copyFile(e: CopyEntry, source: number, tmpfs: number, perm: number, field: string): Step[] {
  const from = tmpfs + 1;
  const to = tmpfs + 2;
  const chunks = [];
  for (let left = e.size; left > 0; left -= SENDFILE_MAX) chunks.push(Math.min(left, SENDFILE_MAX));
  return [
    step('sys_openat2', [source, e.path, openHow(O_RDONLY | O_CLOEXEC | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), OPEN_HOW_SIZE],
      `open the image's ${e.path} as fd ${from}`, field),
    step('openat', [tmpfs, e.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, perm], `create ${e.path} in the tmpfs as fd ${to}`, field),
    ...chunks.map((n) => step('sendfile', [to, from, null, n], `copy ${n} bytes of ${e.path}`, field)),
    step('fchown', [to, e.uid, e.gid], `chown ${e.path} to ${e.uid}:${e.gid}`, field),
    step('fchmodat', [tmpfs, e.path, perm, 0], `chmod ${e.path} to ${perm.toString(8).padStart(4, '0')}`, field),
    step('close', [to], `close fd ${to}`, field),
    step('close', [from], `close fd ${from}`, field),
  ];
}
