// Paths inside the container's root filesystem, resolved without ever leaving it.
//
// Before pivot_root every path the planner touches is reached from `ctx.root`, an
// O_PATH fd of the rootfs, with openat2(RESOLVE_IN_ROOT): a symlink in the rootfs
// (absolute or full of "..") resolves as if the rootfs were "/", and magic links are
// refused. Mounts then target "/proc/self/fd/N" of the resolved fd, never a path that
// could be swapped for a symlink between check and use (runc's fix for CVE-2021-30465).
import { BerthError } from '../../errors.js';
import type { Arg, Step } from '../steps.js';
import {
  EEXIST, O_CLOEXEC, O_DIRECTORY, O_PATH, OPEN_HOW_SIZE, RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS, S_IFREG,
} from './consts.js';

/** The fds the filesystem steps work with. */
export interface FsContext {
  /** The rootfs opened O_PATH after it was bind-mounted onto itself. */
  root: number;
  /** What the next open returns: every scratch fd is closed again before the next open. */
  scratch: number;
  /**
   * Rootfs paths ("dev/pts") the plan has already created, so later units need not
   * create them again. A mount over a path hides what is below it: see `covered`.
   */
  made: Set<string>;
}

export function fsContext(root: number): FsContext {
  return { root, scratch: root + 1, made: new Set() };
}

/** Note that something is mounted on `parts`: paths created below it are gone from view. */
export function covered(ctx: FsContext, parts: readonly string[]): void {
  const prefix = parts.join('/') + '/';
  for (const path of ctx.made) if (path.startsWith(prefix)) ctx.made.delete(path);
}

export function step(call: Step['call'], args: readonly Arg[], what: string, field?: string, extra: Partial<Step> = {}): Step {
  return { call, args, what, ...(field === undefined ? {} : { field }), ...extra };
}

/**
 * A container path as its components, cleaned lexically the way filepath.Clean does
 * ("/a/./b/../c" -> ["a", "c"]); ".." never climbs above the root.
 */
export function components(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** A container path that must be absolute and must not be "/" itself. */
export function containerPath(path: string, field: string): string[] {
  if (!path.startsWith('/')) throw new BerthError(`${field}: ${JSON.stringify(path)} is not an absolute path`);
  const parts = components(path);
  if (parts.length === 0) throw new BerthError(`${field}: ${JSON.stringify(path)} names the root itself`);
  return parts;
}

export function display(parts: readonly string[]): string {
  return '/' + parts.join('/');
}

/** struct open_how { u64 flags; u64 mode; u64 resolve; } */
export function openHow(flags: number, resolve: number): { bytes: Uint8Array } {
  const bytes = new Uint8Array(OPEN_HOW_SIZE);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(flags), true);
  view.setBigUint64(16, BigInt(resolve), true);
  return { bytes };
}

/** The magic link through which a mount reaches the object fd N refers to. */
function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** openat2 of a rootfs path into ctx.scratch, confined to the rootfs. */
export function resolve(ctx: FsContext, parts: readonly string[], field?: string, directory = false): Step {
  const rel = parts.length === 0 ? '.' : parts.join('/');
  const flags = O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0);
  return step('sys_openat2', [ctx.root, rel, openHow(flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), OPEN_HOW_SIZE],
    `resolve ${display(parts)} in the rootfs`, field);
}

function closeScratch(ctx: FsContext, field?: string): Step {
  return step('close', [ctx.scratch], `close fd ${ctx.scratch}`, field);
}

/**
 * Run `inner` with the directory `parts` open as ctx.scratch (the rootfs fd itself for
 * the top level, which saves an openat2/close pair).
 */
export function inDirectory(ctx: FsContext, parts: readonly string[], field: string | undefined, inner: (dirfd: number) => Step[]): Step[] {
  if (parts.length === 0) return inner(ctx.root);
  return [resolve(ctx, parts, field, true), ...inner(ctx.scratch), closeScratch(ctx, field)];
}

/** mkdirat for every component of `parts` (EEXIST is fine: the path may exist). */
export function makeDirs(ctx: FsContext, parts: readonly string[], field?: string): Step[] {
  return parts.flatMap((name, i) => {
    const path = parts.slice(0, i + 1);
    if (ctx.made.has(path.join('/'))) return [];
    ctx.made.add(path.join('/'));
    return inDirectory(ctx, parts.slice(0, i), field, (dirfd) => [
      step('mkdirat', [dirfd, name, 0o755], `mkdir ${display(path)}`, field, { ok: [EEXIST] }),
    ]);
  });
}

/** Create `parts` as an empty regular file (and its parents) unless it exists. */
export function makeFile(ctx: FsContext, parts: readonly string[], field?: string, mode = 0o644): Step[] {
  const parent = parts.slice(0, -1);
  const name = parts[parts.length - 1]!;
  if (ctx.made.has(parts.join('/'))) return [];
  ctx.made.add(parts.join('/'));
  return [
    ...makeDirs(ctx, parent, field),
    ...inDirectory(ctx, parent, field, (dirfd) => [
      // mknod of a regular file needs no fd and, unlike open(O_CREAT), never blocks on a FIFO
      step('mknodat', [dirfd, name, S_IFREG | mode, 0], `create file ${display(parts)}`, field, { ok: [EEXIST] }),
    ]),
  ];
}

/** Steps that act on `parts` through /proc/self/fd/N while it is open as ctx.scratch. */
export function onTarget(ctx: FsContext, parts: readonly string[], field: string | undefined, inner: (target: string, fd: number) => Step[]): Step[] {
  return [resolve(ctx, parts, field), ...inner(fdPath(ctx.scratch), ctx.scratch), closeScratch(ctx, field)];
}
