// linux.seccomp, the pure part: validate the profile and turn it into a filter
// description with every action and comparison resolved to its kernel value, which
// process-host.ts compiles to BPF with libseccomp in the parent (libseccomp allocates,
// so it cannot run in the cloned child), and the step that installs that BPF.
import { BerthError } from '../../errors.js';
import type { Step } from '../steps.js';
import { SECCOMP, SECCOMP_FLAGS, u64 } from './process-consts.js';

// TODO: Config['linux']['seccomp'] once the real schema is on main.
export interface SeccompConfig {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: SyscallRuleConfig[];
}

export interface SyscallRuleConfig {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[];
}

/** struct scmp_arg_cmp: (arg `op` a), or ((arg & a) == b) for SCMP_CMP_MASKED_EQ. */
export interface Condition {
  arg: number;
  op: number;
  a: bigint;
  b: bigint;
}

export interface FilterRule {
  syscall: string;
  action: number;
  conditions: Condition[];
  /** linux.seccomp.syscalls[i], for errors. */
  field: string;
}

export interface FilterSpec {
  defaultAction: number;
  /** libseccomp architecture names ("x86_64", "x86", ...) with their config fields. */
  architectures: { name: string; field: string }[];
  rules: FilterRule[];
}

/** What the filter's syscall(SYS_seccomp, ...) step needs, compiled by the host side. */
export interface CompiledSeccomp {
  bpf: Uint8Array;
  flags: number;
}

/** libseccomp's SCMP_CMP_* values. */
const OPERATORS: Readonly<Record<string, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** The kernel's system calls take at most six arguments. */
const MAX_SYSCALL_ARGS = 6;

/** The errno an ERRNO or TRACE action returns when the config does not say (runc's choice). */
const EPERM = 1;

export function filterSpec(seccomp: SeccompConfig): FilterSpec {
  rejectListener(seccomp);
  const defaultAction = action(seccomp.defaultAction, seccomp.defaultErrnoRet, 'linux.seccomp.defaultAction', 'linux.seccomp.defaultErrnoRet');
  const architectures = (seccomp.architectures ?? []).map((arch, i) => ({
    name: archName(arch, `linux.seccomp.architectures[${i}]`),
    field: `linux.seccomp.architectures[${i}]`,
  }));
  const rules = (seccomp.syscalls ?? []).flatMap((rule, i) => syscallRules(rule, `linux.seccomp.syscalls[${i}]`, defaultAction));
  return { defaultAction, architectures, rules };
}

/** SECCOMP_FILTER_FLAG_* bits for seccomp(2). */
export function seccompFlags(seccomp: SeccompConfig): number {
  let flags = 0;
  (seccomp.flags ?? []).forEach((name, i) => {
    const field = `linux.seccomp.flags[${i}]`;
    const bit = SECCOMP_FLAGS[name];
    if (bit === undefined) throw new BerthError(`${field}: unknown seccomp flag ${JSON.stringify(name)}`);
    if (bit === SECCOMP.FILTER_FLAG_WAIT_KILLABLE_RECV) {
      // The kernel accepts it only together with NEW_LISTENER, i.e. with listenerPath.
      throw new BerthError(`${field}: ${name} needs a seccomp listener (linux.seccomp.listenerPath), which berth does not support yet`);
    }
    flags |= bit;
  });
  return flags;
}

/** syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog). */
export function seccompStep(filter: CompiledSeccomp): Step {
  return {
    call: 'sys_seccomp',
    args: [SECCOMP.SET_MODE_FILTER, filter.flags, { bpf: filter.bpf }],
    what: `install the seccomp filter (${filter.bpf.length / 8} instructions, flags 0x${filter.flags.toString(16)})`,
    field: 'linux.seccomp',
  };
}

/**
 * Handing the listener fd to listenerPath means sendmsg(2) with SCM_RIGHTS, whose
 * msghdr holds nested pointers that a step's flat arguments cannot express yet.
 */
function rejectListener(seccomp: SeccompConfig): void {
  if (seccomp.listenerPath !== undefined) {
    throw new BerthError('linux.seccomp.listenerPath: seccomp user notification is not supported yet');
  }
}

/**
 * One rule per name. Conditions on distinct arguments are ANDed in one rule; when an
 * argument is compared more than once they are instead added as separate rules (ORed),
 * which is what runc does and what profiles such as Docker's rely on.
 */
function syscallRules(rule: SyscallRuleConfig, field: string, defaultAction: number): FilterRule[] {
  const act = action(rule.action, rule.errnoRet, `${field}.action`, `${field}.errnoRet`);
  // A rule that repeats the default action changes nothing (libseccomp would refuse it).
  if (act === defaultAction) return [];
  const conditions = (rule.args ?? []).map((arg, j) => condition(arg, `${field}.args[${j}]`));
  const indexes = conditions.map((c) => c.arg);
  const ored = new Set(indexes).size < indexes.length;
  const sets = ored ? conditions.map((c) => [c]) : [conditions];
  return rule.names.flatMap((syscall) => sets.map((set) => ({ syscall, action: act, conditions: set, field })));
}

function condition(arg: NonNullable<SyscallRuleConfig['args']>[number], field: string): Condition {
  const op = OPERATORS[arg.op];
  if (op === undefined) throw new BerthError(`${field}.op: unknown operator ${JSON.stringify(arg.op)}`);
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= MAX_SYSCALL_ARGS) {
    throw new BerthError(`${field}.index: ${JSON.stringify(arg.index)} is not a system call argument (0-5)`);
  }
  return { arg: arg.index, op, a: u64(arg.value, `${field}.value`), b: u64(arg.valueTwo ?? 0, `${field}.valueTwo`) };
}

/** An OCI action name as libseccomp's SCMP_ACT_* value (the kernel's SECCOMP_RET_*). */
function action(name: string, errnoRet: number | undefined, field: string, errnoField: string): number {
  const takesErrno = name === 'SCMP_ACT_ERRNO' || name === 'SCMP_ACT_TRACE';
  if (errnoRet !== undefined && !takesErrno) {
    throw new BerthError(`${errnoField}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not ${name}`);
  }
  const ret = errnoRet ?? EPERM;
  if (!Number.isInteger(ret) || ret < 0 || ret > SECCOMP.RET_DATA) {
    throw new BerthError(`${errnoField}: ${JSON.stringify(errnoRet)} is not an errno value`);
  }
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return SECCOMP.RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return SECCOMP.RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return SECCOMP.RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return SECCOMP.RET_ERRNO | ret;
    case 'SCMP_ACT_TRACE':
      return SECCOMP.RET_TRACE | ret;
    case 'SCMP_ACT_ALLOW':
      return SECCOMP.RET_ALLOW;
    case 'SCMP_ACT_LOG':
      return SECCOMP.RET_LOG;
    case 'SCMP_ACT_NOTIFY':
      throw new BerthError(`${field}: SCMP_ACT_NOTIFY needs a seccomp listener (linux.seccomp.listenerPath), which berth does not support yet`);
    default:
      throw new BerthError(`${field}: unknown seccomp action ${JSON.stringify(name)}`);
  }
}

/** SCMP_ARCH_X86_64 -> "x86_64", the name seccomp_arch_resolve_name() knows. */
function archName(arch: string, field: string): string {
  const prefix = 'SCMP_ARCH_';
  if (!arch.startsWith(prefix) || arch.length === prefix.length) {
    throw new BerthError(`${field}: unknown architecture ${JSON.stringify(arch)}`);
  }
  return arch.slice(prefix.length).toLowerCase();
}
