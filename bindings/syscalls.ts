// The parent-side system calls the executor makes around clone(): pipes, fd
// duplication, the dumpable flag, namespaces, signals and reaping. Each is declared
// once at load and wrapped so that a failure is a SysError naming the call.
import { check, errno, fn, SysError, describeCall } from './libc.js';
import { constants } from 'node:os';
import { F, O, PR, SYS, WEXITED, WNOWAIT, P_PID } from './constants.js';

const { EINTR } = constants.errno;

const pipe2Fn = fn('int pipe2(int *fds, int flags)');
const fcntlFn = fn('int fcntl(int fd, int cmd, int arg)');
const closeFn = fn('int close(int fd)');
const openFn = fn('int open(const char *path, int flags, uint32_t mode)');
const mkfifoFn = fn('int mkfifo(const char *path, uint32_t mode)');
const syscallFn = fn('long syscall(long number, ...)');
const writeFn = fn('intptr_t write(int fd, const void *buf, size_t count)');
const readFn = fn('intptr_t read(int fd, void *buf, size_t count)');
const prctlFn = fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
const setnsFn = fn('int setns(int fd, int nstype)');
const killFn = fn('int kill(int pid, int sig)');
const waitpidFn = fn('int waitpid(int pid, int *status, int options)');
const waitidFn = fn('int waitid(int idtype, uint32_t id, void *info, int options)');

/** pipe2(2): [read end, write end]. */
export function pipe(flags = O.CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', [flags], pipe2Fn(fds, flags) as number);
  return [fds[0]!, fds[1]!];
}

/** fcntl(F_DUPFD_CLOEXEC): a CLOEXEC copy of fd at the lowest free number >= min. */
export function dupAtLeast(fd: number, min: number): number {
  return check('fcntl', [fd, 'F_DUPFD_CLOEXEC', min], fcntlFn(fd, F.DUPFD_CLOEXEC, min) as number);
}

export function close(fd: number): void {
  check('close', [fd], closeFn(fd) as number);
}

/** Close and forget failures: for cleanup paths that must not throw over the real error. */
export function closeQuietly(fd: number): void {
  closeFn(fd);
}

export function open(path: string, flags: number, mode = 0): number {
  return check('open', [path], openFn(path, flags, mode) as number);
}

/** mkfifo(3): Node has no API for it. */
export function mkfifo(path: string, mode: number): void {
  check('mkfifo', [path], mkfifoFn(path, mode) as number);
}

export function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) {
    const n = Number(writeFn(fd, data.subarray(done), data.length - done));
    if (n === -1) throw new SysError(describeCall('write', [fd]), errno());
    done += n;
  }
}

/** read(2) into buf; 0 at end of file. */
export function read(fd: number, buf: Buffer): number {
  for (;;) {
    const n = Number(readFn(fd, buf, buf.length));
    if (n !== -1) return n;
    if (errno() !== EINTR) throw new SysError(describeCall('read', [fd]), errno());
  }
}

export function getDumpable(): number {
  return check('prctl', ['PR_GET_DUMPABLE'], prctlFn(PR.GET_DUMPABLE, 0, 0, 0, 0) as number);
}

export function setDumpable(value: number): void {
  check('prctl', ['PR_SET_DUMPABLE', value], prctlFn(PR.SET_DUMPABLE, value, 0, 0, 0) as number);
}

/** setns(2) of the calling thread (the main thread: JS runs there). */
export function setns(fd: number, nstype: number): void {
  check('setns', [fd, nstype], setnsFn(fd, nstype) as number);
}

/** prlimit(2): the soft and hard limit of resource of process pid (0: this one), as they were before `set`. */
const prlimitFn = fn('int prlimit64(int pid, int resource, const uint64_t *new_limit, _Out_ uint64_t *old_limit)');
export function prlimit(pid: number, resource: number, set?: { soft: bigint; hard: bigint }): { soft: bigint; hard: bigint } {
  const old = new BigUint64Array(2);
  const limit = set ? new BigUint64Array([set.soft, set.hard]) : null;
  check('prlimit', [pid, resource], prlimitFn(pid, resource, limit, old) as number);
  return { soft: old[0]!, hard: old[1]! };
}

export function kill(pid: number, signal: number): void {
  check('kill', [pid, signal], killFn(pid, signal) as number);
}

/** waitpid(2): the raw status, or null when WNOHANG found the child still running. */
export function waitpid(pid: number, options = 0): number | null {
  const status = new Int32Array(1);
  for (;;) {
    const r = waitpidFn(pid, status, options) as number;
    if (r === -1 && errno() === EINTR) continue;
    check('waitpid', [pid], r);
    return r === 0 ? null : status[0]!;
  }
}

/**
 * Resolve once pid has exited, without reaping it and without blocking the event loop:
 * waitid(WEXITED|WNOWAIT) runs on one of koffi's worker threads. Reaping stays with the
 * main thread (waitpid), so there is exactly one reaper and no pid-reuse race.
 */
export function whenExited(pid: number): Promise<void> {
  const info = Buffer.alloc(128); // siginfo_t, unused: WNOWAIT leaves the status in place
  return new Promise((resolve) => {
    waitidFn.async(P_PID, pid, info, WEXITED | WNOWAIT, () => resolve());
  });
}

/** The address of a libc symbol, for code the child runs natively. */
const dlsymFn = fn('void *dlsym(void *handle, const char *symbol)');
export function symbolAddress(name: string): bigint {
  const p = dlsymFn(null, name) as bigint | null;
  if (!p) throw new Error(`libc has no symbol ${name}`);
  return p;
}

/** pidfd_open(2): a descriptor that pins process pid, so a reused pid is never hit. */
export function pidfdOpen(pid: number): number {
  return check('pidfd_open', [pid], Number(syscallFn(SYS.pidfd_open, 'int', pid, 'int', 0)));
}

/** pidfd_send_signal(2). */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  check('pidfd_send_signal', [pidfd, signal], Number(syscallFn(SYS.pidfd_send_signal, 'int', pidfd, 'int', signal, 'void *', null, 'uint', 0)));
}
