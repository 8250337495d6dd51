// The planned process steps, run for real: a fresh node process (outside any container,
// never inside one) performs each step's call through koffi on its main thread, then
// reads its own /proc/self/status. Every step must succeed and the status must be
// exactly plan.expect: this checks the kernel's capability rules (keepcaps, capset
// after a uid change, ambient raising) against what the planner predicts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from '../src/config/types.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';
import { planProcess } from '../src/runtime/planner/process.js';
import { fdLayout, type Arg, type Step } from '../src/runtime/steps.js';

const SYS = process.arch === 'arm64'
  ? { setgroups: 159, setresuid: 147, setresgid: 149, capset: 91, prlimit64: 261, seccomp: 277 }
  : { setgroups: 116, setresuid: 117, setresgid: 119, capset: 126, prlimit64: 302, seccomp: 317 };

// Runs the steps it is given (as JSON) and reports errnos and /proc/self/status.
const RUNNER = `
import koffi from 'koffi';
import { readFileSync } from 'node:fs';
const { steps, sys } = JSON.parse(readFileSync(0, 'utf8'));
const libc = koffi.load('libc.so.6');
const errnoAt = libc.func('int *__errno_location()');
const errno = () => koffi.decode(errnoAt(), 'int');
const memory = [];
function pointer(arg) {
  const bytes = Buffer.from(arg.hex, 'hex');
  const p = koffi.alloc('uint8_t', Math.max(bytes.length, 1));
  koffi.encode(p, 'uint8_t', Array.from(bytes), bytes.length);
  memory.push(p);
  return koffi.address(p);
}
function fprog(arg) {
  const prog = Buffer.alloc(16);
  prog.writeUInt16LE(Buffer.from(arg.bpf, 'hex').length / 8, 0);
  prog.writeBigUInt64LE(BigInt(pointer({ hex: arg.bpf })), 8);
  return pointer({ hex: prog.toString('hex') });
}
const value = (a) => a === null ? 0n : typeof a === 'object' ? ('bpf' in a ? fprog(a) : pointer(a)) : typeof a === 'string' ? a : BigInt(a);
const syscall = libc.func('long syscall(long, ...)');
const raw = (nr) => (...args) => syscall(nr, ...args.flatMap((a) => [typeof a === 'string' ? 'const char *' : 'uint64_t', a]));
const calls = {
  personality: libc.func('int personality(unsigned long)'),
  umask: libc.func('uint32_t umask(uint32_t)'),
  prctl: libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)'),
  chdir: libc.func('int chdir(const char *)'),
  access: libc.func('int access(const char *, int)'),
  sys_setgroups: raw(sys.setgroups), sys_setresgid: raw(sys.setresgid), sys_setresuid: raw(sys.setresuid),
  sys_capset: raw(sys.capset), sys_prlimit64: raw(sys.prlimit64), sys_seccomp: raw(sys.seccomp),
};
const errors = [];
for (const step of steps) {
  const f = calls[step.call];
  if (!f) { errors.push(step.call + ': not supported by this test'); continue; }
  koffi.encode(errnoAt(), 'int', 0);
  const args = step.args.map(value);
  // raw syscalls take every argument as a u64; libc's prototypes want plain numbers
  const rc = step.call.startsWith('sys_') ? f(...args) : f(...args.map((a) => typeof a === 'bigint' ? Number(a) : a));
  if (Number(rc) === -1 && step.call !== 'umask' && !(step.ok ?? []).includes(errno())) errors.push({ field: step.field, errno: errno() });
}
process.stdout.write(JSON.stringify({ errors, status: readFileSync('/proc/self/status', 'utf8') }));
`;

function encode(arg: Arg): unknown {
  if (arg !== null && typeof arg === 'object') {
    if ('bytes' in arg) return { hex: Buffer.from(arg.bytes).toString('hex') };
    if ('bpf' in arg) return { bpf: Buffer.from(arg.bpf).toString('hex') };
    throw new Error('string arrays are execve-only');
  }
  return typeof arg === 'bigint' ? String(arg) : arg;
}

function run(steps: Step[]): { errors: { field: string; errno: number }[]; status: Map<string, string> } {
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const input = JSON.stringify({ sys: SYS, steps: steps.map((s) => ({ ...s, args: s.args.map(encode) })) });
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', RUNNER], { cwd: repo, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const out = JSON.parse(r.stdout) as { errors: { field: string; errno: number }[]; status: string };
  const status = new Map<string, string>();
  for (const line of out.status.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) status.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { errors: out.errors, status };
}

const hexMask = (s: string | undefined) => BigInt('0x' + (s ?? 'x'));

function check(name: string, process: Record<string, unknown>, linux: Record<string, unknown> = {}): void {
  t.test(name, async (t) => {
    const config = { ociVersion: '1.3.0', process: { args: ['/bin/true'], cwd: '/', ...process }, linux } as unknown as Config;
    const host = await gatherProcessHostFacts(config, '/');
    const plan = planProcess(config, { fds: fdLayout(0, []), userNamespace: false, mode: 'exec', host });
    const { errors, status } = run(plan.steps);
    t.same(errors, [], 'every step succeeds');
    const e = plan.expect;
    t.equal(status.get('Uid'), [e.uid, e.uid, e.uid, e.uid].join('\t'));
    t.equal(status.get('Gid'), [e.gid, e.gid, e.gid, e.gid].join('\t'));
    t.same(status.get('Groups')!.split(/\s+/).filter(Boolean).map(Number), e.groups);
    t.same(
      ['CapBnd', 'CapEff', 'CapPrm', 'CapInh', 'CapAmb'].map((k) => hexMask(status.get(k))),
      [e.capBnd, e.capEff, e.capPrm, e.capInh, e.capAmb],
      'capability sets as planned',
    );
    t.equal(status.get('NoNewPrivs'), e.noNewPrivs ? '1' : '0');
    t.equal(status.get('Seccomp'), String(e.seccomp));
  });
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

check("runc spec's process as root", {
  user: { uid: 0, gid: 0 },
  capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, ambient: DEFAULT_CAPS },
  rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }],
  noNewPrivileges: true,
});

check('a non-root user without no_new_privs keeps exactly the capabilities capset gave', {
  user: { uid: 1000, gid: 1000, additionalGids: [5, 3, 3], umask: 0o077 },
  capabilities: {
    bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_SYSLOG'],
    effective: ['CAP_KILL', 'CAP_SYSLOG'],
    permitted: ['CAP_KILL', 'CAP_CHOWN', 'CAP_SYSLOG'],
    inheritable: ['CAP_KILL', 'CAP_SYSLOG'],
    ambient: ['CAP_KILL', 'CAP_CHOWN', 'CAP_SYSLOG'],
  },
});

check('a non-root user with no capabilities and a seccomp filter last', { user: { uid: 65534, gid: 65534 }, noNewPrivileges: true }, {
  seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] },
});

t.test('raising a hard rlimit needs CAP_SYS_RESOURCE; without it the step fails naming its entry', async (t) => {
  const hard = Number(/^Max open files\s+\d+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  const privileged = (hexMask(/^CapEff:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
  const config = {
    ociVersion: '1.3.0',
    process: { args: ['/bin/true'], cwd: '/', rlimits: [{ type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_NOFILE', soft: hard + 1, hard: hard + 1 }] },
  } as unknown as Config;
  const host = await gatherProcessHostFacts(config, '/');
  const plan = planProcess(config, { fds: fdLayout(0, []), userNamespace: false, mode: 'exec', host });
  const { errors } = run(plan.steps.filter((s) => s.call === 'sys_prlimit64'));
  t.same(errors, privileged ? [] : [{ field: 'process.rlimits[1]', errno: constants.errno.EPERM }]);
});
