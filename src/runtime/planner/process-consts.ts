// Kernel constants the process planner needs, named (and shaped) as in
// bindings/constants.ts so that switching over is an import change.
// TODO: replace with bindings/constants.ts once merged.
import { BerthError } from '../../errors.js';

export const PR = {
  SET_KEEPCAPS: 8,
  CAPBSET_DROP: 24,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

/** Capability names (as OCI configs spell them) ordered by bit number: CAP_CHOWN is bit 0. */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Capability name -> bit number. */
export const CAP: Readonly<Record<string, number>> = Object.fromEntries(CAPABILITIES.map((name, bit) => [name, bit]));

export const CAP_LAST_CAP = CAPABILITIES.length - 1;

/** capset(2) header version for 64-bit capability sets (two data structs). */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export const RLIMIT: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

export const RLIM_INFINITY = 0xffffffffffffffffn;

export const SECCOMP = {
  SET_MODE_FILTER: 1,
  FILTER_FLAG_TSYNC: 1 << 0,
  FILTER_FLAG_LOG: 1 << 1,
  FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  FILTER_FLAG_NEW_LISTENER: 1 << 3,
  FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
  RET_KILL_PROCESS: 0x80000000,
  RET_KILL_THREAD: 0x00000000,
  RET_TRAP: 0x00030000,
  RET_ERRNO: 0x00050000,
  RET_USER_NOTIF: 0x7fc00000,
  RET_TRACE: 0x7ff00000,
  RET_LOG: 0x7ffc0000,
  RET_ALLOW: 0x7fff0000,
  RET_DATA: 0x0000ffff,
} as const;

/** Seccomp OCI flag names (config-linux.md) -> SECCOMP_FILTER_FLAG_* bits. */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP.FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP.FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP.FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP.FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** OCI personality domain names -> persona values (linux/personality.h). */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
};

/** access(2) mode: may the caller execute it. */
export const X_OK = 1;

/** Linux's NGROUPS_MAX: the most supplementary groups setgroups(2) takes. */
export const NGROUPS_MAX = 65536;

const U64_MAX = 0xffffffffffffffffn;

/**
 * A JSON number as a u64 (rlimits, seccomp argument values), or an error naming field.
 * JSON cannot carry 2^64-1 exactly: the usual way to write it, 18446744073709551615,
 * parses as 2^64, so anything at or above 2^64 is 2^64-1 (RLIM_INFINITY, ~0).
 */
export function u64(value: number, field: string): bigint {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new BerthError(`${field}: ${JSON.stringify(value)} is not an unsigned 64-bit integer`);
  }
  return value >= 2 ** 64 ? U64_MAX : BigInt(value);
}
