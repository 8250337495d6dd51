// /dev inside the container: runc's default device nodes and links, and linux.devices.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import { AT_SYMLINK_NOFOLLOW, EEXIST, MS_BIND, S_IFBLK, S_IFCHR, S_IFIFO } from './consts.js';
import type { FsHostFacts } from './fs-host.js';
import { isBind, mountOn } from './mounts.js';
import type { OciDevice, OciMount } from './oci.js';
import { type FsContext, components, display, inDirectory, makeDirs, makeFile, step } from './paths.js';

/** The nodes every container gets unless the config brings its own /dev (runc's list). */
const DEFAULT_DEVICES: OciDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
];

const DEFAULT_MODE = 0o666;

const TYPE_BITS: Record<string, number> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };

export interface DeviceContext {
  fs: FsContext;
  facts: FsHostFacts;
  /** mknod is not permitted in a user namespace: bind the host's node onto a file instead. */
  bindNodes: boolean;
}

/** runc sets up /dev only when the config does not bind-mount one from elsewhere. */
export function needsDevSetup(mounts: readonly OciMount[]): boolean {
  return !mounts.some((m) => isBind(m) && components(m.destination).join('/') === 'dev');
}

export function planDevices(devices: readonly OciDevice[], kcore: boolean, ctx: DeviceContext): Step[] {
  const taken = new Set(devices.map((d) => components(d.path).join('/')));
  const all = [
    ...DEFAULT_DEVICES.filter((d) => !taken.has(components(d.path).join('/'))).map((device) => ({ device, field: 'linux.devices' })),
    ...devices.map((device, i) => ({ device, field: `linux.devices[${i}]` })),
  ];
  return [
    // device modes are exact, as configured: no umask in between
    step('umask', [0], 'umask 0 for device nodes', 'linux.devices'),
    ...(ctx.bindNodes ? all.flatMap(({ device, field }) => bindNode(device, field, ctx)) : makeNodes(all, ctx)),
    step('umask', [0o022], 'umask 022 again', 'linux.devices'),
    ...devLinks(kcore, ctx.fs),
  ];
}

function devicePath(device: OciDevice, field: string): string[] {
  const parts = components(device.path);
  if (parts[0] !== 'dev' || parts.length < 2) throw new BerthError(`${field}.path: ${JSON.stringify(device.path)} is not under /dev`);
  return parts;
}

/** In a user namespace: the host's node, bound onto an empty file (runc does the same). */
function bindNode(device: OciDevice, field: string, ctx: DeviceContext): Step[] {
  const parts = devicePath(device, field);
  nodeOf(device, field, ctx.facts);
  const host = display(parts);
  return [
    ...makeFile(ctx.fs, parts, field),
    ...mountOn(ctx.fs, parts, field, (target) => [
      step('mount', [host, target, null, MS_BIND, null], `bind ${host} on ${display(parts)}`, field),
    ]),
  ];
}

/** mknod, directory by directory (one open of /dev for all the nodes in it). */
function makeNodes(list: { device: OciDevice; field: string }[], ctx: DeviceContext): Step[] {
  const byDir = new Map<string, { device: OciDevice; field: string; parts: string[] }[]>();
  for (const { device, field } of list) {
    const parts = devicePath(device, field);
    const dir = parts.slice(0, -1).join('/');
    byDir.set(dir, [...(byDir.get(dir) ?? []), { device, field, parts }]);
  }
  return [...byDir].flatMap(([dir, entries]) => [
    ...makeDirs(ctx.fs, dir.split('/'), entries[0]!.field),
    ...inDirectory(ctx.fs, dir.split('/'), entries[0]!.field, (dirfd) =>
      entries.flatMap(({ device, field, parts }) => makeNode(device, field, parts, dirfd, ctx.facts))),
  ]);
}

function makeNode(device: OciDevice, field: string, parts: string[], dirfd: number, facts: FsHostFacts): Step[] {
  const node = nodeOf(device, field, facts);
  const name = parts[parts.length - 1]!;
  const mode = TYPE_BITS[node.type]! | ((device.fileMode ?? DEFAULT_MODE) & 0o7777);
  const owned = device.uid !== undefined || device.gid !== undefined;
  return [
    step('mknodat', [dirfd, name, mode, makedev(node.major, node.minor)],
      `mknod ${display(parts)} ${node.type} ${node.major}:${node.minor} mode ${(mode & 0o7777).toString(8).padStart(4, '0')}`,
      field, { ok: [EEXIST] }),
    ...(owned
      ? [step('fchownat', [dirfd, name, device.uid ?? 0, device.gid ?? 0, AT_SYMLINK_NOFOLLOW],
        `chown ${display(parts)} ${device.uid ?? 0}:${device.gid ?? 0}`, field)]
      : []),
  ];
}

interface Node {
  type: string;
  major: number;
  minor: number;
}

/** A device's type and numbers: from the config, or for c/b without numbers, from the host's node. */
function nodeOf(device: OciDevice, field: string, facts: FsHostFacts): Node {
  if (!(device.type in TYPE_BITS)) throw new BerthError(`${field}.type: ${JSON.stringify(device.type)} is not one of c, b, u, p`);
  if (device.type === 'p') return { type: 'p', major: 0, minor: 0 };
  if (device.major !== undefined && device.minor !== undefined) return { type: device.type, major: device.major, minor: device.minor };
  const host = facts.devices[device.path];
  if (!host) throw new BerthError(`${field}: major and minor are required (no device node at ${device.path} on the host)`);
  return host;
}

/** Linux's dev_t encoding (glibc's makedev). */
export function makedev(major: number, minor: number): number | bigint {
  const dev = ((BigInt(major) & 0xfffff000n) << 32n) | ((BigInt(major) & 0xfffn) << 8n)
    | ((BigInt(minor) & 0xffffff00n) << 12n) | (BigInt(minor) & 0xffn);
  return dev <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(dev) : dev;
}

/** The links runc makes in /dev. */
function devLinks(kcore: boolean, fs: FsContext): Step[] {
  const links: [string, string][] = [
    ['ptmx', 'pts/ptmx'],
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
    ...(kcore ? [['core', '/proc/kcore'] as [string, string]] : []),
  ];
  return inDirectory(fs, ['dev'], 'linux.devices', (dirfd) =>
    links.map(([name, target]) =>
      step('symlinkat', [target, dirfd, name], `symlink /dev/${name} -> ${target}`, 'linux.devices', { ok: [EEXIST] })));
}
