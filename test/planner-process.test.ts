// planProcess is pure: these tests feed it configs and host facts and check the exact
// steps (calls, arguments, order) and the /proc/<pid>/status expectations it plans.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../src/config/types.js';
import { BerthError } from '../src/errors.js';
import { cwdSteps, planProcess, type ProcessContext, type ProcessHostFacts } from '../src/runtime/planner/process.js';
import { fdLayout, type Step } from '../src/runtime/steps.js';

const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const EEXIST = 17;

const CAP_CHOWN = 0;
const CAP_KILL = 5;
const CAP_NET_BIND_SERVICE = 10;
const CAP_SYS_ADMIN = 21;
const CAP_AUDIT_WRITE = 29;
const CAP_SYSLOG = 34;

const bit = (...caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n);

interface Cfg {
  process?: Record<string, unknown>;
  linux?: Record<string, unknown>;
}

function config(process: Record<string, unknown> = {}, linux: Record<string, unknown> = {}): Cfg {
  return { process: { args: ['/bin/true'], cwd: '/', ...process }, linux };
}

function context(host: Partial<ProcessHostFacts> = {}, more: Partial<ProcessContext> = {}): ProcessContext {
  return {
    fds: fdLayout(0, []),
    userNamespace: false,
    mode: 'create',
    host: { executable: '/bin/true', capLastCap: 40, ...host },
    ...more,
  };
}

function plan(cfg: Cfg, ctx: ProcessContext = context()) {
  return planProcess({ ociVersion: '1.3.0', ...cfg } as unknown as Config, ctx);
}

const calls = (steps: Step[]) => steps.map((s) => s.call);
const prctls = (steps: Step[], option: number) => steps.filter((s) => s.call === 'prctl' && s.args[0] === option);
const bytesOf = (arg: unknown) => Buffer.from((arg as { bytes: Uint8Array }).bytes);
const index = (steps: Step[], pred: (s: Step) => boolean) => steps.findIndex(pred);

/** The capset step's data decoded back to {effective, permitted, inheritable} masks. */
function capsetSets(steps: Step[]) {
  const step = steps.find((s) => s.call === 'sys_capset')!;
  const header = bytesOf(step.args[0]);
  const data = bytesOf(step.args[1]);
  const word = (off: number) => BigInt(data.readUInt32LE(off)) | (BigInt(data.readUInt32LE(off + 12)) << 32n);
  return {
    version: header.readUInt32LE(0),
    pid: header.readInt32LE(4),
    effective: word(0),
    permitted: word(4),
    inheritable: word(8),
  };
}

t.test("runc spec's default process plans, with the caps runc 1.1.5 gives (measured)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-planproc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('runc', ['spec'], { cwd: dir });
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const p = plan(cfg, context({ executable: '/bin/sh' }));
  const caps = bit(CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE);
  // Measured with runc 1.1.5 on this machine: 0000000020000420 for Bnd, Eff and Prm;
  // CapAmb 0 because the ambient caps are not inheritable.
  t.equal(caps, 0x20000420n);
  t.same(
    { capBnd: p.expect.capBnd, capEff: p.expect.capEff, capPrm: p.expect.capPrm, capInh: p.expect.capInh, capAmb: p.expect.capAmb },
    { capBnd: caps, capEff: caps, capPrm: caps, capInh: 0n, capAmb: 0n },
  );
  t.equal(p.expect.noNewPrivs, true);
  t.equal(p.expect.uid, 0);
  t.same(p.expect.groups, []);
  t.same(p.exec.args, ['/bin/sh', { strings: ['sh'] }, { strings: [...cfg.process.env, 'HOME=/'] }]);
  const rlimit = p.steps.find((s) => s.call === 'sys_prlimit64')!;
  t.equal(rlimit.args[1], 7, 'RLIMIT_NOFILE');
  t.same([bytesOf(rlimit.args[2]).readBigUInt64LE(0), bytesOf(rlimit.args[2]).readBigUInt64LE(8)], [1024n, 1024n]);
});

t.test('capability sets become bounding drops, capset words and ambient raises', async (t) => {
  const cases = [
    { name: 'no capabilities at all', caps: undefined, bnd: 0n, eff: 0n, prm: 0n, inh: 0n, amb: 0n },
    {
      name: 'a cap above 31 lands in the second capset word',
      caps: { bounding: ['CAP_SYSLOG', 'CAP_CHOWN'], effective: ['CAP_SYSLOG'], permitted: ['CAP_SYSLOG', 'CAP_CHOWN'] },
      bnd: bit(CAP_SYSLOG, CAP_CHOWN), eff: bit(CAP_SYSLOG), prm: bit(CAP_SYSLOG, CAP_CHOWN), inh: 0n, amb: 0n,
    },
    {
      name: 'ambient caps that are permitted and inheritable are raised',
      caps: {
        bounding: ['CAP_KILL', 'CAP_SYS_ADMIN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_SYS_ADMIN'],
        inheritable: ['CAP_KILL'], ambient: ['CAP_KILL', 'CAP_SYS_ADMIN'],
      },
      bnd: bit(CAP_KILL, CAP_SYS_ADMIN), eff: bit(CAP_KILL), prm: bit(CAP_KILL, CAP_SYS_ADMIN), inh: bit(CAP_KILL), amb: bit(CAP_KILL),
    },
  ];
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const p = plan(config({ capabilities: c.caps }));
      const drops = prctls(p.steps, PR_CAPBSET_DROP).map((s) => s.args[1] as number);
      const kept = [...Array(41).keys()].filter((cap) => !drops.includes(cap));
      t.same(bit(...kept), c.bnd, 'every cap outside the bounding set is dropped, once');
      t.equal(drops.length + kept.length, 41);
      const set = capsetSets(p.steps);
      t.same(set, { version: 0x20080522, pid: 0, effective: c.eff, permitted: c.prm, inheritable: c.inh });
      const ambient = prctls(p.steps, PR_CAP_AMBIENT).map((s) => [s.args[1], s.args[2]]);
      const raised = ambient.filter(([op]) => op === 2).map(([, cap]) => cap as number);
      t.same(ambient[0], [4, 0], 'the ambient set is cleared first');
      t.same(bit(...raised), c.amb);
      t.same(
        [p.expect.capBnd, p.expect.capEff, p.expect.capPrm, p.expect.capInh, p.expect.capAmb],
        [c.bnd, c.eff, c.prm, c.inh, c.amb],
      );
    });
  }
});

t.test('an unknown capability is an error naming its field', async (t) => {
  t.throws(() => plan(config({ capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_FLY'] } })), {
    name: 'BerthError',
    message: /^process\.capabilities\.bounding\[2\]: unknown capability "CAP_FLY"/,
  });
  t.throws(() => plan(config({ capabilities: { ambient: ['kill'] } })), { message: /process\.capabilities\.ambient\[0\]/ });
});

t.test('a capability the kernel lacks (above cap_last_cap) is left out', async (t) => {
  const p = plan(config({ capabilities: { bounding: ['CAP_CHECKPOINT_RESTORE', 'CAP_KILL'] } }), context({ capLastCap: 39 }));
  t.equal(p.expect.capBnd, bit(CAP_KILL));
  t.equal(prctls(p.steps, PR_CAPBSET_DROP).length, 39, 'caps 0-39 except CAP_KILL are dropped; 40 does not exist');
});

t.test('user: groups, gid, uid with raw syscalls, between keepcaps on and off, then capset', async (t) => {
  const p = plan(config({ user: { uid: 1000, gid: 1001, additionalGids: [5, 3, 3] } }));
  const order = [
    index(p.steps, (s) => s.call === 'prctl' && s.args[0] === PR_SET_KEEPCAPS && s.args[1] === 1),
    index(p.steps, (s) => s.call === 'sys_setgroups'),
    index(p.steps, (s) => s.call === 'sys_setresgid'),
    index(p.steps, (s) => s.call === 'sys_setresuid'),
    index(p.steps, (s) => s.call === 'prctl' && s.args[0] === PR_SET_KEEPCAPS && s.args[1] === 0),
    index(p.steps, (s) => s.call === 'sys_capset'),
  ];
  t.ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)), `in order: ${order.join(' < ')}`);
  t.ok(index(p.steps, (s) => s.args[0] === PR_CAPBSET_DROP) < order[0]!, 'bounding drops come first, while privileged');
  const setgroups = p.steps[order[1]!]!;
  t.equal(setgroups.args[0], 2, 'duplicates removed');
  const list = bytesOf(setgroups.args[1]);
  t.same([list.readUInt32LE(0), list.readUInt32LE(4)], [3, 5]);
  t.same(p.steps[order[2]!]!.args, [1001, 1001, 1001]);
  t.same(p.steps[order[3]!]!.args, [1000, 1000, 1000]);
  t.same({ uid: p.expect.uid, gid: p.expect.gid, groups: p.expect.groups }, { uid: 1000, gid: 1001, groups: [3, 5] });
});

t.test('without additionalGids setgroups still clears the runtime groups', async (t) => {
  const step = plan(config()).steps.find((s) => s.call === 'sys_setgroups')!;
  t.same(step.args, [0, null]);
});

t.test('user namespaces: setgroups denied is skipped; unmapped ids are errors', async (t) => {
  const linux = {
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  };
  const p = plan(config({ user: { uid: 1, gid: 2 } }, linux), context({}, { userNamespace: true, setgroups: 'deny' }));
  t.notOk(calls(p.steps).includes('sys_setgroups'));
  t.equal(p.expect.groups, undefined, 'the groups the namespace shows are not berth\'s to predict');
  t.throws(() => plan(config({ user: { uid: 70000 } }, linux), context({}, { userNamespace: true })), {
    message: /^process\.user\.uid: 70000 is not mapped in the user namespace \(linux\.uidMappings\)/,
  });
  t.throws(() => plan(config({ user: { additionalGids: [1, 70000] } }, linux), context({}, { userNamespace: true })), {
    message: /^process\.user\.additionalGids\[1\]: 70000 is not mapped/,
  });
});

t.test('rlimits: prlimit64(0, resource, {cur, max}, NULL) in config order', async (t) => {
  const p = plan(config({
    rlimits: [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
    ],
  }));
  const steps = p.steps.filter((s) => s.call === 'sys_prlimit64');
  t.same(steps.map((s) => [s.args[0], s.args[1], s.args[3], s.field]), [[0, 7, null, 'process.rlimits[0]'], [0, 4, null, 'process.rlimits[1]']]);
  const limits = steps.map((s) => [bytesOf(s.args[2]).readBigUInt64LE(0), bytesOf(s.args[2]).readBigUInt64LE(8)]);
  t.same(limits, [[1024n, 4096n], [2n ** 64n - 1n, 2n ** 64n - 1n]], 'unlimited is RLIM_INFINITY');
  const before = index(p.steps, (s) => s.call === 'sys_setresuid');
  t.ok(steps.every((s) => p.steps.indexOf(s) < before), 'set before dropping privileges');
});

t.test('in a user namespace the parent raises the hard limits above what the child inherits', async (t) => {
  const rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    { type: 'RLIMIT_NPROC', soft: 10, hard: 99 },
  ];
  const inherited = {
    bounding: 0n, noNewPrivs: false, seccomp: 0 as const,
    rlimits: { RLIMIT_NOFILE: { soft: 1000n, hard: 2000n }, RLIMIT_CORE: { soft: 0n, hard: 5n } },
  };
  const p = plan(config({ rlimits }), context({ inherited }, { userNamespace: true }));
  t.same(p.parentRlimits, [
    { resource: 7, soft: 1000n, hard: 4096n, what: 'raise the hard RLIMIT_NOFILE to 4096', field: 'process.rlimits[0]' },
  ], 'the soft limit stays as inherited; a lower hard limit and an unknown one are left to the child');
  t.equal(p.steps.filter((s) => s.call === 'sys_prlimit64').length, 3, 'the child still sets each limit exactly');
  t.same(plan(config({ rlimits }), context({ inherited })).parentRlimits, [], 'outside a user namespace the child raises them itself');
});

t.test('rlimit errors name the entry', async (t) => {
  const bad = (rlimits: unknown[]) => () => plan(config({ rlimits }));
  t.throws(bad([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), {
    message: /^process\.rlimits\[1\]\.type: unknown resource limit "RLIMIT_FOO"/,
  });
  t.throws(bad([{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]), { message: /^process\.rlimits\[0\]: soft limit 10 is above the hard limit 5/ });
  t.throws(bad([{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 }]), { message: /process\.rlimits\[1\]\.type: RLIMIT_NOFILE is set twice/ });
  t.throws(bad([{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1 }]), { message: /process\.rlimits\[0\]\.soft/ });
});

const SECCOMP_HOST = { seccomp: { bpf: new Uint8Array(16).fill(6), flags: 1 } };
const SECCOMP_CONFIG = { seccomp: { defaultAction: 'SCMP_ACT_ALLOW' } };

t.test('with noNewPrivileges, seccomp is the very last step', async (t) => {
  const p = plan(config({ noNewPrivileges: true, user: { uid: 1000 } }, SECCOMP_CONFIG), context(SECCOMP_HOST));
  const last = p.steps.at(-1)!;
  t.same(last.call, 'sys_seccomp');
  t.same(last.args, [1, 1, { bpf: SECCOMP_HOST.seccomp.bpf }]);
  const nnp = index(p.steps, (s) => s.args[0] === PR_SET_NO_NEW_PRIVS);
  t.same(p.steps[nnp]!.args, [PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
  t.ok(nnp < index(p.steps, (s) => s.call === 'sys_setresuid'), 'no_new_privs is set before the user changes, as runc');
  t.equal(calls(p.steps).filter((c) => c === 'sys_seccomp').length, 1);
  t.same([p.expect.noNewPrivs, p.expect.seccomp], [true, 2]);
});

t.test('without noNewPrivileges, seccomp goes in while still privileged', async (t) => {
  const p = plan(config({ user: { uid: 1000 } }, SECCOMP_CONFIG), context(SECCOMP_HOST));
  const filter = index(p.steps, (s) => s.call === 'sys_seccomp');
  t.ok(filter >= 0 && filter < index(p.steps, (s) => s.args[0] === PR_CAPBSET_DROP), 'before any capability is dropped');
  t.ok(filter < index(p.steps, (s) => s.call === 'sys_setresuid'));
  t.equal(prctls(p.steps, PR_SET_NO_NEW_PRIVS).length, 0);
  t.equal(p.expect.seccomp, 2);
  t.equal(p.expect.noNewPrivs, undefined);
});

t.test('no seccomp in the config: no seccomp step', async (t) => {
  const p = plan(config({ noNewPrivileges: true }));
  t.notOk(calls(p.steps).includes('sys_seccomp'));
  t.equal(p.expect.seccomp, undefined);
});

t.test('what the runtime itself has is inherited in the expectations', async (t) => {
  const inherited = { bounding: bit(CAP_KILL, CAP_CHOWN), noNewPrivs: true, seccomp: 2 as const };
  const p = plan(config({ capabilities: { bounding: ['CAP_KILL', 'CAP_SYSLOG'] } }), context({ inherited }));
  t.same([p.expect.capBnd, p.expect.noNewPrivs, p.expect.seccomp], [bit(CAP_KILL), true, 2]);
  t.same(prctls(p.steps, PR_CAPBSET_DROP).map((s) => s.args[1]), [CAP_CHOWN], 'only caps still present are dropped');
  const q = plan(config(), context({ inherited: { ...inherited, noNewPrivs: false, seccomp: 0 } }));
  t.same([q.expect.noNewPrivs, q.expect.seccomp], [false, 0]);
});

t.test('in a user namespace the child starts with every capability: all but the bounding set are dropped', async (t) => {
  const inherited = { bounding: bit(CAP_KILL, CAP_CHOWN), noNewPrivs: false, seccomp: 0 as const };
  const p = plan(config({ capabilities: { bounding: ['CAP_KILL', 'CAP_SYSLOG'] } }), context({ inherited, capLastCap: 40 }, { userNamespace: true }));
  const dropped = prctls(p.steps, PR_CAPBSET_DROP).map((s) => s.args[1]);
  const expected = [...Array(41).keys()].filter((c) => c !== CAP_KILL && c !== CAP_SYSLOG);
  t.same(dropped, expected, 'even those the runtime itself lacks: the namespace gave them back');
  t.equal(p.expect.capBnd, bit(CAP_KILL, CAP_SYSLOG));
});

t.test('umask: 0022 unless process.user.umask says otherwise', async (t) => {
  t.same(plan(config()).steps.find((s) => s.call === 'umask')!.args, [0o022]);
  t.same(plan(config({ user: { umask: 0o077 } })).steps.find((s) => s.call === 'umask')!.args, [0o077]);
  t.throws(() => plan(config({ user: { umask: 0o1000 } })), { message: /^process\.user\.umask/ });
});

t.test('personality: LINUX32 becomes personality(PER_LINUX32), first', async (t) => {
  const p = plan(config({}, { personality: { domain: 'LINUX32' } }));
  t.same(p.steps[0], { call: 'personality', args: [8], what: 'set the personality to LINUX32', field: 'linux.personality' });
  t.throws(() => plan(config({}, { personality: { domain: 'BSD' } })), { message: /^linux\.personality\.domain: unknown domain "BSD"/ });
  t.notOk(calls(plan(config()).steps).includes('personality'));
});

t.test('cwd: created component by component (by the container plan, create only), then entered as root', async (t) => {
  const mkdirs = cwdSteps(config({ cwd: '/srv/app/', user: { uid: 1000 } }) as unknown as Config);
  t.same(mkdirs.map((s) => [s.call, s.args[0], s.args[1], s.ok]), [['mkdir', '/srv', 0o755, [EEXIST]], ['mkdir', '/srv/app', 0o755, [EEXIST]]]);
  const p = plan(config({ cwd: '/srv/app/', user: { uid: 1000 } }));
  t.notOk(calls(p.steps).includes('mkdir'), 'the process steps only enter it');
  const chdir = index(p.steps, (s) => s.call === 'chdir');
  t.same(p.steps[chdir]!.args, ['/srv/app']);
  t.ok(chdir < index(p.steps, (s) => s.call === 'sys_setresuid'));
  t.throws(() => plan(config({ cwd: 'relative' })), { message: /^process\.cwd: "relative" is not an absolute path/ });
});

t.test('the executable is checked as the final user, and execve gets argv and envp unchanged', async (t) => {
  const env = ['PATH=/bin', 'HOME=/root'];
  const p = plan(config({ args: ['sh', '-c', 'echo hi'], env, user: { uid: 1000 } }), context({ executable: '/bin/sh' }));
  const access = index(p.steps, (s) => s.call === 'access');
  t.same(p.steps[access]!.args, ['/bin/sh', 1]);
  t.equal(p.steps[access]!.field, 'process.args[0]');
  t.ok(access > index(p.steps, (s) => s.call === 'sys_capset'), 'after the user and capabilities are final');
  t.same(p.exec, {
    call: 'execve',
    args: ['/bin/sh', { strings: ['sh', '-c', 'echo hi'] }, { strings: env }],
    what: 'execute /bin/sh',
    field: 'process.args[0]',
  });
});

t.test('HOME comes from the host facts when process.env lacks it or has it empty', async (t) => {
  const envp = (env: string[], home?: string) => (plan(config({ env }), context({ home })).exec.args[2] as { strings: string[] }).strings;
  t.same(envp(['A=1'], '/home/u'), ['A=1', 'HOME=/home/u']);
  t.same(envp(['HOME=', 'A=1'], '/home/u'), ['HOME=/home/u', 'A=1']);
  t.same(envp(['A=1']), ['A=1', 'HOME=/']);
  t.throws(() => plan(config({ env: ['A=1', 'NOEQUALS'] })), { message: /^process\.env\[1\]: "NOEQUALS" is not KEY=value/ });
});

t.test('bad process sections are BerthErrors that name the field', async (t) => {
  t.throws(() => plan({ linux: {} }), BerthError);
  t.throws(() => plan(config({ args: [] })), { message: /^process\.args: / });
  t.throws(() => plan(config({ args: ['a\0b'] })), { message: /^process\.args\[0\]: contains a NUL byte/ });
  t.throws(() => plan(config({ user: { uid: -1 } })), { message: /^process\.user\.uid: / });
  t.throws(() => plan(config({ user: { additionalGids: [1, 1.5] } })), { message: /^process\.user\.additionalGids\[1\]: / });
});
