// Real containers, end to end, as root: the busybox bundle run through every lifecycle
// command, and every failure checked for what it leaves behind (nothing).
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, berth, type Result } from './helpers/berth.js';
import { bundleFor, makeBundle, type OciConfig } from './helpers/bundle.js';
import { ConsoleListener } from './helpers/console.js';
import { cgroupDirsNamed } from './helpers/leftovers.js';
import { tempRoot, uniqueId } from './helpers/state.js';

/**
 * The host's mounts under `dir`: other tests on this machine mount and unmount elsewhere
 * meanwhile, so only the part of the table a container of ours could have touched counts.
 */
const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.split(' ')[4]?.startsWith(dir));
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

/**
 * berth for commands that leave a container process behind (create, run -d): that
 * process keeps berth's stdout and stderr, so they go to files here, not to pipes whose
 * end of file would only come when the container exits.
 */
function berthLeaving(args: string[]): Result {
  const dir = mkdtempSync(join(tmpdir(), 'berth-out-'));
  try {
    const out = openSync(join(dir, 'out'), 'w');
    const err = openSync(join(dir, 'err'), 'w');
    const r = spawnSync(process.execPath, [BERTH, ...args], { stdio: ['ignore', out, err], timeout: 60_000 });
    closeSync(out);
    closeSync(err);
    return { status: r.status, signal: r.signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A busybox bundle with these args, removed when the test ends. */
function busyboxBundle(t: Test, args: string[], edit?: (config: OciConfig) => void) {
  return bundleFor(t, { args, edit });
}

function stateOf(root: string, id: string) {
  const r = berth(['--root', root, 'state', id]);
  return r.status === 0 ? JSON.parse(r.stdout) : { error: r.stderr };
}

/** Delete the container at teardown whatever the test did to it. */
function cleanup(t: Test, root: string, id: string): void {
  t.teardown(() => {
    berth(['--root', root, 'delete', '--force', id]);
  });
}

function hookScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

// Until the executor and planner are merged these commands say "not implemented yet":
// then there is nothing to test here, and the file says so instead of failing.
const probe = (() => {
  const root = mkdtempSync(join(tmpdir(), 'berth-probe-'));
  try {
    const bundle = makeBundle({ args: ['true'] });
    const r = berth(['--root', root, 'run', '--bundle', bundle.dir, uniqueId('probe')]);
    rmSync(bundle.dir, { recursive: true, force: true });
    return r;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
})();
if (/not implemented yet/.test(probe.stderr)) {
  t.plan(0, `containers cannot run in this build yet: ${probe.stderr.trim()}`);
} else {
  t.test('run prints the container\'s output, exits 0 and leaves no state', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['echo', 'hello']);
    const id = uniqueId('hello');
    cleanup(t, root, id);
    const r = berth(['--root', root, 'run', '-b', bundle.dir, id]);
    t.equal(r.stderr, '');
    t.equal(r.stdout, 'hello\n');
    t.equal(r.status, 0);
    t.match(stateOf(root, id).error, /does not exist/, 'run deletes the container afterwards');
  });

  t.test('the container sees its own hostname', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['hostname'], (config) => {
      config['hostname'] = 'berth-test-host';
    });
    const id = uniqueId('host');
    cleanup(t, root, id);
    const r = berth(['--root', root, 'run', '-b', bundle.dir, id]);
    t.equal(r.stdout, 'berth-test-host\n', r.stderr);
  });

  t.test('the exit status propagates; --keep keeps a stopped container', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sh', '-c', 'exit 3']);
    const id = uniqueId('three');
    cleanup(t, root, id);
    const r = berth(['--root', root, 'run', '--keep', '-b', bundle.dir, id]);
    t.equal(r.status, 3, r.stderr);
    const state = stateOf(root, id);
    t.equal(state.status, 'stopped');
    t.equal(state.pid, 0);
    t.equal(berth(['--root', root, 'delete', id]).status, 0);
  });

  t.test('a container killed by signal N makes run exit 128+N', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const id = uniqueId('killed');
    cleanup(t, root, id);
    const run = spawn(process.execPath, [BERTH, '--root', root, 'run', '-b', bundle.dir, id], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    let state = stateOf(root, id);
    while (state.status !== 'running') {
      await new Promise((r) => setTimeout(r, 20));
      state = stateOf(root, id);
    }
    t.equal(berth(['--root', root, 'kill', id, 'KILL']).status, 0);
    t.equal(await exited, 137);
    t.notOk(alive(state.pid), 'the container process is gone');
  });

  t.test('a foreground run forwards the signals it gets to the container', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sh', '-c', 'trap "exit 7" TERM; echo ready; while true; do sleep 0.05; done']);
    const id = uniqueId('fwd');
    cleanup(t, root, id);
    const run = spawn(process.execPath, [BERTH, '--root', root, 'run', '-b', bundle.dir, id], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    await new Promise((resolve) => run.stdout.once('data', resolve));
    run.kill('SIGTERM');
    t.equal(await exited, 7, 'the container trapped the forwarded SIGTERM');
  });

  t.test('create, start, kill, delete: each status in turn', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const id = uniqueId('cycle');
    cleanup(t, root, id);
    const pidFile = join(bundle.dir, 'pid');
    const created = berthLeaving(['--root', root, 'create', '-b', bundle.dir, '--pid-file', pidFile, id]);
    t.equal(created.status, 0, created.stderr);

    let state = stateOf(root, id);
    t.equal(state.status, 'created');
    t.ok(state.pid > 0 && alive(state.pid), 'the container process exists and waits');
    t.equal(readFileSync(pidFile, 'utf8'), String(state.pid), '--pid-file holds the pid');
    t.equal(state.bundle, bundle.dir);
    t.ok(existsSync(join(root, id, 'exec.fifo')));

    const again = berthLeaving(['--root', root, 'create', '-b', bundle.dir, id]);
    t.equal(again.status, 1);
    t.match(again.stderr, `container "${id}" already exists`);
    t.equal(stateOf(root, id).pid, state.pid, 'the failed create left the first one alone');

    t.equal(berthLeaving(['--root', root, 'start', id]).status, 0);
    state = stateOf(root, id);
    t.equal(state.status, 'running');
    t.notOk(existsSync(join(root, id, 'exec.fifo')), 'start removes the FIFO');
    t.match(readFileSync(`/proc/${state.pid}/cmdline`, 'utf8'), /^sleep\x001000/, 'the user process runs');

    const twice = berthLeaving(['--root', root, 'start', id]);
    t.equal(twice.status, 1);
    t.match(twice.stderr, /cannot start an already running container/);
    const busy = berth(['--root', root, 'delete', id]);
    t.match(busy.stderr, /that is not stopped: running/);

    t.equal(berth(['--root', root, 'kill', id, 'SIGKILL']).status, 0);
    for (let i = 0; i < 200 && stateOf(root, id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(stateOf(root, id).status, 'stopped');
    t.match(berth(['--root', root, 'kill', id]).stderr, /container not running/);
    t.match(berthLeaving(['--root', root, 'start', id]).stderr, /cannot start a container that has stopped/);
    t.equal(berth(['--root', root, 'delete', id]).status, 0);
    t.notOk(existsSync(join(root, id)));
  });

  t.test('run --detach returns with the container running', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const id = uniqueId('detach');
    cleanup(t, root, id);
    const r = berthLeaving(['--root', root, 'run', '-d', '-b', bundle.dir, id]);
    t.equal(r.status, 0, r.stderr);
    const state = stateOf(root, id);
    t.equal(state.status, 'running');
    t.equal(berth(['--root', root, 'delete', '--force', id]).status, 0);
    t.notOk(alive(state.pid), 'delete --force killed it');
  });

  t.test('hooks get the state on stdin at their moments; poststop runs after delete', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const out = join(bundle.dir, 'hooks');
    const stateDir = join(root, '');
    const hook = (name: string) => ({
      path: hookScript(bundle.dir, name, `cat > ${out}.${name}; ls ${stateDir} > ${out}.${name}.ls`),
      args: [name],
    });
    bundle.config.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    };
    bundle.write();
    const id = uniqueId('hooks');
    cleanup(t, root, id);
    t.equal(berthLeaving(['--root', root, 'create', '-b', bundle.dir, id]).status, 0);
    const pid = stateOf(root, id).pid;
    for (const name of ['prestart', 'createRuntime']) {
      const seen = JSON.parse(readFileSync(`${out}.${name}`, 'utf8'));
      t.equal(seen.id, id, `${name} got the state`);
      t.equal(seen.pid, pid);
      t.equal(seen.status, 'creating');
      t.equal(seen.bundle, bundle.dir);
    }
    t.notOk(existsSync(`${out}.poststart`), 'poststart waits for start');
    t.equal(berthLeaving(['--root', root, 'start', id]).status, 0);
    t.equal(JSON.parse(readFileSync(`${out}.poststart`, 'utf8')).status, 'running');
    t.notOk(existsSync(`${out}.poststop`));
    t.equal(berth(['--root', root, 'delete', '--force', id]).status, 0);
    const stopped = JSON.parse(readFileSync(`${out}.poststop`, 'utf8'));
    t.equal(stopped.status, 'stopped');
    t.equal(stopped.id, id);
    t.notOk(readFileSync(`${out}.poststop.ls`, 'utf8').includes(id), 'poststop ran after the state was deleted');
  });

  t.test('before pivot_root: a createRuntime hook mounts into the rootfs, createContainer hooks run in the container', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sh', '-c', 'cat /hooked/file; grep -c " /hooked " /proc/self/mountinfo']);
    const seen = join(bundle.dir, 'seen');
    // What GPU and device hooks do: enter the container's mount namespace by its pid and
    // mount into the rootfs, which must be in place already and not yet pivoted.
    const mountIn = hookScript(bundle.dir, 'mount-in', [
      'pid=$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\')',
      `mkdir -p ${bundle.rootfs}/hooked`,
      `nsenter --target "$pid" --mount sh -c 'mount -t tmpfs -o size=1m hooked ${bundle.rootfs}/hooked && echo mounted by the hook > ${bundle.rootfs}/hooked/file'`,
    ].join('\n'));
    // Its path and the bundle resolve on the host's root; its namespaces are the container's.
    const inContainer = hookScript(bundle.dir, 'in-container', `cat > ${seen}.state; (readlink /proc/self/ns/mnt; readlink /proc/self/ns/pid; readlink /proc/self/ns/uts; pwd) > ${seen}`);
    bundle.config.hooks = { createRuntime: [{ path: mountIn }], createContainer: [{ path: inContainer }] };
    bundle.write();
    const id = uniqueId('prepivot');
    cleanup(t, root, id);
    t.equal(berthLeaving(['--root', root, 'create', '-b', bundle.dir, id]).status, 0);
    const pid = stateOf(root, id).pid;
    const state = JSON.parse(readFileSync(`${seen}.state`, 'utf8'));
    t.same([state.id, state.status, state.pid], [id, 'creating', pid], 'createContainer got the state, with the host pid');
    const ns = (name: string) => spawnSync('readlink', [`/proc/${pid}/ns/${name}`], { encoding: 'utf8' }).stdout.trim();
    t.same(readFileSync(seen, 'utf8').split('\n').filter(Boolean), [ns('mnt'), ns('pid'), ns('uts'), bundle.rootfs],
      "createContainer ran in the container's namespaces, in the rootfs (as runc)");
    t.same(mountsUnder(bundle.rootfs), [], 'the hook\'s mount stayed in the container');
    t.equal(berthLeaving(['--root', root, 'start', id]).status, 0);
    for (let i = 0; i < 300 && stateOf(root, id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(berth(['--root', root, 'delete', id]).status, 0);
  });

  t.test('a failing createContainer hook aborts create and leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    bundle.config.hooks = { createContainer: [{ path: hookScript(bundle.dir, 'bad', 'echo no >&2; exit 4') }] };
    bundle.write();
    await failsCleanly(t, bundle.dir, /hooks\.createContainer\[0\]: .*bad exited with status 4: no/);
  });

  t.test('process.terminal: the pty master goes to --console-socket, the container runs on the slave', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sh', '-c', 'test -t 0 && test -t 1 && echo on-a-tty; busybox stty size'], (config) => {
      config.process.terminal = true;
      config.process.consoleSize = { height: 33, width: 111 };
    });
    const id = uniqueId('tty');
    cleanup(t, root, id);
    const socketPath = join(bundle.dir, 'console.sock');
    const listener = new ConsoleListener(socketPath);
    t.teardown(() => listener.close());
    const create = spawn(process.execPath, [BERTH, '--root', root, 'create', '-b', bundle.dir, '--console-socket', socketPath, id], { stdio: 'ignore' });
    const created = new Promise<number | null>((resolve) => create.on('exit', (code) => resolve(code)));
    const master = listener.receive(30_000);
    t.teardown(() => closeSync(master.fd));
    t.equal(await created, 0);
    t.match(master.name, /^\/dev\/pts\/\d+$/, 'the slave\'s name comes with the master');
    t.equal(berthLeaving(['--root', root, 'start', id]).status, 0);
    let output = '';
    const buffer = Buffer.alloc(256);
    while (!output.includes('111')) {
      const n = readSync(master.fd, buffer);
      if (n <= 0) break;
      output += buffer.subarray(0, n).toString();
    }
    t.match(output, /on-a-tty\r\n33 111/, 'stdio is a terminal of the configured size');
  });

  t.test('process.terminal without --console-socket is refused', async (t) => {
    const bundle = busyboxBundle(t, ['true'], (config) => {
      config.process.terminal = true;
    });
    await failsCleanly(t, bundle.dir, /needs --console-socket/);
  });

  t.test('startContainer hooks run inside the container, before its process, with start and with run', async (t) => {
    for (const mode of ['create+start', 'run -d']) {
      const root = tempRoot(t);
      const bundle = busyboxBundle(t, ['sh', '-c', 'cat /started.json > /seen-by-process; sleep 1000'], (config) => {
        config['root'] = { path: 'rootfs', readonly: false };
        // The path resolves in the container: /bin/sh is the rootfs's busybox.
        config['hooks'] = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /started.json; hostname > /hook-hostname'] }] };
        config['hostname'] = 'inside';
      });
      const id = uniqueId('startc');
      cleanup(t, root, id);
      if (mode === 'run -d') {
        t.equal(berthLeaving(['--root', root, 'run', '-d', '-b', bundle.dir, id]).status, 0);
      } else {
        t.equal(berthLeaving(['--root', root, 'create', '-b', bundle.dir, id]).status, 0);
        t.notOk(existsSync(join(bundle.rootfs, 'started.json')), 'create does not run it');
        t.equal(berthLeaving(['--root', root, 'start', id]).status, 0);
      }
      for (let i = 0; i < 200 && !existsSync(join(bundle.rootfs, 'seen-by-process')); i++) await new Promise((r) => setTimeout(r, 10));
      t.equal(JSON.parse(readFileSync(join(bundle.rootfs, 'seen-by-process'), 'utf8')).id, id, `${mode}: the hook ran before the process`);
      t.equal(readFileSync(join(bundle.rootfs, 'hook-hostname'), 'utf8'), 'inside\n', `${mode}: in the container's uts namespace`);
    }
  });

  t.test('a failing startContainer hook fails start and stops the container', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000'], (config) => {
      config['hooks'] = { startContainer: [{ path: '/bin/false' }] };
    });
    const id = uniqueId('startfail');
    cleanup(t, root, id);
    t.equal(berthLeaving(['--root', root, 'create', '-b', bundle.dir, id]).status, 0);
    const r = berthLeaving(['--root', root, 'start', id]);
    t.equal(r.status, 1);
    t.match(r.stderr, /hooks\.startContainer\[0\]: \/bin\/false exited with status 1/);
    for (let i = 0; i < 200 && stateOf(root, id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(stateOf(root, id).status, 'stopped');
  });

  t.test('run with a failing startContainer hook fails and leaves no container and no cgroup', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['true'], (config) => {
      config['hooks'] = { startContainer: [{ path: '/bin/false' }] };
    });
    const id = uniqueId('runfail');
    cleanup(t, root, id);
    const cgroupsBefore = cgroupDirsNamed(id);
    const r = berth(['--root', root, 'run', '-b', bundle.dir, id]);
    t.equal(r.status, 1);
    t.match(r.stderr, /hooks\.startContainer\[0\]/);
    t.notOk(existsSync(join(root, id)), 'no state directory');
    t.same(cgroupsBefore, [], 'no cgroup of that id existed before');
    t.same(cgroupDirsNamed(id), [], 'no cgroup of that id is left');
  });

  t.test('the container gets cgroups of its own: kill --all reaches every process, delete removes them', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sh', '-c', 'sleep 1000 & sleep 1000']);
    const id = uniqueId('cg');
    cleanup(t, root, id);
    t.equal(berthLeaving(['--root', root, 'run', '-d', '-b', bundle.dir, id]).status, 0);
    const paths: Record<string, string> = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths;
    const dirs = Object.values(paths);
    t.ok(dirs.length > 0 && dirs.every((dir) => existsSync(dir)), 'the cgroup directories exist');
    const pidsDir = dirs.find((dir) => existsSync(join(dir, 'cgroup.procs')))!;
    let procs: string[] = [];
    for (let i = 0; i < 200 && procs.length < 2; i++) {
      procs = readFileSync(join(pidsDir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);
      if (procs.length < 2) await new Promise((r) => setTimeout(r, 10));
    }
    t.equal(procs.length, 2, 'the container process and its child are in the cgroup');
    t.equal(berth(['--root', root, 'kill', '--all', id, 'KILL']).status, 0);
    for (let i = 0; i < 200 && procs.some((pid) => alive(Number(pid))); i++) await new Promise((r) => setTimeout(r, 10));
    t.notOk(procs.some((pid) => alive(Number(pid))), 'kill --all killed them all');
    t.equal(berth(['--root', root, 'delete', id]).status, 0);
    t.notOk(dirs.some((dir) => existsSync(dir)), 'delete removed the cgroups');
  });

  /** A create that must fail with `message`, leaving no state, no process and no mount. */
  async function failsCleanly(t: Test, bundleDir: string, message: RegExp, pidFrom?: () => number) {
    const root = tempRoot(t);
    const id = uniqueId('fail');
    cleanup(t, root, id);
    const before = [...mountsUnder(bundleDir), ...mountsUnder(root)];
    const r = berthLeaving(['--root', root, 'create', '-b', bundleDir, id]);
    t.equal(r.status, 1);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.notOk(existsSync(join(root, id)), 'no state directory is left');
    t.same(existsSync(root) ? readdirSync(root) : [], [], 'nothing else under --root');
    t.same([...mountsUnder(bundleDir), ...mountsUnder(root)], before, 'no mount is left on the bundle or the state dir');
    t.same(before, [], 'there were none before either');
    if (pidFrom) t.notOk(alive(pidFrom()), 'the container process is gone');
  }

  t.test('a failing createRuntime hook aborts create and leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const seen = join(bundle.dir, 'seen');
    const stopped = join(bundle.dir, 'stopped');
    bundle.config.hooks = {
      createRuntime: [{ path: hookScript(bundle.dir, 'bad', `cat > ${seen}; echo refusing >&2; exit 3`) }],
      poststop: [{ path: hookScript(bundle.dir, 'poststop', `cat > ${stopped}`) }],
    };
    bundle.write();
    await failsCleanly(t, bundle.dir, /hooks\.createRuntime\[0\]: .*bad exited with status 3: refusing/, () => JSON.parse(readFileSync(seen, 'utf8')).pid);
    t.equal(JSON.parse(readFileSync(stopped, 'utf8')).status, 'stopped', 'poststop hooks still run, as after a delete');
  });

  t.test('a missing rootfs is a clear error that leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['true']);
    rmSync(bundle.rootfs, { recursive: true });
    await failsCleanly(t, bundle.dir, /rootfs/);
  });

  t.test('a missing executable is a clear error that leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['/bin/nosuch']);
    await failsCleanly(t, bundle.dir, /nosuch/);
  });

  t.test('a bad mount source is a clear error that leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['true'], (config) => {
      config.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent/berth-source', options: ['bind'] });
    });
    await failsCleanly(t, bundle.dir, /mounts\[7\]|nonexistent\/berth-source/);
  });

  t.test('an invalid config is refused before anything is created', async (t) => {
    const bundle = busyboxBundle(t, ['true'], (config) => {
      delete config.process.args;
    });
    await failsCleanly(t, bundle.dir, /process/);
  });
}
