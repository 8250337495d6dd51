// runtime.md: the state of a container and its lifecycle (create, start, kill, delete),
// and config.md's hooks, which run at fixed points of that lifecycle.
import t, { type Test } from 'tap';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { bundleFor, create, describeResult, readText, runtime, state, stateRootDir, uniqueId, waitForFile, waitForStatus, type Bundle } from './lib/bundle.js';
import { canRunBaseline, sh } from './lib/check.js';

/** A container that runs until the test creates /go in its rootfs. */
const untilGo = { args: sh('while [ ! -e /go ]; do sleep 0.05; done'), patch: { root: { readonly: false } } };

function createOk(t: Test, b: Bundle): boolean {
  const r = create(b);
  t.equal(r.status, 0, r.status === 0 ? 'create succeeded' : describeResult(r));
  return r.status === 0;
}

function startOk(t: Test, b: Bundle): boolean {
  const r = runtime(['start', b.id]);
  t.equal(r.status, 0, r.status === 0 ? 'start succeeded' : describeResult(r));
  return r.status === 0;
}

/** A process that exists and is not a zombie waiting for its parent to reap it. */
function isAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || pid <= 0) return false;
  const stat = readText(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Asserts that neither `state` nor `list` knows the id and --root holds nothing for it. */
function leftNothing(t: Test, id: string): void {
  t.not(runtime(['state', id]).status, 0, 'state of the id fails: no container');
  t.notMatch(runtime(['list', '-q']).stdout, id, 'list does not show the id');
  t.notOk(readdirSync(stateRootDir()).some((entry) => entry.includes(id)), 'nothing left under --root for the id');
}

t.test('runtime.md#state MUST: state of a created container has ociVersion, id, status "created", pid and bundle', async (t) => {
  const b = bundleFor(t, untilGo);
  if (!createOk(t, b)) return;
  const s = state(b.id);
  t.ok(s, 'state prints JSON');
  t.match(s?.['ociVersion'], /^\d+\.\d+\.\d+/, 'ociVersion is a version');
  t.equal(s?.['id'], b.id);
  t.equal(s?.['status'], 'created');
  t.ok(isAlive(s?.['pid']), 'pid is a live host process');
  t.equal(s?.['bundle'], b.dir, 'bundle is the absolute bundle path');
});

t.test('runtime.md#state MUST: annotations in state are the config annotations', async (t) => {
  const annotations = { 'org.example.conformance': 'yes', 'org.example.second': 'two' };
  const b = bundleFor(t, { ...untilGo, patch: { ...untilGo.patch, annotations } });
  if (!createOk(t, b)) return;
  t.same(state(b.id)?.['annotations'], annotations);
});

t.test('runtime.md#lifecycle MUST: create does not run the user process; start does', async (t) => {
  const b = bundleFor(t, { args: sh('touch /ran; while [ ! -e /go ]; do sleep 0.05; done'), patch: { root: { readonly: false } } });
  if (!createOk(t, b)) return;
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.notOk(existsSync(`${b.rootfs}/ran`), 'the process has not run after create');
  if (!startOk(t, b)) return;
  t.ok(await waitForFile(`${b.rootfs}/ran`), 'the process runs after start');
});

t.test('runtime.md#lifecycle MUST: changes to config.json after create do not affect the container', async (t) => {
  const b = bundleFor(t, { args: sh('echo original > /which; while [ ! -e /go ]; do sleep 0.05; done'), patch: { root: { readonly: false } } });
  if (!createOk(t, b)) return;
  b.config['process'].args = sh('echo changed > /which');
  b.write();
  if (!startOk(t, b)) return;
  t.ok(await waitForFile(`${b.rootfs}/which`), 'the process ran');
  t.equal(readText(`${b.rootfs}/which`), 'original\n', 'it is the process of the config at create time');
});

t.test('runtime.md#start MUST: after start the status is "running"', async (t) => {
  const b = bundleFor(t, untilGo);
  if (!createOk(t, b) || !startOk(t, b)) return;
  const s = state(b.id);
  t.equal(s?.['status'], 'running');
  t.ok(isAlive(s?.['pid']), 'pid is a live host process');
});

t.test('runtime.md#lifecycle MUST: when the process exits the status is "stopped"', async (t) => {
  const b = bundleFor(t, untilGo);
  if (!createOk(t, b) || !startOk(t, b)) return;
  writeFileSync(`${b.rootfs}/go`, '');
  t.equal((await waitForStatus(b.id, 'stopped'))?.['status'], 'stopped');
});

t.test('runtime.md#start MUST: starting an already started container errors and has no effect', async (t) => {
  const b = bundleFor(t, untilGo);
  if (!createOk(t, b) || !startOk(t, b)) return;
  const pid = state(b.id)?.['pid'];
  t.not(runtime(['start', b.id]).status, 0, 'the second start fails');
  const s = state(b.id);
  t.equal(s?.['status'], 'running', 'the container still runs');
  t.equal(s?.['pid'], pid, 'with the same process');
});

t.test('runtime.md#start MUST: starting a container that does not exist errors', async (t) => {
  if (!canRunBaseline(t)) return;
  t.not(runtime(['start', uniqueId('missing')]).status, 0);
});

t.test('runtime.md#query-state MUST: state of a container that does not exist errors', async (t) => {
  if (!canRunBaseline(t)) return;
  t.not(runtime(['state', uniqueId('missing')]).status, 0);
});

t.test('runtime.md#kill MUST: kill of a container that does not exist errors', async (t) => {
  if (!canRunBaseline(t)) return;
  t.not(runtime(['kill', uniqueId('missing'), 'KILL']).status, 0);
});

t.test('runtime.md#delete MUST: delete of a container that does not exist errors', async (t) => {
  if (!canRunBaseline(t)) return;
  t.not(runtime(['delete', uniqueId('missing')]).status, 0);
});

t.test('runtime.md#kill MUST: kill sends the signal to the container process', async (t) => {
  const b = bundleFor(t, {
    args: sh('trap "echo TERM > /got; exit 0" TERM; touch /ready; while :; do sleep 0.05; done'),
    patch: { root: { readonly: false } },
  });
  if (!createOk(t, b) || !startOk(t, b)) return;
  t.ok(await waitForFile(`${b.rootfs}/ready`), 'the trap is set');
  const r = runtime(['kill', b.id, 'TERM']);
  t.equal(r.status, 0, describeResult(r));
  t.ok(await waitForFile(`${b.rootfs}/got`), 'the process got SIGTERM');
  t.equal((await waitForStatus(b.id, 'stopped'))?.['status'], 'stopped', 'and the container stopped');
});

t.test('runtime.md#kill MUST: kill of a stopped container errors', async (t) => {
  const b = bundleFor(t, { args: ['true'] });
  if (!createOk(t, b) || !startOk(t, b)) return;
  t.equal((await waitForStatus(b.id, 'stopped'))?.['status'], 'stopped');
  t.not(runtime(['kill', b.id, 'KILL']).status, 0, 'kill fails');
  t.equal(state(b.id)?.['status'], 'stopped', 'the container is still there, stopped');
});

t.test('runtime.md#delete MUST: delete of a running container errors and has no effect', async (t) => {
  const b = bundleFor(t, untilGo);
  if (!createOk(t, b) || !startOk(t, b)) return;
  t.not(runtime(['delete', b.id]).status, 0, 'delete without --force fails');
  t.equal(state(b.id)?.['status'], 'running', 'the container still runs');
});

t.test('runtime.md#delete MUST: delete removes a stopped container and its process is gone', async (t) => {
  const b = bundleFor(t, { args: ['true'] });
  if (!createOk(t, b)) return;
  const pid = state(b.id)?.['pid'];
  if (!startOk(t, b)) return;
  t.equal((await waitForStatus(b.id, 'stopped'))?.['status'], 'stopped');
  const r = runtime(['delete', b.id]);
  t.equal(r.status, 0, describeResult(r));
  leftNothing(t, b.id);
  t.notOk(isAlive(pid), 'the container process is gone');
});

t.test('runtime.md#create MUST: create with an id already in use errors and creates nothing new', async (t) => {
  const a = bundleFor(t, untilGo);
  if (!createOk(t, a)) return;
  const pid = state(a.id)?.['pid'];
  const b = bundleFor(t, untilGo);
  const r = runtime(['create', '--bundle', b.dir, a.id], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.not(r.status, 0, 'the second create fails');
  const s = state(a.id);
  t.equal(s?.['bundle'], a.dir, 'the id still names the first container');
  t.equal(s?.['pid'], pid);
});

t.test('runtime.md#lifecycle MUST: create that cannot set up the environment errors and leaves nothing behind', async (t) => {
  if (!canRunBaseline(t)) return;
  const b = bundleFor(t, { args: ['true'], patch: { mounts: [{ destination: '/proc', type: 'no-such-filesystem', source: 'none' }] } });
  const r = create(b);
  t.not(r.status, 0, 'create fails');
  leftNothing(t, b.id);
});

t.test('runtime.md#create MUST: create without a container id errors', async (t) => {
  if (!canRunBaseline(t)) return;
  const b = bundleFor(t, { args: ['true'] });
  t.not(runtime(['create', '--bundle', b.dir]).status, 0);
});

// --- hooks (config.md#posix-platform-hooks, runtime.md#lifecycle) --------------------

/** A host hook that saves the state it gets on stdin as <name>.json and logs its name. */
function recordingHook(b: Bundle, name: string, extra: Record<string, unknown> = {}) {
  return { path: '/bin/sh', args: ['sh', '-c', `cat > ${b.path(name + '.json')}; echo ${name} >> ${b.path('order')}`], ...extra };
}

function hookState(b: Bundle, name: string): Record<string, any> | undefined {
  try {
    return JSON.parse(readFileSync(b.path(name + '.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function withHooks(b: Bundle, hooks: Record<string, unknown[]>): void {
  b.config['hooks'] = hooks;
  b.write();
}

const order = (b: Bundle) => readText(b.path('order')).split('\n').filter(Boolean);

t.test('config.md#posix-platform-hooks MUST: prestart, createRuntime and createContainer hooks run during create, in that order, with the state on stdin', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, {
    prestart: [recordingHook(b, 'prestart')],
    createRuntime: [recordingHook(b, 'createRuntime')],
    createContainer: [recordingHook(b, 'createContainer')],
  });
  if (!createOk(t, b)) return;
  t.same(order(b), ['prestart', 'createRuntime', 'createContainer']);
  const pid = state(b.id)?.['pid'];
  for (const name of ['prestart', 'createRuntime', 'createContainer']) {
    const s = hookState(b, name);
    t.equal(s?.['id'], b.id, `${name} got the id`);
    t.equal(s?.['bundle'], b.dir, `${name} got the bundle`);
    t.match(s?.['ociVersion'], /^\d+\.\d+\.\d+/, `${name} got the ociVersion`);
  }
  for (const name of ['prestart', 'createRuntime']) t.equal(hookState(b, name)?.['pid'], pid, `${name} got the host pid`);
});

t.test('runtime.md#state MUST: createContainer hooks get the pid as seen by the host', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, { createContainer: [recordingHook(b, 'createContainer')] });
  if (!createOk(t, b)) return;
  t.equal(hookState(b, 'createContainer')?.['pid'], state(b.id)?.['pid']);
});

t.test('config.md#createcontainer-hooks MUST: createContainer hooks run in the container namespace, before pivot_root, their path resolved in the runtime namespace', async (t) => {
  const b = bundleFor(t, untilGo);
  // /bin/sh and the bundle are the host's: the root is not pivoted yet. The rootfs's own
  // /proc is mounted already (the environment exists), in the container's namespaces.
  const probe = [
    'readlink /proc/self/ns/mnt', 'readlink /proc/self/ns/uts', 'readlink /proc/self/ns/pid',
    `if [ -e ${b.rootfs}/proc/self/status ]; then echo rootfs-proc-mounted; fi`,
  ].join('; ');
  withHooks(b, { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `(${probe}) > ${b.path('seen')}`] }] });
  if (!createOk(t, b)) return;
  const pid = state(b.id)?.['pid'];
  const ns = (name: string) => readlinkSync(`/proc/${pid}/ns/${name}`);
  t.same(readText(b.path('seen')).split('\n').filter(Boolean), [ns('mnt'), ns('uts'), ns('pid'), 'rootfs-proc-mounted']);
});

t.test('config.md#createruntime-hooks MUST: createRuntime hooks see the status "creating"', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, { createRuntime: [recordingHook(b, 'createRuntime')] });
  if (!createOk(t, b)) return;
  t.equal(hookState(b, 'createRuntime')?.['status'], 'creating');
});

t.test('config.md#startcontainer-hooks MUST: startContainer hooks run in the container during start, before the user process', async (t) => {
  const b = bundleFor(t, { args: sh('cat /started.json > /seen-by-process; while [ ! -e /go ]; do sleep 0.05; done'), patch: { root: { readonly: false } } });
  // The path is resolved in the container: /bin/sh is the rootfs's busybox.
  withHooks(b, { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /started.json; hostname > /hook-hostname'] }] });
  if (!createOk(t, b)) return;
  t.notOk(existsSync(`${b.rootfs}/started.json`), 'not run by create');
  if (!startOk(t, b)) return;
  t.ok(await waitForFile(`${b.rootfs}/seen-by-process`), 'the user process ran');
  t.equal(JSON.parse(readText(`${b.rootfs}/started.json`) || '{}')['id'], b.id, 'the hook got the state before the user process ran');
  t.equal(readText(`${b.rootfs}/hook-hostname`), 'runc\n', "the hook ran in the container's uts namespace");
});

t.test('config.md#poststart MUST: poststart hooks run after the user process starts, before start returns', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, { poststart: [recordingHook(b, 'poststart')] });
  if (!createOk(t, b)) return;
  t.notOk(existsSync(b.path('poststart.json')), 'not run by create');
  if (!startOk(t, b)) return;
  t.ok(existsSync(b.path('poststart.json')), 'run by the time start returns');
  t.equal(hookState(b, 'poststart')?.['id'], b.id, 'with the state on stdin');
});

t.test('config.md#poststop MUST: poststop hooks run when the container is deleted, before delete returns', async (t) => {
  const b = bundleFor(t, { args: ['true'] });
  withHooks(b, { poststop: [recordingHook(b, 'poststop')] });
  if (!createOk(t, b) || !startOk(t, b)) return;
  await waitForStatus(b.id, 'stopped');
  t.notOk(existsSync(b.path('poststop.json')), 'not run before delete');
  const r = runtime(['delete', b.id]);
  t.equal(r.status, 0, describeResult(r));
  t.equal(hookState(b, 'poststop')?.['id'], b.id, 'run with the state on stdin by the time delete returns');
});

t.test('config.md#posix-platform-hooks MUST: hooks get their args and env', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, {
    createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo "$0 $1 $CONFORMANCE" > ${b.path('argsenv')}`, 'first', 'second'], env: ['CONFORMANCE=env-value'] }],
  });
  if (!createOk(t, b)) return;
  t.equal(readText(b.path('argsenv')), 'first second env-value\n');
});

for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
  t.test(`config.md#posix-platform-hooks MUST: a failing ${kind} hook makes create fail and leaves nothing behind`, async (t) => {
  if (!canRunBaseline(t)) return;
    const b = bundleFor(t, untilGo);
    withHooks(b, { [kind]: [{ path: '/bin/false' }] });
    t.not(create(b).status, 0, 'create fails');
    leftNothing(t, b.id);
  });
}

t.test('config.md#posix-platform-hooks MUST: a hook that outlives its timeout fails create', async (t) => {
  if (!canRunBaseline(t)) return;
  const b = bundleFor(t, untilGo);
  withHooks(b, { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '20'], timeout: 1 }] });
  const started = Date.now();
  t.not(create(b).status, 0, 'create fails');
  t.ok(Date.now() - started < 15_000, 'well before the hook would have ended');
  leftNothing(t, b.id);
});

t.test('config.md#poststart MUST: a failing poststart hook is only a warning: the container keeps running', async (t) => {
  const b = bundleFor(t, untilGo);
  withHooks(b, { poststart: [{ path: '/bin/false' }, recordingHook(b, 'poststart')] });
  if (!createOk(t, b)) return;
  runtime(['start', b.id]);
  t.equal(state(b.id)?.['status'], 'running', 'the container runs');
  t.ok(existsSync(b.path('poststart.json')), 'the next poststart hook ran');
});

t.test('config.md#poststop MUST: a failing poststop hook is only a warning: delete succeeds and later hooks run', async (t) => {
  const b = bundleFor(t, { args: ['true'] });
  withHooks(b, { poststop: [{ path: '/bin/false' }, recordingHook(b, 'poststop')] });
  if (!createOk(t, b) || !startOk(t, b)) return;
  await waitForStatus(b.id, 'stopped');
  const r = runtime(['delete', b.id]);
  t.equal(r.status, 0, describeResult(r));
  t.ok(existsSync(b.path('poststop.json')), 'the next poststop hook ran');
  leftNothing(t, b.id);
});
