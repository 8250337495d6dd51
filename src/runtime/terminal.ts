// process.terminal: the container's process gets a pty, as runc gives it one.
//
// The pty comes from the container's own devpts (as runc's: the child opens
// /dev/pts/ptmx after pivot_root or after joining the mount namespace), so inside the
// container `tty` names /dev/pts/N and, for the init process, /dev/console is the same
// terminal (runc bind-mounts the slave there). The child makes the slave its stdio and
// controlling terminal, and parks the master on an fd number the parent reserved (see
// prepareTerminal). Once setup is done the parent copies the master out of the waiting
// child with pidfd_getfd(2), then either sends it to --console-socket with SCM_RIGHTS
// (what engines use) or, in the foreground without a socket, relays between its own
// stdio and the master.
import { ReadStream, WriteStream } from 'node:tty';
import koffi from 'koffi';
import { check, fn } from '../../bindings/libc.js';
import { MS, O, S, SYS, TIOC } from '../../bindings/constants.js';
import * as sys from '../../bindings/syscalls.js';
import { BerthError } from '../errors.js';
import type { ConsoleSize } from '../config/types.js';
import type { Plan, Step } from './steps.js';

const FIELD = 'process.terminal';
const EEXIST = 17;
const EIO = 'EIO';

const syscallFn = fn('long syscall(long number, ...)');
const ioctlIntFn = fn('int ioctl(int fd, unsigned long request, int *arg)');
const ioctlWinsizeFn = fn('int ioctl(int fd, unsigned long request, uint16_t *ws)');
const socketFn = fn('int socket(int domain, int type, int protocol)');
const connectFn = fn('int connect(int fd, const void *addr, uint32_t len)');
const sendmsgFn = fn('intptr_t sendmsg(int fd, intptr_t msg, int flags)');
const mallocFn = fn('void *malloc(size_t size)');
const freeFn = fn('void free(void *ptr)');

/**
 * runc's rules: a detached process cannot use berth's own stdio as its terminal, so it
 * needs a console socket; and a console socket without a terminal is a mistake.
 */
export function checkTerminalRequest(terminal: boolean, consoleSocket: string | undefined, detach: boolean): void {
  if (terminal && detach && !consoleSocket) {
    throw new BerthError(`${FIELD}: a terminal for a process berth does not wait for needs --console-socket`);
  }
  if (!terminal && consoleSocket) {
    throw new BerthError('--console-socket: only for a process with a terminal (process.terminal or --tty)');
  }
}

export interface PreparedTerminal {
  /** Call right after spawn(): the parent no longer needs the reserved fd number. */
  spawned(): void;
  /** After setup(), before release: a copy of the master the waiting child holds (CLOEXEC). */
  takeMaster(pid: number): number;
}

/**
 * The plan with the terminal steps added before the process steps. The master ends up
 * CLOEXEC on an fd number that this process holds open until spawned(): the executor
 * puts the fds it adds above the plan's table at the lowest free numbers at or above
 * firstFree, so none of them can take a number the parent holds; in the child,
 * close_range has freed it again.
 */
export function prepareTerminal(plan: Plan, mode: 'create' | 'exec', size?: ConsoleSize): { plan: Plan; terminal: PreparedTerminal } {
  const at = plan.steps.findIndex((s) => s.call === 'chdir' && s.field === 'process.cwd');
  if (at < 0) throw new Error('prepareTerminal: the plan has no process.cwd chdir to put the terminal steps before');
  const reserved = reserveFdAtLeast(plan.fds.firstFree);
  const steps = [...plan.steps.slice(0, at), ...terminalSteps(plan.fds.firstFree, reserved, mode), ...plan.steps.slice(at)];
  let held = true;
  const terminal: PreparedTerminal = {
    spawned() {
      if (held) sys.closeQuietly(reserved);
      held = false;
    },
    takeMaster(pid) {
      const master = copyFd(pid, reserved);
      if (size) setWindowSize(master, size);
      return master;
    },
  };
  return { plan: { ...plan, steps }, terminal };
}

/** An fd number >= min that stays taken in this process until closed. */
function reserveFdAtLeast(min: number): number {
  const fd = sys.open('/dev/null', O.RDONLY | O.CLOEXEC);
  try {
    return sys.dupAtLeast(fd, min);
  } finally {
    sys.closeQuietly(fd);
  }
}

/**
 * What the child does, with `free` its lowest free fd: open a new pty in the container's
 * devpts, unlock it, open its slave (TIOCGPTPEER: no path lookup), make the slave fds
 * 0-2 and the controlling terminal of a new session, and park the master.
 */
export function terminalSteps(free: number, parkAt: number, mode: 'create' | 'exec'): Step[] {
  const master = free;
  const slave = free + 1;
  const step = terminalStep;
  return [
    step('open', ['/dev/pts/ptmx', O.RDWR | O.NOCTTY | O.CLOEXEC], `open a new pty master /dev/pts/ptmx as fd ${master}`),
    step('ioctl', [master, TIOC.SPTLCK, { bytes: new Uint8Array(4) }], 'unlock the pty'),
    step('ioctl', [master, TIOC.GPTPEER, O.RDWR | O.NOCTTY], `open the pty slave as fd ${slave}`),
    ...(mode === 'create' ? consoleSteps(slave) : []),
    ...[0, 1, 2].map((fd) => step('dup3', [slave, fd, 0], `make the pty slave fd ${fd}`)),
    step('close', [slave], `close fd ${slave}`),
    step('setsid', [], 'start a new session'),
    step('ioctl', [0, TIOC.SCTTY, 0], 'make the pty the controlling terminal'),
    step('dup3', [master, parkAt, O.CLOEXEC], `keep the pty master on fd ${parkAt} for the parent`),
    step('close', [master], `close fd ${master}`),
  ];
}

function terminalStep(call: Step['call'], args: Step['args'], what: string, extra: Partial<Step> = {}): Step {
  return { call, args, what, field: FIELD, ...extra };
}

/** runc makes /dev/console the container's terminal: the slave bound over it. */
function consoleSteps(slave: number): Step[] {
  return [
    terminalStep('mknod', ['/dev/console', S.IFREG | 0o666, 0], 'create /dev/console to bind the pty on', { ok: [EEXIST] }),
    terminalStep('mount', [`/proc/self/fd/${slave}`, '/dev/console', null, MS.BIND, null], 'bind the pty slave on /dev/console'),
  ];
}

/**
 * After the child's setup: send the master to the console socket (and let go of it),
 * or return it for berth to relay when there is no socket.
 */
export function handOverMaster(terminal: PreparedTerminal, pid: number, consoleSocket: string | undefined): number | undefined {
  const master = terminal.takeMaster(pid);
  if (consoleSocket === undefined) return master;
  try {
    sendToConsoleSocket(consoleSocket, master);
  } finally {
    sys.closeQuietly(master);
  }
  return undefined;
}

/** pidfd_getfd(2): a copy of fd `target` of process pid. */
function copyFd(pid: number, target: number): number {
  const pidfd = sys.pidfdOpen(pid);
  try {
    return check('pidfd_getfd', [pid, target], Number(syscallFn(SYS.pidfd_getfd, 'int', pidfd, 'int', target, 'uint', 0)));
  } finally {
    sys.closeQuietly(pidfd);
  }
}

// ---------------------------------------------------------------------------------
// --console-socket: the master goes to the engine over a unix socket, with SCM_RIGHTS

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SUN_PATH_MAX = 108;

/** The pty's name as runc sends it along with the fd: /dev/pts/N in the container. */
function ptyName(master: number): string {
  const n = new Int32Array(1);
  check('ioctl', [master, 'TIOCGPTN'], ioctlIntFn(master, TIOC.GPTN, n) as number);
  return `/dev/pts/${n[0]}`;
}

export function sendToConsoleSocket(path: string, master: number): void {
  if (Buffer.byteLength(path) >= SUN_PATH_MAX) throw new BerthError(`--console-socket: the path ${path} is too long for a unix socket`);
  const fd = check('socket', ['AF_UNIX'], socketFn(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number);
  try {
    connectTo(fd, path);
    sendFd(fd, master, ptyName(master));
  } catch (error) {
    throw new BerthError(`--console-socket: ${(error as Error).message}`, { cause: error });
  } finally {
    sys.closeQuietly(fd);
  }
}

function connectTo(fd: number, path: string): void {
  const address = Buffer.alloc(2 + SUN_PATH_MAX);
  address.writeUInt16LE(AF_UNIX, 0);
  address.write(path, 2);
  check('connect', [path], connectFn(fd, address, address.length) as number);
}

/**
 * sendmsg(2) with one SCM_RIGHTS fd. The message holds pointers to its parts, so it is
 * laid out in malloc'd memory whose address is known:
 *   0   struct msghdr  { name, namelen, iov, iovlen, control, controllen, flags }  (56)
 *   64  struct iovec   { base, len }                                              (16)
 *   80  struct cmsghdr { len, level, type } + one int fd: CMSG_SPACE(4) = 24
 *   104 the data: the pty's name
 */
function sendFd(socket: number, fd: number, name: string): void {
  const data = Buffer.from(name);
  const size = 104 + data.length;
  const base = mallocFn(size) as bigint | null;
  if (!base) throw new Error(`malloc(${size}) failed`);
  try {
    const view = new DataView(koffi.view(base, size));
    new Uint8Array(view.buffer).fill(0); // msg_name, msg_flags and the paddings stay 0
    view.setBigUint64(16, base + 64n, true); // msg_iov
    view.setBigUint64(24, 1n, true); // msg_iovlen
    view.setBigUint64(32, base + 80n, true); // msg_control
    view.setBigUint64(40, 24n, true); // msg_controllen
    view.setBigUint64(64, base + 104n, true); // iov_base
    view.setBigUint64(72, BigInt(data.length), true); // iov_len
    view.setBigUint64(80, 20n, true); // cmsg_len = CMSG_LEN(4)
    view.setInt32(88, SOL_SOCKET, true);
    view.setInt32(92, SCM_RIGHTS, true);
    view.setInt32(96, fd, true);
    new Uint8Array(view.buffer).set(data, 104);
    const sent = Number(sendmsgFn(socket, base, 0));
    check('sendmsg', [socket], sent);
  } finally {
    freeFn(base);
  }
}

// ---------------------------------------------------------------------------------
// The foreground without a socket: berth relays between its own stdio and the master

export interface TerminalRelay {
  /**
   * Resolves once everything written to the pty has been copied out, or after
   * `graceMs` when something else (a background child) still holds the slave open.
   */
  drained(graceMs?: number): Promise<void>;
  close(): void;
}

/**
 * Copy the master's output to stdout and stdin to the master. When berth's stdin is a
 * terminal it goes raw (the pty does the line editing) and its size follows ours.
 */
export function proxyTerminal(master: number): TerminalRelay {
  const writeFd = sys.dupAtLeast(master, 3);
  const output = new ReadStream(master);
  const input = new WriteStream(writeFd);
  const stdinIsTty = process.stdin.isTTY === true;
  const resize = () => copyWindowSize(master);
  if (stdinIsTty) process.stdin.setRawMode(true);
  if (process.stdout.isTTY) {
    resize();
    process.on('SIGWINCH', resize);
  }
  const forward = (chunk: Buffer) => input.write(chunk);
  process.stdin.on('data', forward);
  process.stdin.resume();

  // The slave's last close makes the master read EIO: that is the end of the output.
  const done = new Promise<void>((resolve) => {
    output.on('data', (chunk) => process.stdout.write(chunk));
    output.on('end', resolve);
    output.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== EIO) process.stderr.write(`berth: terminal: ${error.message}\n`);
      resolve();
    });
  });
  return {
    drained: (graceMs = 1000) => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });
      return Promise.race([done, grace]).finally(() => clearTimeout(timer));
    },
    close() {
      process.off('SIGWINCH', resize);
      process.stdin.off('data', forward);
      process.stdin.pause();
      if (stdinIsTty) process.stdin.setRawMode(false);
      // The streams own their fds: destroying them closes both.
      output.destroy();
      input.destroy();
    },
  };
}

/** process.consoleSize: the pty's window before anyone reads it. */
function setWindowSize(master: number, size: ConsoleSize): void {
  const winsize = new Uint16Array([size.height, size.width, 0, 0]);
  check('ioctl', [master, 'TIOCSWINSZ'], ioctlWinsizeFn(master, TIOC.SWINSZ, winsize) as number);
}

function copyWindowSize(master: number): void {
  const size = new Uint16Array(4);
  if ((ioctlWinsizeFn(1, TIOC.GWINSZ, size) as number) === 0) ioctlWinsizeFn(master, TIOC.SWINSZ, size);
}
