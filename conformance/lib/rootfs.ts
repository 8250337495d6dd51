// A busybox root filesystem, built offline from the host's static busybox.
//
// Bundles are made hundreds of times per run, so the rootfs is assembled once per
// process (the template) and each bundle gets a copy of it, or, when the container does
// not write to it, the template itself by absolute path.
import { chmodSync, cpSync, mkdirSync, mkdtempSync, openSync, readSync, closeSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUSYBOX = '/bin/busybox';

/** The applets the suite's checks run inside containers. */
export const APPLETS = [
  'sh', 'ash', 'echo', 'cat', 'ls', 'id', 'hostname', 'dnsdomainname', 'sleep', 'true', 'false', 'mount', 'umount',
  'grep', 'wc', 'ps', 'env', 'pwd', 'stat', 'test', '[', 'touch', 'mkdir', 'readlink', 'head', 'tail', 'sed', 'awk',
  'tr', 'cut', 'printf', 'kill', 'uname', 'date', 'find', 'cp', 'rm', 'mknod', 'ln', 'chmod', 'chown', 'sort',
  'uniq', 'xargs', 'sysctl', 'nproc', 'whoami', 'groups', 'mkfifo', 'tee', 'dd', 'df', 'timeout', 'umask', 'setpriv',
  'nsenter', 'unshare', 'ip', 'basename', 'dirname', 'seq', 'yes', 'expr', 'which', 'od', 'hexdump',
];

const DIRS: [string, number][] = [
  ['bin', 0o755], ['proc', 0o555], ['sys', 0o555], ['dev', 0o755], ['tmp', 0o1777], ['etc', 0o755],
  ['root', 0o700], ['run', 0o755], ['var', 0o755], ['home', 0o755], ['mnt', 0o755],
];

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\ntty:x:5:\nnobody:x:65534:\n';

/** True when the ELF file at `path` names a program interpreter (is dynamically linked). */
function isDynamic(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    readSync(fd, head, 0, head.length, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return true; // not ELF64: assume the worst
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (at + 4 > head.length) break;
      if (head.readUInt32LE(at) === 3 /* PT_INTERP */) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function staticBusybox(): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} not found: install the busybox-static package`);
  const real = realpathSync(BUSYBOX);
  if (isDynamic(real)) throw new Error(`${BUSYBOX} is dynamically linked: install the busybox-static package`);
  return real;
}

/** Builds a busybox rootfs at `dir` (which must not exist yet). */
export function buildRootfs(dir: string): void {
  mkdirSync(dir, { mode: 0o755 });
  for (const [name, mode] of DIRS) {
    mkdirSync(join(dir, name));
    chmodSync(join(dir, name), mode); // mkdir's mode is filtered by the umask
  }
  cpSync(staticBusybox(), join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  writeFileSync(join(dir, 'etc', 'passwd'), PASSWD, { mode: 0o644 });
  writeFileSync(join(dir, 'etc', 'group'), GROUP, { mode: 0o644 });
  writeFileSync(join(dir, 'etc', 'hosts'), '127.0.0.1 localhost\n', { mode: 0o644 });
}

let template: string | undefined;

/** This process's template rootfs, built on first use and removed when the process exits. */
export function templateRootfs(): string {
  if (template) return template;
  const parent = mkdtempSync(join(tmpdir(), 'berth-conformance-template-'));
  process.on('exit', () => rmSync(parent, { recursive: true, force: true }));
  chmodSync(parent, 0o755); // see makeBundle: user-namespaced roots must get through
  const dir = join(parent, 'rootfs');
  buildRootfs(dir);
  template = dir;
  return dir;
}

/** A private copy of the template at `dir`, for containers that write to their rootfs. */
export function copyRootfs(dir: string): void {
  cpSync(templateRootfs(), dir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}
