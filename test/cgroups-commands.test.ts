// pause, resume, ps, update and events as a user runs them, on a container whose state
// record (pid + cgroup paths) the test writes itself where the lifecycle would.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setupCgroups, type CgroupHandle, type Resources } from '../src/cgroups/index.js';
import { berth, BERTH } from './helpers/berth.js';
import { layout, spawnWaiting, testCgroupRoot } from './helpers/cgroups.js';

if (process.getuid?.() !== 0 || !layout.v1['memory'] || !layout.v1['freezer'] || !layout.v1['pids']) {
  t.plan(0, 'needs root and cgroup v1 memory, freezer and pids controllers');
  process.exit(0);
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

interface Fixture {
  root: string;
  id: string;
  cg: CgroupHandle;
  child: ReturnType<typeof spawnWaiting>;
}

/** A "container": a process the test spawned, in cgroups berth set up, with a state record. */
function container(t: Test, resources: Resources = {}, script = 'exec sleep 100'): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'berth-root-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const id = `c-${randomBytes(4).toString('hex')}`;
  const cg = setupCgroups({ linux: { cgroupsPath: `${testCgroupRoot(t)}/${id}`, resources } }, id, { systemd: false });
  t.teardown(() => cg.destroy({ force: true }));
  const child = spawnWaiting(t, script);
  cg.addProcess(child.pid!);
  mkdirSync(join(root, id));
  writeFileSync(join(root, id, 'state.json'), JSON.stringify({ id, pid: child.pid, status: 'running', cgroupPaths: cg.paths }));
  return { root, id, cg, child };
}

t.test('pause freezes the container and resume thaws it; repeating either is an error', async (t) => {
  const { root, id, cg } = container(t);
  const pause = berth(['--root', root, 'pause', id]);
  t.equal(pause.status, 0, pause.stderr);
  t.equal(read(cg.paths['freezer']!, 'freezer.state'), 'FROZEN');
  const again = berth(['--root', root, 'pause', id]);
  t.not(again.status, 0);
  t.equal(again.stderr, `berth: container ${id} is already paused\n`);
  const resume = berth(['--root', root, 'resume', id]);
  t.equal(resume.status, 0, resume.stderr);
  t.equal(read(cg.paths['freezer']!, 'freezer.state'), 'THAWED');
  const resumeAgain = berth(['--root', root, 'resume', id]);
  t.not(resumeAgain.status, 0);
  t.equal(resumeAgain.stderr, `berth: container ${id} is not paused\n`);
});

t.test('unknown, invalid and stopped containers are clear errors', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'berth-root-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  t.equal(berth(['--root', root, 'pause', 'nosuch']).stderr, 'berth: container nosuch does not exist\n');
  t.equal(berth(['--root', root, 'ps', '../etc']).stderr, 'berth: invalid container id "../etc"\n');
  const { root: r2, id, child } = container(t);
  child.kill('SIGKILL');
  await child.exited;
  const r = berth(['--root', r2, 'resume', id]);
  t.not(r.status, 0);
  t.equal(r.stderr, `berth: container ${id} is not running\n`);
});

t.test('ps lists the container processes, as JSON or filtered ps output', async (t) => {
  const { root, id, child } = container(t);
  const json = berth(['--root', root, 'ps', '--format', 'json', id]);
  t.equal(json.status, 0, json.stderr);
  t.same(JSON.parse(json.stdout), [child.pid]);
  const table = berth(['--root', root, 'ps', id]);
  t.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /PID/);
  t.equal(lines.length, 2, 'the header and the one process');
  t.match(lines[1], new RegExp(`\\b${child.pid}\\b.*sleep 100`));
  const custom = berth(['--root', root, 'ps', id, '--', '-o', 'pid,args']);
  t.equal(custom.status, 0, custom.stderr);
  const rows = custom.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  t.same(rows.map((r) => r[0]), ['PID', String(child.pid)], 'ps ran with the given options, filtered to the container');
  t.equal(rows[0]![1], 'COMMAND');
  const noPid = berth(['--root', root, 'ps', id, '--', '-o', 'comm']);
  t.not(noPid.status, 0);
  t.match(noPid.stderr, /no PID column/);
});

t.test('update applies runc flags and a -r document', async (t) => {
  const { root, id, cg } = container(t, { memory: { limit: 256 * 2 ** 20 } });
  const r = berth(['--root', root, 'update', '--memory', '100m', '--pids-limit', '9', '--cpu-share', '256', '--cpu-quota', '20000', '--cpu-period', '100000', '--kernel-memory', '1m', id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /kernel-memory.*ignored/);
  t.equal(read(cg.paths['memory']!, 'memory.limit_in_bytes'), String(100 * 2 ** 20));
  t.equal(read(cg.paths['pids']!, 'pids.max'), '9');
  t.equal(read(cg.paths['cpu']!, 'cpu.shares'), '256');
  t.equal(read(cg.paths['cpu']!, 'cpu.cfs_quota_us'), '20000');
  const fromStdin = berth(['--root', root, 'update', '-r', '-', '--pids-limit', '11', id], { input: JSON.stringify({ memory: { limit: 50 * 2 ** 20, reservation: 2 ** 20 }, pids: { limit: 3 } }) });
  t.equal(fromStdin.status, 0, fromStdin.stderr);
  t.equal(read(cg.paths['memory']!, 'memory.limit_in_bytes'), String(50 * 2 ** 20));
  t.equal(read(cg.paths['memory']!, 'memory.soft_limit_in_bytes'), String(2 ** 20));
  t.equal(read(cg.paths['pids']!, 'pids.max'), '11', 'flags win over the document');

  t.equal(berth(['--root', root, 'update', '--memory', 'lots', id]).stderr, 'berth: --memory: "lots" is not a size (like 512m or 1g)\n');
  t.equal(berth(['--root', root, 'update', '-r', '-', id], { input: '[1]' }).stderr, 'berth: --resources: -: not a JSON object\n');
  const refused = berth(['--root', root, 'update', '--cpuset-cpus', '99999', id]);
  t.not(refused.status, 0);
  t.match(refused.stderr, /^berth: linux\.resources\.cpu\.cpus: write cpuset\.cpus: E[A-Z]+\n$/);
});

t.test('events --stats prints one stats event in runc shape', async (t) => {
  const { root, id, child } = container(t, { memory: { limit: 64 * 2 ** 20 }, pids: { limit: 30 } });
  const r = berth(['--root', root, 'events', '--stats', id]);
  t.equal(r.status, 0, r.stderr);
  const event = JSON.parse(r.stdout);
  t.equal(event.type, 'stats');
  t.equal(event.id, id);
  t.same(event.data.pids, { current: 1, limit: 30 });
  t.equal(event.data.memory.usage.limit, 64 * 2 ** 20);
  t.type(event.data.memory.usage.usage, 'number');
  t.type(event.data.cpu.usage.total, 'number');
  t.ok(Array.isArray(event.data.cpu.usage.percpu));
  t.type(event.data.memory.raw, 'object');
  void child;
});

t.test('the events stream reports stats, an OOM kill, and ends with the container', async (t) => {
  const { root, id, child } = container(t, { memory: { limit: 16 * 2 ** 20 } }, 'exec tail /dev/zero');
  const events = spawn(process.execPath, [BERTH, '--root', root, 'events', '--interval', '100ms', id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  events.stderr.on('data', (d) => (err += d));
  const closed = new Promise<number | null>((resolve) => events.on('close', resolve));
  t.teardown(() => events.kill('SIGKILL'));
  await new Promise<void>((resolve) => events.stdout.on('data', (d) => {
    out += d;
    if (out.includes('\n')) resolve();
  }));
  child.go();
  t.equal((await child.exited).signal, 'SIGKILL');
  t.equal(await closed, 0, err);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(lines.some((e) => e.type === 'stats' && e.id === id), 'stats events');
  t.ok(lines.some((e) => e.type === 'oom' && e.id === id), 'an oom event');
});

t.test('events rejects a bad --interval', async (t) => {
  const { root, id } = container(t);
  t.equal(berth(['--root', root, 'events', '--interval', 'soon', id]).stderr, 'berth: --interval: "soon" is not a duration like 5s or 500ms\n');
});

t.test('a state record whose cgroup paths point outside the cgroup hierarchies is refused', async (t) => {
  const { root, id, child } = container(t);
  const victim = mkdtempSync(join(tmpdir(), 'berth-not-a-cgroup-'));
  t.teardown(() => rmSync(victim, { recursive: true, force: true }));
  for (const bad of [{ memory: victim }, { memory: `${layout.v1['memory']}/../../../tmp` }, { nosuch: '/sys/fs/cgroup/x' }]) {
    writeFileSync(join(root, id, 'state.json'), JSON.stringify({ id, pid: child.pid, cgroupPaths: bad }));
    const r = berth(['--root', root, 'pause', id]);
    t.not(r.status, 0);
    t.match(r.stderr, /^berth: cgroup: recorded \S+ path .* is not a cgroup on this host\n$/);
  }
});
