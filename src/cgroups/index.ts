// The cgroups facade the container lifecycle uses. Stable API:
//
//   const cg = setupCgroups(config, id, { systemd })   // mkdir + apply linux.resources
//   (or placeCgroups(...) first, when the paths are needed before, then createCgroups)
//   cg.addProcess(pid)                                   // place the container's init
//   state.cgroupPaths = cg.paths                         // plain JSON, for the state record
//   ...later, in another berth process:
//   const cg = openCgroups(state.cgroupPaths)
//   cg.freeze(); cg.thaw(); cg.isPaused()                // pause / resume / state
//   cg.pids()                                            // ps, kill --all
//   cg.killAll('SIGKILL')                                // kill --all, delete --force
//   cg.stats()                                           // events --stats (runc's shape)
//   cg.update(resources)                                 // update
//   cg.destroy({ force })                                // delete: rmdir (kill first if force)
//
// setupCgroups leaves nothing behind when it fails: directories it made are removed.
// Every method throws BerthError with a message fit for the user.
import { posix } from 'node:path';
import { BerthError } from '../errors.js';
import { deviceRules } from './devices.js';
import { detectLayout, type Layout } from './layout.js';
import { CgroupManager } from './manager.js';
import { containerPaths } from './paths.js';
import type { Stats } from './stats.js';
import { UNIFIED, type CgroupConfig, type CgroupPaths, type Resources } from './types.js';

export type { CgroupPaths, Resources, CgroupConfig } from './types.js';
export type { Stats } from './stats.js';

export interface CgroupHandle {
  /** Where the container's cgroups are: store this, hand it to openCgroups later. */
  readonly paths: CgroupPaths;
  addProcess(pid: number): void;
  freeze(): void;
  thaw(): void;
  isPaused(): boolean;
  pids(): number[];
  killAll(signal?: NodeJS.Signals | number): void;
  destroy(options?: { force?: boolean }): void;
  stats(): Stats;
  update(resources: Resources): void;
}

class Handle implements CgroupHandle {
  constructor(readonly manager: CgroupManager) {}

  get paths(): CgroupPaths {
    return this.manager.paths;
  }
  addProcess(pid: number): void {
    this.manager.addProcess(pid);
  }
  freeze(): void {
    this.manager.freeze();
  }
  thaw(): void {
    this.manager.thaw();
  }
  isPaused(): boolean {
    return this.manager.isFrozen();
  }
  pids(): number[] {
    return this.manager.pids();
  }
  killAll(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    this.manager.killAll(signal);
  }
  destroy(options: { force?: boolean } = {}): void {
    this.manager.destroy(options);
  }
  stats(): Stats {
    return this.manager.stats();
  }
  update(resources: Resources): void {
    this.manager.apply(resources, { update: true });
  }
}

/** Where a container's cgroups go on this host, worked out once before any exists. */
export interface CgroupPlacement {
  paths: CgroupPaths;
  layout: Layout;
}

/** Where createCgroups will put the container's cgroups (create's planner binds them into the container). */
export function placeCgroups(config: CgroupConfig, containerId: string, opts: { systemd: boolean }, layout: Layout = detectLayout()): CgroupPlacement {
  return { paths: containerPaths(config.linux?.cgroupsPath, containerId, layout, opts.systemd), layout };
}

/** Create the container's cgroups and apply linux.resources (devices default to runc's). */
export function setupCgroups(config: CgroupConfig, containerId: string, opts: { systemd: boolean }, layout: Layout = detectLayout()): CgroupHandle {
  return createCgroups(config, placeCgroups(config, containerId, opts, layout));
}

/** setupCgroups at a placement worked out beforehand. */
export function createCgroups(config: CgroupConfig, { paths, layout }: CgroupPlacement): CgroupHandle {
  const manager = new CgroupManager(paths, layout);
  try {
    manager.create();
    const resources = config.linux?.resources ?? {};
    manager.apply({ ...resources, devices: deviceRules(resources.devices) });
  } catch (e) {
    manager.removeCreated();
    throw e;
  }
  return new Handle(manager);
}

/** The cgroups of an existing container, from the paths its state record holds. */
export function openCgroups(paths: CgroupPaths): CgroupHandle {
  if (!paths || typeof paths !== 'object' || Object.keys(paths).length === 0) {
    throw new BerthError('cgroup: the container has no cgroup paths recorded');
  }
  const layout = detectLayout();
  for (const [controller, dir] of Object.entries(paths)) checkRecordedPath(layout, controller, dir);
  return new Handle(new CgroupManager(paths, layout));
}

/**
 * A recorded path must be a cgroup below that controller's hierarchy: a damaged state
 * record must not make berth write, signal or rmdir anywhere else.
 */
function checkRecordedPath(layout: Layout, controller: string, dir: unknown): void {
  const mount = controller === UNIFIED ? layout.unified : layout.v1[controller];
  const ok = typeof dir === 'string' && mount !== undefined && dir.startsWith(mount + '/') && posix.normalize(dir) === dir;
  if (!ok) throw new BerthError(`cgroup: recorded ${controller} path ${JSON.stringify(dir)} is not a cgroup on this host`);
}
