// What this build of berth implements, reported by `berth features` (runtime-spec
// features.md). Engines trust this document to decide what they may ask for, so it must
// be true. Each list is derived from the module that implements it: the planner's
// tables, or the planner itself asked about each name the runtime-spec defines (the
// candidate tables below are typed by the schema's enums, so the compiler insists they
// name every value and nothing else). An entry cannot outlive its implementation.
import { CAPABILITIES } from '../bindings/constants.js';
import { SysError } from '../bindings/libc.js';
import { libseccomp, libseccompVersion, SeccompFilter } from '../bindings/seccomp.js';
import { BerthError } from './errors.js';
import type { Config, Features, NamespaceType, SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from './config/types.js';
import { KNOWN_MOUNT_OPTIONS } from './runtime/planner/mount-options.js';
import { NAMESPACES } from './runtime/planner/namespaces.js';
import { compileFilter } from './runtime/planner/process-host.js';
import { filterSpec, seccompFlags, type SeccompConfig } from './runtime/planner/seccomp.js';
import { SPEC_VERSION } from './version.js';

type HookName = keyof NonNullable<Config['hooks']>;

/** Every name of each runtime-spec enum berth reports on. */
const SPEC_HOOKS: Record<HookName, true> = {
  prestart: true, createRuntime: true, createContainer: true, startContainer: true, poststart: true, poststop: true,
};
const SPEC_ACTIONS: Record<SeccompAction, true> = {
  SCMP_ACT_KILL: true, SCMP_ACT_KILL_PROCESS: true, SCMP_ACT_KILL_THREAD: true, SCMP_ACT_TRAP: true,
  SCMP_ACT_ERRNO: true, SCMP_ACT_TRACE: true, SCMP_ACT_ALLOW: true, SCMP_ACT_LOG: true, SCMP_ACT_NOTIFY: true,
};
const SPEC_OPERATORS: Record<SeccompOperator, true> = {
  SCMP_CMP_NE: true, SCMP_CMP_LT: true, SCMP_CMP_LE: true, SCMP_CMP_EQ: true, SCMP_CMP_GE: true, SCMP_CMP_GT: true,
  SCMP_CMP_MASKED_EQ: true,
};
const SPEC_FLAGS: Record<SeccompFlag, true> = {
  SECCOMP_FILTER_FLAG_TSYNC: true, SECCOMP_FILTER_FLAG_LOG: true, SECCOMP_FILTER_FLAG_SPEC_ALLOW: true,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: true,
};

const SPEC_ARCHS: Record<SeccompArch, true> = {
  SCMP_ARCH_X86: true, SCMP_ARCH_X86_64: true, SCMP_ARCH_X32: true, SCMP_ARCH_ARM: true, SCMP_ARCH_AARCH64: true,
  SCMP_ARCH_LOONGARCH64: true, SCMP_ARCH_M68K: true, SCMP_ARCH_MIPS: true, SCMP_ARCH_MIPS64: true,
  SCMP_ARCH_MIPS64N32: true, SCMP_ARCH_MIPSEL: true, SCMP_ARCH_MIPSEL64: true, SCMP_ARCH_MIPSEL64N32: true,
  SCMP_ARCH_PPC: true, SCMP_ARCH_PPC64: true, SCMP_ARCH_PPC64LE: true, SCMP_ARCH_S390: true, SCMP_ARCH_S390X: true,
  SCMP_ARCH_SH: true, SCMP_ARCH_SHEB: true, SCMP_ARCH_PARISC: true, SCMP_ARCH_PARISC64: true, SCMP_ARCH_RISCV64: true,
};

const names = <K extends string>(table: Record<K, unknown>) => Object.keys(table) as K[];

/**
 * Whether `create` would accept this linux.seccomp: the planner's checks, then the
 * compilation to BPF with libseccomp that create does (which refuses, for one,
 * architectures of the other byte order than this machine's: EDOM).
 */
function seccompAccepts(seccomp: SeccompConfig): boolean {
  try {
    const spec = filterSpec(seccomp);
    seccompFlags(seccomp);
    compileFilter(spec, new SeccompFilter(spec.defaultAction));
    return true;
  } catch (error) {
    if (error instanceof BerthError || error instanceof SysError) return false;
    throw error;
  }
}

const ruleWith = (action: string, op = 'SCMP_CMP_EQ'): SeccompConfig => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['getpid'], action, args: [{ index: 0, value: 0, op }] }],
});

/** Hook kinds create/start/delete run: all of the spec's. */
export function supportedHooks(): HookName[] {
  return names(SPEC_HOOKS);
}

/** linux.namespaces[].type values a container can have, created or joined. */
export function supportedNamespaces(): NamespaceType[] {
  return (names(NAMESPACES) as NamespaceType[]).sort();
}

/** Seccomp actions the filter compiler translates (SCMP_ACT_NOTIFY needs a listener: refused). */
export function seccompActions(): SeccompAction[] {
  return names(SPEC_ACTIONS).filter((action) => seccompAccepts(ruleWith(action)));
}

export function seccompOperators(): SeccompOperator[] {
  return names(SPEC_OPERATORS).filter((op) => seccompAccepts(ruleWith('SCMP_ACT_ERRNO', op)));
}

/** The flags berth accepts in linux.seccomp.flags (WAIT_KILLABLE_RECV needs a listener: refused). */
export function seccompSupportedFlags(): SeccompFlag[] {
  return names(SPEC_FLAGS).filter((flag) => seccompAccepts({ defaultAction: 'SCMP_ACT_ALLOW', flags: [flag] }));
}

/** The architectures a filter can cover here, by runtime-spec name. */
export function seccompArchitectures(): SeccompArch[] {
  return names(SPEC_ARCHS).filter((arch) => seccompAccepts({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [arch] }));
}

/** linux.seccomp needs libseccomp to compile filters: without it, seccomp is not on offer. */
function seccompFeatures(): NonNullable<Features['linux']>['seccomp'] {
  if (!libseccomp()) return { enabled: false };
  return {
    enabled: true,
    actions: seccompActions(),
    operators: seccompOperators(),
    archs: seccompArchitectures(),
    knownFlags: names(SPEC_FLAGS),
    supportedFlags: seccompSupportedFlags(),
  };
}

/** The annotations runc reports, where berth has the same fact to report. */
function annotations(): Record<string, string> {
  const seccomp = libseccompVersion();
  return seccomp ? { 'io.github.seccomp.libseccomp.version': seccomp } : {};
}

export function features(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: supportedHooks(),
    mountOptions: [...KNOWN_MOUNT_OPTIONS],
    linux: {
      namespaces: supportedNamespaces(),
      capabilities: [...CAPABILITIES],
      // src/cgroups drives both hierarchies (and hybrid hosts) through cgroupfs, rdma.max
      // included; the systemd driver is refused (it needs D-Bus).
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
      seccomp: seccompFeatures(),
      // process.apparmorProfile, process.selinuxLabel, linux.mountLabel, linux.intelRdt
      // and linux.netDevices are not applied; idmapped mounts are refused.
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      netDevices: { enabled: false },
    },
    annotations: annotations(),
    // No annotation in config.json changes what berth does.
    potentiallyUnsafeConfigAnnotations: [],
  };
}
