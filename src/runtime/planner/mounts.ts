// config.json "mounts", in config order, onto paths resolved inside the rootfs.
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import { AT_EMPTY_PATH, AT_RECURSIVE, EEXIST, MOUNT_ATTR_RDONLY, MOUNT_ATTR_SIZE, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT } from './consts.js';
import type { CgroupFacts, FsHostFacts } from './fs-host.js';
import {
  type Attrs, type MountOptions, bindAttrs, describeAttrs, mountAttr, parseMountOptions, remountFlags,
} from './mount-options.js';
import type { OciMount } from './oci.js';
import { type CopyEntry, checkCopyUpSize, copyUpSteps } from './copy-up.js';
import { type FsContext, containerPath, covered, display, makeDirs, makeFile, onTarget, resolve, step } from './paths.js';

export interface MountContext {
  fs: FsContext;
  bundle: string;
  facts: FsHostFacts;
  /** The container has a cgroup namespace of its own: cgroup filesystems show its cgroup as root. */
  cgroupNamespace: boolean;
  /** The container's cgroup directories on the host (bound when there is no cgroup namespace). */
  cgroupDirs: readonly string[];
}

export function isBind(mount: OciMount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** A bind source on the host: relative sources are relative to the bundle, as in runc. */
export function bindSource(mount: OciMount, bundle: string): string {
  const source = mount.source ?? '';
  return isAbsolute(source) ? resolvePath(source) : join(bundle, source);
}

export function planMounts(mounts: readonly OciMount[], ctx: MountContext): Step[] {
  return mounts.flatMap((mount, i) => planMount(mount, i, ctx));
}

/** The destination as components, with the rootfs's symlinks resolved when the host facts did that. */
function destination(mount: OciMount, index: number, field: string, ctx: MountContext): string[] {
  const lexical = containerPath(mount.destination, `${field}.destination`);
  const resolved = ctx.facts.destinations?.[index];
  if (!resolved) return lexical;
  if (resolved.length === 0) throw new BerthError(`${field}.destination: ${mount.destination} leads to the root itself through a symlink in the rootfs`);
  return resolved;
}

function planMount(mount: OciMount, index: number, ctx: MountContext): Step[] {
  const field = `mounts[${index}]`;
  if (mount.uidMappings?.length || mount.gidMappings?.length) {
    throw new BerthError(`${field}: idmapped mounts (uidMappings/gidMappings) are not supported`);
  }
  const dest = destination(mount, index, field, ctx);
  const options = parseMountOptions(mount.options ?? [], `${field}.options`);
  if (isBind(mount)) return bindMount(mount, dest, options, field, ctx);
  if (mount.type === 'cgroup') return cgroupMount(dest, options, field, ctx);
  if (!mount.type) throw new BerthError(`${field}.type: required for a mount that is not a bind mount`);
  if (options.copyUp) {
    if (mount.type !== 'tmpfs') throw new BerthError(`${field}.options: tmpcopyup applies to tmpfs mounts only`);
    const entries = ctx.facts.copyUp?.[index] ?? [];
    checkCopyUpSize(entries, mount.destination, field);
    if (entries.length) return copyUpMount(mount, dest, options, field, ctx, entries);
  }
  return [
    ...makeDirs(ctx.fs, dest, field),
    ...mountOn(ctx.fs, dest, field, (target) => [
      step('mount', [mount.source || mount.type!, target, mount.type!, options.flags, data(options)],
        `mount ${mount.type} on ${display(dest)}`, field),
    ]),
    ...afterMount(dest, options, field, ctx),
  ];
}

/**
 * A tmpfs with tmpcopyup over a directory the image has filled (see copy-up.ts): the
 * image's directory is held open while the tmpfs is mounted on top and filled from it.
 */
function copyUpMount(mount: OciMount, dest: string[], options: MountOptions, field: string, ctx: MountContext, entries: readonly CopyEntry[]): Step[] {
  const image = ctx.fs.scratch;
  // With the image's directory held at the scratch fd, the mount's own fds come after it.
  const above: MountContext = { ...ctx, fs: { ...ctx.fs, scratch: image + 1 } };
  // A read-only tmpfs is filled first and made read-only after, as runc does.
  const readonly = (options.flags & MS_RDONLY) !== 0;
  return [
    resolve(ctx.fs, dest, field, true),
    ...mountOn(above.fs, dest, field, (target) => [
      step('mount', [mount.source || 'tmpfs', target, 'tmpfs', options.flags & ~MS_RDONLY, data(options)], `mount tmpfs on ${display(dest)}`, field),
    ]),
    ...onTarget(above.fs, dest, field, (target, tmpfs) => [
      ...copyUpSteps(entries, image, tmpfs, field),
      ...(!readonly ? [] : ctx.facts.mountSetattr
        ? [setattr(tmpfs, dest, { set: MOUNT_ATTR_RDONLY, clr: 0 }, false, field)]
        : [step('mount', [null, target, null, MS_REMOUNT | MS_BIND | options.flags, null], `make ${display(dest)} read-only`, field)]),
    ]),
    ...afterMount(dest, options, field, above),
    step('close', [image], `close fd ${image}`, field),
  ];
}

function data(options: MountOptions): string | null {
  return options.data.length ? options.data.join(',') : null;
}

function bindMount(mount: OciMount, dest: string[], options: MountOptions, field: string, ctx: MountContext): Step[] {
  const source = bindSource(mount, ctx.bundle);
  const kind = ctx.facts.sources[source];
  if (!kind) throw new BerthError(`${field}.source: ${source} does not exist`);
  const flags = MS_BIND | (options.flags & MS_REC);
  return [
    ...(kind === 'directory' ? makeDirs(ctx.fs, dest, field) : makeFile(ctx.fs, dest, field)),
    ...mountOn(ctx.fs, dest, field, (target) => [
      step('mount', [source, target, null, flags, null], `bind ${source} on ${display(dest)}`, field),
    ]),
    ...afterMount(dest, options, field, ctx, true),
  ];
}

/**
 * What a mount needs after mount(2): a bind's own flags (ro, nosuid, ...), recursive
 * attributes and propagation. The destination is resolved again: the fd used for the
 * mount refers to the mount point underneath, not to the new mount on top of it.
 */
function afterMount(dest: string[], options: MountOptions, field: string, ctx: MountContext, bind = false): Step[] {
  const own = bind ? bindAttrs(options) : undefined;
  const remount = bind && own !== undefined && !ctx.facts.mountSetattr;
  if (!own && !options.recursive && options.propagation.length === 0) return [];
  return onTarget(ctx.fs, dest, field, (target, fd) => [
    ...(remount
      ? [step('mount', [null, target, null, MS_BIND | MS_REMOUNT | remountFlags(options), null], `remount ${display(dest)} with its options`, field)]
      : own ? [setattr(fd, dest, own, false, field)] : []),
    ...(options.recursive ? [setattr(fd, dest, options.recursive, true, field)] : []),
    ...options.propagation.map((flag) =>
      step('mount', [null, target, null, flag, null], `set propagation of ${display(dest)}`, field)),
  ]);
}

/** onTarget for a step that mounts something new on `dest`. */
export function mountOn(fs: FsContext, dest: string[], field: string, inner: (target: string) => Step[]): Step[] {
  covered(fs, dest);
  return onTarget(fs, dest, field, inner);
}

export function setattr(fd: number, dest: readonly string[], attrs: Attrs, recursive: boolean, field: string): Step {
  return step('sys_mount_setattr', [fd, '', AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), mountAttr(attrs), MOUNT_ATTR_SIZE],
    `set ${recursive ? 'recursive ' : ''}attributes ${describeAttrs(attrs)} on ${display(dest)}`, field);
}

/**
 * type "cgroup": on a cgroup v2 host the unified hierarchy; otherwise (v1 and hybrid,
 * as runc does) a tmpfs with one directory per v1 hierarchy. With a cgroup namespace
 * each hierarchy is mounted afresh and shows the container's cgroup as its root;
 * without one, the container's own cgroup directory is bind-mounted from the host.
 */
function cgroupMount(dest: string[], options: MountOptions, field: string, ctx: MountContext): Step[] {
  const cgroup = ctx.facts.cgroup;
  if (cgroup.layout === 'v2') {
    const unified = cgroup.hierarchies[0];
    if (!unified) throw new BerthError(`${field}: the host has no cgroup2 hierarchy mounted`);
    return [...makeDirs(ctx.fs, dest, field), ...hierarchyMount(unified, dest, options, field, ctx)];
  }
  // "ro" applies to the hierarchies; the tmpfs holding them stays writable, as in runc.
  const tmpfsOptions = { ...options, flags: options.flags & ~MS_RDONLY };
  const v1 = cgroup.hierarchies.filter((h) => h.fsType === 'cgroup');
  return [
    ...makeDirs(ctx.fs, dest, field),
    ...mountOn(ctx.fs, dest, field, (target) => [
      step('mount', ['tmpfs', target, 'tmpfs', tmpfsOptions.flags, 'mode=755'], `mount tmpfs for cgroup hierarchies on ${display(dest)}`, field),
    ]),
    ...v1.flatMap((h) => {
      const sub = [...dest, h.name];
      return [...makeDirs(ctx.fs, sub, field), ...hierarchyMount(h, sub, options, field, ctx)];
    }),
    ...cgroupLinks(cgroup, dest, field, ctx),
  ];
}

function hierarchyMount(h: CgroupFacts['hierarchies'][number], dest: string[], options: MountOptions, field: string, ctx: MountContext): Step[] {
  if (ctx.cgroupNamespace) {
    return mountOn(ctx.fs, dest, field, (target) => [
      step('mount', [h.fsType, target, h.fsType, options.flags, h.options || null], `mount ${[h.fsType, h.options].filter(Boolean).join(' ')} on ${display(dest)}`, field),
    ]);
  }
  const source = ctx.cgroupDirs.find((dir) => dir === h.mountPoint || dir.startsWith(h.mountPoint + '/')) ?? h.mountPoint;
  return [
    ...mountOn(ctx.fs, dest, field, (target) => [
      step('mount', [source, target, null, MS_BIND | MS_REC, null], `bind ${source} on ${display(dest)}`, field),
    ]),
    ...afterMount(dest, { ...options, propagation: [] }, field, ctx, true),
  ];
}

/** The host's comount links (cpu -> cpu,cpuacct), as runc recreates them. */
function cgroupLinks(cgroup: CgroupFacts, dest: string[], field: string, ctx: MountContext): Step[] {
  return cgroup.links.flatMap((link) =>
    onTarget(ctx.fs, dest, field, (_t, fd) => [
      step('symlinkat', [link.target, fd, link.name], `symlink ${display([...dest, link.name])} -> ${link.target}`, field, { ok: [EEXIST] }),
    ]));
}
