// Creating a container, shared by `create` (gate: the exec FIFO, then exit while the
// process waits for `start`) and `run` (gate: a pipe this process opens itself).
//
// Order (runtime-spec runtime.md "Lifecycle"):
//   load + validate config -> claim the id (state dir, locked) -> exec.fifo -> plan ->
//   clone (all new namespaces exist now; the child waits for setup) -> cgroups ->
//   record with the pid -> setup (the child's steps: mounts, /dev; then, while it waits
//   at the hooks checkpoint, prestart + createRuntime hooks in the runtime namespace and
//   createContainer hooks in the container's, before pivot_root, as runc; then
//   pivot_root, ids, caps, ...) -> verify /proc/<pid>/status -> oom_score_adj ->
//   the pty master to --console-socket (process.terminal) -> --pid-file.
// Any failure kills the child and removes everything created so far, so a failed
// create leaves no state directory, no process and no cgroup; then poststop hooks run.
import { closeSync, constants, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { placeCgroups, type CgroupPaths } from '../cgroups/index.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { EXEC_FIFO, ociState, procStat, StateStore, type ContainerRecord, type LockedContainer } from '../state/index.js';
import { SPEC_VERSION } from '../version.js';
import { createFifoGate, formatPlan, spawn, StepError, type Child } from './executor.js';
import { runHooks, runHooksWarning } from './hooks.js';
import { applyCgroups, removeCgroups } from './lifecycle.js';
import { plan, type HostFacts } from './planner/index.js';
import { gatherFsHostFacts } from './planner/fs-host.js';
import { gatherProcessHostFacts } from './planner/process-host.js';
import type { Gate, Plan } from './steps.js';
import { checkTerminalRequest, handOverMaster, prepareTerminal, type PreparedTerminal } from './terminal.js';


export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  gate: 'fifo' | 'pipe';
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  preserveFds: number;
  /** --systemd-cgroup: linux.cgroupsPath is slice:prefix:name. */
  systemdCgroup: boolean;
  /** run --detach: nobody stays to relay a terminal. */
  detach?: boolean;
}

export interface Created {
  container: LockedContainer;
  record: ContainerRecord;
  child: Child;
  /** process.terminal without --console-socket (run in the foreground): the pty master berth relays. */
  master?: number;
}

export async function createContainer(options: CreateOptions): Promise<Created> {
  const store = new StateStore(options.root);
  store.dirOf(options.id); // a bad id is refused before anything else happens
  const { bundle, config, rootfs } = loadBundle(options);
  const container = store.create(options.id);
  let child: Child | undefined;
  let record: ContainerRecord | undefined;
  let pty: PreparedTerminal | undefined;
  try {
    if (options.gate === 'fifo') createFifoGate(container.fifoPath);
    const gate: Gate = options.gate === 'fifo' ? { kind: 'fifo', path: container.fifoPath } : { kind: 'pipe' };
    const placement = placeCgroups(config, options.id, { systemd: options.systemdCgroup });
    let planned = await planCreate(options, { bundle, config, rootfs }, gate, placement.paths);
    if (config.process?.terminal) ({ plan: planned, terminal: pty } = prepareTerminal(planned, 'create', config.process?.consoleSize));
    try {
      child = spawn(planned, { stdio: [0, 1, 2], preserveFds: options.preserveFds });
    } finally {
      pty?.spawned();
    }
    record = newRecord(options.id, child.pid, bundle, rootfs, config);
    record.cgroupPaths = applyCgroups(config, placement, child.pid);
    container.write(record);

    const state = ociState(record, 'creating');
    const pid = child.pid;
    await child.setup({
      hooks: async () => {
        await runHooks('prestart', config.hooks, state, { cwd: bundle });
        await runHooks('createRuntime', config.hooks, state, { cwd: bundle });
        await runHooks('createContainer', config.hooks, state, { containerPid: pid, pivoted: false });
      },
    });
    child.verify();
    const master = pty && handOverMaster(pty, child.pid, options.consoleSocket && resolve(options.consoleSocket));
    if (config.process?.oomScoreAdj !== undefined) writeOomScoreAdj(child.pid, config.process.oomScoreAdj);
    if (options.pidFile) writePidFile(resolve(options.pidFile), child.pid);
    return { container, record, child, ...(master !== undefined ? { master } : {}) };
  } catch (error) {
    child?.kill();
    if (record) removeCgroups(record);
    container.remove();
    // runtime.md: a failed create goes on with the lifecycle's delete, poststop included.
    if (record) await runHooksWarning('poststop', config.hooks, ociState(record, 'stopped'), { cwd: bundle });
    throw asBerthError(error);
  }
}

/**
 * `create --dry-run`: the exact calls create would make, in order, with the config field
 * behind each, and nothing created (no state, cgroup, process or mount).
 */
export async function dryRun(options: CreateOptions): Promise<string> {
  const dir = new StateStore(options.root).dirOf(options.id);
  const gate: Gate = options.gate === 'fifo' ? { kind: 'fifo', path: join(dir, EXEC_FIFO) } : { kind: 'pipe' };
  const loaded = loadBundle(options);
  const { paths } = placeCgroups(loaded.config, options.id, { systemd: options.systemdCgroup });
  return formatPlan(await planCreate(options, loaded, gate, paths));
}

interface Bundle {
  bundle: string;
  config: Config;
  rootfs: string;
}

/** The validated config of the bundle, refused early where berth cannot honour it. */
function loadBundle(options: CreateOptions): Bundle {
  const bundle = resolve(options.bundle);
  const config = loadConfig(bundle);
  // create returns while the process waits: only run in the foreground can relay a terminal.
  checkTerminalRequest(config.process?.terminal === true, options.consoleSocket, options.gate === 'fifo' || options.detach === true);
  return { bundle, config, rootfs: resolve(bundle, config.root?.path ?? 'rootfs') };
}

/** cgroupPaths: where the container's cgroups will be, for a cgroup mount without a cgroup namespace. */
async function planCreate(options: CreateOptions, { bundle, config, rootfs }: Bundle, gate: Gate, cgroupPaths: CgroupPaths): Promise<Plan> {
  const host = await gatherHostFacts(config, bundle, rootfs);
  return plan({ config, bundle, rootfs, mode: 'create', gate, preserveFds: options.preserveFds, noPivot: options.noPivot, host, cgroupPaths });
}

async function gatherHostFacts(config: Config, bundle: string, rootfs: string): Promise<HostFacts> {
  return { fs: await gatherFsHostFacts(config, bundle, rootfs), process: await gatherProcessHostFacts(config, rootfs) };
}

function newRecord(id: string, pid: number, bundle: string, rootfs: string, config: Config): ContainerRecord {
  const stat = procStat(pid);
  if (!stat) throw new BerthError(`container process ${pid} died before it could be recorded`);
  return {
    ociVersion: SPEC_VERSION,
    id,
    pid,
    pidStartTime: stat.startTime,
    bundle,
    rootfs,
    created: new Date().toISOString(),
    annotations: config.annotations ?? {},
    owner: '',
    config,
  };
}

function writeOomScoreAdj(pid: number, value: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(value));
  } catch (error) {
    throw new BerthError(`process.oomScoreAdj: cannot write ${value} to /proc/${pid}/oom_score_adj: ${(error as NodeJS.ErrnoException).code}`);
  }
}

/** --pid-file is written atomically: engines poll for it and must never read half a pid. */
export function writePidFile(path: string, pid: number): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
    try {
      writeSync(fd, String(pid));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new BerthError(`--pid-file: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Every failure reaches the user as a BerthError: a step names its field and errno. */
function asBerthError(error: unknown): unknown {
  if (error instanceof StepError) return new BerthError(error.message, { cause: error });
  if (error instanceof BerthError || !(error instanceof Error)) return error;
  log.debug(error.stack ?? error.message);
  return new BerthError(error.message, { cause: error });
}
