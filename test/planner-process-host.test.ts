// gatherProcessHostFacts against a real rootfs on disk: PATH lookup like runc, inside
// the rootfs only (symlinks that point out of it must not find host files), HOME from
// the container's /etc/passwd, and the runtime's own inherited state.
import t from 'tap';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../src/config/types.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';

function makeRootfs(): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-planproc-rootfs-'));
  for (const dir of ['bin', 'usr/local/bin', 'etc', 'srv/app', 'bin/adir']) mkdirSync(join(root, dir), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  chmodSync(join(root, 'bin/busybox'), 0o755);
  symlinkSync('busybox', join(root, 'bin/sh'));
  writeFileSync(join(root, 'usr/local/bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(root, 'srv/app/run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(root, 'bin/noexec'), 'data\n', { mode: 0o644 });
  // Both point at the host's runc when followed on the host; inside the rootfs there is none.
  symlinkSync('/usr/bin/runc', join(root, 'bin/escape'));
  symlinkSync('../../../../../../../../usr/bin/runc', join(root, 'bin/dotdot'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n');
  return root;
}

function config(process: Record<string, unknown>, linux: Record<string, unknown> = {}): Config {
  return { ociVersion: '1.3.0', process: { cwd: '/', ...process }, linux } as unknown as Config;
}

t.test('process.args[0] is found as runc finds it, inside the rootfs only', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.ok(existsSync('/usr/bin/runc'), 'the host has the file the escaping symlinks point at');
  const cases: [string, Record<string, unknown>, string][] = [
    ['the default PATH, keeping the name of a symlink', { args: ['sh'] }, '/bin/sh'],
    ['the default PATH searches /usr/local/bin first', { args: ['tool'] }, '/usr/local/bin/tool'],
    ['an absolute path as is', { args: ['/bin/busybox', 'true'] }, '/bin/busybox'],
    ['a path with a slash is relative to process.cwd', { args: ['./run.sh'], cwd: '/srv/app' }, '/srv/app/run.sh'],
    ['an empty PATH entry is process.cwd', { args: ['run.sh'], cwd: '/srv/app', env: ['PATH=:/bin'] }, '/srv/app/run.sh'],
    ['the last PATH in process.env counts', { args: ['tool'], env: ['PATH=/bin', 'PATH=/usr/local/bin'] }, '/usr/local/bin/tool'],
  ];
  for (const [name, process, expected] of cases) {
    const facts = await gatherProcessHostFacts(config(process), root);
    t.equal(facts.executable, expected, name);
  }
});

t.test('a missing or unusable executable is a BerthError naming process.args[0]', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ args: ['tool'], env: ['PATH=/bin'] }, /^process\.args\[0\]: executable file "tool" not found in \$PATH$/],
    [{ args: ['escape'] }, /^process\.args\[0\]: executable file "escape" not found in \$PATH$/],
    [{ args: ['/bin/escape'] }, /^process\.args\[0\]: "\/bin\/escape": no such file or directory$/],
    [{ args: ['/bin/dotdot'] }, /^process\.args\[0\]: "\/bin\/dotdot": no such file or directory$/],
    [{ args: ['noexec'] }, /not found in \$PATH/],
    [{ args: ['/bin/noexec'] }, /^process\.args\[0\]: "\/bin\/noexec": permission denied$/],
    [{ args: ['/bin/adir'] }, /^process\.args\[0\]: "\/bin\/adir": is a directory$/],
    [{ args: [] }, /^process\.args: /],
  ];
  for (const [process, message] of cases) {
    await t.rejects(gatherProcessHostFacts(config(process), root), { name: 'BerthError', message }, JSON.stringify(process));
  }
});

t.test('HOME: the uid\'s home from the container\'s /etc/passwd, only when process.env lacks it', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const home = async (process: Record<string, unknown>) => (await gatherProcessHostFacts(config({ args: ['sh'], ...process }), root)).home;
  t.equal(await home({ user: { uid: 1000 } }), '/home/u');
  t.equal(await home({}), '/root');
  t.equal(await home({ user: { uid: 4242 } }), undefined);
  t.equal(await home({ user: { uid: 1000 }, env: ['HOME=/x'] }), undefined);
});

t.test('what the child inherits is read from this process', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const facts = await gatherProcessHostFacts(config({ args: ['sh'] }), root);
  const status = readFileSync('/proc/self/status', 'utf8');
  t.equal(facts.inherited?.bounding, BigInt('0x' + /^CapBnd:\s*(\S+)/m.exec(status)![1]));
  t.equal(facts.inherited?.noNewPrivs, /^NoNewPrivs:\s*1/m.test(status));
  t.equal(facts.capLastCap, Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8')));
  t.equal(facts.seccomp, undefined, 'no linux.seccomp, no filter (and libseccomp stays unloaded)');
});

t.test('the limits the child inherits are read for the types process.rlimits names', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }, { type: 'RLIMIT_NOSUCH', soft: 1, hard: 1 }];
  const facts = await gatherProcessHostFacts(config({ args: ['sh'], rlimits }), root);
  const [, soft, hard] = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))!;
  const value = (v: string) => (v === 'unlimited' ? 2n ** 64n - 1n : BigInt(v));
  t.same(facts.inherited?.rlimits, { RLIMIT_NOFILE: { soft: value(soft!), hard: value(hard!) } }, 'an unknown type is the planner\'s to report');
});

t.test('linux.seccomp is compiled to BPF with its flags', async (t) => {
  const root = makeRootfs();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
    syscalls: [{ names: ['read', 'write', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' }],
  };
  const facts = await gatherProcessHostFacts(config({ args: ['sh'] }, { seccomp }), root);
  t.equal(facts.seccomp?.flags, 2 | 4);
  t.ok(facts.seccomp!.bpf.length > 0 && facts.seccomp!.bpf.length % 8 === 0, 'whole sock_filter instructions');
  await t.rejects(
    gatherProcessHostFacts(config({ args: ['sh'] }, { seccomp: { ...seccomp, listenerPath: '/run/x.sock' } }), root),
    { name: 'BerthError', message: /^linux\.seccomp\.listenerPath: .*not supported yet/ },
  );
  await t.rejects(
    gatherProcessHostFacts(config({ args: ['sh'] }, { seccomp: { ...seccomp, architectures: ['SCMP_ARCH_PDP11'] } }), root),
    { name: 'BerthError', message: /^linux\.seccomp\.architectures\[0\]: libseccomp does not support this architecture/ },
  );
});
