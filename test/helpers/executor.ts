// Fixtures for the executor's tests: a busybox root filesystem and hand-written plans
// (no planner involved), plus observations of the host (mounts, zombies, fds).
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLONE, MNT, MS, SYS } from '../../bindings/constants.js';
import { fdLayout, type Gate, type Plan, type Step } from '../../src/runtime/steps.js';

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

const APPLETS = ['sh', 'hostname', 'cat', 'ls', 'echo', 'sleep', 'true', 'id', 'touch', 'readlink'];

/** A temp dir holding a busybox root filesystem, readable by any uid, removed at teardown. */
export function busyboxRootfs(t: Teardown): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-executor-'));
  chmodSync(dir, 0o755);
  const root = join(dir, 'rootfs');
  for (const sub of ['bin', 'proc', 'dev', 'etc', 'tmp']) mkdirSync(join(root, sub), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return root;
}

/** A file outside the rootfs that a container's stdout/stderr can go to. */
export function outputFile(t: Teardown, root: string, name = 'out'): { path: string; fd: number; text(): string } {
  const path = join(root, '..', name);
  const fd = openSync(path, 'w');
  t.teardown(() => closeSync(fd));
  return { path, fd, text: () => readFileSync(path, 'utf8') };
}

/** The steps that put a process into `root` the way runc does: private /, bind, proc, pivot_root. */
export function rootSteps(root: string): Step[] {
  return [
    { call: 'mount', args: [null, '/', null, MS.REC | MS.PRIVATE, null], what: 'make / private', field: 'linux.rootfsPropagation', sync: true },
    { call: 'mount', args: [root, root, null, MS.BIND | MS.REC, null], what: `bind ${root} onto itself`, field: 'root.path' },
    { call: 'mount', args: ['proc', join(root, 'proc'), 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null], what: 'mount proc on /proc', field: 'mounts[0]' },
    { call: 'chdir', args: [root], what: `chdir ${root}`, field: 'root.path' },
    { call: 'sys_pivot_root', args: ['.', '.'], what: 'pivot_root', field: 'root.path' },
    { call: 'umount2', args: ['.', MNT.DETACH], what: 'detach the old root', field: 'root.path' },
    { call: 'chdir', args: ['/'], what: 'chdir /', field: 'root.path' },
  ];
}

export interface PlanOptions {
  args: string[];
  cloneFlags?: number;
  /** Steps before the root steps (setresuid in a user namespace). */
  before?: Step[];
  /** Steps after the root steps (sethostname, failures under test). */
  after?: Step[];
  gate?: Gate;
  preserveFds?: number;
}

/** A container plan in new mount/uts/pid/ipc namespaces running args[0] (absolute) in root. */
export function containerPlan(root: string, options: PlanOptions): Plan {
  const [path, ...rest] = options.args;
  return {
    cloneFlags: options.cloneFlags ?? CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWPID | CLONE.NEWIPC,
    joinNamespaces: [],
    fds: fdLayout(options.preserveFds ?? 0, []),
    rootfs: root,
    steps: [...(options.before ?? []), ...rootSteps(root), ...(options.after ?? [])],
    exec: {
      call: 'execve',
      args: [path!, { strings: [path!.split('/').pop()!, ...rest] }, { strings: ['PATH=/bin', 'HOME=/'] }],
      what: `execve ${path}`,
      field: 'process.args[0]',
    },
    gate: options.gate ?? { kind: 'pipe' },
    expect: {},
  };
}

/** Host mount points at or below path (a container's mounts must never show up here). */
export function hostMountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint === path || mountPoint.startsWith(`${path}/`));
}

/** Zombie children of this process. */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z' && Number(ppid) === process.pid) zombies.push(Number(entry));
  }
  return zombies;
}

export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** /proc/<pid>/stat's state letter, or null once the process is gone (reaped). */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolve once pid sits in a blocking openat(2): a fifo gate's child waiting for berth start. */
export async function blockedInOpen(pid: number): Promise<void> {
  for (;;) {
    const syscall = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    if (syscall === String(SYS.openat)) return;
    await sleep(5);
  }
}
