// The dry run: a plan printed as the exact calls the child will make, one per line,
// with flags decoded by name, so `berth create --dry-run` shows what a config turns into.
import { CLONE, F, MNT, MS, O, PR, RESOLVE, SIGNALS, UMOUNT_NOFOLLOW, AT, CLOSE_RANGE } from '../../bindings/constants.js';
import { errnoName } from '../../bindings/errno.js';
import type { Arg, Plan, Step } from './steps.js';

type FlagTable = Readonly<Record<string, number>>;

/** Symbolic flags: `MS_NOSUID|MS_NODEV`, leftover bits in hex, 0 as `0`. */
export function formatFlags(value: number, table: FlagTable, prefix: string): string {
  // Wider masks first, so a composite (O_SYNC includes O_DSYNC) wins over its parts.
  const entries = Object.entries(table)
    .filter(([name, bit]) => bit !== 0 && !name.startsWith('_'))
    .sort(([, a], [, b]) => popcount(b) - popcount(a));
  let rest = value >>> 0;
  const names: string[] = [];
  for (const [name, bit] of entries) {
    const b = bit >>> 0;
    if ((rest & b) === b) {
      names.push(prefix + name);
      rest = (rest & ~b) >>> 0;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join('|') : '0';
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n >>> 0; v; v &= v - 1) count++;
  return count;
}

export function formatCloneFlags(flags: number): string {
  const { NEWTIME: _time, ...table } = CLONE; // 0x80 is an exit-signal bit to clone()
  return formatFlags(flags, table, 'CLONE_');
}

/** open(2) flags: the access mode (O_RDONLY is 0) and then the other bits. */
export function formatOpenFlags(flags: number): string {
  const mode = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & O.ACCMODE]!;
  const { RDONLY: _r, WRONLY: _w, RDWR: _rw, ACCMODE: _a, ...rest } = O;
  const others = formatFlags(flags & ~O.ACCMODE, rest, 'O_');
  return others === '0' ? mode : `${mode}|${others}`;
}

const UMOUNT_FLAGS: FlagTable = { ...MNT, NOFOLLOW: UMOUNT_NOFOLLOW };
const PR_NAMES = new Map<number, string>(
  Object.entries(PR)
    .filter(([name]) => !name.startsWith('CAP_AMBIENT_'))
    .map(([name, value]) => [value, `PR_${name}`]),
);
const F_NAMES = new Map<number, string>(Object.entries(F).map(([name, value]) => [value, `F_${name}`]));
const AT_FLAGS: FlagTable = Object.fromEntries(Object.entries(AT).filter(([name]) => name !== 'FDCWD' && name !== 'EACCESS'));

/** How to show argument `index` of `call`, where a number means more than its digits. */
function decoder(call: string, index: number): ((n: number) => string) | null {
  const key = `${call}/${index}`;
  switch (key) {
    case 'mount/3':
      return (n) => formatFlags(n, MS, 'MS_');
    case 'umount2/1':
      return (n) => formatFlags(n, UMOUNT_FLAGS, 'MNT_');
    case 'open/1':
    case 'openat/2':
    case 'dup3/2':
      return formatOpenFlags;
    case 'setns/1':
    case 'unshare/0':
      return formatCloneFlags;
    case 'prctl/0':
      return (n) => PR_NAMES.get(n) ?? String(n);
    case 'fcntl/1':
      return (n) => F_NAMES.get(n) ?? String(n);
    case 'kill/1':
      return (n) => Object.entries(SIGNALS).find(([, v]) => v === n)?.[0] ?? String(n);
    case 'sys_close_range/2':
      return (n) => formatFlags(n, CLOSE_RANGE, 'CLOSE_RANGE_');
    case 'fchownat/4':
    case 'mknodat/4':
    case 'sys_open_tree/2':
    case 'sys_mount_setattr/2':
      return (n) => formatFlags(n, AT_FLAGS, 'AT_');
  }
  if (/^(openat|mkdirat|mknodat|fchownat|symlinkat\/1|sys_openat2|sys_open_tree|sys_mount_setattr)\/0$/.test(key)) {
    return (n) => (n === AT.FDCWD ? 'AT_FDCWD' : String(n));
  }
  return null;
}

/** struct open_how {u64 flags, mode, resolve}, as openat2's third argument. */
function formatOpenHow(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = Number(view.getBigUint64(0, true));
  const mode = Number(view.getBigUint64(8, true));
  const resolve = Number(view.getBigUint64(16, true));
  return `{flags=${formatOpenFlags(flags)}, mode=0${mode.toString(8)}, resolve=${formatFlags(resolve, RESOLVE, 'RESOLVE_')}}`;
}

function formatArg(call: string, index: number, arg: Arg): string {
  if (arg === null) return 'NULL';
  if (typeof arg === 'string') return JSON.stringify(arg);
  if (typeof arg === 'bigint') return arg > 0xffffn ? `0x${arg.toString(16)}` : String(arg);
  if (typeof arg === 'number') return decoder(call, index)?.(arg) ?? String(arg);
  if ('strings' in arg) return `[${arg.strings.map((s) => JSON.stringify(s)).join(', ')}]`;
  if ('bpf' in arg) return `&{len=${arg.bpf.length / 8}, filter=<BPF program>}`;
  if (call === 'sys_openat2' && index === 2 && arg.bytes.length >= 24) return formatOpenHow(arg.bytes);
  return `<${arg.bytes.length} bytes: ${Buffer.from(arg.bytes).toString('hex')}>`;
}

/** One call as C: `mount("proc", "/proc", "proc", MS_NOSUID, NULL)`; raw calls as syscall(SYS_x, ...). */
export function formatCall(step: Pick<Step, 'call' | 'args'>): string {
  const args = step.args.map((a, i) => formatArg(step.call, i, a));
  if (step.call.startsWith('sys_')) return `syscall(SYS_${step.call.slice(4)}${args.map((a) => `, ${a}`).join('')})`;
  return `${step.call}(${args.join(', ')})`;
}

function stepLine(index: number | string, step: Step): string {
  const call = formatCall(step);
  const notes = [
    ...(step.ok?.length ? [`${step.ok.map(errnoName).join(', ')} is fine`] : []),
    ...(step.sync ? ['waits for the parent'] : []),
  ];
  const comment = [step.field, step.what].filter(Boolean).join(': ') + notes.map((n) => ` (${n})`).join('');
  return `${String(index).padStart(4)}  ${call.padEnd(60)}   # ${comment}`;
}

/** The executor's own steps before the plan's, in one line. */
function prologue(plan: Plan): string {
  const { preserveFds, report, sync, firstFree } = plan.fds;
  const preserved = preserveFds ? `, preserved fds to 3..${2 + preserveFds}` : '';
  return (
    `prologue: dup3 stdio to 0..2${preserved}, the report pipe to ${report}, the sync pipe to ${sync}; ` +
    `close_range(${firstFree}, ~0U); restore ignored signals; wait for the parent's setup`
  );
}

export function formatPlan(plan: Plan): string {
  const lines = [`clone(${formatCloneFlags(plan.cloneFlags)}|SIGCHLD)`];
  if (plan.joinPidNamespace) lines.push(`parent joins pid namespace ${plan.joinPidNamespace} around clone()`);
  for (const { type, path } of plan.joinNamespaces) lines.push(`join ${type} namespace ${path} as fd ${plan.fds.namespaces[type]}`);
  lines.push(`rootfs ${plan.rootfs} as fd ${plan.fds.rootfs}; the first free fd is ${plan.fds.firstFree}`);
  lines.push(prologue(plan));
  for (const [file, content] of [['uid_map', plan.uidMap], ['setgroups', plan.setgroups], ['gid_map', plan.gidMap]] as const) {
    if (content !== undefined) lines.push(`parent writes /proc/<pid>/${file}: ${JSON.stringify(content)}`);
  }
  for (const { field, what } of plan.parentRlimits ?? []) lines.push(`parent sets with prlimit(<pid>): ${field}: ${what}`);
  plan.steps.forEach((step, i) => lines.push(stepLine(i, step)));
  lines.push(
    plan.gate.kind === 'pipe'
      ? `gate: wait for the parent to release the process`
      : `gate: wait for berth start at ${plan.gate.path}`,
  );
  lines.push(stepLine('exec', plan.exec));
  return lines.join('\n') + '\n';
}
