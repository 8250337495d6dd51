// Plans run for real (by test/helpers/step-runner.ts, in a mount namespace of its
// own): what the container then sees of its root filesystem, /dev, masked and
// read-only paths, and that no path leads out of the rootfs.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('./helpers/step-runner.js', import.meta.url));

interface Seen {
  failed?: { index: number; what: string; errno: string };
  hostname: string;
  mountinfo: string;
  paths: Record<string, { type: string; mode: number; uid: number; gid: number; major?: number; minor?: number; target?: string } | string>;
  writes: Record<string, string>;
  reads: Record<string, string>;
}

/** Run a plan; `userns`: from inside a user namespace of its own (root mapped to root). */
function runPlan(input: Record<string, unknown>, userns = false): Seen {
  const argv = userns ? ['unshare', '--user', '--map-root-user', process.execPath, RUNNER] : [process.execPath, RUNNER];
  const r = spawnSync(argv[0]!, argv.slice(1), { input: JSON.stringify(input), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`step-runner failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Seen;
}

function mountPoints(mountinfo: string): string[] {
  return mountinfo.split('\n').filter(Boolean).map((l) => l.split(' ')[4]!);
}

const root = process.getuid?.() === 0;

t.test('runc\'s default config with extra mounts, run for real', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'hostname'), 'image\n');
  // absolute and relative symlinks that point out of the rootfs when followed on the host
  const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));
  symlinkSync(outside, join(rootfs, 'abs'));
  symlinkSync('../../../../../../../..' + outside, join(rootfs, 'rel'));
  // the same path inside the rootfs, where the links lead when resolved in the rootfs
  mkdirSync(join(rootfs, outside), { recursive: true });
  mkdirSync(join(bundle, 'vol'));
  writeFileSync(join(bundle, 'vol', 'data'), 'from the bundle');
  writeFileSync(join(bundle, 'hosts'), '127.0.0.1 box\n');

  const r = spawnSync('runc', ['spec'], { cwd: bundle });
  t.equal(r.status, 0, 'runc spec');
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root.readonly = true;
  config.hostname = 'planfs';
  config.mounts.push(
    { destination: '/vol', type: 'bind', source: 'vol', options: ['rbind', 'ro'] },
    { destination: '/etc/hosts', type: 'bind', source: join(bundle, 'hosts'), options: ['bind', 'ro'] },
    { destination: '/abs/escaped', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    { destination: '/rel/escaped', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=1777', 'rprivate', 'tmpcopyup'] },
  );
  config.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 5 }];
  config.linux.sysctl = { 'net.ipv4.ip_forward': '1' };

  const seen = runPlan({
    config, bundle, rootfs,
    probes: {
      paths: ['/dev/null', '/dev/zero', '/dev/tty', '/dev/fuse', '/dev/ptmx', '/dev/fd', '/dev/stderr', '/dev/pts/ptmx', '/vol/data', '/abs/escaped'],
      writes: ['/vol/new', '/newfile', '/proc/sys/kernel/domainname', '/scratch/ok', '/etc/hosts'],
      reads: ['/vol/data', '/etc/hosts', '/proc/kcore', '/proc/sys/net/ipv4/ip_forward', '/proc/self/cwd/../etc/hostname'],
    },
  });
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.equal(seen.hostname, 'planfs');
  t.match(seen.paths['/dev/null'], { type: 'chr', mode: 0o666, major: 1, minor: 3 });
  t.match(seen.paths['/dev/zero'], { type: 'chr', mode: 0o666, major: 1, minor: 5 });
  t.match(seen.paths['/dev/tty'], { type: 'chr', major: 5, minor: 0 });
  t.match(seen.paths['/dev/fuse'], { type: 'chr', mode: 0o600, uid: 0, gid: 5, major: 10, minor: 229 });
  t.match(seen.paths['/dev/ptmx'], { type: 'link', target: 'pts/ptmx' });
  t.match(seen.paths['/dev/fd'], { type: 'link', target: '/proc/self/fd' });
  t.match(seen.paths['/dev/stderr'], { type: 'link', target: '/proc/self/fd/2' });
  t.match(seen.paths['/dev/pts/ptmx'], { type: 'chr' }, 'devpts is mounted');
  t.equal(seen.reads['/vol/data'], 'from the bundle', 'a relative bind source is relative to the bundle');
  t.equal(seen.reads['/etc/hosts'], '127.0.0.1 box\n', 'a file bind mount');
  if (existsSync('/proc/kcore')) t.equal(seen.reads['/proc/kcore'], '', '/proc/kcore is masked by /dev/null');
  t.equal(seen.reads['/proc/sys/net/ipv4/ip_forward'], '1\n', 'the sysctl was written in the network namespace');
  t.equal(seen.writes['/vol/new'], 'EROFS', 'ro bind');
  t.equal(seen.writes['/etc/hosts'], 'EROFS', 'ro file bind');
  t.equal(seen.writes['/newfile'], 'EROFS', 'root.readonly');
  t.equal(seen.writes['/proc/sys/kernel/domainname'], 'EROFS', '/proc/sys is read-only');
  t.equal(seen.writes['/scratch/ok'], 'ok', 'a tmpfs is writable under a read-only root');
  const points = mountPoints(seen.mountinfo);
  t.ok(points.includes('/proc') && points.includes('/dev') && points.includes('/sys') && points.includes('/sys/fs/cgroup'));
  t.ok(points.some((p) => p.startsWith('/sys/fs/cgroup/')), 'the cgroup hierarchies are mounted');
  t.notOk(points.some((p) => p.startsWith(bundle)), 'the host\'s mounts are gone after pivot_root');
  t.ok(points.includes(join(outside, 'escaped')), 'the tmpfs is where the link leads when resolved in the rootfs');
  t.notOk(existsSync(join(outside, 'escaped')), 'nothing was created through a symlink out of the rootfs');
  t.ok(existsSync(join(rootfs, outside, 'escaped')), 'the symlinked destination was created inside the rootfs');
  const host = readFileSync('/proc/self/mountinfo', 'utf8');
  t.notOk(host.includes(rootfs), 'no mount reached the host');
});

t.test('dangling symlinks: their targets are created inside the rootfs, never on the host', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  const outside = mkdtempSync(join(tmpdir(), 'berth-outside-'));
  t.teardown(() => rmSync(outside, { recursive: true, force: true }));
  symlinkSync(outside, join(rootfs, 'abs'));
  // as in Ubuntu images, where systemd-resolved's file only exists once it runs
  symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(rootfs, 'etc', 'resolv.conf'));
  writeFileSync(join(bundle, 'resolv.conf'), 'nameserver 192.0.2.1\n');
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/abs/escaped', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/etc/resolv.conf', type: 'bind', source: 'resolv.conf', options: ['bind', 'ro'] },
    ],
    linux: { namespaces: [{ type: 'mount' }] },
  };
  const seen = runPlan({ config, bundle, rootfs, probes: { reads: ['/etc/resolv.conf'] } });
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.equal(seen.reads['/etc/resolv.conf'], 'nameserver 192.0.2.1\n', 'bound onto the link\'s target');
  t.ok(mountPoints(seen.mountinfo).includes(join(outside, 'escaped')), 'the tmpfs is where the link leads inside the rootfs');
  t.ok(existsSync(join(rootfs, 'run', 'systemd', 'resolve', 'stub-resolv.conf')), 'the link target was created in the rootfs');
  t.ok(existsSync(join(rootfs, outside, 'escaped')));
  t.notOk(existsSync(join(outside, 'escaped')), 'nothing was created on the host');
});

t.test('masked paths: a directory gets an empty tmpfs, a file /dev/null; --no-pivot; rootfsPropagation', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(join(rootfs, 'secret', 'dir'), { recursive: true });
  writeFileSync(join(rootfs, 'secret', 'dir', 'key'), 'k');
  writeFileSync(join(rootfs, 'secret', 'file'), 'f');
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs' }],
    linux: { namespaces: [{ type: 'mount' }], maskedPaths: ['/secret/dir', '/secret/file', '/secret/none'] },
  };
  for (const [noPivot, rootfsPropagation] of [[false, undefined], [true, undefined], [false, 'private'], [false, 'slave']] as const) {
    const seen = runPlan({ config: { ...config, linux: { ...config.linux, rootfsPropagation } }, bundle, rootfs, noPivot, probes: { paths: ['/secret/dir/key'], reads: ['/secret/file'], writes: ['/secret/dir/x'] } });
    t.equal(seen.failed, undefined, `every step succeeded (noPivot ${noPivot}) ${JSON.stringify(seen.failed)}`);
    t.equal(seen.paths['/secret/dir/key'], 'ENOENT', 'the directory is masked');
    t.equal(seen.reads['/secret/file'], '', 'the file is masked');
    t.equal(seen.writes['/secret/dir/x'], 'EROFS', 'the masking tmpfs is read-only');
    t.notOk(readFileSync('/proc/self/mountinfo', 'utf8').includes(rootfs), `no mount reached the host (${rootfsPropagation})`);
  }
});

t.test('overlay: relative lowerdir/upperdir/workdir are relative to the bundle, as in runc', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs);
  for (const dir of ['lower', 'upper', 'work']) mkdirSync(join(bundle, dir));
  writeFileSync(join(bundle, 'lower', 'from-lower'), 'lower');
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/merged', type: 'overlay', source: 'overlay', options: ['lowerdir=lower', 'upperdir=upper', 'workdir=work'] },
    ],
    linux: { namespaces: [{ type: 'mount' }] },
  };
  const seen = runPlan({ config, bundle, rootfs, probes: { reads: ['/merged/from-lower'], writes: ['/merged/new'] } });
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.equal(seen.reads['/merged/from-lower'], 'lower');
  t.equal(seen.writes['/merged/new'], 'ok');
  t.ok(existsSync(join(bundle, 'upper', 'new')), 'the write went to the upper directory in the bundle');
});

t.test('a cgroup namespace: the cgroup mount shows the container\'s cgroup as its root', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs);
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] },
    ],
    linux: { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] },
  };
  // v1/hybrid: a writable tmpfs (as runc leaves it) holding read-only hierarchies; v2: one read-only cgroup2
  const v1 = existsSync('/sys/fs/cgroup/pids/cgroup.procs');
  const writes = v1 ? ['/sys/fs/cgroup/x', '/sys/fs/cgroup/pids/x'] : ['/sys/fs/cgroup/x'];
  const seen = runPlan({ config, bundle, rootfs, probes: { reads: ['/proc/self/cgroup'], writes } });
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.ok(seen.reads['/proc/self/cgroup']!.split('\n').filter(Boolean).every((l) => l.endsWith(':/')), 'every hierarchy shows / in the namespace');
  t.ok(mountPoints(seen.mountinfo).some((p) => p.startsWith('/sys/fs/cgroup')), 'mounted');
  if (v1) {
    t.equal(seen.writes['/sys/fs/cgroup/x'], 'ok', 'the tmpfs is writable');
    t.equal(seen.writes['/sys/fs/cgroup/pids/x'], 'EROFS', 'the hierarchy is read-only');
  } else {
    t.equal(seen.writes['/sys/fs/cgroup/x'], 'EROFS');
  }
});

t.test('a time namespace gets its offsets before anything enters it', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs);
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'time' }],
      timeOffsets: { monotonic: { secs: 86400 }, boottime: { secs: 3600, nanosecs: 7 } },
    },
  };
  const seen = runPlan({ config, bundle, rootfs, probes: { reads: ['/proc/self/timens_offsets'] } });
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.match(seen.reads['/proc/self/timens_offsets'], /monotonic\s+86400\s+0/);
  t.match(seen.reads['/proc/self/timens_offsets'], /boottime\s+3600\s+7/);
});

t.test('in a user namespace: device nodes are the host\'s, bound; read-only binds keep their locked flags', { skip: root ? false : 'needs root' }, async (t) => {
  const bundle = mkdtempSync(join(tmpdir(), 'berth-planrun-'));
  t.teardown(() => rmSync(bundle, { recursive: true, force: true }));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs);
  mkdirSync(join(bundle, 'vol'));
  writeFileSync(join(bundle, 'vol', 'data'), 'v');
  const config = {
    ociVersion: '1.3.0', root: { path: 'rootfs' }, process: { args: ['/bin/true'], cwd: '/' },
    mounts: [
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/vol', type: 'bind', source: 'vol', options: ['rbind', 'ro'] },
    ],
    linux: { namespaces: [{ type: 'mount' }], devices: [{ path: '/dev/full', type: 'c', major: 1, minor: 7 }], maskedPaths: ['/vol/data'] },
  };
  const seen = runPlan({ config, bundle, rootfs, probes: { paths: ['/dev/null', '/dev/full', '/dev/ptmx'], reads: ['/vol/data'], writes: ['/dev/null', '/vol/x'] } }, true);
  t.equal(seen.failed, undefined, `every step succeeded ${JSON.stringify(seen.failed)}`);
  t.match(seen.paths['/dev/null'], { type: 'chr', major: 1, minor: 3 }, "the host's /dev/null");
  t.match(seen.paths['/dev/full'], { type: 'chr', major: 1, minor: 7 });
  t.match(seen.paths['/dev/ptmx'], { type: 'link', target: 'pts/ptmx' });
  t.equal(seen.writes['/dev/null'], 'ok', 'the bound node works');
  t.equal(seen.writes['/vol/x'], 'EROFS');
  t.equal(seen.reads['/vol/data'], '', 'masked by /dev/null');
});
