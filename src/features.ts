// What this build of berth implements, reported by `berth features` (runtime-spec
// features.md). Engines trust this document to decide what they may ask for, so it must
// be true: every entry here must be implemented end to end, and an entry whose feature
// is not (or no longer) implemented must be removed. Developers add entries when their
// feature lands, together with a test that uses it.
import { libseccomp } from '../bindings/seccomp.js';
import { SPEC_VERSION } from './version.js';

export const SUPPORTED = {
  /** Hook kinds berth runs (src/runtime/hooks.ts); createContainer is refused. */
  hooks: ['prestart', 'createRuntime', 'startContainer', 'poststart', 'poststop'] as string[],
  /** Mount options (config.md "mounts[].options") the planner turns into mount flags. */
  mountOptions: [] as string[],
  /** linux.namespaces[].type values the planner and executor create or join. */
  namespaces: [] as string[],
  /** Capability names process.capabilities may hold. */
  capabilities: [] as string[],
  cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
  /** Set implemented when linux.seccomp is applied; actions/operators berth translates. */
  seccomp: { implemented: false, actions: [] as string[], operators: [] as string[] },
  idmapMounts: false,
};

/** runtime-spec's architecture names and libseccomp's name for each. */
const SECCOMP_ARCHS: Record<string, string> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64', SCMP_ARCH_MIPS: 'mips', SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32', SCMP_ARCH_MIPSEL: 'mipsel', SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32', SCMP_ARCH_PPC: 'ppc', SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le', SCMP_ARCH_S390: 's390', SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc', SCMP_ARCH_PARISC64: 'parisc64', SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64', SCMP_ARCH_M68K: 'm68k', SCMP_ARCH_SH: 'sh', SCMP_ARCH_SHEB: 'sheb',
};

/** The architectures the installed libseccomp knows, by runtime-spec name ([] without it). */
export function seccompArchitectures(): string[] {
  const lib = libseccomp();
  if (!lib) return [];
  const resolve = lib.func('uint32_t seccomp_arch_resolve_name(const char *name)');
  return Object.entries(SECCOMP_ARCHS)
    .filter(([, name]) => (resolve(name) as number) !== 0)
    .map(([spec]) => spec);
}

export function features(): Record<string, unknown> {
  const seccompOn = SUPPORTED.seccomp.implemented && libseccomp() !== null;
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: SUPPORTED.hooks,
    mountOptions: SUPPORTED.mountOptions,
    linux: {
      namespaces: SUPPORTED.namespaces,
      capabilities: SUPPORTED.capabilities,
      cgroup: SUPPORTED.cgroup,
      seccomp: seccompOn
        ? { enabled: true, actions: SUPPORTED.seccomp.actions, operators: SUPPORTED.seccomp.operators, archs: seccompArchitectures() }
        : { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: SUPPORTED.idmapMounts } },
    },
    annotations: {},
  };
}
