// The container's terminal (process.terminal): berth makes a pty, the container process
// gets the slave as its stdio and controlling terminal, and the master goes to whoever
// listens on --console-socket (podman's conmon, containerd's shim) as an SCM_RIGHTS
// message, as runc sends it. The master never stays with berth.
import { closeSync, constants, openSync } from 'node:fs';
import koffi from 'koffi';
import { check, fn } from '../../bindings/libc.js';
import { BerthError } from '../errors.js';
import type { Step } from './steps.js';

// TODO: use bindings/constants.ts (TIOC, AF, SOCK) once the executor branch is merged.
const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

const posixOpenpt = fn('int posix_openpt(int flags)');
const grantpt = fn('int grantpt(int fd)');
const unlockpt = fn('int unlockpt(int fd)');
const ptsname = fn('const char *ptsname(int fd)');
const ioctlPtr = fn('int ioctl(int fd, unsigned long request, void *arg)');
const socket = fn('int socket(int domain, int type, int protocol)');
const connect = fn('int connect(int fd, const void *addr, uint32_t len)');

const iovec = koffi.struct('berth_iovec', { base: 'void *', len: 'size_t' });
const msghdr = koffi.struct('berth_msghdr', {
  name: 'void *',
  namelen: 'uint32_t',
  iov: koffi.pointer(iovec),
  iovlen: 'size_t',
  control: 'void *',
  controllen: 'size_t',
  flags: 'int',
});
const sendmsg = fn('intptr_t sendmsg(int fd, const berth_msghdr *msg, int flags)');

export interface Pty {
  master: number;
  slave: number;
  /** The slave's path on the host (/dev/pts/N), sent along with the master. */
  slavePath: string;
  close(): void;
}

/** A new pty pair, the window set to process.consoleSize when given. */
export function openPty(size?: { height: number; width: number }): Pty {
  const master = check('posix_openpt', ['O_RDWR|O_NOCTTY|O_CLOEXEC'], posixOpenpt(constants.O_RDWR | constants.O_NOCTTY | 0o2000000) as number);
  let slave = -1;
  try {
    check('grantpt', [master], grantpt(master) as number);
    check('unlockpt', [master], unlockpt(master) as number);
    const slavePath = ptsname(master) as string | null;
    if (!slavePath) throw new BerthError('ptsname: no slave for the new pty');
    slave = openSync(slavePath, constants.O_RDWR | constants.O_NOCTTY);
    if (size) setWindowSize(master, size);
    const pty = { master, slave, slavePath, close: () => closeAll([pty.master, pty.slave]) };
    return pty;
  } catch (error) {
    closeAll([master, slave]);
    throw error;
  }
}

function setWindowSize(fd: number, size: { height: number; width: number }): void {
  const winsize = Buffer.alloc(8);
  winsize.writeUInt16LE(size.height, 0);
  winsize.writeUInt16LE(size.width, 2);
  check('ioctl', [fd, 'TIOCSWINSZ'], ioctlPtr(fd, TIOCSWINSZ, winsize) as number);
}

/** The container process's first steps: a session of its own, the pty as its terminal. */
export function terminalSteps(): Step[] {
  return [
    { call: 'setsid', args: [], what: 'start a new session', field: 'process.terminal' },
    { call: 'ioctl', args: [0, TIOCSCTTY, 0], what: 'make the pty its controlling terminal', field: 'process.terminal' },
  ];
}

/** Send the pty master to the listener on `socketPath` (--console-socket). */
export function sendConsole(socketPath: string, pty: Pty): void {
  const fd = check('socket', ['AF_UNIX', 'SOCK_STREAM'], socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number);
  try {
    const address = Buffer.alloc(110);
    address.writeUInt16LE(AF_UNIX, 0);
    if (Buffer.byteLength(socketPath) > 107) throw new BerthError(`--console-socket: path too long: ${socketPath}`);
    address.write(socketPath, 2);
    try {
      check('connect', [socketPath], connect(fd, address, 2 + Buffer.byteLength(socketPath) + 1) as number);
    } catch (error) {
      throw new BerthError(`--console-socket: ${(error as Error).message}`);
    }
    // struct cmsghdr { size_t len; int level; int type; } followed by the fd: CMSG_SPACE(4) = 24.
    const control = Buffer.alloc(24);
    control.writeBigUInt64LE(20n, 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    control.writeInt32LE(pty.master, 16);
    const name = Buffer.from(pty.slavePath);
    const message = { name: null, namelen: 0, iov: [{ base: name, len: name.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
    check('sendmsg', [socketPath, 'SCM_RIGHTS'], Number(sendmsg(fd, message, 0)));
  } finally {
    closeSync(fd);
  }
}

function closeAll(fds: number[]): void {
  for (const fd of fds) {
    if (fd < 0) continue;
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
  }
}
