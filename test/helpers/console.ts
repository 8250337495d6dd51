// The other end of --console-socket, as conmon is: a unix socket that receives the
// pty master over SCM_RIGHTS (koffi: Node's net module cannot receive descriptors).
import { closeSync } from 'node:fs';
import koffi from 'koffi';
import { check, fn } from '../../bindings/libc.js';

const socket = fn('int socket(int domain, int type, int protocol)');
const bind = fn('int bind(int fd, const void *addr, uint32_t len)');
const listen = fn('int listen(int fd, int backlog)');
const accept = fn('int accept4(int fd, void *addr, void *len, int flags)');
const pollFn = fn('int poll(void *fds, unsigned long n, int timeout)');
const iovec = koffi.struct('test_iovec', { base: 'void *', len: 'size_t' });
const msghdr = koffi.struct('test_msghdr', {
  name: 'void *', namelen: 'uint32_t', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int',
});
void msghdr;
const recvmsg = fn('intptr_t recvmsg(int fd, test_msghdr *msg, int flags)');

export class ConsoleListener {
  readonly fd: number;

  constructor(readonly path: string) {
    this.fd = check('socket', [], socket(1, 1 | 0o2000000, 0) as number);
    const address = Buffer.alloc(110);
    address.writeUInt16LE(1, 0);
    address.write(path, 2);
    check('bind', [path], bind(this.fd, address, 2 + Buffer.byteLength(path) + 1) as number);
    check('listen', [path], listen(this.fd, 1) as number);
  }

  /** Wait up to timeoutMs for a connection and return the fd it sends, and its payload. */
  receive(timeoutMs: number): { fd: number; name: string } {
    const pollfd = Buffer.alloc(8);
    pollfd.writeInt32LE(this.fd, 0);
    pollfd.writeInt16LE(1, 4); // POLLIN
    if ((pollFn(pollfd, 1, timeoutMs) as number) !== 1) throw new Error('no connection on the console socket');
    const conn = check('accept4', [], accept(this.fd, null, null, 0o2000000) as number);
    try {
      const data = Buffer.alloc(256);
      const control = Buffer.alloc(64);
      const message = { name: null, namelen: 0, iov: [{ base: data, len: data.length }], iovlen: 1, control, controllen: control.length, flags: 0 };
      const n = Number(check('recvmsg', [], Number(recvmsg(conn, message, 0))));
      if (control.readInt32LE(8) !== 1 || control.readInt32LE(12) !== 1) throw new Error('no SCM_RIGHTS message');
      return { fd: control.readInt32LE(16), name: data.subarray(0, n).toString() };
    } finally {
      closeSync(conn);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
