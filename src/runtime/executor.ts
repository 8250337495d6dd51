// The executor: turns a Plan into a child process that runs the plan's steps as a
// native libc call chain (clone + setcontext + makecontext), reads every step's report,
// and fails closed. See ../shared/design/process-creation.md and ./steps.ts.
//
// Contract for callers (create, run, exec):
//
//   const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
//   // the child waits; the parent may now place child.pid in cgroups, etc.
//   await child.setup({ hooks }); // writes id maps, lets the steps run, reads every report
//                               // up to the gate, runs the handler of each checkpoint step
//                               // it reaches (the child waits meanwhile); on a failed step
//                               // or handler: kills the child and throws (a StepError names
//                               // the step, field and errno)
//   child.verify();             // compares /proc/<pid>/status with plan.expect (throws)
//   child.release();            // gate 'pipe' only: lets the child exec
//   const status = await child.wait();   // when the caller is the child's parent
//
// On any error before release, the caller calls child.kill() (idempotent; reaps).
//
// What the child runs, in order (every step but the gate reports its errno):
//   prologue   dup3 each fd into its FdLayout place, close_range the rest, restore the
//              signals Node ignores, PR_SET_PDEATHSIG(SIGKILL) while setup runs, then
//              read(sync): wait until the parent wrote the id maps (setup()).
//   plan.steps each one reported; a `sync` step then waits for the parent's go byte;
//              after setresuid/setresgid the parent-death signal is armed again.
//   epilogue   close its own hold on the sync pipe, PR_SET_PDEATHSIG(0): once set up,
//              the container outlives its creator.
//   gate       delivers the withheld '/' of the execve path (see steps.ts Gate).
//   exec       execve, reported only when it fails; then _exit(127).
//
// What planners need to know:
//   - plan.joinPidNamespace is joined here: the parent's main thread setns()es into it
//     around clone() (setns(CLONE_NEWPID) only moves the caller's future children).
//   - CLONE_NEWTIME cannot be a clone() flag (its bit is part of the exit signal):
//     plan an unshare(CLONE_NEWTIME) step instead.
//   - The fifo gate reopens the FIFO through /proc/self/fd/<n> after the plan's steps,
//     as runc does: the container needs /proc mounted (the host path is gone after
//     pivot_root). Without it the gate fails, closed.
//   - plan.expect's uid, gid and groups are ids as the container sees them: verify()
//     translates them through the child's /proc/<pid>/uid_map and gid_map.
//   - Two fds live above the table until the gate (the sync pipe hold, the FIFO): the
//     `open` steps still get firstFree, as the plan's steps close what they open.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { errno, errnoAddress, fn, SysError } from '../../bindings/libc.js';
import { errnoName } from '../../bindings/errno.js';
import { CLONE, CSIGNAL, O, PR, SIGCHLD, SIGKILL, WNOHANG, signalName } from '../../bindings/constants.js';
import * as sys from '../../bindings/syscalls.js';
import { BerthError } from '../errors.js';
import { ChainBuilder, type ChainCall, type NativeArg } from './chain.js';
import type { Checkpoint, Expectations, Plan, Step } from './steps.js';
import { formatCloneFlags } from './dry-run.js';

export interface SpawnOptions {
  /** Host fds that become the child's 0, 1, 2. */
  stdio: [number, number, number];
  /** Host fds 3..3+preserveFds-1 passed through to the container unchanged. */
  preserveFds: number;
}

export interface Child {
  readonly pid: number;
  setup(checkpoints?: CheckpointHandlers): Promise<void>;
  verify(): void;
  release(): void;
  kill(): void;
  /** Exit status in the shell's convention: code, or 128+signal. */
  wait(): Promise<number>;
}

/** What the parent does at each checkpoint step while the child waits (steps.ts Checkpoint). */
export type CheckpointHandlers = Partial<Record<Checkpoint, () => Promise<void>>>;

/** A step as the chain runs it: a planned Step, or one the executor adds around them. */
export interface ChainStep extends Omit<Step, 'call' | 'args'> {
  call: ChainCall;
  args: readonly NativeArg[];
}

/** A step whose errno the parent reads; index is its place in plan.steps, -1 for the executor's own. */
interface Reported {
  step: ChainStep;
  index: number;
}

/**
 * A step that reported an errno that is not in its `ok` list. `index` is the step's place
 * in plan.steps (plan.steps.length for the execve, -1 for a step the executor adds).
 */
export class StepError extends Error {
  constructor(
    readonly step: ChainStep,
    readonly index: number,
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** The plan as text: one line per step, the exact calls in order (`--dry-run`). */
export { formatPlan } from './dry-run.js';

/** Byte values on the sync pipe. */
const GO = Buffer.from([1]);
const SLASH = Buffer.from('/');

const cloneFn = fn('int clone(void *fn, void *stack, int flags, void *arg, ...)');
const setcontextAddress = sys.symbolAddress('setcontext');
const SIG_DFL = 0;
/** Steps after which the kernel has cleared PR_SET_PDEATHSIG (new effective uid or gid). */
const CHANGES_IDS = new Set<ChainCall>(['sys_setresuid', 'sys_setresgid']);
const UINT_MAX = 0xffffffff;

/** The fds the parent opened for one spawn, closed on every path out. */
class ParentFds {
  private readonly owned = new Set<number>();

  add(fd: number): number {
    this.owned.add(fd);
    return fd;
  }

  close(fd: number): void {
    if (this.owned.delete(fd)) sys.closeQuietly(fd);
  }

  closeAll(except: readonly number[] = []): void {
    for (const fd of this.owned) {
      if (except.includes(fd)) continue;
      sys.closeQuietly(fd);
      this.owned.delete(fd);
    }
  }
}

/** Signals this process ignores (SigIgn in /proc/self/status): ignored stays ignored across execve. */
function ignoredSignals(): number[] {
  const line = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  const mask = BigInt(`0x${line?.[1] ?? '0'}`);
  const signals: number[] = [];
  for (let sig = 1; sig <= 64; sig++) if (mask & (1n << BigInt(sig - 1))) signals.push(sig);
  return signals;
}

/** The execve path with its leading '/' withheld: the gate's read delivers it. */
function withheldPath(exec: Step): Uint8Array {
  const path = exec.args[0];
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new BerthError(`${exec.field ?? 'process.args[0]'}: the executable must be an absolute path, not ${JSON.stringify(path)}`);
  }
  const bytes = new Uint8Array(Buffer.byteLength(path) + 1);
  Buffer.from(bytes.buffer).write(path);
  bytes[0] = 0;
  return bytes;
}

/** A 32-bit raw wait status in the shell's convention: code, or 128+signal. */
export function exitCode(status: number): number {
  const signal = status & 0x7f;
  return signal === 0 ? (status >> 8) & 0xff : 128 + signal;
}

function describeStatus(status: number): string {
  const signal = status & 0x7f;
  return signal === 0 ? `exited with status ${(status >> 8) & 0xff}` : `was killed by ${signalName(signal)}`;
}

function stepMessage(step: ChainStep, errno: number): string {
  const what = `${step.what}: ${errnoName(errno)}`;
  return step.field ? `${step.field}: ${what}` : what;
}

/** Where each fd of the child's table comes from (host fd) and whether it survives execve. */
interface Slot {
  target: number;
  source: number;
  cloexec: boolean;
  what: string;
}

/** Everything spawn() prepared in the parent, kept for setup/verify/release. */
interface Prepared {
  slots: Slot[];
  /**
   * The child's own copy of the sync pipe's write end, kept above the table until the
   * gate: while it is open, the parent's death cannot turn a sync wait into end of file
   * (which would let the next step run); the child waits for PR_SET_PDEATHSIG instead.
   */
  syncHold: number;
  /** The exec FIFO (O_PATH) the fifo gate reopens through /proc/self/fd, kept above the table. */
  gateFd: number | null;
  reportRead: number;
  syncWrite: number;
  /** The parent's pid namespace while it sits in a joined one for clone(). */
  pidJoin: { join: number; restore: number } | null;
}

function prepare(plan: Plan, options: SpawnOptions, fds: ParentFds): Prepared {
  const layout = plan.fds;
  if (layout.preserveFds !== options.preserveFds) {
    throw new BerthError(`the plan preserves ${layout.preserveFds} fds but ${options.preserveFds} were passed`);
  }
  if (plan.cloneFlags & CSIGNAL) {
    throw new BerthError(`clone flags 0x${plan.cloneFlags.toString(16)} overlap the exit signal (CLONE_NEWTIME needs unshare)`);
  }
  const [reportRead, reportWrite] = sys.pipe().map((fd) => fds.add(fd)) as [number, number];
  const [syncRead, syncWrite] = sys.pipe().map((fd) => fds.add(fd)) as [number, number];

  const wanted: (Omit<Slot, 'source'> & { host: number })[] = [];
  options.stdio.forEach((host, target) => wanted.push({ target, host, cloexec: false, what: `stdio ${target}` }));
  for (let i = 0; i < options.preserveFds; i++) {
    wanted.push({ target: 3 + i, host: 3 + i, cloexec: false, what: `preserved fd ${3 + i}` });
  }
  wanted.push({ target: layout.report, host: reportWrite, cloexec: true, what: 'report pipe' });
  wanted.push({ target: layout.sync, host: syncRead, cloexec: true, what: 'sync pipe' });
  for (const { type, path } of plan.joinNamespaces) {
    const target = layout.namespaces[type];
    if (target === undefined) throw new BerthError(`linux.namespaces: ${type} has no place in the plan's fd layout`);
    const host = fds.add(openOrExplain(path, O.RDONLY | O.CLOEXEC, `linux.namespaces (${type})`));
    wanted.push({ target, host, cloexec: true, what: `${type} namespace ${path}` });
  }
  // setns(CLONE_NEWPID) only moves the caller's future children: the parent joins for clone().
  const pidJoin = plan.joinPidNamespace
    ? {
        join: fds.add(openOrExplain(plan.joinPidNamespace, O.RDONLY | O.CLOEXEC, 'linux.namespaces (pid)')),
        restore: fds.add(sys.open('/proc/self/ns/pid', O.RDONLY | O.CLOEXEC)),
      }
    : null;
  const rootfs = fds.add(openOrExplain(plan.rootfs, O.PATH | O.DIRECTORY | O.CLOEXEC, 'root.path'));
  wanted.push({ target: layout.rootfs, host: rootfs, cloexec: true, what: `rootfs ${plan.rootfs}` });

  // Every source must sit at or above firstFree, so that no dup3 into place overwrites
  // a source that a later dup3 still needs.
  const slots = wanted.map(({ target, host, cloexec, what }) => ({
    target,
    cloexec,
    what,
    source: host >= layout.firstFree ? host : fds.add(sys.dupAtLeast(host, layout.firstFree)),
  }));
  const gateFd =
    plan.gate.kind === 'fifo'
      ? fds.add(sys.dupAtLeast(fds.add(openOrExplain(plan.gate.path, O.PATH | O.CLOEXEC, 'exec fifo')), layout.firstFree))
      : null;
  const syncHold = fds.add(sys.dupAtLeast(syncWrite, layout.firstFree));
  return { slots, syncHold, gateFd, reportRead, syncWrite, pidJoin };
}

function openOrExplain(path: string, flags: number, field: string): number {
  try {
    return sys.open(path, flags);
  } catch (e) {
    if (e instanceof SysError) throw new BerthError(`${field}: open ${path}: ${e.code}`);
    throw e;
  }
}

/** The chain for a plan, and the steps whose reports the parent reads, in order. */
function buildChain(plan: Plan, prepared: Prepared, pathBuffer: Uint8Array) {
  const layout = plan.fds;
  const chain = new ChainBuilder();
  const errnoPtr = errnoAddress();
  const reported: Reported[] = [];
  const scratch = chain.bytes(new Uint8Array(8));
  const report = (step: ChainStep, fd = layout.report, index = -1) => {
    chain.reportedCall(step.call, step.args, errnoPtr, fd);
    reported.push({ step, index });
  };

  // Until close_range, reports go to the report pipe's source fd: its final place may
  // not hold the pipe yet.
  const reportSource = prepared.slots.find((s) => s.target === layout.report)!.source;
  for (const { source, target, cloexec, what } of prepared.slots) {
    report({ call: 'dup3', args: [source, target, cloexec ? O.CLOEXEC : 0], what: `dup3 ${what} to fd ${target}` }, reportSource);
  }
  const kept = [prepared.syncHold, prepared.gateFd].filter((fd): fd is number => fd !== null);
  for (const [first, last] of rangesAround(layout.firstFree, kept)) {
    report({ call: 'sys_close_range', args: [first, last, 0], what: `close fds ${first}..${last}` });
  }
  for (const sig of ignoredSignals()) {
    report({ call: 'signal', args: [sig, SIG_DFL], what: `restore ${signalName(sig)} to its default` });
  }
  const dieWithParent: ChainStep = { call: 'prctl', args: [PR.SET_PDEATHSIG, SIGKILL, 0, 0, 0], what: 'die with the parent during setup' };
  report(dieWithParent);
  report({ call: 'read', args: [layout.sync, scratch, 1], what: 'wait for the id maps and cgroups' });

  plan.steps.forEach((step, index) => {
    report(step, layout.report, index);
    // A change of effective ids clears the parent-death signal: arm it again. Its
    // report also catches a parent that died in between (SIGPIPE on the report pipe).
    if (CHANGES_IDS.has(step.call)) report(dieWithParent);
    if (step.sync) chain.call('read', [layout.sync, scratch, 1]);
  });
  report({ call: 'close', args: [prepared.syncHold], what: 'let the gate see the parent go' });
  report({ call: 'prctl', args: [PR.SET_PDEATHSIG, 0, 0, 0, 0], what: 'outlive the parent from now on' });

  const path = chain.bytes(pathBuffer);
  if (plan.gate.kind === 'pipe') {
    chain.call('read', [layout.sync, path, 1]);
  } else {
    chain.call('open', [`/proc/self/fd/${prepared.gateFd}`, O.RDONLY | O.CLOEXEC, 0]);
    chain.call('read', [layout.firstFree, path, 1]);
  }
  chain.reportedCall(plan.exec.call, [path, ...plan.exec.args.slice(1)], errnoPtr, layout.report);
  chain.call('_exit', [127]);
  return { chain, reported };
}

/** The fd ranges from first up that close_range must close to leave only `kept` open above first. */
function rangesAround(first: number, kept: number[]): [number, number][] {
  const ranges: [number, number][] = [];
  let from = first;
  for (const fd of [...kept].sort((a, b) => a - b)) {
    if (fd > from) ranges.push([from, fd - 1]);
    from = fd + 1;
  }
  ranges.push([from, UINT_MAX]);
  return ranges;
}

/** Clone the child onto its chain; the parent is non-dumpable meanwhile (the child inherits it). */
function cloneChild(plan: Plan, prepared: Prepared, entry: bigint, stackTop: bigint): number {
  const dumpable = sys.getDumpable();
  sys.setDumpable(0);
  if (prepared.pidJoin) sys.setns(prepared.pidJoin.join, CLONE.NEWPID);
  try {
    const flags = (plan.cloneFlags | SIGCHLD) | 0;
    const pid = cloneFn(setcontextAddress, stackTop, flags, entry) as number;
    if (pid === -1) throw new SysError(`clone(${formatCloneFlags(plan.cloneFlags)})`, errno());
    return pid;
  } finally {
    if (prepared.pidJoin) sys.setns(prepared.pidJoin.restore, CLONE.NEWPID);
    // The child keeps its own copy of the flag; the runtime itself goes back to normal.
    sys.setDumpable(dumpable);
  }
}

export function spawn(plan: Plan, options: SpawnOptions): Child {
  const fds = new ParentFds();
  try {
    const prepared = prepare(plan, options, fds);
    const { chain, reported } = buildChain(plan, prepared, withheldPath(plan.exec));
    const built = chain.build();
    let pid: number;
    try {
      pid = cloneChild(plan, prepared, built.entry, built.stackTop);
    } finally {
      built.free();
    }
    // Only the two parent ends stay open here; the child has its copies of the rest.
    fds.closeAll([prepared.reportRead, prepared.syncWrite]);
    return new ChainChild(pid, plan, prepared, reported, fds);
  } catch (e) {
    fds.closeAll();
    if (e instanceof SysError) throw new BerthError(`cannot create the container process: ${e.message}`, { cause: e });
    throw e;
  }
}

class ChainChild implements Child {
  private status: number | null = null;
  private readonly reports = new ReportReader();

  constructor(
    readonly pid: number,
    private readonly plan: Plan,
    private readonly prepared: Prepared,
    private readonly reported: Reported[],
    private readonly fds: ParentFds,
  ) {}

  async setup(checkpoints: CheckpointHandlers = {}): Promise<void> {
    try {
      this.writeIdMaps();
      this.setParentRlimits();
      sys.writeAll(this.prepared.syncWrite, GO);
      for (const { step, index } of this.reported) {
        const errno = this.reports.next(this.prepared.reportRead);
        if (errno === null) this.died(step);
        if (errno !== 0 && !step.ok?.includes(errno)) throw new StepError(step, index, errno, stepMessage(step, errno));
        if (!step.sync) continue;
        if (step.checkpoint) await checkpoints[step.checkpoint]?.();
        sys.writeAll(this.prepared.syncWrite, GO);
      }
      if (this.plan.gate.kind === 'fifo') {
        // berth start opens the gate; nobody reads the child's reports from here on.
        this.fds.close(this.prepared.syncWrite);
        this.fds.close(this.prepared.reportRead);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  verify(): void {
    let status: string;
    let expect: Expectations;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      // The plan expects ids as the container sees them; /proc shows them as we do.
      const map = (file: string) => parseIdMap(readFileSync(`/proc/${this.pid}/${file}`, 'utf8'));
      expect = hostExpectations(this.plan.expect, map('uid_map'), map('gid_map'));
    } catch {
      this.kill();
      throw new BerthError(`the container process ${describeStatus(this.status!)} before it could be checked`);
    }
    const mismatch = compareStatus(expect, status);
    if (mismatch) {
      this.kill();
      throw new BerthError(`the container process does not have the expected ${mismatch}`);
    }
  }

  release(): void {
    if (this.plan.gate.kind !== 'pipe') throw new Error('release(): the fifo gate is opened by berth start');
    try {
      sys.writeAll(this.prepared.syncWrite, SLASH);
      this.fds.close(this.prepared.syncWrite);
      // A successful execve closes the CLOEXEC report pipe: end of file. A report is execve's errno.
      const errno = this.reports.next(this.prepared.reportRead);
      this.fds.close(this.prepared.reportRead);
      if (errno !== null) {
        const step: ChainStep = this.plan.exec;
        throw new StepError(step, this.plan.steps.length, errno, stepMessage(step, errno));
      }
    } catch (e) {
      this.fail(e);
    }
  }

  kill(): void {
    // Kill before closing the pipes: end of file on the gate would let the child go on.
    if (this.status === null) {
      try {
        sys.kill(this.pid, SIGKILL);
      } catch {
        // Already dead: reap it below all the same.
      }
      this.status = sys.waitpid(this.pid);
    }
    this.fds.closeAll();
  }

  async wait(): Promise<number> {
    while (this.status === null) {
      await sys.whenExited(this.pid);
      if (this.status === null) this.status = sys.waitpid(this.pid, WNOHANG);
    }
    this.fds.closeAll();
    return exitCode(this.status);
  }

  /** Kill and reap the child, and rethrow; a failed pipe operation means the child died. */
  private fail(e: unknown): never {
    this.kill();
    if (e instanceof SysError) {
      throw new BerthError(`the container process ${describeStatus(this.status!)} (${e.message})`, { cause: e });
    }
    throw e;
  }

  /** End of file before every report: the child died. Reap it and say how. */
  private died(step: ChainStep): never {
    this.kill();
    throw new BerthError(`the container process ${describeStatus(this.status!)} during: ${step.field ? `${step.field}: ` : ''}${step.what}`);
  }

  private writeIdMaps(): void {
    const files: [string, string | undefined, string][] = [
      ['uid_map', this.plan.uidMap, 'linux.uidMappings'],
      ['setgroups', this.plan.setgroups, 'linux.gidMappings'],
      ['gid_map', this.plan.gidMap, 'linux.gidMappings'],
    ];
    for (const [file, content, field] of files) {
      if (content === undefined) continue;
      try {
        writeFileSync(`/proc/${this.pid}/${file}`, content);
      } catch (e) {
        throw new BerthError(`${field}: write /proc/${this.pid}/${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
      }
    }
  }

  private setParentRlimits(): void {
    for (const { resource, soft, hard, what, field } of this.plan.parentRlimits ?? []) {
      try {
        sys.prlimit(this.pid, resource, { soft, hard });
      } catch (e) {
        if (e instanceof SysError) throw new BerthError(`${field}: ${what}: ${e.code}`);
        throw e;
      }
    }
  }
}

/** Reads 4-byte errno reports from the report pipe, several per read(2). */
class ReportReader {
  private readonly buffer = Buffer.alloc(4096);
  private start = 0;
  private end = 0;

  /** The next report's errno, or null at end of file. */
  next(fd: number): number | null {
    while (this.end - this.start < 4) {
      if (this.start > 0) {
        this.buffer.copy(this.buffer, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      const n = sys.read(fd, this.buffer.subarray(this.end));
      if (n === 0) return null;
      this.end += n;
    }
    const errno = this.buffer.readInt32LE(this.start);
    this.start += 4;
    return errno;
  }
}

/** One line of /proc/<pid>/uid_map: ids inside, the ids they are outside, how many. */
interface IdRange {
  inside: number;
  outside: number;
  count: number;
}

export function parseIdMap(text: string): IdRange[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((fields) => fields.length === 3 && fields.every(Number.isFinite))
    .map(([inside, outside, count]) => ({ inside: inside!, outside: outside!, count: count! }));
}

/** An id of the child's user namespace as this process sees it; -1 when unmapped (never matches). */
function outsideId(id: number, map: readonly IdRange[]): number {
  const range = map.find((r) => id >= r.inside && id - r.inside < r.count);
  return range ? range.outside + (id - range.inside) : -1;
}

/** Expectations in the container's ids, translated through the child's id maps. */
export function hostExpectations(expect: Expectations, uidMap: readonly IdRange[], gidMap: readonly IdRange[]): Expectations {
  return {
    ...expect,
    ...(expect.uid !== undefined ? { uid: outsideId(expect.uid, uidMap) } : {}),
    ...(expect.gid !== undefined ? { gid: outsideId(expect.gid, gidMap) } : {}),
    ...(expect.groups !== undefined ? { groups: expect.groups.map((g) => outsideId(g, gidMap)) } : {}),
  };
}

/** What verify() compares: a /proc/<pid>/status field, the value expected, and a test. */
interface StatusCheck {
  name: string;
  field: string;
  expected: string;
  matches(found: string): boolean;
}

const hexMask = (value: string) => BigInt(`0x${value || '0'}`);
const idList = (value: string) => value.split(/\s+/).filter(Boolean).map(Number);

function statusChecks(expect: Expectations): StatusCheck[] {
  const checks: StatusCheck[] = [];
  const ids = (name: string, field: string, id: number | undefined) => {
    if (id !== undefined) checks.push({ name, field, expected: `${id} (real, effective, saved, fs)`, matches: (v) => idList(v).every((x) => x === id) });
  };
  const caps = (field: string, mask: bigint | undefined) => {
    if (mask !== undefined) {
      checks.push({ name: `capabilities (${field})`, field, expected: mask.toString(16).padStart(16, '0'), matches: (v) => hexMask(v) === mask });
    }
  };
  ids('uid', 'Uid', expect.uid);
  ids('gid', 'Gid', expect.gid);
  if (expect.groups !== undefined) {
    const groups = expect.groups;
    checks.push({ name: 'groups', field: 'Groups', expected: groups.join(' '), matches: (v) => sameSet(idList(v), groups) });
  }
  caps('CapBnd', expect.capBnd);
  caps('CapEff', expect.capEff);
  caps('CapPrm', expect.capPrm);
  caps('CapInh', expect.capInh);
  caps('CapAmb', expect.capAmb);
  if (expect.noNewPrivs !== undefined) {
    const flag = expect.noNewPrivs ? '1' : '0';
    checks.push({ name: 'NoNewPrivs', field: 'NoNewPrivs', expected: flag, matches: (v) => v === flag });
  }
  if (expect.seccomp !== undefined) {
    const mode = String(expect.seccomp);
    checks.push({ name: 'seccomp mode', field: 'Seccomp', expected: mode, matches: (v) => v === mode });
  }
  return checks;
}

/** The first way /proc/<pid>/status differs from what the plan expects, in words, or null. */
export function compareStatus(expect: Expectations, status: string): string | null {
  const fields = new Map(status.split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
  for (const check of statusChecks(expect)) {
    const found = fields.get(check.field) ?? '';
    if (!check.matches(found)) return `${check.name}: expected ${check.expected}, found ${found.split(/\s+/).join(' ') || 'nothing'}`;
  }
  return null;
}

function sameSet(a: number[], b: number[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}

/**
 * Create the FIFO a fifo gate waits on (berth create, before spawn). The container's
 * process reads it after it has taken the container user's ids, so others may read;
 * only root (berth start) writes. Set with chmod, not mkfifo's mode, which the umask cuts.
 */
export function createFifoGate(path: string): void {
  try {
    sys.mkfifo(path, 0o600);
    chmodSync(path, FIFO_MODE);
  } catch (e) {
    if (e instanceof SysError) throw new BerthError(`cannot create the exec fifo ${path}: ${e.code}`);
    throw e;
  }
}

export const FIFO_MODE = 0o604;

/**
 * Release a container waiting on a fifo gate (berth start): open the FIFO for writing
 * without blocking and write the withheld '/'. ENXIO means no process has it open for
 * reading: the container's process is not (or no longer) waiting to start.
 */
export function openFifoGate(path: string): void {
  let fd: number;
  try {
    fd = sys.open(path, O.WRONLY | O.NONBLOCK | O.CLOEXEC);
  } catch (e) {
    if (e instanceof SysError && e.code === 'ENXIO') throw new BerthError("the container's process is not waiting to start");
    if (e instanceof SysError && e.code === 'ENOENT') throw new BerthError('the container has already been started (no exec fifo)');
    throw e;
  }
  try {
    sys.writeAll(fd, SLASH);
  } finally {
    sys.closeQuietly(fd);
  }
}
