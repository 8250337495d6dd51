// The bundle builder that the conformance suite and integration tests share.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLETS, applyPatch, bundleFor, defaultConfig, runToCompletion, runtimeUnderTest, which } from './helpers/bundle.js';

const runc = which('runc');

t.test('the rootfs holds busybox, its applets, the usual dirs and root/nobody accounts', async (t) => {
  const b = bundleFor(t);
  t.ok(statSync(join(b.rootfs, 'bin/busybox')).mode & 0o111, 'busybox is executable');
  for (const applet of APPLETS) t.equal(readlinkSync(join(b.rootfs, 'bin', applet)), 'busybox', `${applet} links to busybox`);
  for (const dir of ['proc', 'sys', 'dev', 'tmp', 'etc', 'root', 'run']) t.ok(lstatSync(join(b.rootfs, dir)).isDirectory(), `/${dir}`);
  t.equal(statSync(join(b.rootfs, 'tmp')).mode & 0o7777, 0o1777, '/tmp is sticky and world-writable');
  t.match(readFileSync(join(b.rootfs, 'etc/passwd'), 'utf8'), /^root:x:0:0:.*\nnobody:x:65534:65534:/);
  t.match(readFileSync(join(b.rootfs, 'etc/group'), 'utf8'), /^root:x:0:\n(.*\n)*nobody:x:65534:\n/);
});

t.test('config.json is the patched default config; bundles do not share a rootfs copy or an id', async (t) => {
  const a = bundleFor(t, { args: ['true'], patch: { hostname: 'x', linux: { namespaces: [{ type: 'mount' }] }, root: { readonly: undefined } } });
  const b = bundleFor(t);
  const written = JSON.parse(readFileSync(join(a.dir, 'config.json'), 'utf8'));
  t.same(written.process.args, ['true']);
  t.equal(written.hostname, 'x');
  t.same(written.linux.namespaces, [{ type: 'mount' }], 'arrays are replaced, not merged');
  t.same(written.linux.maskedPaths, defaultConfig().linux.maskedPaths, 'untouched fields keep their defaults');
  t.same(written.root, { path: 'rootfs' }, 'undefined removes a key');
  t.not(a.rootfs, b.rootfs);
  t.not(a.id, b.id);
});

t.test('a shared rootfs is the template, by absolute path and read-only', async (t) => {
  const a = bundleFor(t, { rootfs: 'shared' });
  const b = bundleFor(t, { rootfs: 'shared' });
  t.equal(a.rootfs, b.rootfs);
  t.same(a.config['root'], { path: a.rootfs, readonly: true });
  t.notOk(existsSync(join(a.dir, 'rootfs')));
});

t.test('cleanup removes the bundle and is idempotent', async (t) => {
  const b = bundleFor(t);
  b.cleanup();
  t.notOk(existsSync(b.dir));
  t.doesNotThrow(() => b.cleanup());
});

t.test('applyPatch deep-merges objects and replaces everything else', async (t) => {
  t.same(applyPatch({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: undefined, e: { f: 1 } }), { a: { b: 1, c: [3] }, e: { f: 1 } });
});

t.test('the default config is what `runc spec` writes, with terminal false', { skip: runc ? false : 'runc is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-spec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync(runc!, ['spec'], { cwd: dir, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  expected.process.terminal = false;
  t.same(defaultConfig(), expected);
});

t.test('runc runs a bundle and its output comes back', { skip: runc ? false : 'runc is not installed' }, async (t) => {
  process.env['RUNTIME'] = 'runc';
  t.teardown(() => void delete process.env['RUNTIME']);
  t.equal(runtimeUnderTest().name, 'runc');
  const b = bundleFor(t, { rootfs: 'shared', args: ['sh', '-c', 'echo hello from $(hostname); exit 3'] });
  const r = runToCompletion(b);
  t.equal(r.stdout, 'hello from runc\n');
  t.equal(r.status, 3, 'the container exit status is the run status');
});
