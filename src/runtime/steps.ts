// The contract between the planner (config -> steps, pure) and the executor (steps ->
// a native call chain run by the cloned child). A step is one libc call or raw system
// call with fully resolved arguments; because a plan is plain data it can be printed
// (`berth create --dry-run`) and unit-tested without root.
//
// The child cannot branch: every step runs, and reports its errno on the report pipe.
// The parent reads the reports, and the child only execs the user's process after a
// final gate that the parent opens once everything checked out. A step marked `sync`
// additionally makes the child wait for the parent's go-ahead before the next step, so a
// failure there (say, making / private) is never followed by a step that would be
// harmful after it: the parent kills the child instead. A sync step may also be a
// `checkpoint`: the parent does part of the lifecycle (running hooks) while the child
// waits there.

/** A step argument. Strings become NUL-terminated C strings; null is NULL. */
export type Arg =
  | number
  | bigint
  | string
  | null
  /** A pointer to a copy of these bytes (structs: open_how, rlimit, capset data, gid arrays). */
  | { bytes: Uint8Array }
  /** A pointer to a NULL-terminated array of C strings (execve's argv and envp). */
  | { strings: readonly string[] }
  /** A pointer to a struct sock_fprog built around this BPF program (8 bytes per insn). */
  | { bpf: Uint8Array };

/**
 * The calls a step may make. Names without a prefix are glibc functions of that name;
 * `sys_*` are raw syscall(SYS_*, ...) calls (no glibc wrapper, or glibc's wrapper is
 * unsafe in the child: setresuid & co. broadcast to threads the child does not have).
 */
export type Call =
  | 'mount' | 'umount2' | 'mkdir' | 'mkdirat' | 'chdir' | 'fchdir' | 'chroot' | 'chmod' | 'fchmod'
  | 'chown' | 'fchownat' | 'mknod' | 'mknodat' | 'symlink' | 'symlinkat' | 'open' | 'openat' | 'close'
  | 'dup3' | 'fcntl' | 'read' | 'write' | 'ioctl' | 'setsid' | 'umask' | 'personality' | 'prctl'
  | 'sethostname' | 'setdomainname' | 'setns' | 'unshare' | 'kill' | 'execve' | '_exit'
  | 'sys_pivot_root' | 'sys_openat2' | 'sys_close_range' | 'sys_mount_setattr' | 'sys_open_tree'
  | 'sys_move_mount' | 'sys_setresuid' | 'sys_setresgid' | 'sys_setgroups' | 'sys_capset'
  | 'sys_prlimit64' | 'sys_seccomp' | 'access' | 'sendfile' | 'fchown' | 'fchmodat';

export interface Step {
  call: Call;
  args: readonly Arg[];
  /** What the step does, in words, for errors and --dry-run: `mount proc on /proc`. */
  what: string;
  /** The config field the step implements, for errors: `mounts[3]`, `process.user.uid`. */
  field?: string;
  /** errno values that do not count as failure (EEXIST for mkdir of a path that may exist). */
  ok?: readonly number[];
  /** Make the child wait for the parent's go-ahead after this step's report. */
  sync?: boolean;
  /** With sync: what the parent does before its go-ahead (see Checkpoint). */
  checkpoint?: Checkpoint;
}

/**
 * Where the child waits while the parent does part of the lifecycle:
 *  - `hooks`: the prestart, createRuntime and createContainer hooks run with the
 *    container's mounts in place and before pivot_root (runtime.md "Lifecycle"), the
 *    child's working directory being the rootfs, as runc's.
 */
export type Checkpoint = 'hooks';

/**
 * The child's file descriptor table is made predictable before any planned step runs:
 * the executor moves the descriptors it needs to the numbers below and closes every
 * other one, so the fd an `open` step gets is known in advance. Planned steps must keep
 * the table that way: close every fd they open before the next open.
 *
 *   0, 1, 2                 the container's stdio
 *   3 .. 3+preserveFds-1    descriptors passed through (--preserve-fds, LISTEN_FDS)
 *   base+0                  report pipe (write end), CLOEXEC
 *   base+1                  sync pipe (read end), CLOEXEC
 *   base+2 ..               namespace files to join with setns, in `joinNamespaces` order
 *   base+2+joins            the rootfs directory, opened O_PATH by the parent (for openat2)
 *   firstFree               lowest free descriptor: what the next `open` returns
 */
export interface FdLayout {
  preserveFds: number;
  report: number;
  sync: number;
  /** Namespace type -> fd number holding that namespace (joined by path). */
  namespaces: Record<string, number>;
  rootfs: number;
  firstFree: number;
}

export function fdLayout(preserveFds: number, joinNamespaces: readonly string[]): FdLayout {
  const base = 3 + preserveFds;
  const namespaces: Record<string, number> = {};
  joinNamespaces.forEach((type, i) => {
    namespaces[type] = base + 2 + i;
  });
  const rootfs = base + 2 + joinNamespaces.length;
  return { preserveFds, report: base, sync: base + 1, namespaces, rootfs, firstFree: rootfs + 1 };
}

/**
 * How the child's user process is released. The executor withholds the first byte ('/')
 * of the absolute execve path and the gate's read delivers it, so if the gate fails in
 * any way the path is empty and execve fails with ENOENT: the chain cannot branch, but
 * it still fails closed.
 *  - `pipe`: the parent that spawned the child writes the byte (berth run, berth exec);
 *  - `fifo`: the child opens this FIFO O_RDONLY and blocks until `berth start` opens it
 *    for writing and writes the byte (berth create, which exits meanwhile).
 */
export type Gate = { kind: 'pipe' } | { kind: 'fifo'; path: string };

/** A planned container process: what clone() gets and what the child then runs. */
export interface Plan {
  /** CLONE_NEW* flags for the one clone() call (the executor adds SIGCHLD). */
  cloneFlags: number;
  /** Namespaces joined by path: type -> host path, opened by the parent before clone. */
  joinNamespaces: { type: string; path: string }[];
  /**
   * A pid namespace to be born into (linux.namespaces pid with a path, or berth exec).
   * setns(CLONE_NEWPID) only changes the namespace of the caller's future children, so
   * the child cannot join it itself: the parent's main thread setns()es into it right
   * before clone() and back to its own /proc/self/ns/pid right after. Never in
   * joinNamespaces.
   */
  joinPidNamespace?: string;
  fds: FdLayout;
  /** Absolute host path of the root filesystem (opened O_PATH by the parent as fds.rootfs). */
  rootfs: string;
  /**
   * The child's steps, in order. Before the first one runs, the child has its fd table
   * laid out and has waited for the parent's setup (id maps written, pid placed in its
   * cgroups): steps that need those (setresuid, unshare(CLONE_NEWCGROUP)) may come first.
   */
  steps: Step[];
  /** The final execve of the user's process (args: absolute path, {strings: argv}, {strings: envp}). */
  exec: Step;
  gate: Gate;
  /** Written by the parent before the child's steps run (user namespaces): "0 1000 1\n". */
  uidMap?: string;
  gidMap?: string;
  /** Written to /proc/<pid>/setgroups before gid_map when set. */
  setgroups?: 'allow' | 'deny';
  /**
   * Set by the parent on the child with prlimit(pid) right after the id maps, before the
   * child's steps run: in a user namespace the child cannot raise a hard limit itself
   * (that takes CAP_SYS_RESOURCE in the initial user namespace), the parent may.
   */
  parentRlimits?: ParentRlimit[];
  /** What the parent checks in /proc/<pid>/status before it lets the gate open. */
  expect: Expectations;
}

/** A resource limit for prlimit(2): resource is an RLIMIT_* number. */
export interface ParentRlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
  what: string;
  field: string;
}

export interface Expectations {
  uid?: number;
  gid?: number;
  groups?: number[];
  capBnd?: bigint;
  capEff?: bigint;
  capPrm?: bigint;
  capInh?: bigint;
  capAmb?: bigint;
  noNewPrivs?: boolean;
  /** 0: no seccomp filter, 2: a filter is installed. */
  seccomp?: 0 | 2;
}
