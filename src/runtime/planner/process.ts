// The process half of the planner: once the container's filesystem is in place (after
// pivot_root, hostname, sysctl), the steps that turn the child into the configured
// process, in runc's order (libcontainer standard_init_linux.go and finalizeNamespace):
//
//   personality
//   umask, rlimits                       while fully privileged (hard limits the child
//                                        cannot raise in a user namespace: by the parent)
//   no_new_privs                         before seccomp, as runc
//   seccomp without no_new_privs         needs CAP_SYS_ADMIN: before any capability goes
//   chdir process.cwd                    as root, before the uid change
//   bounding set drops                   needs CAP_SETPCAP
//   keepcaps, groups, gid, uid, keepcaps off, capset, ambient
//   access(executable, X_OK)             as the final user: create fails, not start
//   seccomp with no_new_privs            last, so as few steps as possible are filtered
//
// Pure: everything about the host comes in as ProcessHostFacts (process-host.ts).
import { constants } from 'node:os';
import { posix } from 'node:path';
import type { Config } from '../../config/types.js';
import { BerthError } from '../../errors.js';
import type { Expectations, FdLayout, ParentRlimit, Step } from '../steps.js';
import {
  ambientSteps,
  boundingSteps,
  capabilityExpectations,
  capabilitySets,
  capsetStep,
  type CapabilitiesConfig,
} from './capabilities.js';
import { CAP_LAST_CAP, PERSONALITY_DOMAINS, PR, X_OK } from './process-consts.js';
import { hardLimitRaises, rlimitSteps, type Rlimit, type RlimitConfig } from './rlimits.js';
import { seccompStep, type CompiledSeccomp, type SeccompConfig } from './seccomp.js';
import { keepCapsStep, resolveUser, userExpectations, userSteps, type IdMapping, type UserConfig } from './user.js';

// TODO: use Config's own types once the real schema is on main.
export interface ProcessConfig {
  terminal?: boolean;
  user?: UserConfig;
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: CapabilitiesConfig;
  rlimits?: RlimitConfig[];
  noNewPrivileges?: boolean;
}

interface ProcessConfigView {
  process?: ProcessConfig;
  linux?: {
    uidMappings?: IdMapping[];
    gidMappings?: IdMapping[];
    seccomp?: SeccompConfig;
    personality?: { domain?: string; flags?: string[] };
  };
}

export interface ProcessHostFacts {
  /** process.args[0] resolved in the container like runc (PATH search): an absolute path. */
  executable: string;
  /** linux.seccomp compiled to BPF in the parent, and its seccomp(2) flags. */
  seccomp?: CompiledSeccomp;
  /** /proc/sys/kernel/cap_last_cap (default: the highest capability berth knows). */
  capLastCap?: number;
  /** process.user.uid's home directory from the container's /etc/passwd, for HOME. */
  home?: string;
  /**
   * What the child inherits from the runtime process (its /proc/self/status), and the
   * runtime's own limits of the types process.rlimits names.
   */
  inherited?: { bounding: bigint; noNewPrivs: boolean; seccomp: 0 | 2; rlimits?: Record<string, Rlimit> };
}

export interface ProcessContext {
  fds: FdLayout;
  userNamespace: boolean;
  mode: 'create' | 'exec';
  host: ProcessHostFacts;
  /** The user namespace's /proc/<pid>/setgroups, when berth writes it. */
  setgroups?: 'allow' | 'deny';
}

export interface ProcessPlan {
  steps: Step[];
  exec: Step;
  expect: Expectations;
  /** Hard limits the parent raises before the steps run (see Plan.parentRlimits). */
  parentRlimits: ParentRlimit[];
}

const DEFAULT_UMASK = 0o022;

export function planProcess(config: Config, ctx: ProcessContext): ProcessPlan {
  const { process, linux } = config as unknown as ProcessConfigView;
  if (!process) throw new BerthError('process: the config has no process to run');
  const args = argv(process.args);
  const env = environment(process.env, ctx.host.home);
  const cwd = workingDirectory(process.cwd);
  const lastCap = ctx.host.capLastCap ?? CAP_LAST_CAP;
  const caps = capabilitySets(process.capabilities, lastCap);
  const user = resolveUser(process.user, {
    userNamespace: ctx.userNamespace,
    uidMappings: linux?.uidMappings,
    gidMappings: linux?.gidMappings,
    setgroups: ctx.setgroups,
  });
  const nnp = process.noNewPrivileges === true;
  const seccomp = linux?.seccomp ? seccompStep(compiledSeccomp(ctx.host)) : undefined;
  const executable = ctx.host.executable;
  if (!posix.isAbsolute(executable)) {
    throw new BerthError(`process.args[0]: resolved to ${JSON.stringify(executable)}, not an absolute path`);
  }

  const steps: Step[] = [
    ...personalitySteps(linux?.personality),
    umaskStep(process.user?.umask),
    ...rlimitSteps(process.rlimits),
    ...(nnp ? [noNewPrivsStep()] : []),
    ...(seccomp && !nnp ? [seccomp] : []),
    chdirStep(cwd),
    ...boundingSteps(caps, lastCap, startingBounding(ctx)),
    keepCapsStep(true),
    ...userSteps(user),
    keepCapsStep(false),
    capsetStep(caps),
    ...ambientSteps(caps, lastCap),
    accessStep(executable),
    ...(seccomp && nnp ? [seccomp] : []),
  ];
  const exec: Step = {
    call: 'execve',
    args: [executable, { strings: args }, { strings: env }],
    what: `execute ${executable}`,
    field: 'process.args[0]',
  };
  const parentRlimits = ctx.userNamespace ? hardLimitRaises(process.rlimits, ctx.host.inherited?.rlimits ?? {}) : [];
  return { steps, exec, expect: expectations(ctx, caps, user, nnp, seccomp !== undefined), parentRlimits };
}

/**
 * The bounding set the child has when its process steps run: entering a user namespace
 * (created by clone() or joined with setns) gives it every capability there, whatever
 * the runtime itself lacks; otherwise it has what it inherited from the runtime.
 * Undefined when unknown: every capability is then assumed present.
 */
function startingBounding(ctx: ProcessContext): bigint | undefined {
  return ctx.userNamespace ? undefined : ctx.host.inherited?.bounding;
}

function compiledSeccomp(host: ProcessHostFacts): CompiledSeccomp {
  // gatherProcessHostFacts compiles it whenever the config has linux.seccomp.
  if (!host.seccomp) throw new Error('linux.seccomp is set but the host facts carry no compiled filter');
  return host.seccomp;
}

function argv(args: string[] | undefined): string[] {
  if (!args || args.length === 0) throw new BerthError('process.args: needs at least the program to run');
  args.forEach((arg, i) => cString(arg, `process.args[${i}]`));
  return args;
}

/** process.env, plus HOME when it is missing or empty (runc takes it from /etc/passwd). */
function environment(env: string[] | undefined, home: string | undefined): string[] {
  const vars = env ?? [];
  vars.forEach((entry, i) => {
    cString(entry, `process.env[${i}]`);
    if (!entry.includes('=')) throw new BerthError(`process.env[${i}]: ${JSON.stringify(entry)} is not KEY=value`);
  });
  if (hasHome(vars)) return [...vars];
  // An empty HOME= is replaced where it stands, as Go's os.Setenv in runc does.
  const set = `HOME=${home ?? '/'}`;
  return vars.includes('HOME=') ? vars.map((entry) => (entry === 'HOME=' ? set : entry)) : [...vars, set];
}

/** HOME counts as set only when it is not empty (runc's test). */
export function hasHome(env: readonly string[] | undefined): boolean {
  return (env ?? []).some((entry) => entry.startsWith('HOME=') && entry.length > 'HOME='.length);
}

function cString(value: string, field: string): void {
  if (value.includes('\0')) throw new BerthError(`${field}: contains a NUL byte`);
}

function workingDirectory(cwd: string | undefined): string {
  if (typeof cwd !== 'string' || !posix.isAbsolute(cwd)) {
    throw new BerthError(`process.cwd: ${JSON.stringify(cwd)} is not an absolute path`);
  }
  cString(cwd, 'process.cwd');
  return posix.resolve(cwd);
}

function personalitySteps(personality: { domain?: string; flags?: string[] } | undefined): Step[] {
  if (!personality) return [];
  const domain = personality.domain ?? 'LINUX';
  const persona = PERSONALITY_DOMAINS[domain];
  if (persona === undefined) {
    throw new BerthError(`linux.personality.domain: unknown domain ${JSON.stringify(domain)} (LINUX or LINUX32)`);
  }
  if (personality.flags?.length) {
    throw new BerthError('linux.personality.flags: the runtime-spec defines no personality flags yet');
  }
  return [{ call: 'personality', args: [persona], what: `set the personality to ${domain}`, field: 'linux.personality' }];
}

function umaskStep(umask: number | undefined): Step {
  const mask = umask ?? DEFAULT_UMASK;
  if (!Number.isInteger(mask) || mask < 0 || mask > 0o777) {
    throw new BerthError(`process.user.umask: ${JSON.stringify(umask)} is not a file mode mask`);
  }
  return { call: 'umask', args: [mask], what: `set the umask to 0${mask.toString(8)}`, field: 'process.user.umask' };
}

function noNewPrivsStep(): Step {
  return {
    call: 'prctl',
    args: [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0],
    what: 'set no_new_privs',
    field: 'process.noNewPrivileges',
  };
}

/**
 * berth create: make process.cwd if it is missing, as runc does: right after pivot_root
 * (the container's root is /, so absolute paths and any symlinks in them resolve inside
 * it), as root with mode 0755, before / may become read-only and before the umask.
 */
export function cwdSteps(config: Config): Step[] {
  const process = (config as unknown as ProcessConfigView).process;
  return process ? mkdirSteps(workingDirectory(process.cwd)) : [];
}

function mkdirSteps(cwd: string): Step[] {
  const parts = cwd.split('/').filter(Boolean);
  return parts.map((_, i) => {
    const dir = '/' + parts.slice(0, i + 1).join('/');
    return { call: 'mkdir', args: [dir, 0o755], what: `create ${dir}`, field: 'process.cwd', ok: [constants.errno.EEXIST] };
  });
}

/**
 * runc tries the cwd as root first and again as the user after EPERM/EACCES; a chain
 * cannot retry, so berth changes directory as root only (before the uid change): the
 * container's user may then run in a directory only root can enter, as with runc.
 */
function chdirStep(cwd: string): Step {
  return { call: 'chdir', args: [cwd], what: `change directory to ${cwd}`, field: 'process.cwd' };
}

/** As the final user, with the final capabilities: the exec would fail, so create fails. */
function accessStep(executable: string): Step {
  return {
    call: 'access',
    args: [executable, X_OK],
    what: `check that ${executable} is executable`,
    field: 'process.args[0]',
  };
}

/** Exactly what /proc/<pid>/status will show at the gate. */
function expectations(
  ctx: ProcessContext,
  caps: ReturnType<typeof capabilitySets>,
  user: ReturnType<typeof resolveUser>,
  nnp: boolean,
  filtered: boolean,
): Expectations {
  const expect: Expectations = { ...userExpectations(user), ...capabilityExpectations(caps) };
  if (nnp) expect.noNewPrivs = true;
  if (filtered) expect.seccomp = 2;
  // PR_CAPBSET_DROP cannot add back what the child lacked.
  const starting = startingBounding(ctx);
  if (starting !== undefined) expect.capBnd = caps.bounding & starting;
  const inherited = ctx.host.inherited;
  if (!inherited) return expect;
  // no_new_privs and seccomp filters stick once set, even across user namespaces, so a
  // runtime running with them passes them on.
  expect.noNewPrivs = nnp || inherited.noNewPrivs;
  expect.seccomp = filtered ? 2 : inherited.seccomp;
  return expect;
}
