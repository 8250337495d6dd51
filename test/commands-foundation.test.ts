import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { berth } from './helpers/berth.js';
import { record, sleeper, storeRecord, tempRoot, uniqueId } from './helpers/state.js';
import { validateConfigSchema, validateStateSchema } from '../src/generated/validators.js';
import { seccompArchitectures } from '../src/features.js';
import { StateStore } from '../src/state/index.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cmd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('spec writes a valid config.json with runc spec\'s defaults', async (t) => {
  const dir = tempDir(t);
  const r = berth(['spec', '--bundle', dir]);
  t.equal(r.status, 0, r.stderr);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.ok(validateConfigSchema(config), JSON.stringify((validateConfigSchema as any).errors));
  t.equal(config.ociVersion, '1.3.0');
  t.equal(config.hostname, 'berth');

  const runcDir = tempDir(t);
  const runc = spawnSync('runc', ['spec'], { cwd: runcDir });
  t.equal(runc.status, 0, 'runc spec ran');
  const reference = JSON.parse(readFileSync(join(runcDir, 'config.json'), 'utf8'));
  // Everything but the runtime's own name and spec version is what runc writes.
  t.same({ ...config, ociVersion: 0, hostname: 0 }, { ...reference, ociVersion: 0, hostname: 0 });
});

t.test('spec --rootless writes a user-namespace config like runc spec --rootless', async (t) => {
  const dir = tempDir(t);
  t.equal(berth(['spec', '--rootless', '-b', dir]).status, 0);
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  t.ok(validateConfigSchema(config));
  const runcDir = tempDir(t);
  t.equal(spawnSync('runc', ['spec', '--rootless'], { cwd: runcDir }).status, 0);
  const reference = JSON.parse(readFileSync(join(runcDir, 'config.json'), 'utf8'));
  t.same({ ...config, ociVersion: 0, hostname: 0 }, { ...reference, ociVersion: 0, hostname: 0 });
  t.ok(config.linux.namespaces.some((ns: { type: string }) => ns.type === 'user'));
  t.notOk(config.linux.namespaces.some((ns: { type: string }) => ns.type === 'network'));
});

t.test('spec refuses to overwrite an existing config.json', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), 'mine');
  const r = berth(['spec', '-b', dir]);
  t.equal(r.status, 1);
  t.match(r.stderr, /config\.json exists: remove it first/);
  t.equal(readFileSync(join(dir, 'config.json'), 'utf8'), 'mine');
});

t.test('features reports the spec range and only what is implemented', async (t) => {
  const r = berth(['features']);
  t.equal(r.status, 0);
  const f = JSON.parse(r.stdout);
  t.equal(f.ociVersionMin, '1.0.0');
  t.equal(f.ociVersionMax, '1.3.0');
  for (const list of [f.hooks, f.mountOptions, f.linux.namespaces, f.linux.capabilities]) t.ok(Array.isArray(list));
  t.equal(f.linux.apparmor.enabled, false);
  t.equal(f.linux.selinux.enabled, false);
  t.equal(f.linux.intelRdt.enabled, false);
  t.type(f.linux.mountExtensions.idmap.enabled, 'boolean');
  for (const key of ['v1', 'v2', 'systemd', 'systemdUser', 'rdma']) t.type(f.linux.cgroup[key], 'boolean');
  if (f.linux.seccomp.enabled) {
    t.same(f.linux.seccomp.archs, seccompArchitectures(), 'seccomp archs are what libseccomp knows');
  }
});

t.test('libseccomp\'s architectures are found by their runtime-spec names', async (t) => {
  const archs = seccompArchitectures();
  t.ok(archs.includes('SCMP_ARCH_X86_64') && archs.includes('SCMP_ARCH_AARCH64'), archs.join(','));
  t.notOk(archs.includes('SCMP_ARCH_NOSUCH'));
});

t.test('list: table, json and quiet', async (t) => {
  const root = tempRoot(t);
  const live = sleeper(t);
  const a = uniqueId('a');
  const b = uniqueId('b');
  storeRecord(root, record(a, live.pid, live.startTime, { bundle: '/bundles/a' }));
  storeRecord(root, record(b, 0, '0', { bundle: '/bundles/b' }));

  const table = berth(['--root', root, 'list']);
  t.equal(table.status, 0);
  const lines = table.stdout.trimEnd().split('\n');
  t.match(lines[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  t.match(lines[1], new RegExp(`^${a}\\s+${live.pid}\\s+running\\s+/bundles/a\\s+\\S+Z\\s+root$`));
  t.match(lines[2], new RegExp(`^${b}\\s+0\\s+stopped\\s+/bundles/b\\s+\\S+Z\\s+root$`));
  t.equal(lines[1]!.indexOf(String(live.pid)), lines[0]!.indexOf('PID'), 'columns line up');

  const json = JSON.parse(berth(['--root', root, 'list', '-f', 'json']).stdout);
  t.same(json.map((s: { id: string; status: string }) => [s.id, s.status]), [[a, 'running'], [b, 'stopped']]);
  for (const state of json) t.ok(validateStateSchema(state));

  t.equal(berth(['--root', root, 'list', '-q']).stdout, `${a}\n${b}\n`);
  t.equal(berth(['--root', join(root, 'nosuch'), 'list', '--format', 'json']).stdout, '[]\n', 'no root: empty list');
});

t.test('delete removes a stopped container; a running one needs --force', async (t) => {
  const root = tempRoot(t);
  const stopped = uniqueId('stopped');
  storeRecord(root, record(stopped, 0, '0'));
  const r = berth(['--root', root, 'delete', stopped]);
  t.equal(r.status, 0, r.stderr);
  t.notOk(existsSync(join(root, stopped)));
  t.match(berth(['--root', root, 'state', stopped]).stderr, /does not exist/);

  const live = sleeper(t);
  const running = uniqueId('running');
  storeRecord(root, record(running, live.pid, live.startTime));
  const refused = berth(['--root', root, 'delete', running]);
  t.equal(refused.status, 1);
  t.equal(refused.stderr, `berth: cannot delete container ${running} that is not stopped: running\n`);
  t.ok(existsSync(join(root, running)));

  const exited = new Promise((resolve) => live.child.once('exit', (_code, signal) => resolve(signal)));
  const forced = berth(['--root', root, 'delete', '--force', running]);
  t.equal(forced.status, 0, forced.stderr);
  t.equal(await exited, 'SIGKILL', 'the container process was killed');
  t.notOk(existsSync(join(root, running)));
});

t.test('kill signals the container process by name or number; bad signals are refused', async (t) => {
  const root = tempRoot(t);
  const live = sleeper(t);
  const id = uniqueId('kill');
  storeRecord(root, record(id, live.pid, live.startTime));
  const bad = berth(['--root', root, 'kill', id, 'SIGNOPE']);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /unknown signal "SIGNOPE"/);
  t.equal(berth(['--root', root, 'kill', id, '0']).status, 0, 'signal 0 only checks the process exists');
  t.equal(berth(['--root', root, 'kill', id, '65']).status, 1);
  const exited = new Promise((resolve) => live.child.once('exit', (_code, signal) => resolve(signal)));
  t.equal(berth(['--root', root, 'kill', id, 'usr1']).status, 0);
  t.equal(await exited, 'SIGUSR1');
  t.match(berth(['--root', root, 'kill', id]).stderr, /container not running/);
});

t.test('delete --force of a missing container succeeds; remains of a dead create are removed', async (t) => {
  const root = tempRoot(t);
  t.equal(berth(['--root', root, 'delete', '--force', 'never-was']).status, 0);
  const plain = berth(['--root', root, 'delete', 'never-was']);
  t.equal(plain.status, 1);
  t.equal(plain.stderr, 'berth: container "never-was" does not exist\n');

  // A create that died after claiming the id and before writing state.json.
  const id = uniqueId('dead');
  new StateStore(root).create(id).close();
  t.match(berth(['--root', root, 'state', id]).stderr, /does not exist/);
  t.equal(berth(['--root', root, 'delete', id]).status, 1);
  t.notOk(existsSync(join(root, id)), 'the remains are gone, so the id can be used again');
  new StateStore(root).create(id).close();
  t.equal(berth(['--root', root, 'delete', '--force', id]).status, 0);
  t.notOk(existsSync(join(root, id)));
});
