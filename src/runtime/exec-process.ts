// A new process in an existing container (berth exec). The container's config is the
// template: its process is replaced by the one to run (from --process or the flags, as
// runc builds it), and the planner in exec mode turns that into a chain that joins the
// init's namespaces (the pid namespace through the parent, see steps.ts) and then runs
// the process steps: ids, capabilities, rlimits, seccomp, exactly as for create.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import * as sys from '../../bindings/syscalls.js';
import { openCgroups } from '../cgroups/index.js';
import { parseJson } from '../config/json.js';
import { formatProblems } from '../config/problem.js';
import type { Config } from '../config/types.js';
import { errorsOf, validateConfig } from '../config/validate.js';
import { BerthError } from '../errors.js';
import { log } from '../log.js';
import { StateStore, type ContainerRecord } from '../state/index.js';
import { SPEC_VERSION } from '../version.js';
import { writePidFile } from './create-container.js';
import { spawn, StepError, type Child } from './executor.js';
import { gatherFsHostFacts } from './planner/fs-host.js';
import { plan } from './planner/index.js';
import { gatherProcessHostFacts } from './planner/process-host.js';
import type { Plan } from './steps.js';
import { checkTerminalRequest, handOverMaster, prepareTerminal, proxyTerminal, type PreparedTerminal } from './terminal.js';

/** config.process, as far as exec reads and changes it. */
export interface ProcessSpec {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: { uid?: number; gid?: number; additionalGids?: number[] };
  capabilities?: Partial<Record<CapabilitySet, string[]>>;
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  [field: string]: unknown;
}

const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
type CapabilitySet = (typeof CAPABILITY_SETS)[number];

/** The flags that shape the process when there is no --process (runc's names). */
export interface ProcessFlags {
  cwd?: string;
  env?: string | string[];
  user?: string;
  additionalGids?: string | string[];
  tty?: boolean;
  cap?: string | string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
}

export interface ExecRequest {
  root: string;
  id: string;
  /** The process to run, built from the container's config (runc reads --process instead). */
  process: (config: Config) => ProcessSpec;
  preserveFds: number;
  consoleSocket?: string;
  pidFile?: string;
  detach: boolean;
  ignorePaused: boolean;
}

export interface Started {
  child: Child;
  record: ContainerRecord;
  /** The pty master, when berth itself relays the terminal (foreground, no --console-socket). */
  master?: number;
}

// ---------------------------------------------------------------------------------
// The process to run

/** --process FILE: a process.json, validated as config.json's process (errors by JSON path). */
export function processFromFile(path: string): ProcessSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BerthError(`--process: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return validProcess(parseJson(text, path), path);
}

/**
 * No --process: the container's own process with runc's overrides. Args come from the
 * command line; --cwd replaces, --env appends, --user replaces uid (and gid), --cap is
 * added to every set, --tty is off unless given.
 */
export function processFromFlags(config: Config, command: readonly string[], flags: ProcessFlags): ProcessSpec {
  const base = (config as { process?: ProcessSpec }).process;
  if (!base) throw new BerthError("the container's config has no process to start from; use --process");
  if (command.length === 0) throw new BerthError('exec: give the command to run (or --process FILE)');
  const spec: ProcessSpec = structuredClone(base);
  spec.args = command.map(String);
  spec.terminal = flags.tty ?? false;
  if (flags.cwd) spec.cwd = flags.cwd;
  spec.env = [...(spec.env ?? []), ...list(flags.env)];
  if (flags.user) spec.user = { ...spec.user, ...parseUser(flags.user) };
  const gids = list(flags.additionalGids).map((g) => parseId(g, '--additional-gids'));
  if (gids.length) spec.user = { ...spec.user, additionalGids: [...(spec.user?.additionalGids ?? []), ...gids] };
  const caps = list(flags.cap);
  if (caps.length) {
    const sets = { ...spec.capabilities };
    for (const set of CAPABILITY_SETS) sets[set] = [...(sets[set] ?? []), ...caps];
    spec.capabilities = sets;
  }
  if (flags.noNewPrivs !== undefined) spec.noNewPrivileges = flags.noNewPrivs;
  return validProcess(spec, 'the process built from the exec flags');
}

/**
 * berth applies no LSM labels (features: apparmor and selinux disabled): asking for one
 * on the command line must not be dropped silently, with or without --process.
 */
export function refuseLabelFlags(flags: Pick<ProcessFlags, 'apparmor' | 'processLabel'>): void {
  if (flags.apparmor) throw new BerthError('--apparmor: AppArmor profiles are not supported by berth');
  if (flags.processLabel) throw new BerthError('--process-label: SELinux labels are not supported by berth');
}

/** A repeatable option's values: yargs gives one value as a string, several as an array. */
function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function parseUser(text: string): { uid: number; gid?: number } {
  const [uid, gid, ...rest] = text.split(':');
  if (rest.length) throw new BerthError(`--user: expected uid[:gid], got ${JSON.stringify(text)}`);
  return gid === undefined ? { uid: parseId(uid!, '--user') } : { uid: parseId(uid!, '--user'), gid: parseId(gid, '--user') };
}

function parseId(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new BerthError(`${flag}: ${JSON.stringify(text)} is not a numeric id`);
  return Number(text);
}

/**
 * Validate a process with the config schema and rules by placing it in an otherwise
 * empty config; problems are named by their path inside the process document.
 */
function validProcess(document: unknown, name: string): ProcessSpec {
  const problems = errorsOf(validateConfig({ ociVersion: SPEC_VERSION, process: document }))
    .map((p) => ({ ...p, path: p.path.replace(/^process\.?/, '') }));
  if (problems.length) throw new BerthError(`${name} is not a valid process:\n${formatProblems(problems, name)}`);
  return document as ProcessSpec;
}

// ---------------------------------------------------------------------------------
// Running it

export async function execProcess(req: ExecRequest): Promise<Started> {
  // A shared lock: `delete` (exclusive) waits until the process has joined the container.
  const container = new StateStore(req.root).open(req.id, 'shared');
  try {
    const record = container.read();
    refuseStatus(container.status(record), req.ignorePaused);
    const spec = req.process(record.config);
    warnUnsupported(spec);
    checkTerminalRequest(spec.terminal === true, req.consoleSocket, req.detach);
    const planned = await planExec(record, { ...record.config, process: spec } as Config, req.preserveFds);
    const { plan: withPty, terminal } = spec.terminal ? prepareTerminal(planned, 'exec', spec.consoleSize) : { plan: planned, terminal: undefined };
    return await startChild(withPty, record, req, terminal);
  } catch (error) {
    throw asBerthError(error);
  } finally {
    container.close();
  }
}

/** The container's config with the process to run, planned to join the init's namespaces. */
async function planExec(record: ContainerRecord, config: Config, preserveFds: number): Promise<Plan> {
  // The container's mounts are seen through its init's root, not the bundle's rootfs.
  const root = `/proc/${record.pid}/root`;
  const host = {
    fs: await gatherFsHostFacts(config, record.bundle, root, record.pid),
    process: await gatherProcessHostFacts(config, root),
  };
  return plan({
    config, bundle: record.bundle, rootfs: root, mode: 'exec', gate: { kind: 'pipe' },
    preserveFds, noPivot: false, host, initPid: record.pid,
  });
}

function refuseStatus(status: string, ignorePaused: boolean): void {
  if (status === 'stopped') throw new BerthError('cannot exec in a stopped container');
  if (status === 'paused' && !ignorePaused) throw new BerthError('cannot exec in a paused container (use --ignore-paused to override)');
}

/** LSM labels in a process (engines write them when the host has the LSM): ignored, as create does. */
function warnUnsupported(spec: ProcessSpec): void {
  if (spec.apparmorProfile) log.warn(`process.apparmorProfile ${JSON.stringify(spec.apparmorProfile)} ignored: berth applies no AppArmor profiles`);
  if (spec.selinuxLabel) log.warn(`process.selinuxLabel ${JSON.stringify(spec.selinuxLabel)} ignored: berth applies no SELinux labels`);
}

async function startChild(planned: Plan, record: ContainerRecord, req: ExecRequest, pty?: PreparedTerminal): Promise<Started> {
  let child: Child;
  try {
    child = spawn(planned, { stdio: [0, 1, 2], preserveFds: req.preserveFds });
  } finally {
    pty?.spawned();
  }
  let master: number | undefined;
  try {
    joinContainerCgroups(record, child.pid);
    await child.setup();
    child.verify();
    if (pty) master = handOverMaster(pty, child.pid, req.consoleSocket && resolve(req.consoleSocket));
    child.release();
    if (req.pidFile) writePidFile(resolve(req.pidFile), child.pid);
  } catch (error) {
    if (master !== undefined) sys.closeQuietly(master);
    child.kill();
    throw error;
  }
  return { child, record, ...(master !== undefined ? { master } : {}) };
}

/**
 * Put the exec'd process into the container's cgroups while it still waits for setup,
 * so that nothing it runs escapes the container's limits.
 */
export function joinContainerCgroups(record: ContainerRecord, pid: number): void {
  // A container created without cgroups (none recorded) has none to join.
  if (record.cgroupPaths) openCgroups(record.cgroupPaths).addProcess(pid);
}

// ---------------------------------------------------------------------------------
// The foreground: berth waits, relays signals (and the terminal), exits with its status

/** Signals a foreground exec passes on to the process instead of dying of them (as run). */
const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

/** Wait for the exec'd process; its status in the shell's convention. */
export async function foreground({ child, master }: Started): Promise<number> {
  const relay = master !== undefined ? proxyTerminal(master) : undefined;
  const listeners = FORWARDED.map((name) => {
    // Our own unreaped child: its pid cannot have been reused.
    const listener = () => {
      try {
        sys.kill(child.pid, constants.signals[name]);
      } catch {
        log.debug(`${name} not forwarded: the process has exited`);
      }
    };
    process.on(name, listener);
    return () => process.off(name, listener);
  });
  try {
    const status = await child.wait();
    await relay?.drained();
    return status;
  } finally {
    relay?.close();
    for (const remove of listeners) remove();
  }
}

function asBerthError(error: unknown): unknown {
  if (error instanceof StepError) return new BerthError(error.message, { cause: error });
  return error;
}
