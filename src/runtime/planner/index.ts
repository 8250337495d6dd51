// The planner: config + bundle + host facts -> Plan (see ../steps.ts). Pure: whatever
// it needs to know about the host comes in as facts gathered beforehand (fs-host.ts,
// process-host.ts), so every plan can be built and checked without root.
//
// The child's chain, in order:
//   namespaces   setns into joined ones, unshare cgroup/time (after the parent's setup)
//   rootfs       (create) / rslave, rootfs bound onto itself and opened as the root fd,
//                mounts, /dev, [the hooks checkpoint], pivot_root (or MS_MOVE + chroot),
//                rootfsPropagation, mkdir process.cwd
//   kernel       hostname, domainname, sysctls, readonly and masked paths, / read-only
//   process      the process planner's steps (cwd, ids, caps, rlimits, seccomp)
import { BerthError } from '../../errors.js';
import type { Config } from '../../config/types.js';
import { type FdLayout, type Gate, type Plan, type Step, fdLayout } from '../steps.js';
import { checkFds } from './fd-check.js';
import type { FsHostFacts } from './fs-host.js';
import { needsDevSetup, planDevices } from './devices.js';
import { planMounts } from './mounts.js';
import { type NamespacePlan, createNamespaces, execNamespaces, namespaceSteps } from './namespaces.js';
import { fsContext, step } from './paths.js';
import { type ProcessHostFacts, cwdSteps, planProcess } from './process.js';
import { finishPropagation, moveRoot, pivotRoot, prepareRoot, readonlyRoot, rootPropagation } from './rootfs.js';
import { hostnameSteps, maskedPathSteps, readonlyPathSteps, sysctlSteps } from './system.js';

export interface HostFacts {
  fs: FsHostFacts;
  process: ProcessHostFacts;
}

export interface PlanRequest {
  config: Config;
  /** Absolute path of the bundle. */
  bundle: string;
  /** Absolute (canonical) host path of the root filesystem. */
  rootfs: string;
  /** exec: join the namespaces of an existing container, no rootfs setup. */
  mode: 'create' | 'exec';
  gate: Gate;
  preserveFds: number;
  noPivot: boolean;
  host: HostFacts;
  /** exec mode: the container's init pid, whose /proc/<pid>/ns/* are joined. */
  initPid?: number;
  /**
   * The container's cgroup directories on the host, as its state record holds them
   * (controller -> directory: {"memory": "/sys/fs/cgroup/memory/berth/c1", ...}): each
   * hierarchy's one is bound at the config's cgroup mount when the container has no
   * cgroup namespace, as runc does. A hierarchy without one shows its root.
   */
  cgroupPaths?: Record<string, string>;
}

/** The namespace and filesystem part of a plan: everything before the process steps. */
export interface ContainerPlan {
  ns: NamespacePlan;
  fds: FdLayout;
  steps: Step[];
}

export function planContainer(req: PlanRequest): ContainerPlan {
  const cfg = req.config;
  const ns = req.mode === 'exec' ? execNamespaces(execJoins(req)) : createNamespaces(cfg, req.host.fs.namespaces);
  const fds = fdLayout(req.preserveFds, ns.joins.map((j) => j.type));
  const steps = [
    ...namespaceSteps(ns, fds.namespaces, cfg, fds.firstFree),
    ...(req.mode === 'create' ? containerSteps(req, cfg, ns, fds) : []),
  ];
  checkFds({ fds, steps });
  return { ns, fds, steps };
}

export function plan(req: PlanRequest): Plan {
  const { ns, fds, steps } = planContainer(req);
  const proc = planProcess(req.config, { fds, userNamespace: ns.has.has('user'), mode: req.mode, host: req.host.process });
  return {
    cloneFlags: ns.cloneFlags,
    joinNamespaces: ns.joins,
    ...(ns.joinPid ? { joinPidNamespace: ns.joinPid } : {}),
    fds,
    rootfs: req.rootfs,
    steps: [...steps, ...proc.steps],
    exec: proc.exec,
    gate: req.gate,
    ...(ns.uidMap ? { uidMap: ns.uidMap } : {}),
    ...(ns.gidMap ? { gidMap: ns.gidMap } : {}),
    ...(proc.parentRlimits.length ? { parentRlimits: proc.parentRlimits } : {}),
    expect: proc.expect,
  };
}

/** Hooks the parent runs while the child waits with its mounts in place, before pivot_root. */
const PRE_PIVOT_HOOKS = ['prestart', 'createRuntime', 'createContainer'] as const;

/**
 * With such hooks, the child stops before pivot_root, its working directory the rootfs
 * (where runc runs createContainer hooks), while the parent runs them (runtime.md
 * "Lifecycle" steps 4-6). Without them there is nothing to wait for.
 */
function hooksCheckpoint(cfg: Config, rootFd: number): Step[] {
  if (!PRE_PIVOT_HOOKS.some((name) => cfg.hooks?.[name]?.length)) return [];
  return [step('fchdir', [rootFd], 'chdir to the rootfs, then wait while the parent runs the prestart, createRuntime and createContainer hooks', 'hooks',
    { sync: true, checkpoint: 'hooks' })];
}

function execJoins(req: PlanRequest): Record<string, string> {
  const differing = req.host.fs.containerNamespaces;
  if (req.initPid === undefined || !differing) throw new Error('plan: exec mode needs initPid and the container\'s namespaces in the host facts');
  return differing;
}

/** berth create: the root filesystem and what the container sees of the kernel. */
function containerSteps(req: PlanRequest, cfg: Config, ns: NamespacePlan, fds: FdLayout): Step[] {
  if (!ns.has.has('mount')) throw new BerthError('linux.namespaces: a mount namespace is required to set up the root filesystem');
  const facts = req.host.fs;
  const fs = fsContext(fds.firstFree);
  const propagation = rootPropagation(cfg.linux?.rootfsPropagation);
  const mounts = cfg.mounts ?? [];
  const userns = ns.has.has('user') || facts.inUserNamespace;
  return [
    // relative paths in mount data (overlay's lowerdir=...) are relative to the bundle, as in runc
    step('chdir', [req.bundle], `chdir to the bundle ${req.bundle}`, 'mounts'),
    ...prepareRoot(req.rootfs, propagation, facts.rootfsParentMount, fs.root),
    ...planMounts(mounts, {
      fs, bundle: req.bundle, facts, cgroupNamespace: ns.has.has('cgroup'), cgroupDirs: Object.values(req.cgroupPaths ?? {}),
    }),
    ...(needsDevSetup(mounts) ? planDevices(cfg.linux?.devices ?? [], facts.kcore, { fs, facts, bindNodes: userns }) : []),
    ...hooksCheckpoint(cfg, fs.root),
    ...(req.noPivot ? moveRoot(req.rootfs, fs.root) : pivotRoot(fs.root, fs.scratch)),
    ...finishPropagation(propagation),
    ...cwdSteps(cfg),
    ...hostnameSteps(cfg.hostname, cfg.domainname, ns.has),
    ...sysctlSteps(cfg.linux?.sysctl ?? {}, ns.has, fds.firstFree),
    ...readonlyPathSteps(cfg.linux?.readonlyPaths ?? [], facts.mountSetattr),
    ...maskedPathSteps(cfg.linux?.maskedPaths ?? []),
    ...(cfg.root?.readonly ? readonlyRoot(facts.mountSetattr) : []),
  ];
}
