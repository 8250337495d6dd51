// The host facts the filesystem/namespace planner needs, gathered before planning so
// the planner itself stays pure. Everything here looks, nothing here changes the host.
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, lstatSync } from 'node:fs';
import { release } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BerthError } from '../../errors.js';
import type { Config } from '../../config/types.js';
import { type CopyEntry, MAX_COPY_UP_ENTRIES } from './copy-up.js';
import { bindSource, isBind } from './mounts.js';
import { NAMESPACES } from './namespaces.js';


export interface CgroupHierarchy {
  /** Its directory under the cgroup mount: "cpu,cpuacct", "systemd", "" for a v2-only host. */
  name: string;
  mountPoint: string;
  fsType: 'cgroup' | 'cgroup2';
  /** Its superblock options without rw/ro: "cpu,cpuacct", "name=systemd". */
  options: string;
}

export interface CgroupFacts {
  /** v2: one unified hierarchy; v1: v1 only; hybrid: v1 plus a cgroup2 mount (runc mounts the v1 layout). */
  layout: 'v1' | 'v2' | 'hybrid';
  hierarchies: CgroupHierarchy[];
  /** Links next to the hierarchies (cpu -> cpu,cpuacct). */
  links: { name: string; target: string }[];
}

export interface HostDevice {
  type: 'c' | 'b';
  major: number;
  minor: number;
}

export interface FsHostFacts {
  /** Names of /proc/self/ns entries: the namespace types this kernel has. */
  namespaces: string[];
  /** exec: the container init's namespaces that differ from ours, type -> /proc/<pid>/ns/<name>. */
  containerNamespaces?: Record<string, string>;
  /** Bind sources (absolute host paths, as `bindSource` computes them) and what they are. */
  sources: Record<string, 'directory' | 'file'>;
  /** Host device nodes for linux.devices given without major/minor, by path. */
  devices: Record<string, HostDevice>;
  cgroup: CgroupFacts;
  /** mount_setattr(2) exists (Linux >= 5.12). */
  mountSetattr: boolean;
  /** berth itself runs in a user namespace: device nodes cannot be created. */
  inUserNamespace: boolean;
  /** /proc/kcore exists (runc then links /dev/core to it). */
  kcore: boolean;
  /** The mount point of the mount that holds the rootfs. */
  rootfsParentMount?: string;
  /**
   * mounts[i].destination with the rootfs's symlinks resolved inside the rootfs, as
   * components: a link whose target does not exist yet (/etc/resolv.conf ->
   * ../run/systemd/resolve/stub-resolv.conf) then gets its target created, as runc's
   * securejoin does. Only an aid: the planner still resolves every path with openat2
   * RESOLVE_IN_ROOT, so a rootfs changed meanwhile can fail a step but never lead out.
   */
  destinations?: (string[] | undefined)[];
  /**
   * For tmpfs mounts with tmpcopyup, by mount index: what the image has at the
   * destination (at most MAX_COPY_UP_ENTRIES + 1 entries, enough to refuse more).
   */
  copyUp?: Record<number, CopyEntry[]>;
}

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

/** /proc/self/mountinfo, with the octal escapes of paths undone. */
export function parseMountInfo(text: string): MountInfo[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [left, right = ''] = line.split(' - ');
    const fields = left!.split(' ');
    const [fsType = '', , superOptions = ''] = right.split(' ');
    return { mountPoint: unescapeOctal(fields[4] ?? ''), fsType, superOptions };
  });
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount point of the mount holding `path` (the longest mount point it lies under). */
export function mountPointOf(path: string, mounts: readonly MountInfo[]): string | undefined {
  const under = (mp: string) => mp === '/' || path === mp || path.startsWith(mp + '/');
  return mounts.map((m) => m.mountPoint).filter(under).sort((a, b) => b.length - a.length)[0];
}

export function cgroupFacts(mounts: readonly MountInfo[], listDir: (dir: string) => { name: string; target?: string }[]): CgroupFacts {
  const hierarchies: CgroupHierarchy[] = mounts
    .filter((m): m is MountInfo & { fsType: 'cgroup' | 'cgroup2' } => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => ({
      name: m.fsType === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup' ? '' : basename(m.mountPoint),
      mountPoint: m.mountPoint,
      fsType: m.fsType,
      options: m.superOptions.split(',').filter((o) => o !== 'rw' && o !== 'ro').join(','),
    }));
  const v1 = hierarchies.filter((h) => h.fsType === 'cgroup');
  const layout = v1.length === 0 ? 'v2' : hierarchies.length > v1.length ? 'hybrid' : 'v1';
  const parent = v1[0] ? dirname(v1[0].mountPoint) : undefined;
  const links = parent
    ? listDir(parent).filter((e): e is { name: string; target: string } => e.target !== undefined && !e.target.includes('/'))
    : [];
  return { layout, hierarchies: layout === 'v2' ? hierarchies.slice(0, 1) : hierarchies, links };
}

function symlinksIn(dir: string): { name: string; target?: string }[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isSymbolicLink() ? { name: e.name, target: readlinkSync(join(dir, e.name)) } : { name: e.name });
  } catch {
    return [];
  }
}

function kernelAtLeast(major: number, minor: number): boolean {
  const [maj = 0, min = 0] = release().split('.').map((n) => parseInt(n, 10));
  return maj > major || (maj === major && min >= minor);
}

function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function checkRootfs(rootfs: string): void {
  let st;
  try {
    st = statSync(rootfs);
  } catch {
    throw new BerthError(`root.path: ${rootfs} does not exist`);
  }
  if (!st.isDirectory()) throw new BerthError(`root.path: ${rootfs} is not a directory`);
}

const MAX_LINKS = 40;

/**
 * A container path with the symlinks of the rootfs resolved inside it (".." and
 * absolute targets stop at the rootfs). Below an earlier mount's destination
 * (`covered`) nothing is followed: at run time that mount hides what is here now.
 */
export function resolveInRootfs(rootfs: string, path: string, covered: readonly string[][]): string[] {
  const done: string[] = [];
  const todo = path.split('/');
  let links = 0;
  while (todo.length) {
    const name = todo.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const hidden = covered.some((c) => c.length <= done.length && c.every((part, i) => done[i] === part));
    let target: string | undefined;
    try {
      if (!hidden && lstatSync(join(rootfs, ...done, name)).isSymbolicLink()) target = readlinkSync(join(rootfs, ...done, name));
    } catch {
      // missing: nothing to follow, the rest is created as it is named
    }
    if (target === undefined) {
      done.push(name);
      continue;
    }
    if (++links > MAX_LINKS) throw new BerthError(`${path}: too many levels of symbolic links in the rootfs`);
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...target.split('/'));
  }
  return done;
}

function mountDestinations(config: Config, rootfs: string): (string[] | undefined)[] {
  const covered: string[][] = [];
  return (config.mounts ?? []).map((m) => {
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/')) return undefined;
    const resolved = resolveInRootfs(rootfs, m.destination, covered);
    covered.push(resolved);
    return resolved;
  });
}

/** What the image has where tmpcopyup mounts go (none: missing or an empty directory). */
function copyUpSources(config: Config, rootfs: string, destinations: (string[] | undefined)[]): Record<number, CopyEntry[]> {
  const found: Record<number, CopyEntry[]> = {};
  (config.mounts ?? []).forEach((m, i) => {
    const dest = destinations[i];
    if (dest && (m.options ?? []).includes('tmpcopyup')) found[i] = imageContents(join(rootfs, ...dest));
  });
  return found;
}

/** Everything under `dir`, parents first, by lstat (links are listed, never followed). */
function imageContents(dir: string): CopyEntry[] {
  const found: CopyEntry[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(rel ? join(dir, rel) : dir).sort();
    } catch {
      return; // missing, or not a directory: nothing to copy
    }
    for (const name of names) {
      if (found.length > MAX_COPY_UP_ENTRIES) return;
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, path));
      found.push({
        path, mode: st.mode, uid: st.uid, gid: st.gid, size: st.isFile() ? st.size : 0, rdev: st.rdev,
        ...(st.isSymbolicLink() ? { target: readlinkSync(join(dir, path)) } : {}),
      });
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return found;
}

/** Each namespace path must exist and be a namespace file (nsfs) before anything starts. */
function checkNamespacePaths(config: Config): void {
  (config.linux?.namespaces ?? []).forEach((ns, i) => {
    if (!ns.path) return;
    const field = `linux.namespaces[${i}].path`;
    let st;
    try {
      st = statSync(ns.path);
    } catch {
      throw new BerthError(`${field}: ${ns.path} does not exist`);
    }
    const nsfsDev = statSync('/proc/self/ns/mnt').dev;
    if (st.dev !== nsfsDev) throw new BerthError(`${field}: ${ns.path} is not a namespace file`);
  });
}

function bindSources(config: Config, bundle: string): FsHostFacts['sources'] {
  const sources: FsHostFacts['sources'] = {};
  (config.mounts ?? []).forEach((m) => {
    if (!isBind(m)) return;
    const source = bindSource(m, bundle);
    try {
      sources[source] = statSync(source).isDirectory() ? 'directory' : 'file';
    } catch {
      // left out: the planner names the mount whose source is missing
    }
  });
  return sources;
}

/** Linux's dev_t split (glibc's major()/minor()). */
function splitDev(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

function hostDevices(config: Config): FsHostFacts['devices'] {
  const devices: FsHostFacts['devices'] = {};
  for (const d of config.linux?.devices ?? []) {
    if (d.major !== undefined && d.minor !== undefined) continue;
    try {
      const st = statSync(d.path, { bigint: true });
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        devices[d.path] = { type: st.isCharacterDevice() ? 'c' : 'b', ...splitDev(st.rdev) };
      }
    } catch {
      // left out: the planner names the device that lacks numbers
    }
  }
  return devices;
}

/** exec: the init's namespaces that are not ours (those are the ones to join). */
function containerNamespaces(initPid: number, supported: readonly string[]): Record<string, string> {
  const differing: Record<string, string> = {};
  for (const [type, { proc }] of Object.entries(NAMESPACES)) {
    if (!supported.includes(proc)) continue;
    const theirs = `/proc/${initPid}/ns/${proc}`;
    let st;
    try {
      st = statSync(theirs);
    } catch {
      throw new BerthError(`the container's init process ${initPid} is gone`);
    }
    const ours = statSync(`/proc/self/ns/${proc}`);
    if (st.ino !== ours.ino || st.dev !== ours.dev) differing[type] = theirs;
  }
  return differing;
}

export async function gatherFsHostFacts(config: Config, bundle: string, rootfs: string, initPid?: number): Promise<FsHostFacts> {
  const namespaces = readdirSync('/proc/self/ns');
  const mounts = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  const facts: FsHostFacts = {
    namespaces,
    sources: {},
    devices: {},
    cgroup: cgroupFacts(mounts, symlinksIn),
    mountSetattr: kernelAtLeast(5, 12),
    inUserNamespace: inUserNamespace(),
    kcore: exists('/proc/kcore'),
  };
  if (initPid !== undefined) {
    facts.containerNamespaces = containerNamespaces(initPid, namespaces);
    return facts;
  }
  checkRootfs(rootfs);
  checkNamespacePaths(config);
  facts.sources = bindSources(config, bundle);
  facts.devices = hostDevices(config);
  facts.rootfsParentMount = mountPointOf(realpathSync(rootfs), mounts);
  facts.destinations = mountDestinations(config, rootfs);
  facts.copyUp = copyUpSources(config, rootfs, facts.destinations);
  return facts;
}
