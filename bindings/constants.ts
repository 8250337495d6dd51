// Kernel and glibc constants, named exactly as in the C headers (minus the common
// prefix: CLONE.NEWNS is CLONE_NEWNS). Most are the same on every Linux architecture;
// where x86_64 and aarch64 differ (system call numbers, a few open(2) flags) the value
// is chosen by process.arch, so code elsewhere never branches on the architecture.

type Arch = 'x64' | 'arm64';

function currentArch(): Arch {
  if (process.arch === 'x64' || process.arch === 'arm64') return process.arch;
  throw new Error(`berth supports x86_64 and aarch64, not ${process.arch}`);
}

export const ARCH: Arch = currentArch();

/** Pick the value for the running architecture. */
function byArch<T>(values: Record<Arch, T>): T {
  return values[ARCH];
}

// ---------------------------------------------------------------------------------
// System call numbers (asm/unistd_64.h on x86_64, asm-generic/unistd.h on aarch64).
// Numbers from 424 up were allocated for all architectures at once, hence identical.

const SYS_X64 = {
  read: 0,
  write: 1,
  openat: 257,
  personality: 135,
  pivot_root: 155,
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  setuid: 105,
  setgid: 106,
  capget: 125,
  capset: 126,
  gettid: 186,
  sched_setaffinity: 203,
  tgkill: 234,
  keyctl: 250,
  ioprio_set: 251,
  unshare: 272,
  prlimit64: 302,
  setns: 308,
  sched_setattr: 314,
  seccomp: 317,
  memfd_create: 319,
  bpf: 321,
};

const SYS_ARM64: typeof SYS_X64 = {
  read: 63,
  write: 64,
  openat: 56,
  personality: 92,
  pivot_root: 41,
  setgroups: 159,
  setresuid: 147,
  setresgid: 149,
  setuid: 146,
  setgid: 144,
  capget: 90,
  capset: 91,
  gettid: 178,
  sched_setaffinity: 122,
  tgkill: 131,
  keyctl: 219,
  ioprio_set: 30,
  unshare: 97,
  prlimit64: 261,
  setns: 268,
  sched_setattr: 274,
  seccomp: 277,
  memfd_create: 279,
  bpf: 280,
};

const SYS_COMMON = {
  pidfd_send_signal: 424,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  pidfd_open: 434,
  clone3: 435,
  close_range: 436,
  openat2: 437,
  pidfd_getfd: 438,
  mount_setattr: 442,
};

export const SYS = { ...byArch({ x64: SYS_X64, arm64: SYS_ARM64 }), ...SYS_COMMON } as const;

// ---------------------------------------------------------------------------------
// clone(2), unshare(2), setns(2)

export const CSIGNAL = 0xff;

export const CLONE = {
  NEWTIME: 0x00000080,
  VM: 0x00000100,
  FS: 0x00000200,
  FILES: 0x00000400,
  SIGHAND: 0x00000800,
  PIDFD: 0x00001000,
  PTRACE: 0x00002000,
  VFORK: 0x00004000,
  PARENT: 0x00008000,
  THREAD: 0x00010000,
  NEWNS: 0x00020000,
  SYSVSEM: 0x00040000,
  SETTLS: 0x00080000,
  PARENT_SETTID: 0x00100000,
  CHILD_CLEARTID: 0x00200000,
  DETACHED: 0x00400000,
  UNTRACED: 0x00800000,
  CHILD_SETTID: 0x01000000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  IO: 0x80000000,
} as const;

/** OCI namespace type (config-linux.md) -> its CLONE_NEW* flag. */
export const NAMESPACE_FLAGS: Readonly<Record<string, number>> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** OCI namespace type -> the file under /proc/<pid>/ns/ that holds it. */
export const NAMESPACE_FILES: Readonly<Record<string, string>> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

// ---------------------------------------------------------------------------------
// mount(2), umount2(2), the new mount API

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  KERNMOUNT: 1 << 22,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

/** umount2(2) flags. */
export const MNT = {
  FORCE: 1,
  DETACH: 2,
  EXPIRE: 4,
} as const;
export const MNT_DETACH = MNT.DETACH;
export const UMOUNT_NOFOLLOW = 8;

/** mount_setattr(2) attributes (struct mount_attr.attr_set / attr_clr). */
export const MOUNT_ATTR = {
  RDONLY: 0x00000001,
  NOSUID: 0x00000002,
  NODEV: 0x00000004,
  NOEXEC: 0x00000008,
  _ATIME: 0x00000070,
  RELATIME: 0x00000000,
  NOATIME: 0x00000010,
  STRICTATIME: 0x00000020,
  NODIRATIME: 0x00000080,
  IDMAP: 0x00100000,
  NOSYMFOLLOW: 0x00200000,
} as const;
/** sizeof(struct mount_attr), version 0. */
export const MOUNT_ATTR_SIZE_VER0 = 32;

export const OPEN_TREE = {
  CLONE: 1,
  CLOEXEC: 0o2000000,
} as const;

export const MOVE_MOUNT = {
  F_SYMLINKS: 0x00000001,
  F_AUTOMOUNTS: 0x00000002,
  F_EMPTY_PATH: 0x00000004,
  T_SYMLINKS: 0x00000010,
  T_AUTOMOUNTS: 0x00000020,
  T_EMPTY_PATH: 0x00000040,
  SET_GROUP: 0x00000100,
  BENEATH: 0x00000200,
} as const;

// ---------------------------------------------------------------------------------
// open(2), openat2(2), *at(2)

const O_COMMON = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  ACCMODE: 3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  ASYNC: 0o20000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
  PATH: 0o10000000,
};

// LARGEFILE is the kernel's value; glibc defines it as 0 on 64-bit targets, where every
// open is large already, so it never needs to be passed.
export const O = {
  ...O_COMMON,
  ...byArch({
    x64: { DIRECT: 0o40000, LARGEFILE: 0o100000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000 },
    arm64: { DIRECTORY: 0o40000, NOFOLLOW: 0o100000, DIRECT: 0o200000, LARGEFILE: 0o400000 },
  }),
} as const;
/** O_TMPFILE includes O_DIRECTORY, so it differs with it. */
export const O_TMPFILE = 0o20000000 | O.DIRECTORY;

/** openat2(2) struct open_how.resolve flags. */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
  CACHED: 0x20,
} as const;
/** sizeof(struct open_how): u64 flags, u64 mode, u64 resolve. */
export const OPEN_HOW_SIZE = 24;

export const AT = {
  FDCWD: -100,
  SYMLINK_NOFOLLOW: 0x100,
  EACCESS: 0x200,
  REMOVEDIR: 0x200,
  SYMLINK_FOLLOW: 0x400,
  NO_AUTOMOUNT: 0x800,
  EMPTY_PATH: 0x1000,
  RECURSIVE: 0x8000,
} as const;

export const CLOSE_RANGE = {
  UNSHARE: 2,
  CLOEXEC: 4,
} as const;

/** File type bits of st_mode, for mknod(2). */
export const S = {
  IFMT: 0o170000,
  IFSOCK: 0o140000,
  IFLNK: 0o120000,
  IFREG: 0o100000,
  IFBLK: 0o060000,
  IFDIR: 0o040000,
  IFCHR: 0o020000,
  IFIFO: 0o010000,
} as const;

/** makedev(3) as glibc encodes it (the dev_t that mknod(2) takes). */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

// ---------------------------------------------------------------------------------
// fcntl(2), ioctl(2)

export const F = {
  DUPFD: 0,
  GETFD: 1,
  SETFD: 2,
  GETFL: 3,
  SETFL: 4,
  SETOWN: 8,
  GETOWN: 9,
  DUPFD_CLOEXEC: 1030,
  SETPIPE_SZ: 1031,
  GETPIPE_SZ: 1032,
  ADD_SEALS: 1033,
  GET_SEALS: 1034,
} as const;
export const FD_CLOEXEC = 1;

/** tty ioctls (asm-generic/ioctls.h: identical on x86_64 and aarch64). */
export const TIOC = {
  SCTTY: 0x540e,
  GWINSZ: 0x5413,
  SWINSZ: 0x5414,
  NOTTY: 0x5422,
  GPTN: 0x80045430,
  SPTLCK: 0x40045431,
  GPTPEER: 0x5441,
} as const;
export const TIOCSCTTY = TIOC.SCTTY;

// ---------------------------------------------------------------------------------
// prctl(2), capabilities, securebits

export const PR = {
  SET_PDEATHSIG: 1,
  GET_PDEATHSIG: 2,
  GET_DUMPABLE: 3,
  SET_DUMPABLE: 4,
  GET_KEEPCAPS: 7,
  SET_KEEPCAPS: 8,
  SET_NAME: 15,
  GET_NAME: 16,
  GET_SECCOMP: 21,
  SET_SECCOMP: 22,
  CAPBSET_READ: 23,
  CAPBSET_DROP: 24,
  GET_SECUREBITS: 27,
  SET_SECUREBITS: 28,
  SET_TIMERSLACK: 29,
  SET_CHILD_SUBREAPER: 36,
  GET_CHILD_SUBREAPER: 37,
  SET_NO_NEW_PRIVS: 38,
  GET_NO_NEW_PRIVS: 39,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_IS_SET: 1,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_LOWER: 3,
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

export const SECBIT = {
  NOROOT: 1 << 0,
  NOROOT_LOCKED: 1 << 1,
  NO_SETUID_FIXUP: 1 << 2,
  NO_SETUID_FIXUP_LOCKED: 1 << 3,
  KEEP_CAPS: 1 << 4,
  KEEP_CAPS_LOCKED: 1 << 5,
  NO_CAP_AMBIENT_RAISE: 1 << 6,
  NO_CAP_AMBIENT_RAISE_LOCKED: 1 << 7,
} as const;

// ---------------------------------------------------------------------------------
// Signals (identical on x86_64 and aarch64)

export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGSTKFLT: 16,
  SIGCHLD: 17,
  SIGCONT: 18,
  SIGSTOP: 19,
  SIGTSTP: 20,
  SIGTTIN: 21,
  SIGTTOU: 22,
  SIGURG: 23,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGWINCH: 28,
  SIGIO: 29,
  SIGPOLL: 29,
  SIGPWR: 30,
  SIGSYS: 31,
  /** glibc reserves 32 and 33 for itself. */
  SIGRTMIN: 34,
  SIGRTMAX: 64,
};

export const SIGKILL = 9;
export const SIGCHLD = 17;

/**
 * A signal given as runc accepts it: a number ("9"), a name with or without SIG
 * ("KILL", "SIGKILL", case-insensitive), or a real-time offset ("RTMIN+3", "SIGRTMAX-1").
 * Returns undefined for anything else.
 */
export function signalNumber(spec: string): number | undefined {
  const trimmed = spec.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    return n >= 1 && n <= SIGNALS.SIGRTMAX! ? n : undefined;
  }
  let name = trimmed.toUpperCase();
  if (!name.startsWith('SIG')) name = `SIG${name}`;
  const rt = /^SIG(RTMIN|RTMAX)([+-])(\d+)$/.exec(name);
  if (rt) {
    const base = SIGNALS[`SIG${rt[1]}`]!;
    const n = rt[2] === '+' ? base + Number(rt[3]) : base - Number(rt[3]);
    return n >= SIGNALS.SIGRTMIN! && n <= SIGNALS.SIGRTMAX! ? n : undefined;
  }
  return SIGNALS[name];
}

/** The conventional name of a signal number: 9 -> "SIGKILL", 36 -> "SIGRTMIN+2". */
export function signalName(n: number): string {
  for (const [name, value] of Object.entries(SIGNALS)) {
    if (value === n && name !== 'SIGIOT' && name !== 'SIGPOLL') return name;
  }
  if (n > SIGNALS.SIGRTMIN! && n < SIGNALS.SIGRTMAX!) return `SIGRTMIN+${n - SIGNALS.SIGRTMIN!}`;
  return `signal ${n}`;
}

// ---------------------------------------------------------------------------------
// Resource limits (identical on x86_64 and aarch64)

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

// ---------------------------------------------------------------------------------
// seccomp(2) and classic BPF

export const SECCOMP = {
  SET_MODE_STRICT: 0,
  SET_MODE_FILTER: 1,
  GET_ACTION_AVAIL: 2,
  GET_NOTIF_SIZES: 3,
  FILTER_FLAG_TSYNC: 1 << 0,
  FILTER_FLAG_LOG: 1 << 1,
  FILTER_FLAG_SPEC_ALLOW: 1 << 2,
  FILTER_FLAG_NEW_LISTENER: 1 << 3,
  FILTER_FLAG_TSYNC_ESRCH: 1 << 4,
  FILTER_FLAG_WAIT_KILLABLE_RECV: 1 << 5,
  RET_KILL_PROCESS: 0x80000000,
  RET_KILL_THREAD: 0x00000000,
  RET_KILL: 0x00000000,
  RET_TRAP: 0x00030000,
  RET_ERRNO: 0x00050000,
  RET_USER_NOTIF: 0x7fc00000,
  RET_TRACE: 0x7ff00000,
  RET_LOG: 0x7ffc0000,
  RET_ALLOW: 0x7fff0000,
  RET_ACTION_FULL: 0xffff0000,
  RET_DATA: 0x0000ffff,
} as const;

/** Seccomp OCI flag names (config-linux.md) -> SECCOMP_FILTER_FLAG_* bits. */
export const SECCOMP_FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP.FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP.FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP.FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP.FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/** AUDIT_ARCH_* values (linux/audit.h) as seccomp_data.arch reports them. */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** The AUDIT_ARCH of the running architecture. */
export const NATIVE_AUDIT_ARCH = byArch({ x64: AUDIT_ARCH.X86_64, arm64: AUDIT_ARCH.AARCH64 });

/** sizeof(struct sock_filter): u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER_SIZE = 8;

// ---------------------------------------------------------------------------------
// bpf(2) for the cgroup v2 device filter

export const BPF = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_QUERY: 16,
  PROG_TYPE_CGROUP_DEVICE: 15,
  CGROUP_DEVICE: 6,
  F_ALLOW_OVERRIDE: 1 << 0,
  F_ALLOW_MULTI: 1 << 1,
  F_REPLACE: 1 << 2,
} as const;

// ---------------------------------------------------------------------------------
// wait(2), pidfd

export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WEXITED = 4;
export const WCONTINUED = 8;
export const WNOWAIT = 0x01000000;
export const WALL = 0x40000000;

export const P_PID = 1;
export const P_PIDFD = 3;

// ---------------------------------------------------------------------------------
// personality(2), ioprio_set(2), sched_setattr(2)

export const PER = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
  QUERY: 0xffffffff,
} as const;

/** OCI personality domain names -> persona values. */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = {
  LINUX: PER.LINUX,
  LINUX32: PER.LINUX32,
};

export const IOPRIO = {
  WHO_PROCESS: 1,
  WHO_PGRP: 2,
  WHO_USER: 3,
  CLASS_SHIFT: 13,
  CLASS_NONE: 0,
  CLASS_RT: 1,
  CLASS_BE: 2,
  CLASS_IDLE: 3,
} as const;

export const SCHED = {
  OTHER: 0,
  FIFO: 1,
  RR: 2,
  BATCH: 3,
  ISO: 4,
  IDLE: 5,
  DEADLINE: 6,
  FLAG_RESET_ON_FORK: 0x01,
  FLAG_RECLAIM: 0x02,
  FLAG_DL_OVERRUN: 0x04,
  FLAG_KEEP_POLICY: 0x08,
  FLAG_KEEP_PARAMS: 0x10,
  FLAG_UTIL_CLAMP_MIN: 0x20,
  FLAG_UTIL_CLAMP_MAX: 0x40,
} as const;
/** sizeof(struct sched_attr), version 1 (with the util clamps). */
export const SCHED_ATTR_SIZE_VER1 = 56;
