// The facts planProcess needs from the host, gathered with side effects before
// planning: where process.args[0] is in the container, the compiled seccomp filter, the
// kernel's last capability, the uid's home directory, and what the child inherits from
// this process. Every path inside the rootfs is opened with openat2(RESOLVE_IN_ROOT),
// so a symlink in the rootfs (even an absolute one, or "..") never leads out of it.
import { closeSync, constants as fsConstants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { errnoName } from '../../../bindings/errno.js';
import { errno, fn } from '../../../bindings/libc.js';
import { prlimit } from '../../../bindings/syscalls.js';
import type { SeccompFilter } from '../../../bindings/seccomp.js';
import type { Config } from '../../config/types.js';
import { BerthError } from '../../errors.js';
import { hasHome, type ProcessConfig, type ProcessHostFacts } from './process.js';
import { RLIMIT } from './process-consts.js';
import type { Rlimit } from './rlimits.js';
import { filterSpec, seccompFlags, type CompiledSeccomp, type FilterSpec, type SeccompConfig } from './seccomp.js';

/** runc's PATH when process.env has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * For `berth exec`, pass /proc/<init pid>/root as rootfs: it shows the container's
 * mounts, which the bundle's rootfs directory does not.
 */
export async function gatherProcessHostFacts(config: Config, rootfs: string): Promise<ProcessHostFacts> {
  const { process, linux } = config as unknown as { process?: ProcessConfig; linux?: { seccomp?: SeccompConfig } };
  if (!process) throw new BerthError('process: the config has no process to run');
  const root = openSync(rootfs, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    const facts: ProcessHostFacts = {
      executable: findExecutable(root, process),
      capLastCap: capLastCap(),
      inherited: inherited(process),
    };
    if (!hasHome(process.env)) facts.home = homeOf(root, process.user?.uid ?? 0);
    if (linux?.seccomp) facts.seccomp = await compileSeccomp(linux.seccomp);
    return facts;
  } finally {
    closeSync(root);
  }
}

// ---------------------------------------------------------------------------------
// process.args[0], resolved as runc does (Go's exec.LookPath after chdir(cwd))

function findExecutable(root: number, process: ProcessConfig): string {
  const name = process.args?.[0];
  if (!name) throw new BerthError('process.args: needs at least the program to run');
  const cwd = posix.isAbsolute(process.cwd ?? '') ? process.cwd : '/';
  if (name.includes('/')) {
    const path = posix.resolve(cwd, name);
    const problem = executableProblem(root, path);
    if (problem) throw new BerthError(`process.args[0]: ${JSON.stringify(name)}: ${problem}`);
    return path;
  }
  for (const dir of searchPath(process.env).split(':')) {
    // An empty PATH entry means the working directory.
    const path = posix.resolve(cwd, dir || '.', name);
    if (!executableProblem(root, path)) return path;
  }
  throw new BerthError(`process.args[0]: executable file ${JSON.stringify(name)} not found in $PATH`);
}

function searchPath(env: string[] | undefined): string {
  const entry = (env ?? []).findLast((e) => e.startsWith('PATH='));
  return entry === undefined ? DEFAULT_PATH : entry.slice('PATH='.length);
}

/** Why path (in the container) cannot be executed, or null when it can be. */
function executableProblem(root: number, path: string): string | null {
  let stats: Stats;
  try {
    stats = statInRoot(root, path);
  } catch (err) {
    if (err instanceof InRootError) return describeErrno(err.errno);
    throw err;
  }
  if (stats.isDirectory()) return 'is a directory';
  if (!stats.isFile() || (stats.mode & 0o111) === 0) return 'permission denied';
  return null;
}

function describeErrno(code: number): string {
  const name = errnoName(code);
  return name === 'ENOENT' ? 'no such file or directory' : name === 'ENOTDIR' ? 'not a directory' : name;
}

// ---------------------------------------------------------------------------------
// openat2(RESOLVE_IN_ROOT)

const SYS_OPENAT2 = 437; // the same number on every architecture
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;

class InRootError extends Error {
  constructor(
    readonly path: string,
    readonly errno: number,
  ) {
    super(`openat2("${path}", RESOLVE_IN_ROOT): ${errnoName(errno)}`);
  }
}

/** Open path as if the rootfs were /: symlinks and ".." stay inside it. */
function openInRoot(root: number, path: string, flags: number): number {
  const how = Buffer.alloc(24); // struct open_how { u64 flags, mode, resolve; }
  how.writeBigUInt64LE(BigInt(flags | O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), 16);
  const syscall = fn('long syscall(long number, ...)');
  const fd = Number(syscall(SYS_OPENAT2, 'int', root, 'const char *', path, 'void *', how, 'size_t', how.length));
  if (fd < 0) throw new InRootError(path, errno());
  return fd;
}

function statInRoot(root: number, path: string): Stats {
  const fd = openInRoot(root, path, O_PATH);
  try {
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------
// HOME: runc sets it from the container's /etc/passwd when process.env lacks it

/** The home directory of uid in the container's /etc/passwd, or undefined. */
function homeOf(root: number, uid: number): string | undefined {
  let fd: number;
  try {
    fd = openInRoot(root, '/etc/passwd', fsConstants.O_RDONLY);
  } catch (err) {
    if (err instanceof InRootError) return undefined;
    throw err;
  }
  try {
    return parsePasswdHome(readFileSync(fd, 'utf8'), uid);
  } finally {
    closeSync(fd);
  }
}

/** passwd(5): name:password:uid:gid:gecos:home:shell; the first entry for uid wins. */
export function parsePasswdHome(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 7 && fields[2] === String(uid) && fields[5]) return fields[5];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------
// What the child inherits from this process

function capLastCap(): number {
  return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
}

function inherited(process: ProcessConfig): NonNullable<ProcessHostFacts['inherited']> {
  const status = new Map<string, string>();
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) status.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return {
    bounding: BigInt('0x' + (status.get('CapBnd') ?? '0')),
    noNewPrivs: status.get('NoNewPrivs') === '1',
    seccomp: status.get('Seccomp') === '2' ? 2 : 0,
    rlimits: ownRlimits((process.rlimits ?? []).map((r) => r.type)),
  };
}

/** This process's limits of the given types (unknown types are the planner's error to report). */
function ownRlimits(types: readonly string[]): Record<string, Rlimit> {
  const known = types.filter((type) => RLIMIT[type] !== undefined);
  return Object.fromEntries(known.map((type) => [type, prlimit(0, RLIMIT[type]!)]));
}

// ---------------------------------------------------------------------------------
// linux.seccomp -> BPF, with libseccomp, loaded only now

async function compileSeccomp(seccomp: SeccompConfig): Promise<CompiledSeccomp> {
  const spec = filterSpec(seccomp);
  const flags = seccompFlags(seccomp);
  const { libseccomp, SeccompFilter } = await import('../../../bindings/seccomp.js');
  if (!libseccomp()) throw new BerthError('linux.seccomp: libseccomp (libseccomp.so.2) is not installed');
  return { bpf: compileFilter(spec, new SeccompFilter(spec.defaultAction)), flags };
}

/** Unknown system call names are skipped, as runc does: profiles name calls of newer kernels. */
export function compileFilter(spec: FilterSpec, filter: SeccompFilter): Uint8Array {
  try {
    for (const arch of spec.architectures) {
      if (!filter.addArch(arch.name)) throw new BerthError(`${arch.field}: libseccomp does not support this architecture`);
    }
    for (const rule of spec.rules) {
      const nr = filter.resolveSyscall(rule.syscall);
      if (nr === null) continue;
      try {
        filter.addRule(rule.action, nr, rule.conditions);
      } catch (err) {
        throw new BerthError(`${rule.field}: ${rule.syscall}: ${(err as Error).message}`, { cause: err });
      }
    }
    return filter.exportBpf();
  } finally {
    filter.release();
  }
}
