// berth exec against real running containers: what the exec'd process sees (namespaces,
// mounts, ids, fds), what berth reports (status, pid file), and the refusals.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BERTH, berth } from './helpers/berth.js';
import { busyboxBundle, type Bundle } from './helpers/busybox-bundle.js';
import { tempRoot, uniqueId } from './helpers/state.js';
import { splitAtContainerId } from '../src/commands/exec.js';

t.test('options end at the container id, as runc reads them', async (t) => {
  t.same(splitAtContainerId(['exec', 'id', 'sh', '-c', 'exit 7']), { options: [], command: ['sh', '-c', 'exit 7'] });
  t.same(splitAtContainerId(['--root', 'exec', 'exec', '-e', 'A=1', '--cwd', '/tmp', '-t', '-dp', 'p.json', 'id', 'ls', '-l']), {
    options: ['-e', 'A=1', '--cwd', '/tmp', '-t', '-dp', 'p.json'],
    command: ['ls', '-l'],
  }, 'global and exec options with values are skipped whole');
  t.same(splitAtContainerId(['exec', '--env=A=1', 'id', '--', 'sh']), { options: ['--env=A=1'], command: ['sh'] });
  t.same(splitAtContainerId(['exec', '--process', 'p.json', 'id']), { options: ['--process', 'p.json'], command: [] });
  t.equal(splitAtContainerId(['state', 'id']), null);
});

interface Running {
  root: string;
  id: string;
  bundle: Bundle;
  /** The container's init, on the host. */
  pid: number;
  exec(args: string[]): ReturnType<typeof berth>;
}

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/** A container running `sleep 1000`, created and started, deleted at teardown. */
function running(t: Test, tweak?: (config: Record<string, any>) => void): Running {
  const root = tempRoot(t);
  const bundle = busyboxBundle(t, ['sleep', '1000'], tweak);
  symlinkSync('busybox', join(bundle.rootfs, 'bin', 'head'));
  const id = uniqueId('exec');
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
  // The container keeps create's stdio: files, so that no pipe of ours stays open.
  const out = openSync(join(bundle.dir, 'container.log'), 'a');
  try {
    const created = berth(['--root', root, 'create', '-b', bundle.dir, id], { stdio: ['ignore', out, out] });
    if (created.status !== 0) throw new Error(`create failed: ${readFileSync(join(bundle.dir, 'container.log'), 'utf8')}`);
  } finally {
    closeSync(out);
  }
  const started = berth(['--root', root, 'start', id]);
  if (started.status !== 0) throw new Error(`start failed: ${started.stderr}`);
  const pid = JSON.parse(berth(['--root', root, 'state', id]).stdout).pid as number;
  return { root, id, bundle, pid, exec: (args) => berth(['--root', root, 'exec', ...args]) };
}

t.test('exec runs in the container: its hostname, its init', async (t) => {
  const c = running(t);
  const hostname = c.exec([c.id, 'hostname']);
  t.equal(hostname.stderr, '');
  t.equal(hostname.stdout, 'berth\n');
  t.equal(hostname.status, 0);
  const cmdline = c.exec([c.id, 'cat', '/proc/1/cmdline']);
  t.equal(cmdline.stdout, 'sleep\x001000\x00', "pid 1 in the exec'd process's pid namespace is the container's init");
});

t.test('the exit status propagates, signals as 128+N', async (t) => {
  const c = running(t);
  // -c is sh's here, not --cap: options end at the container id, as in runc.
  t.equal(c.exec([c.id, 'sh', '-c', 'exit 7']).status, 7);
  t.equal(c.exec([c.id, 'sh', '-c', 'kill -9 $$']).status, 137);
  t.equal(c.exec([c.id, 'true']).status, 0);
});

t.test('--env, --cwd and --user shape the process', async (t) => {
  const c = running(t);
  const r = c.exec(['--env', 'FOO=bar', '-e', 'BAZ=qux', '--cwd', '/tmp', '--user', '1000:1000', c.id,
    'sh', '-c', 'id; pwd; echo $FOO $BAZ']);
  t.equal(r.stderr, '');
  t.equal(r.stdout, 'uid=1000 gid=1000\n/tmp\nbar qux\n');
  t.equal(r.status, 0);
  const uidOnly = c.exec(['-u', '1234', c.id, 'id', '-u']);
  t.equal(uidOnly.stdout, '1234\n', '--user uid alone keeps the config\'s gid');
});

t.test('--additional-gids, repeatable', async (t) => {
  const c = running(t);
  const r = c.exec(['-u', '1000:1000', '-g', '10', '--additional-gids', '20', c.id, 'id', '-G']);
  t.equal(r.stderr, '');
  t.same(r.stdout.trim().split(' ').map(Number).sort((a, b) => a - b), [10, 20, 1000]);
});

t.test('--preserve-fds passes fd 3 on', async (t) => {
  const c = running(t);
  const file = join(c.bundle.dir, 'fd3.txt');
  const fd3 = openSync(file, 'w');
  const r = berth(['--root', c.root, 'exec', '--preserve-fds', '1', c.id, 'sh', '-c', 'echo through-fd3 >&3'], { stdio: ['ignore', 'pipe', 'pipe', fd3] });
  closeSync(fd3);
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(file, 'utf8'), 'through-fd3\n');
});

t.test('in the foreground, berth passes signals on and exits with the status', async (t) => {
  const c = running(t);
  const exec = spawn(process.execPath, [BERTH, '--root', c.root, 'exec', c.id, 'sh', '-c', 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => exec.on('exit', (code) => resolve(code)));
  await new Promise((resolve) => exec.stdout.once('data', resolve));
  exec.kill('SIGTERM');
  t.equal(await exited, 9, 'the process trapped the forwarded SIGTERM');
});

t.test('--process runs a process.json; a bad one is refused by JSON path', async (t) => {
  const c = running(t);
  const file = join(c.bundle.dir, 'process.json');
  writeFileSync(file, JSON.stringify({
    args: ['sh', '-c', 'echo $GREETING; pwd; id -u'],
    env: ['PATH=/bin', 'GREETING=from-process-json'],
    cwd: '/proc',
    user: { uid: 42, gid: 42 },
  }));
  const r = c.exec(['--process', file, c.id]);
  t.equal(r.stderr, '');
  t.equal(r.stdout, 'from-process-json\n/proc\n42\n');
  t.equal(r.status, 0);

  writeFileSync(file, JSON.stringify({ args: 'sh', cwd: '/', user: { uid: -1, gid: 0 } }));
  const bad = c.exec(['-p', file, c.id]);
  t.not(bad.status, 0);
  t.match(bad.stderr, /args: /);
  t.match(bad.stderr, /user\.uid: /);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');

  writeFileSync(file, '{"args": ["true"], ');
  const broken = c.exec(['-p', file, c.id]);
  t.not(broken.status, 0);
  t.match(broken.stderr, /process\.json:1:\d+: /, 'a JSON syntax error names line and column');
});

t.test('--detach and --pid-file: the process runs on in the container\'s pid namespace', async (t) => {
  const c = running(t);
  const pidFile = join(c.bundle.dir, 'exec.pid');
  // The detached process keeps berth's stdio: a file, or spawnSync would wait for it.
  const logFile = join(c.bundle.dir, 'exec.log');
  const log = openSync(logFile, 'a');
  const r = berth(['--root', c.root, 'exec', '--detach', '--pid-file', pidFile, c.id, 'sleep', '300'], { stdio: ['ignore', log, log] });
  closeSync(log);
  t.equal(r.status, 0, readFileSync(logFile, 'utf8'));
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.teardown(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  t.ok(pid > 0 && alive(pid), 'the pid in --pid-file is alive');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\x00300/);
  t.equal(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${c.pid}/ns/pid`), "the init's pid namespace");
  t.equal(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync(`/proc/${c.pid}/ns/mnt`), "the init's mount namespace");
  const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/).map(Number);
  t.equal(nspid.length, 2, 'one pid on the host, one in the container');
  t.not(nspid[1], 1, 'not pid 1 in the container');
  t.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${c.pid}/cgroup`, 'utf8'), "in the init's cgroups");
  const ps = c.exec([c.id, 'ps']);
  t.match(ps.stdout, new RegExp(`\\n\\s*${nspid[1]}\\s+\\S+\\s+sleep 300`), 'ps in the container lists it');
});

const pidsV1 = existsSync('/sys/fs/cgroup/pids/cgroup.procs');
t.test("the process joins the container's recorded cgroups", { skip: !pidsV1 && 'no cgroup v1 pids hierarchy here' }, async (t) => {
  const c = running(t);
  // A cgroup of this test's own, recorded as create records the container's.
  const name = uniqueId('berth-exec-cg');
  const dir = join('/sys/fs/cgroup/pids', name);
  mkdirSync(dir);
  const stateFile = join(c.root, c.id, 'state.json');
  writeFileSync(stateFile, JSON.stringify({ ...JSON.parse(readFileSync(stateFile, 'utf8')), cgroupPaths: { pids: dir } }));
  const pidFile = join(c.bundle.dir, 'cg.pid');
  const log = openSync(join(c.bundle.dir, 'exec.log'), 'a');
  const r = berth(['--root', c.root, 'exec', '-d', '--pid-file', pidFile, c.id, 'sleep', '300'], { stdio: ['ignore', log, log] });
  closeSync(log);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.teardown(async () => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 200 && readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(); i++) await new Promise((r) => setTimeout(r, 10));
    rmdirSync(dir);
  });
  t.equal(r.status, 0);
  t.match(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), new RegExp(`^\\d+:pids:/${name}$`, 'm'), 'in the recorded pids cgroup');
  t.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim(), String(pid), 'and the cgroup lists it');
});

t.test("the exec'd process is not the init, and sees the container's root", async (t) => {
  const c = running(t);
  const self = c.exec([c.id, 'sh', '-c', 'echo $$']);
  t.ok(Number(self.stdout) > 1, `its pid in the container is ${self.stdout.trim()}`);
  const mountinfo = c.exec([c.id, 'head', '-1', '/proc/self/mountinfo']);
  const initFirst = readFileSync(`/proc/${c.pid}/mountinfo`, 'utf8').split('\n')[0];
  t.equal(mountinfo.stdout, `${initFirst}\n`, "the first mount is the container's root, as the init sees it");
  t.match(mountinfo.stdout, new RegExp(`^\\d+ \\d+ \\S+ ${c.bundle.rootfs} / `), 'the bundle rootfs on /');
});

t.test('no fds of berth leak into the process', async (t) => {
  const c = running(t);
  const r = c.exec([c.id, 'ls', '/proc/self/fd']);
  t.equal(r.status, 0, r.stderr);
  const fds = r.stdout.split(/\s+/).filter(Boolean).map(Number);
  t.same(fds.filter((fd) => fd > 2), fds.includes(3) ? [3] : [], `only 0-2 and ls's own directory fd: ${fds.join(' ')}`);
  t.same(fds.slice(0, 3), [0, 1, 2]);
});

t.test('--cap adds a capability to every set', async (t) => {
  const c = running(t);
  const status = (args: string[]) => c.exec([...args, c.id, 'cat', '/proc/self/status']).stdout;
  const capEff = (text: string) => BigInt(`0x${/^CapEff:\s+(\w+)/m.exec(text)![1]}`);
  const CAP_NET_ADMIN = 1n << 12n;
  t.equal(capEff(status([])) & CAP_NET_ADMIN, 0n, 'not in the config');
  t.equal(capEff(status(['--cap', 'CAP_NET_ADMIN'])) & CAP_NET_ADMIN, CAP_NET_ADMIN, 'added by --cap');
});

t.test('refusals: stopped or missing container, unknown program; nothing left behind', async (t) => {
  const c = running(t);
  const missing = c.exec([c.id, 'no-such-program']);
  t.not(missing.status, 0);
  t.match(missing.stderr, /no-such-program/);
  t.ok(alive(c.pid), 'the container still runs');
  const ps = c.exec([c.id, 'ps']);
  t.equal(ps.stdout.trim().split('\n').length, 3, `only the init and ps itself:\n${ps.stdout}`);

  t.not(c.exec(['nope-' + c.id, 'true']).status, 0);
  t.match(c.exec(['nope-' + c.id, 'true']).stderr, /does not exist/);

  t.match(c.exec(['--apparmor', 'unconfined', c.id, 'true']).stderr, /AppArmor/);
  t.match(c.exec([c.id]).stderr, /command/);

  t.equal(berth(['--root', c.root, 'kill', c.id, 'KILL']).status, 0);
  for (let i = 0; i < 200 && alive(c.pid); i++) await new Promise((r) => setTimeout(r, 10));
  const stopped = c.exec([c.id, 'true']);
  t.not(stopped.status, 0);
  t.match(stopped.stderr, /cannot exec in a stopped container/);
});
