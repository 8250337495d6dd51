// linux.seccomp: the pure translation (filterSpec, seccompFlags), the BPF libseccomp
// compiles from it (structure checked instruction by instruction), and proof that the
// exported program bites once installed in a real process (a separate node process
// outside any container, used only to load these bytes).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeccompFilter } from '../bindings/seccomp.js';
import { compileFilter } from '../src/runtime/planner/process-host.js';
import { filterSpec, seccompFlags, type SeccompConfig } from '../src/runtime/planner/seccomp.js';

const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_KILL_THREAD = 0;
const SECCOMP_RET_LOG = 0x7ffc0000;
const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_RET_K = 0x06;
const NATIVE_ARCH = process.arch === 'arm64' ? 0xc00000b7 : 0xc000003e;
const SYS_MKDIRAT = process.arch === 'arm64' ? 34 : 258;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

function decode(bpf: Uint8Array): Insn[] {
  const view = Buffer.from(bpf);
  const insns: Insn[] = [];
  for (let at = 0; at < view.length; at += 8) {
    insns.push({ code: view.readUInt16LE(at), jt: view[at + 2]!, jf: view[at + 3]!, k: view.readUInt32LE(at + 4) });
  }
  return insns;
}

function compile(config: SeccompConfig): Uint8Array {
  const spec = filterSpec(config);
  return compileFilter(spec, new SeccompFilter(spec.defaultAction));
}

const returns = (insns: Insn[]) => insns.filter((i) => i.code === BPF_RET_K).map((i) => i.k);

t.test('actions, errno values and conditions resolve to kernel values', async (t) => {
  const spec = filterSpec({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    syscalls: [
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  t.equal(spec.defaultAction, SECCOMP_RET_ERRNO | 38);
  t.same(spec.rules.map((r) => [r.syscall, r.action]), [
    ['mkdir', SECCOMP_RET_ERRNO | 1],
    ['kill', 0x80000000],
    ['ptrace', 0x7ff00000 | 5],
    ['personality', SECCOMP_RET_ALLOW],
    ['clone', SECCOMP_RET_ALLOW],
  ]);
  t.same(spec.rules[3]!.conditions, [{ arg: 0, op: 4, a: 8n, b: 0n }]);
  t.same(spec.rules[4]!.conditions, [{ arg: 0, op: 7, a: 2114060288n, b: 0n }]);
});

t.test('conditions on distinct arguments are ANDed, repeated ones split into ORed rules', async (t) => {
  const and = filterSpec({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 2, op: 'SCMP_CMP_EQ' }] }],
  });
  t.same(and.rules.map((r) => r.conditions.length), [2]);
  const or = filterSpec({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['socket', 'socketpair'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 0, value: 2, op: 'SCMP_CMP_EQ' }] }],
  });
  t.same(or.rules.map((r) => [r.syscall, r.conditions.map((c) => c.a)]), [['socket', [1n]], ['socket', [2n]], ['socketpair', [1n]], ['socketpair', [2n]]]);
});

t.test('a rule with the default action is dropped (libseccomp would refuse it)', async (t) => {
  const spec = filterSpec({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  t.same(spec.rules, []);
});

t.test('profile errors name the field', async (t) => {
  const cases: [SeccompConfig, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_NOPE' }, /^linux\.seccomp\.defaultAction: unknown seccomp action "SCMP_ACT_NOPE"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, /^linux\.seccomp\.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_LOG' }, { names: ['b'], action: 'SCMP_ACT_NOTIFY' }] }, /^linux\.seccomp\.syscalls\[1\]\.action: SCMP_ACT_NOTIFY .*not support yet/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_LOG', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }, /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.index: 6 is not a system call argument/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 0, op: 'SCMP_CMP_LIKE' }] }] }, /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_LIKE"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['X86_64'] }, /^linux\.seccomp\.architectures\[0\]: unknown architecture "X86_64"/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock' }, /^linux\.seccomp\.listenerPath: seccomp user notification is not supported yet/],
  ];
  for (const [config, message] of cases) t.throws(() => filterSpec(config), { name: 'BerthError', message });
});

t.test('flags become SECCOMP_FILTER_FLAG_* bits', async (t) => {
  t.equal(seccompFlags({ defaultAction: 'SCMP_ACT_ALLOW' }), 0);
  t.equal(seccompFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }), 7);
  t.throws(() => seccompFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'BOGUS'] }), { message: /^linux\.seccomp\.flags\[1\]: unknown seccomp flag "BOGUS"/ });
  t.throws(() => seccompFlags({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }), { message: /^linux\.seccomp\.flags\[0\]: .*listenerPath/ });
});

t.test('the compiled BPF checks the architecture first and returns the configured actions', async (t) => {
  const insns = decode(compile({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }));
  t.same(insns[0], { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 }, 'loads seccomp_data.arch (offset 4)');
  t.same([insns[1]!.code, insns[1]!.k], [BPF_JMP_JEQ_K, NATIVE_ARCH], 'compares it with the native AUDIT_ARCH');
  t.ok(insns.some((i) => i.code === BPF_JMP_JEQ_K && i.k === SYS_MKDIRAT), 'matches mkdirat by number');
  t.ok(returns(insns).includes(SECCOMP_RET_ERRNO | 1), 'returns ERRNO(1) for it');
  t.ok(returns(insns).includes(SECCOMP_RET_LOG), 'returns the default action otherwise');
  t.equal(insns.at(-1)!.code, BPF_RET_K);
  t.equal(insns.at(-1)!.k, SECCOMP_RET_KILL_THREAD, 'a foreign architecture is killed (libseccomp default)');
});

t.test('rules change the program; unknown system call names are skipped', async (t) => {
  const empty = compile({ defaultAction: 'SCMP_ACT_ALLOW' });
  const one = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
  const two = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'unlinkat'], action: 'SCMP_ACT_ERRNO' }] });
  t.ok(empty.length < one.length && one.length < two.length, `${empty.length} < ${one.length} < ${two.length} bytes`);
  const withUnknown = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdirat', 'no_such_call_in_any_kernel'], action: 'SCMP_ACT_ERRNO' }] });
  t.same(Buffer.from(withUnknown), Buffer.from(one));
});

t.test('an extra architecture adds its own check', { skip: process.arch !== 'x64' && 'x86_64 only' }, async (t) => {
  const insns = decode(compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }));
  const AUDIT_ARCH_I386 = 0x40000003;
  t.ok(insns.some((i) => i.code === BPF_JMP_JEQ_K && i.k === AUDIT_ARCH_I386), 'compares with AUDIT_ARCH_I386 too');
});

// Installed for real: NNP, then seccomp(SET_MODE_FILTER) with these exact bytes in a
// fresh node process (not in a container); its next mkdir must fail with the errno.
const INSTALL_AND_MKDIR = `
import koffi from 'koffi';
import { mkdirSync, readFileSync } from 'node:fs';
const bpf = Buffer.from(process.env.BPF_HEX, 'hex');
const libc = koffi.load('libc.so.6');
const prctl = libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)');
const syscall = libc.func('long syscall(long, ...)');
const insns = koffi.alloc('uint8_t', bpf.length);
koffi.encode(insns, 'uint8_t', Array.from(bpf), bpf.length);
const fprog = Buffer.alloc(16);
fprog.writeUInt16LE(bpf.length / 8, 0);
fprog.writeBigUInt64LE(BigInt(koffi.address(insns)), 8);
if (prctl(38, 1, 0, 0, 0) !== 0) throw new Error('PR_SET_NO_NEW_PRIVS failed');
if (syscall(Number(process.env.SYS_SECCOMP), 'unsigned int', 1, 'unsigned int', 0, 'void *', fprog) != 0) throw new Error('seccomp failed');
const seccomp = /^Seccomp:\\s*(\\d)/m.exec(readFileSync('/proc/self/status', 'utf8'))[1];
let result = 'created';
try { mkdirSync(process.env.DIR); } catch (e) { result = e.code; }
process.stdout.write(JSON.stringify({ seccomp, result }));
`;

t.test('the exported program bites when installed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-seccomp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const repo = fileURLToPath(new URL('../..', import.meta.url));
  const run = (bpf: Uint8Array, name: string) => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', INSTALL_AND_MKDIR], {
      cwd: repo,
      encoding: 'utf8',
      env: { ...process.env, BPF_HEX: Buffer.from(bpf).toString('hex'), DIR: join(dir, name), SYS_SECCOMP: String(process.arch === 'arm64' ? 277 : 317) },
    });
    t.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { seccomp: string; result: string };
  };
  const denied = run(compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }), 'a');
  t.same(denied, { seccomp: '2', result: 'EACCES' }, 'mkdir fails with the configured errno');
  const allowed = run(compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['rmdir'], action: 'SCMP_ACT_ERRNO' }] }), 'b');
  t.same(allowed, { seccomp: '2', result: 'created' }, 'a filter without a mkdir rule lets it through');
});
