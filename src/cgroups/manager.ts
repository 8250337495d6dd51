// Applying cgroups: make the directories, write the planned files, place processes,
// freeze and thaw, signal, and remove. A manager only ever touches the directories in
// its `paths` (and the ones it made on the way to them): never a cgroup berth did not
// create.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { attachProgram, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE, detachProgram, loadProgram, programFdById, queryPrograms } from '../../bindings/bpf.js';
import { deviceFilter } from './devices-bpf.js';
import { fileExists, parseKeyValues, readCgroupFile, sleepSync, tryRead, writeCgroupFile } from './fsutil.js';
import { detectLayout, type Layout } from './layout.js';
import { planCgroup, type PlanEntry } from './plan.js';
import { collectStats, type Stats } from './stats.js';
import { UNIFIED, type CgroupPaths, type DeviceRule, type Resources } from './types.js';

/** How long freezing, thawing and emptying a cgroup may take before it is an error. */
const SETTLE_MS = 5000;

/** mkdir -p that reports the directories it made, top-down. */
function makeDirs(dir: string): string[] {
  if (existsSync(dir)) return [];
  const made = makeDirs(dirname(dir));
  mkdirSync(dir);
  return [...made, dir];
}

/** Poll until ok() holds; false after `ms`. */
function waitFor(ok: () => boolean, ms = SETTLE_MS): boolean {
  const deadline = Date.now() + ms;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (ok()) return true;
    if (Date.now() > deadline) return false;
    sleepSync(delay);
  }
}

export interface ApplyOptions {
  /** An update of a running container (linux.resources.memory.checkBeforeUpdate applies). */
  update?: boolean;
}

export class CgroupManager {
  /** Directories this manager made in create(), top-down per hierarchy. */
  readonly created: string[] = [];

  constructor(readonly paths: CgroupPaths, readonly hostLayout: Layout = detectLayout()) {}

  /** The layout as this container sees it (read anew: cgroup.controllers can change). */
  get layout(): Layout {
    return restrictLayout(this.hostLayout, this.paths);
  }

  private dir(controller: string): string | undefined {
    return this.paths[controller];
  }

  create(): void {
    for (const [controller, dir] of Object.entries(this.paths)) {
      let made: string[];
      try {
        made = makeDirs(dir);
      } catch (e) {
        throw new BerthError(`cgroup: mkdir ${dir}: ${(e as NodeJS.ErrnoException).code ?? e}`, { cause: e });
      }
      this.created.push(...made);
      if (controller === 'cpuset') made.forEach(inheritCpuset);
      // Delegate controllers down to the leaf, through the cgroups berth made only.
      if (controller === UNIFIED) made.slice(0, -1).forEach(enableAllControllers);
    }
  }

  /** Remove what create() made, deepest first: for rolling back a failed setup. */
  removeCreated(): void {
    for (const dir of [...this.created].reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Best effort: the error that made us roll back is the one to report.
      }
    }
  }

  apply(resources: Resources, options: ApplyOptions = {}): void {
    const layout = this.layout;
    if (options.update) resources = this.keepCpuMaxHalf(resources);
    const memory = this.dir('memory');
    const current = memory && layout.kind !== 'v2' ? Number(tryRead(memory, 'memory.limit_in_bytes')) : undefined;
    const plan = planCgroup(resources, layout, { currentMemoryLimit: Number.isFinite(current) ? current : undefined });
    plan.warnings.forEach((w) => log.warn(w));
    if (options.update && resources.memory?.checkBeforeUpdate) this.checkMemoryUsage(resources.memory.limit ?? 0);
    plan.writes.forEach((w) => this.write(w));
    if (plan.bpfDevices) this.setDeviceProgram(plan.bpfDevices);
  }

  /**
   * cgroup2 keeps quota and period in one file (cpu.max): an update of one of them keeps
   * the current value of the other instead of resetting it.
   */
  private keepCpuMaxHalf(resources: Resources): Resources {
    const cpu = resources.cpu;
    const dir = this.dir(UNIFIED);
    if (!cpu || !dir || (cpu.quota == null) === (cpu.period == null) || this.layout.v1['cpu']) return resources;
    const [quota, period] = (tryRead(dir, 'cpu.max') ?? '').split(' ');
    if (period === undefined) return resources;
    return { ...resources, cpu: { ...cpu, quota: cpu.quota ?? (quota === 'max' ? -1 : Number(quota)), period: cpu.period ?? Number(period) } };
  }

  private write(w: PlanEntry): void {
    const dir = this.dir(w.controller);
    if (!dir) throw new BerthError(`${w.field}: the container has no ${w.controller} cgroup`);
    if (w.orElse && !fileExists(dir, w.file)) return writeCgroupFile(dir, w.orElse.file, w.orElse.value, w.field);
    if (w.ifExists && !fileExists(dir, w.file)) return;
    writeCgroupFile(dir, w.file, w.value, w.field);
  }

  /** checkBeforeUpdate: refuse a memory limit below what the container already uses. */
  private checkMemoryUsage(limit: number): void {
    if (limit <= 0) return;
    const dir = this.layout.kind === 'v2' ? this.dir(UNIFIED) : this.dir('memory');
    if (!dir) return;
    const usage = Number(tryRead(dir, this.layout.kind === 'v2' ? 'memory.current' : 'memory.usage_in_bytes'));
    if (usage > limit) throw new BerthError(`linux.resources.memory.limit: ${limit} is below the current usage ${usage} (checkBeforeUpdate)`);
  }

  /** Attach a device program, then detach the ones it replaces (never a gap with none). */
  private setDeviceProgram(rules: DeviceRule[]): void {
    const dir = this.dir(UNIFIED)!;
    const prog = loadProgram(BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilter(rules));
    const cgroupFd = openSync(dir, 'r');
    try {
      const previous = queryPrograms(cgroupFd, BPF_CGROUP_DEVICE);
      attachProgram(cgroupFd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
      for (const id of previous) {
        const old = programFdById(id);
        try {
          detachProgram(cgroupFd, old, BPF_CGROUP_DEVICE);
        } finally {
          closeSync(old);
        }
      }
    } finally {
      closeSync(cgroupFd);
      closeSync(prog);
    }
  }

  addProcess(pid: number): void {
    for (const [controller, dir] of Object.entries(this.paths)) {
      writeCgroupFile(dir, 'cgroup.procs', String(pid), `cgroup ${controller}`);
    }
  }

  /** The directory whose cgroup.procs lists the container's processes. */
  private procsDir(): string {
    const dir = this.dir('freezer') ?? this.dir(UNIFIED) ?? Object.values(this.paths)[0];
    if (!dir) throw new BerthError('cgroup: the container has no cgroups');
    return dir;
  }

  /** Every process in the container's cgroup and the cgroups below it. */
  pids(): number[] {
    const walk = (dir: string): number[] => {
      const own = (tryRead(dir, 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
      const children = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
      return [...own, ...children.flatMap((c) => walk(join(dir, c.name)))];
    };
    const dir = this.procsDir();
    return existsSync(dir) ? walk(dir) : [];
  }

  freeze(): void {
    this.setFrozen(true);
  }

  thaw(): void {
    this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): void {
    const v1 = this.dir('freezer');
    const v2 = this.dir(UNIFIED);
    if (v1) {
      const want = frozen ? 'FROZEN' : 'THAWED';
      // FREEZING may stick while a task is in an uninterruptible sleep; asking again
      // makes the kernel retry it.
      const settled = waitFor(() => {
        writeCgroupFile(v1, 'freezer.state', want, 'cgroup freezer');
        return readCgroupFile(v1, 'freezer.state') === want;
      });
      if (!settled) {
        if (frozen) this.setFrozen(false);
        throw new BerthError(`cgroup: ${v1} did not become ${want}`);
      }
    } else if (v2) {
      writeCgroupFile(v2, 'cgroup.freeze', frozen ? '1' : '0', 'cgroup.freeze');
      const settled = waitFor(() => parseKeyValues(tryRead(v2, 'cgroup.events'))['frozen'] === (frozen ? 1 : 0));
      if (!settled) {
        if (frozen) writeCgroupFile(v2, 'cgroup.freeze', '0', 'cgroup.freeze');
        throw new BerthError(`cgroup: ${v2} did not become ${frozen ? 'frozen' : 'thawed'}`);
      }
    } else {
      throw new BerthError('cgroup: the container has no freezer (no freezer controller and no cgroup2)');
    }
  }

  isFrozen(): boolean {
    const v1 = this.dir('freezer');
    if (v1) return readCgroupFile(v1, 'freezer.state') === 'FROZEN';
    const v2 = this.dir(UNIFIED);
    if (v2) return readCgroupFile(v2, 'cgroup.freeze') === '1';
    return false;
  }

  /**
   * Signal every process in the container. SIGKILL goes through cgroup.kill where the
   * kernel has it (5.14+); otherwise the cgroup is frozen while it is signalled, so no
   * process can fork a child the loop would miss.
   */
  killAll(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    const v2 = this.dir(UNIFIED);
    const isKill = signal === 'SIGKILL' || signal === 9;
    if (isKill && v2 && existsSync(v2) && fileExists(v2, 'cgroup.kill')) {
      writeCgroupFile(v2, 'cgroup.kill', '1', 'cgroup.kill');
      // A task frozen by the v1 freezer (hybrid hosts) only dies once thawed.
      if (this.dir('freezer') && this.isFrozen()) this.thaw();
      return;
    }
    const canFreeze = Boolean(this.dir('freezer') ?? v2);
    if (canFreeze) this.freeze();
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
        }
      }
    } finally {
      if (canFreeze) this.thaw();
    }
  }

  stats(): Stats {
    return collectStats(this.paths, this.layout);
  }

  /**
   * Remove the container's cgroups (and any the container made below them). A cgroup
   * that still has processes is an error, unless `force`: then they are killed first.
   */
  destroy(options: { force?: boolean } = {}): void {
    if (options.force && this.pids().length > 0) {
      this.killAll('SIGKILL');
      if (!waitFor(() => this.pids().length === 0)) throw new BerthError('cgroup: processes survived SIGKILL');
    }
    for (const dir of Object.values(this.paths)) removeTree(dir);
  }
}

/** rmdir a cgroup and its sub-cgroups, deepest first (cgroupfs has no other files to remove). */
function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new BerthError(`cgroup: rmdir ${dir}: ${code}${code === 'EBUSY' ? ' (processes are still in it)' : ''}`, { cause: e });
  }
}

/** A new v1 cpuset cgroup starts empty, and no task can join it before it has cpus and mems. */
function inheritCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    if (readCgroupFile(dir, file) === '') writeCgroupFile(dir, file, readCgroupFile(dirname(dir), file), 'cgroup cpuset');
  }
}

/** Let the children of a cgroup berth made use every controller it has. */
function enableAllControllers(dir: string): void {
  const available = (tryRead(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean);
  if (available.length > 0) writeCgroupFile(dir, 'cgroup.subtree_control', available.map((c) => `+${c}`).join(' '), 'cgroup.subtree_control');
}

/**
 * The host's layout as seen by a container with these paths: the hierarchies it has no
 * directory in do not exist for it (a container given only a cgroup2 path on a hybrid
 * host is managed as on pure v2).
 */
export function restrictLayout(host: Layout, paths: CgroupPaths): Layout {
  const v1 = Object.fromEntries(Object.entries(host.v1).filter(([c]) => c in paths));
  const unified = paths[UNIFIED] ? host.unified : undefined;
  const hasV1 = Object.keys(v1).length > 0;
  const kind = hasV1 && unified ? 'hybrid' : hasV1 ? 'v1' : 'v2';
  const unifiedControllers = unified ? controllersOf(paths[UNIFIED]!, host.unifiedControllers) : [];
  return { kind, v1, unified, unifiedControllers };
}

/** The controllers a cgroup2 directory has (its cgroup.controllers once it exists). */
function controllersOf(dir: string, fallback: string[]): string[] {
  const text = tryRead(dir, 'cgroup.controllers');
  return text === undefined ? fallback : text.split(/\s+/).filter(Boolean);
}
