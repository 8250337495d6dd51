// pause, resume, ps, update and events as a user runs them, on real busybox containers
// started with `berth run -d` in cgroups of the test's own; and delete --force leaving
// no cgroup behind.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CgroupPaths, Resources } from '../src/cgroups/index.js';
import { berth, BERTH } from './helpers/berth.js';
import { bundleFor, type Bundle } from './helpers/bundle.js';
import { eventually, layout, testCgroupRoot } from './helpers/cgroups.js';
import { record, sleeper, storeRecord, tempRoot, uniqueId } from './helpers/state.js';

if (process.getuid?.() !== 0 || !layout.v1['memory'] || !layout.v1['freezer'] || !layout.v1['pids']) {
  t.plan(0, 'needs root and cgroup v1 memory, freezer and pids controllers');
  process.exit(0);
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

interface Container {
  root: string;
  id: string;
  bundle: Bundle;
  /** The container's init process on the host. */
  pid: number;
  /** Its cgroups, as create recorded them. */
  cgroups: CgroupPaths;
  /** berth --root <root> ... */
  cli(args: string[], options?: Parameters<typeof berth>[1]): ReturnType<typeof berth>;
}

/**
 * `berth run -d` of a busybox bundle running `script`, in a cgroup under the test's own
 * cgroup root. Its stdout and stderr go to a file: the container keeps them open, and a
 * pipe would only end when the container does. Deleted (with --force) at teardown.
 */
function runDetached(t: Test, script: string, resources: Resources = {}): Container {
  const cgroupRoot = testCgroupRoot(t);
  const root = tempRoot(t);
  const bundle = bundleFor(t, { args: ['sh', '-c', script] });
  const id = bundle.id;
  const linux = bundle.config['linux'];
  linux.cgroupsPath = `${cgroupRoot}/${id}`;
  linux.resources = { ...linux.resources, ...resources };
  bundle.config['root'].readonly = false;
  bundle.write();
  const cli = (args: string[], options?: Parameters<typeof berth>[1]) => berth(['--root', root, ...args], options);
  // Registered last, so it runs first: the cgroups go with the container, before the
  // test's cgroup root is removed.
  t.teardown(() => void cli(['delete', '--force', id]));
  const output = openSync(bundle.path('container.out'), 'w');
  const run = spawnSync(process.execPath, [BERTH, '--root', root, 'run', '-d', '--bundle', bundle.dir, id], { stdio: ['ignore', output, output], timeout: 60_000 });
  closeSync(output);
  if (run.status !== 0) throw new Error(`berth run -d failed: ${readFileSync(bundle.path('container.out'), 'utf8')}`);
  const state = JSON.parse(cli(['state', id]).stdout);
  const cgroups = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')).cgroupPaths as CgroupPaths;
  return { root, id, bundle, pid: state.pid, cgroups, cli };
}

const status = (c: Container) => JSON.parse(c.cli(['state', c.id]).stdout).status as string;

/** /proc/<pid>/stat's state letter: D or T while the freezer holds the process; X once gone. */
const procState = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return 'X';
  }
};

t.test('pause freezes the container and resume thaws it; repeating either is an error', async (t) => {
  const c = runDetached(t, 'exec sleep 1000');
  t.equal(status(c), 'running');

  const pause = c.cli(['pause', c.id]);
  t.equal(pause.status, 0, pause.stderr);
  t.equal(status(c), 'paused');
  t.equal(read(c.cgroups['freezer']!, 'freezer.state'), 'FROZEN');
  t.match(procState(c.pid), /^[DT]$/, 'the frozen process does not run');
  const again = c.cli(['pause', c.id]);
  t.not(again.status, 0);
  t.equal(again.stderr, `berth: container ${c.id} is already paused\n`);

  const resume = c.cli(['resume', c.id]);
  t.equal(resume.status, 0, resume.stderr);
  t.equal(status(c), 'running');
  t.equal(read(c.cgroups['freezer']!, 'freezer.state'), 'THAWED');
  t.equal(procState(c.pid), 'S', 'sleeping again, as sleep does');
  const resumeAgain = c.cli(['resume', c.id]);
  t.not(resumeAgain.status, 0);
  t.equal(resumeAgain.stderr, `berth: container ${c.id} is not paused\n`);
});

t.test('unknown, invalid and stopped containers are clear errors', async (t) => {
  const root = tempRoot(t);
  t.equal(berth(['--root', root, 'pause', 'nosuch']).stderr, 'berth: container "nosuch" does not exist\n');
  t.match(berth(['--root', root, 'ps', '../etc']).stderr, /^berth: invalid container id format: "\.\.\/etc"/);

  const c = runDetached(t, 'exit 0');
  t.equal(await eventually(() => status(c) === 'stopped'), true, 'the container exited');
  for (const command of ['pause', 'resume', 'ps', 'events', 'update']) {
    const r = c.cli(command === 'update' ? [command, '--pids-limit', '5', c.id] : [command, c.id]);
    t.not(r.status, 0, command);
    t.equal(r.stderr, `berth: container ${c.id} is not running\n`, command);
  }
});

t.test('ps lists the container processes, as JSON or filtered ps output', async (t) => {
  const c = runDetached(t, 'sleep 1000 & exec sleep 999');
  const child = await eventually(() => {
    const pids = JSON.parse(c.cli(['ps', '--format', 'json', c.id]).stdout) as number[];
    return pids.length === 2 ? pids.find((p) => p !== c.pid) : undefined;
  });
  t.ok(child, 'the container process and its child');
  const json = c.cli(['ps', '--format', 'json', c.id]);
  t.equal(json.status, 0, json.stderr);
  t.same((JSON.parse(json.stdout) as number[]).sort((a, b) => a - b), [c.pid, child!].sort((a, b) => a - b));

  const table = c.cli(['ps', c.id]);
  t.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /PID/);
  t.equal(lines.length, 3, 'the header and the two processes');
  t.match(table.stdout, new RegExp(`\\b${c.pid}\\b.*sleep 999`));
  const custom = c.cli(['ps', c.id, '--', '-o', 'pid,args']);
  t.equal(custom.status, 0, custom.stderr);
  const rows = custom.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
  t.equal(rows[0]![0], 'PID', 'ps ran with the given options');
  t.equal(rows[0]![1], 'COMMAND');
  t.same(rows.slice(1).map((r) => Number(r[0])).sort((a, b) => a - b), [c.pid, child!].sort((a, b) => a - b), 'filtered to the container');
  const noPid = c.cli(['ps', c.id, '--', '-o', 'comm']);
  t.not(noPid.status, 0);
  t.match(noPid.stderr, /no PID column/);
});

t.test('update applies runc flags and a -r document to the running container', async (t) => {
  const c = runDetached(t, 'exec sleep 1000', { memory: { limit: 256 * 2 ** 20 } });
  const r = c.cli(['update', '--memory', '100m', '--pids-limit', '10', '--cpu-share', '256', '--cpu-quota', '20000', '--cpu-period', '100000', '--kernel-memory', '1m', c.id]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /kernel-memory.*ignored/);
  t.equal(read(c.cgroups['memory']!, 'memory.limit_in_bytes'), String(100 * 2 ** 20));
  t.equal(read(c.cgroups['pids']!, 'pids.max'), '10');
  t.equal(read(c.cgroups['cpu']!, 'cpu.shares'), '256');
  t.equal(read(c.cgroups['cpu']!, 'cpu.cfs_quota_us'), '20000');
  const fromStdin = c.cli(['update', '-r', '-', '--pids-limit', '11', c.id], { input: JSON.stringify({ memory: { limit: 50 * 2 ** 20, reservation: 2 ** 20 }, pids: { limit: 3 } }) });
  t.equal(fromStdin.status, 0, fromStdin.stderr);
  t.equal(read(c.cgroups['memory']!, 'memory.limit_in_bytes'), String(50 * 2 ** 20));
  t.equal(read(c.cgroups['memory']!, 'memory.soft_limit_in_bytes'), String(2 ** 20));
  t.equal(read(c.cgroups['pids']!, 'pids.max'), '11', 'flags win over the document');

  t.equal(c.cli(['update', '--memory', 'lots', c.id]).stderr, 'berth: --memory: "lots" is not a size (like 512m or 1g)\n');
  t.equal(c.cli(['update', '-r', '-', c.id], { input: '[1]' }).stderr, 'berth: --resources: -: not a JSON object\n');
  const refused = c.cli(['update', '--cpuset-cpus', '99999', c.id]);
  t.not(refused.status, 0);
  t.match(refused.stderr, /^berth: linux\.resources\.cpu\.cpus: write cpuset\.cpus: E[A-Z]+\n$/);
});

t.test('events --stats prints one stats event in runc shape', async (t) => {
  const c = runDetached(t, 'exec sleep 1000', { memory: { limit: 64 * 2 ** 20 }, pids: { limit: 30 } });
  const r = c.cli(['events', '--stats', c.id]);
  t.equal(r.status, 0, r.stderr);
  const event = JSON.parse(r.stdout);
  t.equal(event.type, 'stats');
  t.equal(event.id, c.id);
  t.same(event.data.pids, { current: 1, limit: 30 });
  t.equal(event.data.memory.usage.limit, 64 * 2 ** 20);
  t.ok(event.data.memory.usage.usage > 0, 'the container uses memory');
  t.type(event.data.cpu.usage.total, 'number');
  t.ok(Array.isArray(event.data.cpu.usage.percpu));
  t.type(event.data.memory.raw, 'object');
});

t.test('the events stream reports stats, an OOM kill, and ends with the container', async (t) => {
  // The container waits for /go before it eats memory, so the stream is watching first.
  const c = runDetached(t, 'until [ -e /go ]; do sleep 0.1; done; exec tail /dev/zero', { memory: { limit: 16 * 2 ** 20 } });
  const events = spawn(process.execPath, [BERTH, '--root', c.root, 'events', '--interval', '100ms', c.id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  events.stderr.on('data', (d) => (err += d));
  const closed = new Promise<number | null>((resolve) => events.on('close', resolve));
  t.teardown(() => void events.kill('SIGKILL'));
  await new Promise<void>((resolve) => events.stdout.on('data', (d) => {
    out += d;
    if (out.includes('\n')) resolve();
  }));
  writeFileSync(join(c.bundle.rootfs, 'go'), '');
  t.equal(await closed, 0, err);
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  t.ok(lines.some((e) => e.type === 'stats' && e.id === c.id), 'stats events');
  t.ok(lines.some((e) => e.type === 'oom' && e.id === c.id), 'an oom event');
  t.equal(status(c), 'stopped', 'the OOM killer ended the container');
});

t.test('events rejects a bad --interval', async (t) => {
  const c = runDetached(t, 'exec sleep 1000');
  t.equal(c.cli(['events', '--interval', 'soon', c.id]).stderr, 'berth: --interval: "soon" is not a duration like 5s or 500ms\n');
});

t.test('delete --force of a paused container leaves no cgroup directory', async (t) => {
  const c = runDetached(t, 'exec sleep 1000', { pids: { limit: 20 } });
  const dirs = Object.values(c.cgroups);
  t.ok(dirs.length > 0 && dirs.every((dir) => existsSync(dir)), 'the cgroup directories exist');
  t.equal(c.cli(['pause', c.id]).status, 0);
  const r = c.cli(['delete', '--force', c.id]);
  t.equal(r.status, 0, r.stderr);
  t.same(dirs.filter((dir) => existsSync(dir)), [], 'every cgroup directory is gone');
  t.match(procState(c.pid), /^[ZX]$/, 'and so is the container process (at most a zombie)');
});

t.test('kill SIGKILL ends a paused container: it is thawed to die, as runc does', async (t) => {
  const c = runDetached(t, 'exec sleep 1000');
  t.equal(c.cli(['pause', c.id]).status, 0);
  t.equal(status(c), 'paused');
  const kill = c.cli(['kill', c.id, 'KILL']);
  t.equal(kill.status, 0, kill.stderr);
  t.equal(await eventually(() => status(c) === 'stopped'), true, 'stopped');
  t.equal(read(c.cgroups['freezer']!, 'freezer.state'), 'THAWED');
});

t.test('a state record whose cgroup paths point outside the cgroup hierarchies is refused', async (t) => {
  // A forged record, stored as create stores one, for a process the test owns.
  const root = tempRoot(t);
  const live = sleeper(t);
  const victim = mkdtempSync(join(tmpdir(), 'berth-not-a-cgroup-'));
  t.teardown(() => rmSync(victim, { recursive: true, force: true }));
  const forged: CgroupPaths[] = [{ memory: victim }, { memory: `${layout.v1['memory']}/../../../tmp` }, { nosuch: '/sys/fs/cgroup/x' }];
  for (const bad of forged) {
    const id = uniqueId('forged');
    storeRecord(root, record(id, live.pid, live.startTime, { cgroupPaths: bad }));
    for (const command of ['pause', 'ps', 'update']) {
      const r = berth(['--root', root, command, ...(command === 'update' ? ['--pids-limit', '5'] : []), id]);
      t.not(r.status, 0, command);
      t.match(r.stderr, /^berth: cgroup: recorded \S+ path .* is not a cgroup on this host\n$/, command);
    }
  }
  t.same(readdirSync(victim), [], 'nothing was written where the record pointed');
});
