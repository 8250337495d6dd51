// berth's cgroup files against runc's: the same linux.resources, applied by runc 1.1
// (runc run -d on a busybox bundle) and by berth's setupCgroups on the same host, must
// leave the same values in every file berth writes (and the same devices.list).
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setupCgroups } from '../src/cgroups/index.js';
import { planCgroup } from '../src/cgroups/plan.js';
import { restrictLayout } from '../src/cgroups/manager.js';
import type { Resources } from '../src/cgroups/types.js';
import { BUSYBOX, layout, testCgroupRoot } from './helpers/cgroups.js';

const runc = spawnSync('runc', ['--version'], { encoding: 'utf8' });
if (process.getuid?.() !== 0 || runc.status !== 0 || layout.kind === 'v2') {
  t.plan(0, 'needs root, runc and a host with cgroup v1 controllers');
  process.exit(0);
}

/** The first real block device's major:minor (for throttles), if the host has one. */
function blockDevice(): { major: number; minor: number } | undefined {
  for (const name of readdirSync('/sys/block')) {
    if (/^(loop|ram|zram)/.test(name)) continue;
    const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8').trim().split(':').map(Number);
    return { major: major!, minor: minor! };
  }
  return undefined;
}

function bundle(t: Test, cgroupsPath: string, resources: Resources): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-runc-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(dir, 'rootfs/bin/busybox'));
  symlinkSync('busybox', join(dir, 'rootfs/bin/sh'));
  execFileSync('runc', ['spec'], { cwd: dir });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = ['/bin/busybox', 'sleep', '100'];
  config.linux.cgroupsPath = cgroupsPath;
  config.linux.resources = { ...resources, devices: [...config.linux.resources.devices, ...(resources.devices ?? [])] };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8').trim();

const dev = blockDevice();
const matrix: [string, Resources][] = [
  ['memory', { memory: { limit: 64 * 2 ** 20, reservation: 32 * 2 ** 20, swap: 96 * 2 ** 20, swappiness: 20, disableOOMKiller: true } }],
  ['unlimited memory', { memory: { limit: -1 } }],
  ['cpu', { cpu: { shares: 512, quota: 30000, period: 50000, cpus: '0', mems: '0' } }],
  ['unlimited cpu quota', { cpu: { quota: -1, shares: 2048 } }],
  ['pids', { pids: { limit: 50 } }],
  ['unlimited pids', { pids: { limit: -1 } }],
  ['devices', { devices: [{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }] }],
  ...(dev ? [['blkio throttles', { blockIO: { throttleReadBpsDevice: [{ ...dev, rate: 1048576 }], throttleWriteIOPSDevice: [{ ...dev, rate: 100 }] } }] as [string, Resources]] : []),
];

for (const [name, resources] of matrix) {
  t.test(`${name}: berth writes what runc writes`, async (t) => {
    const root = testCgroupRoot(t);
    const id = `berth-cmp-${randomBytes(4).toString('hex')}`;
    const runcRoot = mkdtempSync(join(tmpdir(), 'berth-runc-root-'));
    const dir = bundle(t, `${root}/runc`, resources);
    t.teardown(() => {
      spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
      rmSync(runcRoot, { recursive: true, force: true });
    });
    // The container inherits runc's stdio: a pipe would stay open as long as it runs.
    const errFile = join(runcRoot, 'stderr');
    const errFd = openSync(errFile, 'w');
    const run = spawnSync('runc', ['--root', runcRoot, 'run', '-d', '--bundle', dir, id], { stdio: ['ignore', 'ignore', errFd], timeout: 60_000 });
    closeSync(errFd);
    t.equal(run.status, 0, `runc run: ${readFileSync(errFile, 'utf8')}`);

    const cg = setupCgroups({ linux: { cgroupsPath: `${root}/berth`, resources: { ...resources, devices: [{ allow: false, access: 'rwm' }, ...(resources.devices ?? [])] } } }, 'x', { systemd: false });
    t.teardown(() => cg.destroy({ force: true }));

    const plan = planCgroup(resources, restrictLayout(layout, cg.paths));
    const files = new Set(plan.writes.filter((w) => w.controller !== 'devices').map((w) => `${w.controller}/${w.orElse && !existsSync(join(cg.paths[w.controller]!, w.file)) ? w.orElse.file : w.file}`));
    if (resources.devices) files.add('devices/devices.list');
    t.ok(files.size > 0, 'something to compare');
    for (const entry of files) {
      const [controller, file] = entry.split('/') as [string, string];
      const ours = cg.paths[controller]!;
      const theirs = join(layout.v1[controller]!, root, 'runc');
      if (!existsSync(join(ours, file))) continue; // ifExists writes the host cannot take
      // devices.list is a set: the kernel lists exceptions in the order they were written.
      const value = (d: string) => (file === 'devices.list' ? read(d, file).split('\n').sort().join('\n') : read(d, file));
      t.equal(value(ours), value(theirs), `${controller}/${file}`);
    }
  });
}
