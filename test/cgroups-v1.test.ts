// Real cgroup v1 controllers on this host (root): limits land in the files, and bite.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupCgroups, type CgroupHandle, type Resources } from '../src/cgroups/index.js';
import { layout, spawnWaiting, sleep, eventually, testCgroupRoot } from './helpers/cgroups.js';

const hasV1 = ['memory', 'pids', 'freezer', 'cpu', 'cpuset', 'devices'].every((c) => layout.v1[c]);
if (process.getuid?.() !== 0 || !hasV1) {
  t.plan(0, 'needs root and cgroup v1 controllers');
  process.exit(0);
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

function setup(t: Test, resources: Resources): CgroupHandle {
  const cgroupsPath = `${testCgroupRoot(t)}/c`;
  const cg = setupCgroups({ linux: { cgroupsPath, resources } }, 'c', { systemd: false });
  t.teardown(() => cg.destroy({ force: true }));
  return cg;
}

t.test('limits land in the controller files; the process is in every cgroup', async (t) => {
  const cg = setup(t, {
    memory: { limit: 64 * 2 ** 20, reservation: 32 * 2 ** 20, swappiness: 10 },
    pids: { limit: 20 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  });
  const p = cg.paths;
  t.equal(read(p['memory']!, 'memory.limit_in_bytes'), String(64 * 2 ** 20));
  t.equal(read(p['memory']!, 'memory.soft_limit_in_bytes'), String(32 * 2 ** 20));
  t.equal(read(p['memory']!, 'memory.swappiness'), '10');
  t.equal(read(p['pids']!, 'pids.max'), '20');
  t.equal(read(p['cpu']!, 'cpu.shares'), '512');
  t.equal(read(p['cpu']!, 'cpu.cfs_quota_us'), '50000');
  t.equal(read(p['cpu']!, 'cpu.cfs_period_us'), '100000');
  t.equal(read(p['cpuset']!, 'cpuset.cpus'), '0');
  // runc's default device rules (with no rule of the config's): only the defaults.
  const devices = read(p['devices']!, 'devices.list').split('\n');
  t.ok(devices.includes('c 1:3 rwm'), '/dev/null allowed');
  t.ok(devices.includes('c *:* m') && devices.includes('b *:* m'), 'mknod of anything');
  t.notOk(devices.includes('a *:* rwm'), 'not everything');

  const child = spawnWaiting(t, 'exec sleep 100');
  cg.addProcess(child.pid!);
  const own = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
  for (const controller of ['memory', 'pids', 'cpu', 'freezer', 'devices', 'cpuset']) {
    const rel = p[controller]!.slice(layout.v1[controller]!.length);
    t.match(own, new RegExp(`:${controller}:${rel.replace(/[/.]/g, '\\$&')}\\n`), `in the ${controller} cgroup`);
  }
  t.same(cg.pids(), [child.pid]);
  t.equal(cg.stats().pids.current, 1);
  t.equal(cg.stats().memory.usage.limit, 64 * 2 ** 20);
});

t.test('a process that allocates past the memory limit is OOM-killed, and the OOM is counted', async (t) => {
  const cg = setup(t, { memory: { limit: 16 * 2 ** 20 } });
  const child = spawnWaiting(t, `exec tail /dev/zero`);
  cg.addProcess(child.pid!);
  child.go();
  const r = await child.exited;
  t.equal(r.signal, 'SIGKILL', 'killed by the OOM killer');
  const oom = read(cg.paths['memory']!, 'memory.oom_control');
  t.match(oom, /oom_kill [1-9]/, 'memory.oom_control counts the kill');
  t.ok(Number(read(cg.paths['memory']!, 'memory.failcnt')) > 0, 'memory.failcnt counts hitting the limit');
});

t.test('pids.max stops a fork loop', async (t) => {
  const cg = setup(t, { pids: { limit: 4 } });
  const child = spawnWaiting(t, 'for i in 1 2 3 4 5 6 7 8; do sleep 30 & done; echo forked; wait');
  cg.addProcess(child.pid!);
  child.go();
  const refused = () => Number(read(cg.paths['pids']!, 'pids.events').split(' ')[1]);
  t.ok(await eventually(() => refused() > 0), 'pids.events counts refused forks');
  await sleep(200);
  const current = Number(read(cg.paths['pids']!, 'pids.current'));
  t.ok(current >= 3 && current <= 4, `never more than pids.max (${current})`);
  cg.killAll('SIGKILL');
  const r = await child.exited;
  t.match(r.stderr, /fork|Resource temporarily unavailable/i, 'the shell saw fork fail');
});

t.test('freeze stops a counter and thaw restarts it (v1 freezer)', async (t) => {
  const cg = setup(t, {});
  const dir = mkdtempSync(join(tmpdir(), 'berth-freeze-'));
  const counter = join(dir, 'n');
  const child = spawnWaiting(t, `i=0; while :; do i=$((i+1)); echo $i > ${counter}; done`);
  cg.addProcess(child.pid!);
  child.go();
  const count = () => Number(existsSync(counter) ? readFileSync(counter, 'utf8') : 0) || 0;
  await eventually(() => count() > 10);
  cg.freeze();
  t.equal(cg.isPaused(), true);
  t.equal(read(cg.paths['freezer']!, 'freezer.state'), 'FROZEN');
  const frozenAt = count();
  await sleep(300);
  t.equal(count(), frozenAt, 'the counter stands still while frozen');
  cg.thaw();
  t.equal(cg.isPaused(), false);
  t.ok(await eventually(() => count() > frozenAt), 'the counter runs again after thaw');
});

t.test('killAll signals every process; destroy leaves no directory', async (t) => {
  const cg = setup(t, {});
  const a = spawnWaiting(t, 'exec sleep 100');
  const b = spawnWaiting(t, 'exec sleep 100');
  cg.addProcess(a.pid!);
  cg.addProcess(b.pid!);
  t.same(cg.pids().sort(), [a.pid, b.pid].sort());
  cg.killAll('SIGTERM');
  t.equal((await a.exited).signal, 'SIGTERM');
  t.equal((await b.exited).signal, 'SIGTERM');
  t.equal(cg.isPaused(), false, 'thawed again after signalling');
  cg.destroy();
  for (const dir of Object.values(cg.paths)) t.notOk(existsSync(dir), `${dir} removed`);
});

t.test('destroy refuses a cgroup with processes unless forced', async (t) => {
  const cg = setup(t, {});
  const a = spawnWaiting(t, 'exec sleep 100');
  cg.addProcess(a.pid!);
  t.throws(() => cg.destroy(), { name: 'BerthError', message: /EBUSY/ });
  cg.destroy({ force: true });
  t.equal((await a.exited).signal, 'SIGKILL');
  for (const dir of Object.values(cg.paths)) t.notOk(existsSync(dir), `${dir} removed`);
});

t.test('update changes limits of a live cgroup; checkBeforeUpdate refuses a limit below usage', async (t) => {
  const cg = setup(t, { memory: { limit: 64 * 2 ** 20 } });
  cg.update({ memory: { limit: 32 * 2 ** 20 }, pids: { limit: 7 } });
  t.equal(read(cg.paths['memory']!, 'memory.limit_in_bytes'), String(32 * 2 ** 20));
  t.equal(read(cg.paths['pids']!, 'pids.max'), '7');
  // The shell keeps x (4 MB) while it waits on stdin: an exec would free it, and usage
  // could drop under the new limit before checkBeforeUpdate reads it.
  const child = spawnWaiting(t, 'x=$(head -c 4000000 /dev/zero | tr "\\0" a); echo ready; read hold');
  cg.addProcess(child.pid!);
  child.go();
  await eventually(() => Number(read(cg.paths['memory']!, 'memory.usage_in_bytes')) > 2 ** 20);
  t.throws(() => cg.update({ memory: { limit: 2 ** 20, checkBeforeUpdate: true } }), { name: 'BerthError', message: /checkBeforeUpdate/ });
  t.equal(read(cg.paths['memory']!, 'memory.limit_in_bytes'), String(32 * 2 ** 20), 'unchanged');
});

t.test('a write the kernel refuses names the field and the file; nothing is left behind', async (t) => {
  const root = testCgroupRoot(t);
  t.throws(() => setupCgroups({ linux: { cgroupsPath: `${root}/c`, resources: { cpu: { cpus: '99999' } } } }, 'c', { systemd: false }), {
    name: 'BerthError',
    message: /^linux\.resources\.cpu\.cpus: write cpuset\.cpus: E[A-Z]+$/,
  });
  for (const mount of Object.values(layout.v1)) t.notOk(existsSync(join(mount, root)), `nothing left in ${mount}`);
});

t.test('a paused container can be killed and destroyed', async (t) => {
  const cg = setup(t, {});
  const a = spawnWaiting(t, 'exec sleep 100');
  cg.addProcess(a.pid!);
  cg.freeze();
  cg.destroy({ force: true });
  t.equal((await a.exited).signal, 'SIGKILL');
  for (const dir of Object.values(cg.paths)) t.notOk(existsSync(dir), `${dir} removed`);
});
