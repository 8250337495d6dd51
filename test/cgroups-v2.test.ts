// The cgroup2 code paths on a real cgroup2 hierarchy: on this hybrid host that is
// /sys/fs/cgroup/unified (no controllers, but cgroup.procs, cgroup.freeze, cgroup.kill
// and cgroup.events work); on a pure v2 host it is /sys/fs/cgroup itself.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupManager } from '../src/cgroups/manager.js';
import { resolvePaths } from '../src/cgroups/paths.js';
import { UNIFIED } from '../src/cgroups/types.js';
import { eventually, layout, sleep, spawnWaiting, testCgroupRoot } from './helpers/cgroups.js';

if (process.getuid?.() !== 0 || !layout.unified) {
  t.plan(0, 'needs root and a cgroup2 hierarchy');
  process.exit(0);
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();
const events = (dir: string) => Object.fromEntries(read(dir, 'cgroup.events').split('\n').map((l) => l.split(' ')));

/** A manager for a cgroup on the cgroup2 hierarchy only. */
function unifiedCgroup(t: Test): CgroupManager {
  const all = resolvePaths(`${testCgroupRoot(t)}/c`, 'c', layout, {});
  const m = new CgroupManager({ [UNIFIED]: all[UNIFIED]! }, layout);
  m.create();
  t.teardown(() => m.destroy({ force: true }));
  return m;
}

t.test('a cgroup2-only container is managed as on pure v2', async (t) => {
  const m = unifiedCgroup(t);
  t.equal(m.layout.kind, 'v2');
});

t.test('processes join through cgroup.procs; cgroup.events says populated', async (t) => {
  const m = unifiedCgroup(t);
  const dir = m.paths[UNIFIED]!;
  t.equal(events(dir)['populated'], '0');
  const child = spawnWaiting(t, 'exec sleep 100');
  m.addProcess(child.pid!);
  t.equal(events(dir)['populated'], '1');
  t.same(m.pids(), [child.pid]);
  t.match(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'), new RegExp(`^0::${dir.slice(layout.unified!.length)}$`, 'm'));
});

t.test('cgroup.freeze stops a counter and thaw restarts it', async (t) => {
  const m = unifiedCgroup(t);
  const dir = mkdtempSync(join(tmpdir(), 'berth-freeze2-'));
  const counter = join(dir, 'n');
  const child = spawnWaiting(t, `i=0; while :; do i=$((i+1)); echo $i > ${counter}; done`);
  m.addProcess(child.pid!);
  child.go();
  const count = () => Number(existsSync(counter) ? readFileSync(counter, 'utf8') : 0) || 0;
  await eventually(() => count() > 10);
  m.freeze();
  t.equal(m.isFrozen(), true);
  t.equal(events(m.paths[UNIFIED]!)['frozen'], '1');
  const frozenAt = count();
  await sleep(300);
  t.equal(count(), frozenAt, 'the counter stands still while frozen');
  m.thaw();
  t.equal(m.isFrozen(), false);
  t.equal(events(m.paths[UNIFIED]!)['frozen'], '0');
  t.ok(await eventually(() => count() > frozenAt), 'the counter runs again after thaw');
});

t.test('killAll(SIGKILL) empties the cgroup through cgroup.kill, other signals one by one', async (t) => {
  const m = unifiedCgroup(t);
  const a = spawnWaiting(t, 'exec sleep 100');
  const b = spawnWaiting(t, 'sleep 100 & sleep 100 & wait');
  m.addProcess(a.pid!);
  m.addProcess(b.pid!);
  b.go();
  await eventually(() => m.pids().length === 4);
  m.killAll('SIGKILL');
  t.equal((await a.exited).signal, 'SIGKILL');
  t.equal((await b.exited).signal, 'SIGKILL');
  t.ok(await eventually(() => events(m.paths[UNIFIED]!)['populated'] === '0'), 'children of children are gone too');

  const c = spawnWaiting(t, 'exec sleep 100');
  m.addProcess(c.pid!);
  m.killAll('SIGTERM');
  t.equal((await c.exited).signal, 'SIGTERM');
  t.equal(m.isFrozen(), false, 'thawed again after signalling');
});

t.test('destroy removes the directory (and sub-cgroups), forced destroy kills first', async (t) => {
  const m = unifiedCgroup(t);
  const dir = m.paths[UNIFIED]!;
  const child = spawnWaiting(t, 'exec sleep 100');
  m.addProcess(child.pid!);
  t.throws(() => m.destroy(), { name: 'BerthError', message: /EBUSY/ });
  m.destroy({ force: true });
  t.equal((await child.exited).signal, 'SIGKILL');
  t.notOk(existsSync(dir));
});

t.test('the unified map writes plain cgroup files', async (t) => {
  const m = unifiedCgroup(t);
  m.apply({ unified: { 'cgroup.max.descendants': '7', 'cgroup.max.depth': '2' } });
  t.equal(read(m.paths[UNIFIED]!, 'cgroup.max.descendants'), '7');
  t.equal(read(m.paths[UNIFIED]!, 'cgroup.max.depth'), '2');
  t.throws(() => m.apply({ unified: { '../cgroup.max.depth': '1' } }), { name: 'BerthError', message: /linux\.resources\.unified/ });
  t.throws(() => m.apply({ unified: { 'cgroup.max.depth': 'bogus' } }), { name: 'BerthError', message: /^linux\.resources\.unified\["cgroup\.max\.depth"\]: write cgroup\.max\.depth: EINVAL$/ });
});

t.test('a controller this cgroup2 hierarchy does not delegate is an error naming the field', async (t) => {
  const m = unifiedCgroup(t);
  if (m.layout.unifiedControllers.includes('pids')) return t.pass('pids is delegated here: nothing to refuse');
  t.throws(() => m.apply({ pids: { limit: 5 } }), { name: 'BerthError', message: /^linux\.resources\.pids\.limit: the pids cgroup controller is not available/ });
});
