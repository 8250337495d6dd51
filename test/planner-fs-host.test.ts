// gatherFsHostFacts on the real host: what it finds, and the clear errors for a bundle
// that cannot work (before anything is started).
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatherFsHostFacts, mountPointOf, parseMountInfo, cgroupFacts, resolveInRootfs } from '../src/runtime/planner/fs-host.js';
import { config } from './helpers/plans.js';

function bundle(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fshost-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'rootfs'));
  return dir;
}

t.test('facts about bind sources, devices, cgroups and the kernel', async (t) => {
  const dir = bundle(t);
  mkdirSync(join(dir, 'vol'));
  writeFileSync(join(dir, 'file'), 'x');
  const cfg = config({
    mounts: [
      { destination: '/v', type: 'bind', source: 'vol', options: ['rbind'] },
      { destination: '/f', source: join(dir, 'file'), options: ['bind'] },
      { destination: '/m', type: 'bind', source: 'missing' },
    ],
  }, { devices: [{ path: '/dev/null', type: 'c' }] });
  const facts = await gatherFsHostFacts(cfg, dir, join(dir, 'rootfs'));
  t.same(facts.sources, { [join(dir, 'vol')]: 'directory', [join(dir, 'file')]: 'file' });
  t.same(facts.devices, { '/dev/null': { type: 'c', major: 1, minor: 3 } });
  t.ok(facts.namespaces.includes('mnt') && facts.namespaces.includes('pid'));
  t.ok(['v1', 'v2', 'hybrid'].includes(facts.cgroup.layout));
  t.ok(facts.cgroup.hierarchies.length > 0, 'at least one cgroup hierarchy');
  t.equal(typeof facts.rootfsParentMount, 'string');
});

t.test('a rootfs that is missing or not a directory', async (t) => {
  const dir = bundle(t);
  writeFileSync(join(dir, 'notdir'), '');
  await t.rejects(gatherFsHostFacts(config(), dir, join(dir, 'nope')), { message: `root.path: ${join(dir, 'nope')} does not exist` });
  await t.rejects(gatherFsHostFacts(config(), dir, join(dir, 'notdir')), { message: `root.path: ${join(dir, 'notdir')} is not a directory` });
});

t.test('a namespace path must exist and be a namespace file', async (t) => {
  const dir = bundle(t);
  const ns = (path: string) => config({}, { namespaces: [{ type: 'mount' }, { type: 'network', path }] });
  await t.rejects(gatherFsHostFacts(ns(join(dir, 'x')), dir, join(dir, 'rootfs')), { message: `linux.namespaces[1].path: ${join(dir, 'x')} does not exist` });
  await t.rejects(gatherFsHostFacts(ns('/etc/hostname'), dir, join(dir, 'rootfs')), { message: 'linux.namespaces[1].path: /etc/hostname is not a namespace file' });
  await t.resolves(gatherFsHostFacts(ns('/proc/self/ns/net'), dir, join(dir, 'rootfs')));
});

t.test('exec: the namespaces of a process that differ from ours', async (t) => {
  const facts = await gatherFsHostFacts(config(), '/', '/', process.pid);
  t.same(facts.containerNamespaces, {}, 'our own process shares all our namespaces');
  await t.rejects(gatherFsHostFacts(config(), '/', '/', 2 ** 22 + 1), /init process .* is gone/);
});

t.test('mountinfo parsing, the mount holding a path, cgroup layouts', async (t) => {
  const info = parseMountInfo([
    '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate',
    '50 22 0:40 / /var/lib/with\\040space rw - ext4 /dev/sdb rw',
  ].join('\n'));
  t.equal(mountPointOf('/var/lib/with space/b/rootfs', info), '/var/lib/with space');
  t.equal(mountPointOf('/srv/b', info), '/');
  const hybrid = cgroupFacts(info, () => [{ name: 'cpu', target: 'cpu,cpuacct' }, { name: 'memory' }]);
  t.equal(hybrid.layout, 'hybrid');
  t.same(hybrid.hierarchies.map((h) => [h.name, h.options]), [['cpu,cpuacct', 'cpu,cpuacct'], ['systemd', 'xattr,name=systemd'], ['unified', 'nsdelegate']]);
  t.same(hybrid.links, [{ name: 'cpu', target: 'cpu,cpuacct' }]);
  const v2 = cgroupFacts(parseMountInfo('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate'), () => []);
  t.same(v2, { layout: 'v2', hierarchies: [{ name: '', mountPoint: '/sys/fs/cgroup', fsType: 'cgroup2', options: 'nsdelegate' }], links: [] });
});

t.test('destinations are resolved through the rootfs\'s symlinks without leaving it', async (t) => {
  const dir = bundle(t);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'usr', 'lib'), { recursive: true });
  symlinkSync('usr/lib', join(rootfs, 'lib'));
  symlinkSync('/../../etc', join(rootfs, 'up'));
  symlinkSync('../run/x/stub', join(rootfs, 'usr', 'dangling'));
  symlinkSync('loop', join(rootfs, 'loop'));
  t.same(resolveInRootfs(rootfs, '/lib/modules', []), ['usr', 'lib', 'modules']);
  t.same(resolveInRootfs(rootfs, '/up/passwd', []), ['etc', 'passwd'], '".." and absolute targets stop at the rootfs');
  t.same(resolveInRootfs(rootfs, '/usr/dangling', []), ['run', 'x', 'stub']);
  t.same(resolveInRootfs(rootfs, '/lib/../x', []), ['usr', 'x'], '".." after a link is taken from where the link led');
  t.same(resolveInRootfs(rootfs, '/lib/modules', [['lib']]), ['usr', 'lib', 'modules'], 'the link itself is still followed');
  t.same(resolveInRootfs(rootfs, '/usr/dangling', [['usr']]), ['usr', 'dangling'], 'not below an earlier mount');
  t.throws(() => resolveInRootfs(rootfs, '/loop/x', []), /too many levels of symbolic links/);
  const facts = await gatherFsHostFacts(config({ mounts: [{ destination: '/lib/fw', type: 'tmpfs' }, { destination: 'relative', type: 'tmpfs' }] }), dir, rootfs);
  t.same(facts.destinations, [['usr', 'lib', 'fw'], undefined]);
  const copyUp = await gatherFsHostFacts(config({ mounts: [
    { destination: '/usr', type: 'tmpfs', options: ['tmpcopyup'] },
    { destination: '/new', type: 'tmpfs', options: ['tmpcopyup'] },
    { destination: '/usr', type: 'tmpfs' },
  ] }), dir, rootfs);
  t.same(Object.keys(copyUp.copyUp!), ['0', '1'], 'only the tmpcopyup mounts');
  t.same(copyUp.copyUp![1], [], 'a missing destination has nothing to copy');
  const listed = copyUp.copyUp![0]!;
  t.same(listed.map((e) => e.path), ['dangling', 'lib'], 'everything under /usr, by lstat');
  const dangling = listed.find((e) => e.path === 'dangling')!;
  t.same([dangling.mode & 0o170000, dangling.target], [0o120000, '../run/x/stub'], 'a symlink is listed with its target, not followed');
  t.equal(listed.find((e) => e.path === 'lib')!.mode & 0o170000, 0o040000, 'a directory');
});
