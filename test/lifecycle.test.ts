// Real containers, end to end, as root: the busybox bundle run through every lifecycle
// command, and every failure checked for what it leaves behind (nothing).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERTH, berth } from './helpers/berth.js';
import { busyboxBundle, makeBusyboxBundle } from './helpers/busybox-bundle.js';
import { tempRoot, uniqueId } from './helpers/state.js';

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

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
    const bundle = makeBusyboxBundle(['true']);
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
    const bundle = busyboxBundle(t, ['hostname']);
    const id = uniqueId('host');
    cleanup(t, root, id);
    const r = berth(['--root', root, 'run', '-b', bundle.dir, id]);
    t.equal(r.stdout, 'berth\n', r.stderr);
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
    while (stateOf(root, id).status !== 'running') await new Promise((r) => setTimeout(r, 20));
    t.equal(berth(['--root', root, 'kill', id, 'KILL']).status, 0);
    t.equal(await exited, 137);
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
    const created = berth(['--root', root, 'create', '-b', bundle.dir, '--pid-file', pidFile, id]);
    t.equal(created.status, 0, created.stderr);

    let state = stateOf(root, id);
    t.equal(state.status, 'created');
    t.ok(state.pid > 0 && alive(state.pid), 'the container process exists and waits');
    t.equal(readFileSync(pidFile, 'utf8'), String(state.pid), '--pid-file holds the pid');
    t.equal(state.bundle, bundle.dir);
    t.ok(existsSync(join(root, id, 'exec.fifo')));

    const again = berth(['--root', root, 'create', '-b', bundle.dir, id]);
    t.equal(again.status, 1);
    t.match(again.stderr, `container "${id}" already exists`);
    t.equal(stateOf(root, id).pid, state.pid, 'the failed create left the first one alone');

    t.equal(berth(['--root', root, 'start', id]).status, 0);
    state = stateOf(root, id);
    t.equal(state.status, 'running');
    t.notOk(existsSync(join(root, id, 'exec.fifo')), 'start removes the FIFO');
    t.match(readFileSync(`/proc/${state.pid}/cmdline`, 'utf8'), /^sleep\x001000/, 'the user process runs');

    const twice = berth(['--root', root, 'start', id]);
    t.equal(twice.status, 1);
    t.match(twice.stderr, /cannot start an already running container/);
    const busy = berth(['--root', root, 'delete', id]);
    t.match(busy.stderr, /that is not stopped: running/);

    t.equal(berth(['--root', root, 'kill', id, 'SIGKILL']).status, 0);
    for (let i = 0; i < 200 && stateOf(root, id).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(stateOf(root, id).status, 'stopped');
    t.match(berth(['--root', root, 'kill', id]).stderr, /container not running/);
    t.match(berth(['--root', root, 'start', id]).stderr, /cannot start a container that has stopped/);
    t.equal(berth(['--root', root, 'delete', id]).status, 0);
    t.notOk(existsSync(join(root, id)));
  });

  t.test('run --detach returns with the container running', async (t) => {
    const root = tempRoot(t);
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const id = uniqueId('detach');
    cleanup(t, root, id);
    const r = berth(['--root', root, 'run', '-d', '-b', bundle.dir, id]);
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
    bundle.save();
    const id = uniqueId('hooks');
    cleanup(t, root, id);
    t.equal(berth(['--root', root, 'create', '-b', bundle.dir, id]).status, 0);
    const pid = stateOf(root, id).pid;
    for (const name of ['prestart', 'createRuntime']) {
      const seen = JSON.parse(readFileSync(`${out}.${name}`, 'utf8'));
      t.equal(seen.id, id, `${name} got the state`);
      t.equal(seen.pid, pid);
      t.equal(seen.status, 'creating');
      t.equal(seen.bundle, bundle.dir);
    }
    t.notOk(existsSync(`${out}.poststart`), 'poststart waits for start');
    t.equal(berth(['--root', root, 'start', id]).status, 0);
    t.equal(JSON.parse(readFileSync(`${out}.poststart`, 'utf8')).status, 'running');
    t.notOk(existsSync(`${out}.poststop`));
    t.equal(berth(['--root', root, 'delete', '--force', id]).status, 0);
    const stopped = JSON.parse(readFileSync(`${out}.poststop`, 'utf8'));
    t.equal(stopped.status, 'stopped');
    t.equal(stopped.id, id);
    t.notOk(readFileSync(`${out}.poststop.ls`, 'utf8').includes(id), 'poststop ran after the state was deleted');
  });

  /** A create that must fail with `message`, leaving no state, no process and no mount. */
  async function failsCleanly(t: Test, bundleDir: string, message: RegExp, pidFrom?: () => number) {
    const root = tempRoot(t);
    const id = uniqueId('fail');
    cleanup(t, root, id);
    const before = mountinfo();
    const r = berth(['--root', root, 'create', '-b', bundleDir, id]);
    t.equal(r.status, 1);
    t.match(r.stderr, message);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.notOk(existsSync(join(root, id)), 'no state directory is left');
    t.same(existsSync(root) ? readdirSync(root) : [], [], 'nothing else under --root');
    t.equal(mountinfo(), before, 'the host\'s mounts are unchanged');
    if (pidFrom) t.notOk(alive(pidFrom()), 'the container process is gone');
  }

  t.test('a failing createRuntime hook aborts create and leaves nothing behind', async (t) => {
    const bundle = busyboxBundle(t, ['sleep', '1000']);
    const seen = join(bundle.dir, 'seen');
    bundle.config.hooks = { createRuntime: [{ path: hookScript(bundle.dir, 'bad', `cat > ${seen}; echo refusing >&2; exit 3`) }] };
    bundle.save();
    await failsCleanly(t, bundle.dir, /hooks\.createRuntime\[0\]: .*bad exited with status 3: refusing/, () => JSON.parse(readFileSync(seen, 'utf8')).pid);
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
