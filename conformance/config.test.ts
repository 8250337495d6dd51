// config.md: what a container's process sees of its root, mounts, process settings,
// hostname and domainname. Every check runs inside the container with busybox.
import t, { type Test } from 'tap';
import { mkdtempSync, symlinkSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFor, runToCompletion } from './lib/bundle.js';
import { canRunBaseline, fields, ranOk, runContainer, sh } from './lib/check.js';

const writable = { root: { readonly: false } };

/** A host directory for bind mounts, removed when `t` ends. */
function hostDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-conformance-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The /proc/self/mountinfo-style line of /proc/mounts for `target`, split in fields. */
function mountOf(procMounts: string, target: string): { type: string; options: string[] } | undefined {
  const line = procMounts.split('\n').reverse().find((l) => l.split(' ')[1] === target);
  if (!line) return undefined;
  const [, , type, options] = line.split(' ');
  return { type: type!, options: options!.split(',') };
}

// --- root ---------------------------------------------------------------------------

t.test('config.md#root MUST: root.path (relative to the bundle) is the root filesystem', async (t) => {
  const b = bundleFor(t, { args: ['cat', '/marker'] });
  writeFileSync(join(b.rootfs, 'marker'), 'this rootfs\n');
  const r = runToCompletion(b);
  if (ranOk(t, r)) t.equal(r.stdout, 'this rootfs\n');
});

t.test('config.md#root MUST: root.path may be an absolute path', async (t) => {
  const r = runContainer(t, { rootfs: 'shared', args: ['cat', '/etc/passwd'] });
  if (ranOk(t, r)) t.match(r.stdout, /^root:x:0:0:/);
});

t.test('config.md#root MUST: root.readonly true makes the root filesystem read-only', async (t) => {
  const r = runContainer(t, { args: sh('touch /x 2>&1; echo status=$?; grep " / " /proc/mounts') });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /Read-only file system/);
  t.match(r.stdout, /status=1/);
  t.ok(mountOf(r.stdout.split('\n').slice(2).join('\n'), '/')?.options.includes('ro'), '/ is mounted ro');
});

t.test('config.md#root MUST: root.readonly false leaves the root filesystem writable', async (t) => {
  const b = bundleFor(t, { args: sh('echo written > /x'), patch: writable });
  const r = runToCompletion(b);
  if (ranOk(t, r)) t.equal(readFileSync(join(b.rootfs, 'x'), 'utf8'), 'written\n');
});

// --- mounts -------------------------------------------------------------------------

t.test('config.md#mounts MUST: a tmpfs is mounted at its destination with its options', async (t) => {
  const mounts = [{ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m', 'mode=700'] }];
  const r = runContainer(t, { args: sh('cat /proc/mounts; stat -c "mode=%a" /data'), mounts });
  if (!ranOk(t, r)) return;
  const m = mountOf(r.stdout, '/data');
  t.equal(m?.type, 'tmpfs');
  for (const o of ['nosuid', 'nodev', 'noexec', 'size=1024k', 'mode=700']) t.ok(m?.options.includes(o), `option ${o}`);
  t.match(r.stdout, /mode=700/);
});

t.test('config.md#mounts MUST: the destination is created when it does not exist', async (t) => {
  const mounts = [{ destination: '/new/deep/dir', type: 'tmpfs', source: 'tmpfs' }];
  const r = runContainer(t, { args: sh('grep " /new/deep/dir " /proc/mounts'), mounts });
  if (ranOk(t, r)) t.match(r.stdout, /^tmpfs \/new\/deep\/dir tmpfs/);
});

t.test('config.md#mounts MUST: mounts are made in the order of the array', async (t) => {
  const mounts = [
    { destination: '/a', type: 'tmpfs', source: 'first' },
    { destination: '/a/b', type: 'tmpfs', source: 'second' },
  ];
  const r = runContainer(t, { args: sh('cut -d" " -f1,2 /proc/mounts | grep " /a"'), mounts });
  if (ranOk(t, r)) t.equal(r.stdout, 'first /a\nsecond /a/b\n');
});

t.test('config.md#mounts MUST: a read-only bind mount shows the host files and refuses writes', async (t) => {
  const dir = hostDir(t);
  writeFileSync(join(dir, 'file'), 'from the host\n');
  const mounts = [{ destination: '/host', type: 'bind', source: dir, options: ['rbind', 'ro'] }];
  const r = runContainer(t, { args: sh('cat /host/file; touch /host/new 2>&1; echo status=$?'), mounts });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /^from the host\n/);
  t.match(r.stdout, /Read-only file system\nstatus=1/);
  t.notOk(existsSync(join(dir, 'new')));
});

t.test('config.md#mounts MUST: a read-write bind mount writes through to the host', async (t) => {
  const dir = hostDir(t);
  const mounts = [{ destination: '/host', type: 'bind', source: dir, options: ['rbind', 'rw'] }];
  const r = runContainer(t, { args: sh('echo from the container > /host/new'), mounts });
  if (ranOk(t, r)) t.equal(readFileSync(join(dir, 'new'), 'utf8'), 'from the container\n');
});

t.test('config.md#mounts MUST: a bind mount of a single file', async (t) => {
  const dir = hostDir(t);
  writeFileSync(join(dir, 'file'), 'one file\n');
  const mounts = [{ destination: '/etc/file', type: 'bind', source: join(dir, 'file'), options: ['bind', 'ro'] }];
  const r = runContainer(t, { args: ['cat', '/etc/file'], mounts });
  if (ranOk(t, r)) t.equal(r.stdout, 'one file\n');
});

t.test('config.md#mounts MUST: proc is mounted at /proc and shows the container pid namespace', async (t) => {
  const r = runContainer(t, { args: sh('echo pid=$$; grep " /proc " /proc/mounts') });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /^pid=1\n/);
  t.match(r.stdout, /^proc \/proc proc /m);
});

t.test('config.md#mounts MUST: sysfs is mounted read-only at /sys with its options', async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/mounts'] });
  if (!ranOk(t, r)) return;
  const m = mountOf(r.stdout, '/sys');
  t.equal(m?.type, 'sysfs');
  for (const o of ['ro', 'nosuid', 'nodev', 'noexec']) t.ok(m?.options.includes(o), `option ${o}`);
});

t.test('config.md#mounts MUST: a mount whose destination is a symlink out of the rootfs stays inside it', async (t) => {
  if (!canRunBaseline(t)) return;
  const outside = hostDir(t);
  const b = bundleFor(t, {
    args: sh('grep -c " /escape " /proc/mounts; true'),
    mounts: [{ destination: '/escape', type: 'tmpfs', source: 'tmpfs' }],
  });
  // /escape -> <host dir>: a runtime that follows it would mount over the host's directory.
  rmSync(join(b.rootfs, 'escape'), { force: true });
  symlinkSync(outside, join(b.rootfs, 'escape'));
  writeFileSync(join(outside, 'canary'), 'still here\n');
  runToCompletion(b);
  t.equal(readFileSync(join(outside, 'canary'), 'utf8'), 'still here\n', 'the host directory was not mounted over');
  const hostMounts = readFileSync('/proc/self/mounts', 'utf8');
  t.notMatch(hostMounts, outside, 'nothing is mounted on the host directory');
});

// --- process ------------------------------------------------------------------------

t.test('config.md#process MUST: args are the argv of the process, exactly', async (t) => {
  const r = runContainer(t, { args: ['sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'argv0', 'one', 'two words', ''] });
  if (ranOk(t, r)) t.equal(r.stdout, '[one]\n[two words]\n[]\n');
});

t.test('config.md#process MUST: the process exit status is the container exit status', async (t) => {
  t.equal(runContainer(t, { args: sh('exit 42') }).status, 42);
});

t.test('config.md#process MUST: env is the process environment', async (t) => {
  const env = ['PATH=/bin', 'CONFORMANCE_ONE=1', 'CONFORMANCE_TWO=a b=c'];
  const r = runContainer(t, { args: ['env'], patch: { process: { env } } });
  if (!ranOk(t, r)) return;
  const seen = r.stdout.split('\n');
  for (const e of env) t.ok(seen.includes(e), e);
});

t.test('config.md#process MUST: cwd is the working directory', async (t) => {
  const r = runContainer(t, { args: ['pwd'], patch: { process: { cwd: '/etc' } } });
  if (ranOk(t, r)) t.equal(r.stdout, '/etc\n');
});

t.test('config.md#user MUST: the process runs as user.uid and user.gid', async (t) => {
  const r = runContainer(t, { args: sh('id -u; id -g'), patch: { process: { user: { uid: 1234, gid: 5678 } } } });
  if (ranOk(t, r)) t.equal(r.stdout, '1234\n5678\n');
});

t.test('config.md#user MUST: additionalGids are the supplementary groups', async (t) => {
  const r = runContainer(t, { args: ['grep', '^Groups:', '/proc/self/status'], patch: { process: { user: { uid: 1000, gid: 1000, additionalGids: [10, 20, 30] } } } });
  if (ranOk(t, r)) t.same(r.stdout.replace('Groups:', '').trim().split(/\s+/).map(Number).sort((a, b) => a - b), [10, 20, 30]);
});

t.test('config.md#user MUST: umask is the process umask', async (t) => {
  const r = runContainer(t, { args: sh('umask'), patch: { process: { user: { uid: 0, gid: 0, umask: 0o27 } } } });
  if (ranOk(t, r)) t.equal(r.stdout, '0027\n');
});

/** The bit mask of capability numbers, as /proc/self/status prints it. */
const capMask = (...caps: number[]) => caps.reduce((m, c) => m | (1n << BigInt(c)), 0n).toString(16).padStart(16, '0');
const CAP = { CHOWN: 0, KILL: 5, NET_BIND_SERVICE: 10 } as const;

function capsOf(stdout: string): Record<string, string> {
  return fields(stdout);
}

t.test('config.md#linux-process MUST: capabilities.bounding is the bounding set', async (t) => {
  const set = ['CAP_CHOWN', 'CAP_KILL'];
  const capabilities = { bounding: set, effective: set, permitted: set };
  const r = runContainer(t, { args: ['grep', '^Cap', '/proc/self/status'], patch: { process: { capabilities } } });
  if (!ranOk(t, r)) return;
  const c = capsOf(r.stdout);
  t.equal(c['CapBnd'], capMask(CAP.CHOWN, CAP.KILL), 'CapBnd');
  t.equal(c['CapEff'], capMask(CAP.CHOWN, CAP.KILL), 'CapEff');
  t.equal(c['CapPrm'], capMask(CAP.CHOWN, CAP.KILL), 'CapPrm');
});

t.test('config.md#linux-process MUST: capabilities.inheritable is the inheritable set', async (t) => {
  const set = ['CAP_CHOWN', 'CAP_KILL'];
  const capabilities = { bounding: set, effective: set, permitted: set, inheritable: ['CAP_KILL'] };
  const r = runContainer(t, { args: ['grep', '^Cap', '/proc/self/status'], patch: { process: { capabilities } } });
  if (ranOk(t, r)) t.equal(capsOf(r.stdout)['CapInh'], capMask(CAP.KILL));
});

t.test('config.md#linux-process MUST: capabilities.ambient keeps capabilities for a non-root user', async (t) => {
  const set = ['CAP_NET_BIND_SERVICE'];
  const capabilities = { bounding: set, effective: set, permitted: set, inheritable: set, ambient: set };
  const r = runContainer(t, { args: ['grep', '^Cap', '/proc/self/status'], patch: { process: { user: { uid: 1000, gid: 1000 }, capabilities } } });
  if (!ranOk(t, r)) return;
  const c = capsOf(r.stdout);
  t.equal(c['CapAmb'], capMask(CAP.NET_BIND_SERVICE), 'CapAmb');
  t.equal(c['CapEff'], capMask(CAP.NET_BIND_SERVICE), 'CapEff');
});

t.test('config.md#linux-process MUST: a non-root user without ambient capabilities has none effective', async (t) => {
  const set = ['CAP_CHOWN', 'CAP_KILL'];
  const capabilities = { bounding: set, effective: set, permitted: set };
  const r = runContainer(t, { args: ['grep', '^Cap', '/proc/self/status'], patch: { process: { user: { uid: 1000, gid: 1000 }, capabilities } } });
  if (!ranOk(t, r)) return;
  const c = capsOf(r.stdout);
  t.equal(c['CapEff'], capMask(), 'CapEff');
  t.equal(c['CapBnd'], capMask(CAP.CHOWN, CAP.KILL), 'CapBnd');
});

t.test('config.md#posix-process MUST: rlimits are set (ulimit and /proc/self/limits)', async (t) => {
  const rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ];
  const r = runContainer(t, { args: sh('ulimit -n; ulimit -Hn; grep -E "Max (open files|core file size)" /proc/self/limits'), patch: { process: { rlimits } } });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /^100\n200\n/);
  t.match(r.stdout, /Max core file size\s+0\s+0\s/);
  t.match(r.stdout, /Max open files\s+100\s+200\s/);
});

t.test('config.md#linux-process MUST: noNewPrivileges true sets no_new_privs', async (t) => {
  const r = runContainer(t, { args: ['grep', '^NoNewPrivs:', '/proc/self/status'], patch: { process: { noNewPrivileges: true } } });
  if (ranOk(t, r)) t.equal(r.stdout, 'NoNewPrivs:\t1\n');
});

t.test('config.md#linux-process MUST: noNewPrivileges false leaves no_new_privs unset', async (t) => {
  const r = runContainer(t, { args: ['grep', '^NoNewPrivs:', '/proc/self/status'], patch: { process: { noNewPrivileges: false } } });
  if (ranOk(t, r)) t.equal(r.stdout, 'NoNewPrivs:\t0\n');
});

t.test('config.md#linux-process MUST: oomScoreAdj is the process oom_score_adj', async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/self/oom_score_adj'], patch: { process: { oomScoreAdj: 123 } } });
  if (ranOk(t, r)) t.equal(r.stdout, '123\n');
});

// --- hostname, domainname -----------------------------------------------------------

t.test('config.md#hostname MUST: hostname is the container hostname', async (t) => {
  const r = runContainer(t, { args: sh('hostname; cat /proc/sys/kernel/hostname'), patch: { hostname: 'conformance-host' } });
  if (ranOk(t, r)) t.equal(r.stdout, 'conformance-host\nconformance-host\n');
});

t.test('config.md#domainname MUST: domainname is the container NIS domain name', async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/sys/kernel/domainname'], patch: { domainname: 'conformance.example' } });
  if (ranOk(t, r)) t.equal(r.stdout, 'conformance.example\n');
});

t.test('config.md#hostname MUST: the host hostname is not changed', async (t) => {
  if (!canRunBaseline(t)) return;
  const before = readFileSync('/proc/sys/kernel/hostname', 'utf8');
  runContainer(t, { args: ['true'], patch: { hostname: 'conformance-other' } });
  t.equal(readFileSync('/proc/sys/kernel/hostname', 'utf8'), before);
});

