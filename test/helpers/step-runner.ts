// A test harness that runs the filesystem part of a real plan, for real, without the
// executor: a node process whose main thread unshares its own mount (and uts, ipc,
// net) namespace, runs the plan's steps with the same libc calls the executor makes,
// then looks at the result from inside (its sync fs calls run on that thread, so they
// see the container's root) and prints what it saw as JSON.
//
// Node has many fds open, so the plan's fd numbers are translated to the real ones the
// opens return. Namespace steps are the runner's own business (it is not cloned), and
// it stops where the process steps would begin.
//
// Input (stdin): { config, bundle, rootfs, probes: { paths: [...], writes: [...], reads: [...] } }
import { lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { errno, fn } from '../../bindings/libc.js';
import { errnoName } from '../../bindings/errno.js';
import { FD_ARGS, OPENS } from '../../src/runtime/planner/fd-check.js';
import { gatherFsHostFacts } from '../../src/runtime/planner/fs-host.js';
import { plan } from '../../src/runtime/planner/index.js';
import * as K from '../../src/runtime/planner/consts.js';
import type { Arg, Step } from '../../src/runtime/steps.js';

const SYSCALLS: Record<string, Record<string, number>> = {
  x64: { sys_pivot_root: 155, sys_openat2: 437, sys_mount_setattr: 442 },
  arm64: { sys_pivot_root: 41, sys_openat2: 437, sys_mount_setattr: 442 },
};

const PROTOTYPES: Partial<Record<Step['call'], string>> = {
  mount: 'int mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data)',
  umount2: 'int umount2(const char *target, int flags)',
  mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
  mknodat: 'int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)',
  fchownat: 'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
  symlinkat: 'int symlinkat(const char *target, int dirfd, const char *path)',
  open: 'int open(const char *path, int flags, ...)',
  close: 'int close(int fd)',
  fchdir: 'int fchdir(int fd)',
  chdir: 'int chdir(const char *path)',
  chroot: 'int chroot(const char *path)',
  umask: 'uint32_t umask(uint32_t mask)',
  sethostname: 'int sethostname(const char *name, size_t len)',
  setdomainname: 'int setdomainname(const char *name, size_t len)',
  write: 'long write(int fd, const char *buf, size_t len)',
};

const unshare = fn('int unshare(int flags)');
const syscall = fn('long syscall(long nr, ...)');

function pointerArg(a: Arg): unknown {
  if (a !== null && typeof a === 'object' && 'bytes' in a) return Buffer.from(a.bytes);
  return a;
}

/** Call the libc function or raw syscall a step names; returns [result, errno]. */
function call(step: Step, args: Arg[]): [number, number] {
  const nr = SYSCALLS[process.arch]?.[step.call];
  let r: number | bigint;
  if (nr !== undefined) {
    const varargs = args.flatMap((a) => typeof a === 'string' ? ['const char *', a] : a === null ? ['void *', null]
      : typeof a === 'object' ? ['void *', pointerArg(a)] : ['long', a]);
    r = syscall(nr, ...varargs) as number | bigint;
  } else if (step.call === 'open') {
    r = fn(PROTOTYPES.open!)(args[0], args[1]) as number;
  } else {
    const proto = PROTOTYPES[step.call];
    if (!proto) throw new Error(`step-runner: no prototype for ${step.call}`);
    r = fn(proto)(...args) as number;
  }
  const e = errno();
  return [Number(r), Number(r) === -1 ? e : 0];
}

function run(steps: readonly Step[], firstFree: number): { failed?: { index: number; what: string; errno: string } } {
  const realFd = new Map<number, number>();
  for (let fd = 0; fd < firstFree; fd++) realFd.set(fd, fd);
  const translate = (fd: number) => {
    const real = realFd.get(fd);
    if (real === undefined) throw new Error(`step-runner: plan fd ${fd} is not open`);
    return real;
  };
  for (const [index, step] of steps.entries()) {
    const fdPositions = FD_ARGS[step.call] ?? [];
    const args = step.args.map((a, i) => {
      if (typeof a === 'number' && fdPositions.includes(i) && a !== K.AT_FDCWD) return translate(a);
      if (typeof a === 'string') {
        const m = /^\/proc\/self\/fd\/(\d+)$/.exec(a);
        if (m) return `/proc/self/fd/${translate(Number(m[1]))}`;
      }
      return a;
    });
    const [result, err] = call(step, args);
    if (err && !step.ok?.includes(err)) return { failed: { index, what: step.what, errno: errnoName(err) } };
    if (OPENS.has(step.call) && !err) {
      let planFd = 0;
      while (realFd.has(planFd)) planFd++;
      realFd.set(planFd, result);
    }
    if (step.call === 'close') realFd.delete(step.args[0] as number);
  }
  return {};
}

function probe(path: string): unknown {
  try {
    const st = lstatSync(path, { bigint: true });
    const type = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : st.isCharacterDevice() ? 'chr' : st.isBlockDevice() ? 'blk' : st.isFIFO() ? 'fifo' : 'file';
    const rdev = st.rdev;
    return {
      type,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      ...(type === 'chr' || type === 'blk' ? { major: Number((rdev >> 8n) & 0xfffn), minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)) } : {}),
      ...(type === 'link' ? { target: readlinkSync(path) } : {}),
    };
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

function tryWrite(path: string): string {
  try {
    writeFileSync(path, 'x');
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

function tryRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    return `<${(e as NodeJS.ErrnoException).code}>`;
  }
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(0, 'utf8'));
  const facts = await gatherFsHostFacts(input.config, input.bundle, input.rootfs);
  const p = plan({
    config: input.config, bundle: input.bundle, rootfs: input.rootfs, mode: 'create', gate: { kind: 'pipe' },
    preserveFds: 0, noPivot: Boolean(input.noPivot), host: { fs: facts, process: { executable: '/bin/true' } },
  });
  // a user namespace cannot be entered by a multi-threaded process; a pid namespace
  // would only hold children: the filesystem steps need neither
  if (p.cloneFlags & K.CLONE_NEWUSER) throw new Error('step-runner: user namespaces need the executor');
  // The thread's own namespaces; if this fails nothing below may run (it would mount on the host).
  const flags = p.cloneFlags & (K.CLONE_NEWNS | K.CLONE_NEWUTS | K.CLONE_NEWIPC | K.CLONE_NEWNET);
  if (!(flags & K.CLONE_NEWNS) || unshare(flags) !== 0) throw new Error(`step-runner: unshare failed: ${errnoName(errno())}`);
  const fsSteps = p.steps.filter((s) => s.call !== 'setns' && s.call !== 'unshare');
  const result = run(fsSteps, p.fds.firstFree);
  const probes = input.probes ?? {};
  process.stdout.write(JSON.stringify({
    ...result,
    hostname: hostname(),
    mountinfo: readFileSync('/proc/self/mountinfo', 'utf8'),
    paths: Object.fromEntries((probes.paths ?? []).map((path: string) => [path, probe(path)])),
    writes: Object.fromEntries((probes.writes ?? []).map((path: string) => [path, tryWrite(path)])),
    reads: Object.fromEntries((probes.reads ?? []).map((path: string) => [path, tryRead(path)])),
  }));
}

await main();
