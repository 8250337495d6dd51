// linux.namespaces (and, for `berth exec`, the namespaces of a running container):
// which are created by clone(), which are joined with setns(), and which need a step
// of their own.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import {
  CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER,
  CLONE_NEWUTS, O_CLOEXEC, O_WRONLY,
} from './consts.js';
import type { Config } from '../../config/types.js';
import type { IdMapping } from './oci.js';
import { step } from './paths.js';

/** runtime-spec namespace type -> clone flag and the name of its /proc/<pid>/ns file. */
export const NAMESPACES: Record<string, { flag: number; proc: string }> = {
  user: { flag: CLONE_NEWUSER, proc: 'user' },
  pid: { flag: CLONE_NEWPID, proc: 'pid' },
  network: { flag: CLONE_NEWNET, proc: 'net' },
  mount: { flag: CLONE_NEWNS, proc: 'mnt' },
  ipc: { flag: CLONE_NEWIPC, proc: 'ipc' },
  uts: { flag: CLONE_NEWUTS, proc: 'uts' },
  cgroup: { flag: CLONE_NEWCGROUP, proc: 'cgroup' },
  time: { flag: CLONE_NEWTIME, proc: 'time' },
};

/**
 * The order namespaces are joined in: the user namespace first, so the others (owned
 * by it) may be joined with the privileges it grants; mount last, so nothing else
 * resolves paths in the new mount table halfway.
 */
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'cgroup', 'time', 'mount'];

export interface NamespacePlan {
  cloneFlags: number;
  /** Joined by the child with setns, in JOIN_ORDER (pid is not among them: see joinPid). */
  joins: { type: string; path: string }[];
  /** A pid namespace to be born into: setns by the parent before clone. */
  joinPid?: string;
  /** Namespace types the container has, created or joined. */
  has: Set<string>;
  /** Created (not joined) namespace types. */
  created: Set<string>;
  uidMap?: string;
  gidMap?: string;
}

/** Namespaces for `berth create`/`run`, from linux.namespaces. */
export function createNamespaces(cfg: Config, supported: readonly string[]): NamespacePlan {
  const list = cfg.linux?.namespaces ?? [];
  const seen = new Map<string, string | undefined>();
  list.forEach((ns, i) => {
    const field = `linux.namespaces[${i}]`;
    if (!(ns.type in NAMESPACES)) throw new BerthError(`${field}.type: unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new BerthError(`${field}: namespace type ${ns.type} is listed twice`);
    if (!supported.includes(NAMESPACES[ns.type]!.proc)) throw new BerthError(`${field}: this kernel does not support ${ns.type} namespaces`);
    if (ns.path !== undefined && !ns.path.startsWith('/')) throw new BerthError(`${field}.path: ${JSON.stringify(ns.path)} is not an absolute path`);
    seen.set(ns.type, ns.path || undefined);
  });
  const created = new Set([...seen].filter(([, path]) => path === undefined).map(([type]) => type));
  const joined = new Map([...seen].filter((e): e is [string, string] => e[1] !== undefined));
  const plan: NamespacePlan = {
    cloneFlags: 0,
    joins: JOIN_ORDER.filter((t) => joined.has(t)).map((type) => ({ type, path: joined.get(type)! })),
    has: new Set(seen.keys()),
    created,
  };
  if (joined.has('pid')) plan.joinPid = joined.get('pid');
  // With a user namespace joined by path, namespaces created by clone() would belong to
  // the host's user namespace: they are unshared after the setns instead. Not pid:
  // unshare(CLONE_NEWPID) only moves the caller's future children, which a call chain
  // cannot have, and a pid namespace that cannot be entered before it has an init
  // cannot be made ahead by a helper either. Refused rather than created owned by the
  // host's user namespace, in which the container could not even mount its /proc.
  if (joined.has('user') && created.has('pid')) {
    throw new BerthError(`${fieldOf(cfg, 'pid')}: a new pid namespace together with a user namespace joined by path is not supported: join a pid namespace by path too, or create the user namespace`);
  }
  const viaClone = joined.has('user') ? [] : ['user', 'pid', 'network', 'mount', 'ipc', 'uts'];
  for (const type of created) if (viaClone.includes(type)) plan.cloneFlags |= NAMESPACES[type]!.flag;
  Object.assign(plan, idMaps(cfg, created.has('user'), joined.has('user')));
  return plan;
}

function idMaps(cfg: Config, newUser: boolean, joinedUser: boolean): Pick<NamespacePlan, 'uidMap' | 'gidMap'> {
  const uid = cfg.linux?.uidMappings;
  const gid = cfg.linux?.gidMappings;
  const any = (uid?.length ?? 0) + (gid?.length ?? 0) > 0;
  if (!newUser && !joinedUser) {
    if (any) throw new BerthError('linux.uidMappings/gidMappings: mappings are given but the container has no user namespace');
    return {};
  }
  if (joinedUser) {
    if (any) throw new BerthError('linux.uidMappings/gidMappings: the mappings of a user namespace joined by path cannot be changed');
    return {};
  }
  if (!uid?.length || !gid?.length) throw new BerthError('linux.uidMappings/gidMappings: a new user namespace needs both uid and gid mappings');
  // The child sets up the container as root of the new namespace (see becomeRoot), as
  // runc does, which refuses such a config too ("no root user mapping found").
  if (!mapsZero(uid)) throw new BerthError('linux.uidMappings: container uid 0 is not mapped: the runtime sets the container up as root of its user namespace');
  if (!mapsZero(gid)) throw new BerthError('linux.gidMappings: container gid 0 is not mapped: the runtime sets the container up as root of its user namespace');
  return { uidMap: formatMap(uid), gidMap: formatMap(gid) };
}

function mapsZero(mappings: readonly IdMapping[]): boolean {
  return mappings.some((m) => m.containerID === 0 && m.size > 0);
}

function formatMap(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * `berth exec`: join every namespace of the container's init that differs from ours
 * (`differing`: type -> /proc/<pid>/ns/<name>, from the host facts).
 */
export function execNamespaces(differing: Record<string, string>): NamespacePlan {
  const types = Object.keys(differing);
  const plan: NamespacePlan = {
    cloneFlags: 0,
    joins: JOIN_ORDER.filter((t) => t in differing).map((type) => ({ type, path: differing[type]! })),
    has: new Set(types),
    created: new Set(),
  };
  if (differing['pid']) plan.joinPid = differing['pid'];
  return plan;
}

/**
 * The child's namespace steps, first in its chain: setns for each joined namespace
 * (its fd was opened by the parent; passing the type makes the kernel refuse a file of
 * another namespace type), then the namespaces that must be unshared by the child.
 */
export function namespaceSteps(ns: NamespacePlan, fds: Record<string, number>, cfg: Config, firstFree: number): Step[] {
  const steps: Step[] = ns.joins.map(({ type, path }) =>
    step('setns', [fds[type]!, NAMESPACES[type]!.flag], `join ${type} namespace ${path}`, fieldOf(cfg, type), { sync: true }));
  if (ns.has.has('user')) {
    // Right after entering the user namespace: created by clone(), or joined first (JOIN_ORDER).
    const entered = ns.joins[0]?.type === 'user' ? 1 : 0;
    steps.splice(entered, 0, ...becomeRoot(cfg, ns.created.has('user')));
  }
  const viaUnshare = ns.joins.some((j) => j.type === 'user') ? ['network', 'mount', 'ipc', 'uts'] : [];
  for (const type of viaUnshare) {
    if (ns.created.has(type)) steps.push(step('unshare', [NAMESPACES[type]!.flag], `new ${type} namespace`, fieldOf(cfg, type)));
  }
  // After the parent placed the child in its cgroups, so that cgroup is the namespace's root.
  if (ns.created.has('cgroup')) steps.push(step('unshare', [CLONE_NEWCGROUP], 'new cgroup namespace', fieldOf(cfg, 'cgroup')));
  if (ns.created.has('time')) steps.push(...timeNamespace(cfg, firstFree));
  else if (cfg.linux?.timeOffsets && Object.keys(cfg.linux.timeOffsets).length) {
    throw new BerthError('linux.timeOffsets: offsets are given but the container has no new time namespace');
  }
  return steps;
}

/**
 * In a user namespace the child still has the runtime's ids, which the namespace does
 * not map: files it creates would belong to the overflow uid, and mkdir fails with
 * EOVERFLOW. It becomes root of the namespace first (keeping every capability there),
 * as runc's nsexec does, and drops the runtime's supplementary groups while it may.
 */
function becomeRoot(cfg: Config, created: boolean): Step[] {
  const uidField = created ? 'linux.uidMappings' : fieldOf(cfg, 'user');
  const gidField = created ? 'linux.gidMappings' : fieldOf(cfg, 'user');
  return [
    step('sys_setgroups', [0, null], 'clear the supplementary groups in the user namespace', gidField),
    step('sys_setresgid', [0, 0, 0], 'become gid 0 in the user namespace', gidField),
    step('sys_setresuid', [0, 0, 0], 'become uid 0 in the user namespace', uidField),
  ];
}

function fieldOf(cfg: Config, type: string): string {
  const i = (cfg.linux?.namespaces ?? []).findIndex((ns) => ns.type === type);
  return i < 0 ? 'linux.namespaces' : `linux.namespaces[${i}]`;
}

/**
 * clone() cannot take CLONE_NEWTIME (its bit is part of the exit signal field), so the
 * child unshares it: that creates the namespace for its children, whose offsets can be
 * written as long as no process is in it yet. execve (since Linux 6.0) then moves
 * the child itself into its time_for_children namespace.
 */
function timeNamespace(cfg: Config, firstFree: number): Step[] {
  const field = fieldOf(cfg, 'time');
  const offsets = Object.entries(cfg.linux?.timeOffsets ?? {});
  const steps = [step('unshare', [CLONE_NEWTIME], 'new time namespace', field)];
  if (offsets.length === 0) return steps;
  const text = offsets.map(([clock, o]) => {
    if (clock !== 'monotonic' && clock !== 'boottime') throw new BerthError(`linux.timeOffsets.${clock}: only monotonic and boottime clocks have offsets`);
    return `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`;
  }).join('');
  return [
    ...steps,
    step('open', ['/proc/self/timens_offsets', O_WRONLY | O_CLOEXEC], 'open /proc/self/timens_offsets', 'linux.timeOffsets'),
    step('write', [firstFree, text, Buffer.byteLength(text)], `write time offsets ${text.trim().replace(/\n/g, ', ')}`, 'linux.timeOffsets'),
    step('close', [firstFree], `close fd ${firstFree}`, 'linux.timeOffsets'),
  ];
}
