// User namespaces end to end through the CLI: `berth run` of a busybox bundle whose
// container root is host uid 100000, checked from inside (ids, maps, capabilities,
// limits) and from the host (the uid its processes and files have), and side by side
// with runc 1.1.5 on the same bundle, whose observable results berth must match.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundleFor, describeResult, readText, resolveRuntime, runtime, stateRootDir, uniqueId, which,
  type Bundle, type HasTeardown, type OciConfig, type Result, type Runtime, type RunOptions,
} from './helpers/bundle.js';

const HOST_ID = 100000;
const BERTH = resolveRuntime('berth');
const RUNC = which('runc') ? resolveRuntime('runc') : undefined;

/** berth, whatever runtime RUNTIME names for the conformance suite. */
const berth = (args: string[], options: RunOptions = {}) => runtime(args, { ...options, runtime: BERTH });

/** What both runtimes' containers print, compared line by line. */
const PROBE = 'id; cat /proc/self/uid_map /proc/self/gid_map; grep Cap /proc/self/status; ulimit -n';

/** Container ids 0..size-1 are host ids HOST_ID.. (uid and gid alike). */
function mapped(config: OciConfig, size: number): void {
  config['linux'].uidMappings = [{ containerID: 0, hostID: HOST_ID, size }];
  config['linux'].gidMappings = [{ containerID: 0, hostID: HOST_ID, size }];
}

/** runc's default config with a new user namespace mapping 65536 ids. */
function withUserNamespace(config: OciConfig): void {
  config['linux'].namespaces.push({ type: 'user' });
  mapped(config, 65536);
}

/**
 * What `runc spec --rootless` (1.1.5) changes in the default config (measured): no
 * network namespace, a user namespace mapping one id, devpts without gid=5 (unmapped),
 * and the host's /sys bound read-only, since sysfs needs a network namespace.
 */
function rootlessStyle(config: OciConfig): void {
  const linux = config['linux'];
  linux.namespaces = linux.namespaces.filter((ns: { type: string }) => ns.type !== 'network');
  linux.namespaces.push({ type: 'user' });
  mapped(config, 1);
  delete linux.resources;
  for (const m of config['mounts']) {
    if (m.destination === '/dev/pts') m.options = m.options.filter((o: string) => o !== 'gid=5');
    if (m.destination === '/sys') Object.assign(m, { type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
  }
}

/** A bundle whose rootfs copy belongs to the container's root (host uid HOST_ID). */
function userNamespaceBundle(t: HasTeardown, args: string[], edit: (config: OciConfig) => void, mounts: Record<string, unknown>[] = []): Bundle {
  const bundle = bundleFor(t, { args, edit, mounts });
  execFileSync('chown', ['-R', `${HOST_ID}:${HOST_ID}`, bundle.rootfs]);
  return bundle;
}

/** `run` in the foreground under a fresh id, then `delete --force` whatever is left. */
function run(rt: Runtime, bundle: Bundle, extra: string[] = []): Result {
  const id = uniqueId('userns');
  try {
    return runtime(['run', ...extra, '--bundle', bundle.dir, id], { runtime: rt, input: '' });
  } finally {
    runtime(['delete', '--force', id], { runtime: rt, timeoutMs: 15_000 });
  }
}

/** The probe's output with the maps' column padding squeezed. */
function squeeze(output: string): string[] {
  return output.trim().split('\n').map((line) => line.trim().split(/\s+/).join(' '));
}

t.test('berth run in a user namespace: root inside, the maps as configured, the configured capabilities', async (t) => {
  const r = run(BERTH, userNamespaceBundle(t, ['sh', '-c', PROBE], withUserNamespace));
  t.equal(r.status, 0, describeResult(r));
  t.same(squeeze(r.stdout), [
    'uid=0(root) gid=0(root)',
    `0 ${HOST_ID} 65536`,
    `0 ${HOST_ID} 65536`,
    'CapInh: 0000000000000000',
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: the bounding set too, although a
    // new user namespace starts with every capability
    'CapPrm: 0000000020000420',
    'CapEff: 0000000020000420',
    'CapBnd: 0000000020000420',
    // ambient needs inheritable, which runc's default config has none of
    'CapAmb: 0000000000000000',
    '1024',
  ]);
});

t.test('the host sees the container as uid 100000: its processes and the files it creates', async (t) => {
  const shared = mkdtempSync(join(tmpdir(), 'berth-userns-shared-'));
  t.teardown(() => rmSync(shared, { recursive: true, force: true }));
  chmodSync(shared, 0o777);
  const bind = { destination: '/shared', type: 'bind', source: shared, options: ['rbind', 'rw'] };
  const bundle = userNamespaceBundle(t, ['sh', '-c', 'touch /shared/made-inside; exec sleep 60'], withUserNamespace, [bind]);
  const id = uniqueId('userns');
  t.teardown(() => void berth(['delete', '--force', id], { timeoutMs: 15_000 }));
  // The container keeps its stdio open: files, so that run need not wait for it.
  const err = openSync(bundle.path('run.err'), 'w');
  const r = berth(['run', '--detach', '--bundle', bundle.dir, id], { stdio: ['ignore', 'ignore', err] });
  closeSync(err);
  t.equal(r.status, 0, `${describeResult(r)}${readText(bundle.path('run.err'))}`);
  const state = JSON.parse(berth(['state', id]).stdout || '{}');
  if (!t.equal(state.status, 'running', JSON.stringify(state))) return;
  const pid = state.pid;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  t.match(status, new RegExp(`^Uid:\\s+${HOST_ID}\\s+${HOST_ID}\\s+${HOST_ID}\\s+${HOST_ID}$`, 'm'));
  t.match(status, new RegExp(`^Gid:\\s+${HOST_ID}\\s+${HOST_ID}\\s+${HOST_ID}\\s+${HOST_ID}$`, 'm'));
  const made = join(shared, 'made-inside');
  for (let i = 0; i < 100 && !statSync(made, { throwIfNoEntry: false }); i++) await new Promise((done) => setTimeout(done, 50));
  const st = statSync(made);
  t.same([st.uid, st.gid], [HOST_ID, HOST_ID], 'a file the container created belongs to host uid/gid 100000');
});

t.test('berth create, then start: the container\'s root (host uid 100000) passes the start gate', async (t) => {
  const bundle = userNamespaceBundle(t, ['sh', '-c', 'id -u; cat /proc/self/uid_map'], withUserNamespace);
  const id = uniqueId('userns');
  t.teardown(() => void berth(['delete', '--force', id], { timeoutMs: 15_000 }));
  const out = openSync(bundle.path('container.out'), 'w');
  const created = berth(['create', '--bundle', bundle.dir, id], { stdio: ['ignore', out, out] });
  closeSync(out);
  t.equal(created.status, 0, `${describeResult(created)}${readText(bundle.path('container.out'))}`);
  const state = JSON.parse(berth(['state', id]).stdout || '{}');
  if (!t.equal(state.status, 'created', `waiting at the gate: ${JSON.stringify(state)}`)) return;
  t.match(readFileSync(`/proc/${state.pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${HOST_ID}\\s`, 'm'), 'as host uid 100000');
  const started = berth(['start', id]);
  t.equal(started.status, 0, describeResult(started));
  for (let i = 0; i < 200 && !readText(bundle.path('container.out')).includes(String(HOST_ID)); i++) await new Promise((done) => setTimeout(done, 50));
  t.same(squeeze(readText(bundle.path('container.out'))), ['0', `0 ${HOST_ID} 65536`]);
});

t.test('a runc spec --rootless style config (one id mapped) runs', async (t) => {
  const r = run(BERTH, userNamespaceBundle(t, ['sh', '-c', `${PROBE}; ls /sys/kernel >/dev/null && echo sys`], rootlessStyle));
  t.equal(r.status, 0, describeResult(r));
  const lines = squeeze(r.stdout);
  t.equal(lines[0], 'uid=0(root) gid=0(root)');
  t.same(lines.slice(1, 3), [`0 ${HOST_ID} 1`, `0 ${HOST_ID} 1`]);
  t.equal(lines.at(-1), 'sys', "the host's /sys is bound in");
});

t.test('container uid 0 unmapped: a clear error naming linux.uidMappings, nothing left behind', async (t) => {
  const bundle = userNamespaceBundle(t, ['true'], (config) => {
    withUserNamespace(config);
    config['linux'].uidMappings = [{ containerID: 1, hostID: HOST_ID, size: 65536 }];
  });
  const id = uniqueId('userns');
  t.teardown(() => void berth(['delete', '--force', id], { timeoutMs: 15_000 }));
  const r = berth(['run', '--bundle', bundle.dir, id], { input: '' });
  t.not(r.status, 0);
  t.match(r.stderr, /^berth: linux\.uidMappings: container uid 0 is not mapped/m);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  t.notOk(existsSync(join(stateRootDir(), id)), 'no state directory left behind');
  t.not(berth(['state', id]).status, 0, 'no container of that id');
});

const CONFIGS: [string, (config: OciConfig) => void][] = [
  ['65536 ids mapped', withUserNamespace],
  ['runc spec --rootless style, one id mapped', rootlessStyle],
  ['a non-root user with additional groups', (config) => {
    withUserNamespace(config);
    config['process'].user = { uid: 1000, gid: 1000, additionalGids: [5, 100] };
  }],
];

for (const [name, edit] of CONFIGS) {
  t.test(`side by side with runc (${name}): the same ids, maps, capabilities and limits`, { skip: RUNC ? false : 'runc is not installed' }, async (t) => {
    const bundle = userNamespaceBundle(t, ['sh', '-c', PROBE], edit);
    const ours = run(BERTH, bundle);
    const theirs = run(RUNC!, bundle);
    t.equal(theirs.status, 0, describeResult(theirs));
    t.equal(ours.status, 0, describeResult(ours));
    t.same(squeeze(ours.stdout), squeeze(theirs.stdout));
  });
}

/** `run --detach` under a fresh id (deleted when the test ends); stdio goes to a file, which the container keeps open. */
function runDetached(t: HasTeardown, rt: Runtime, bundle: Bundle): { id: string; result: Result } {
  const id = uniqueId('userns');
  t.teardown(() => void runtime(['delete', '--force', id], { runtime: rt, timeoutMs: 15_000 }));
  const log = openSync(bundle.path(`${id}.out`), 'w');
  try {
    return { id, result: runtime(['run', '--detach', '--bundle', bundle.dir, id], { runtime: rt, stdio: ['ignore', log, log] }) };
  } finally {
    closeSync(log);
  }
}

t.test('side by side with runc: exec into a user namespace container, as root and as another user', { skip: RUNC ? false : 'runc is not installed' }, async (t) => {
  const bundle = userNamespaceBundle(t, ['sleep', '60'], withUserNamespace);
  const outputs = [BERTH, RUNC!].map((rt) => {
    const { id, result } = runDetached(t, rt, bundle);
    t.equal(result.status, 0, describeResult(result));
    const asRoot = runtime(['exec', id, 'sh', '-c', PROBE], { runtime: rt });
    const asUser = runtime(['exec', '--user', '1000:1000', id, 'sh', '-c', 'id; grep Cap /proc/self/status'], { runtime: rt });
    t.equal(asRoot.status, 0, describeResult(asRoot));
    t.equal(asUser.status, 0, describeResult(asUser));
    return [...squeeze(asRoot.stdout), ...squeeze(asUser.stdout)];
  });
  t.same(outputs[0], outputs[1], 'berth (found) and runc (wanted) agree');
  t.equal(outputs[0]![0], 'uid=0(root) gid=0(root)');
});

t.test('side by side with runc: raising a hard rlimit in a user namespace', { skip: RUNC ? false : 'runc is not installed' }, async (t) => {
  // Whether either runtime may raise it depends on CAP_SYS_RESOURCE: they must agree.
  const hard = Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
  const limit = Math.min(hard + 1, Number(readFileSync('/proc/sys/fs/nr_open', 'utf8')));
  const bundle = userNamespaceBundle(t, ['sh', '-c', 'ulimit -Sn; ulimit -Hn'], (config) => {
    withUserNamespace(config);
    config['process'].rlimits = [{ type: 'RLIMIT_NOFILE', soft: limit, hard: limit }];
  });
  const ours = run(BERTH, bundle);
  const theirs = run(RUNC!, bundle);
  t.equal(ours.status === 0, theirs.status === 0, `berth: ${describeResult(ours)}; runc: ${describeResult(theirs)}`);
  t.equal(ours.stdout, theirs.stdout);
  if (ours.status !== 0) t.match(ours.stderr, /^berth: process\.rlimits\[0\]: .*EPERM$/m);
});
