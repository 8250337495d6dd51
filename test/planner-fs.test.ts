// The filesystem side of plans: rootfs, mounts, /dev, masked and read-only paths,
// hostname and sysctls. Every plan here also passes the fd-table check (planOf).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../src/errors.js';
import * as K from '../src/runtime/planner/consts.js';
import { parseMountOptions } from '../src/runtime/planner/mount-options.js';
import { plan, planContainer } from '../src/runtime/planner/index.js';
import { checkFds } from '../src/runtime/planner/fd-check.js';
import type { Config } from '../src/config/types.js';
import type { Step } from '../src/runtime/steps.js';
import { config, line, lines, of, planOf, request, u64s } from './helpers/plans.js';

const RESOLVE = BigInt(K.RESOLVE_IN_ROOT | K.RESOLVE_NO_MAGICLINKS);

t.test("runc's default config plans: rslave /, rootfs bound and opened, pivot_root, masks", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-planfs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('runc', ['spec'], { cwd: dir });
  t.equal(r.status, 0, 'runc spec');
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Config;
  const p = planOf(cfg, { bundle: dir, rootfs: join(dir, 'rootfs') });
  t.equal(p.cloneFlags, K.CLONE_NEWPID | K.CLONE_NEWNET | K.CLONE_NEWIPC | K.CLONE_NEWUTS | K.CLONE_NEWNS);
  const l = lines(p.steps);
  const root = p.fds.firstFree;
  t.same(l.slice(0, 4), [
    `chdir(${JSON.stringify(dir)})`,
    `mount(NULL, "/", NULL, ${K.MS_SLAVE | K.MS_REC}, NULL)`,
    `mount(${JSON.stringify(join(dir, 'rootfs'))}, ${JSON.stringify(join(dir, 'rootfs'))}, NULL, ${K.MS_BIND | K.MS_REC}, NULL)`,
    `open(${JSON.stringify(join(dir, 'rootfs'))}, ${K.O_PATH | K.O_DIRECTORY | K.O_CLOEXEC})`,
  ]);
  t.ok(p.steps[1]!.sync && p.steps[2]!.sync, 'the propagation change and the rootfs bind are sync points');
  const pivot = l.indexOf('sys_pivot_root(".", ".")');
  t.ok(pivot > 0, 'pivot_root');
  t.same(l.slice(pivot - 1, pivot + 7), [
    `fchdir(${root})`, 'sys_pivot_root(".", ".")', `fchdir(${root + 1})`,
    `mount(NULL, ".", NULL, ${K.MS_SLAVE | K.MS_REC}, NULL)`, 'umount2(".", 2)', 'chdir("/")',
    `close(${root + 1})`, `close(${root})`,
  ]);
  t.ok(l.indexOf(`mount("proc", "/proc/self/fd/${root + 1}", "proc", 0, NULL)`) < pivot, 'proc is mounted before pivot_root');
  t.ok(l.indexOf('sethostname("runc", 4)') > pivot, 'hostname after pivot_root');
  t.ok(l.indexOf('mount("/dev/null", "/proc/kcore", NULL, 4096, NULL)') > pivot, 'masked paths after pivot_root');
});

t.test('a mount destination is created and resolved inside the rootfs, then mounted through /proc/self/fd', async (t) => {
  const p = planOf(config({ mounts: [{ destination: '/run/a/../x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }] }));
  const root = p.fds.firstFree;
  const s = of(p, 'mounts[0]');
  t.same(lines(s), [
    `mkdirat(${root}, "run", 493)`,
    `sys_openat2(${root}, "run", <24 bytes>, 24)`,
    `mkdirat(${root + 1}, "x", 493)`,
    `close(${root + 1})`,
    `sys_openat2(${root}, "run/x", <24 bytes>, 24)`,
    `mount("tmpfs", "/proc/self/fd/${root + 1}", "tmpfs", 0, "size=1m")`,
    `close(${root + 1})`,
  ]);
  for (const st of s.filter((x) => x.call === 'sys_openat2')) t.equal(u64s(st.args[2]!)[2], RESOLVE, 'RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS');
  t.same(u64s(s[1]!.args[2]!)[0], BigInt(K.O_PATH | K.O_CLOEXEC | K.O_DIRECTORY), 'parents opened O_PATH|O_DIRECTORY');
  t.same(u64s(s[4]!.args[2]!)[0], BigInt(K.O_PATH | K.O_CLOEXEC), 'the destination opened O_PATH');
  t.ok(s.filter((x) => x.call === 'mkdirat').every((x) => x.ok?.includes(K.EEXIST)), 'existing directories are fine');
  t.equal(s[5]!.what, 'mount tmpfs on /run/x');
});

t.test('a directory made once is not made again by a later mount, unless a mount hid it', async (t) => {
  const p = planOf(config({
    mounts: [
      { destination: '/a/b', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/a/c', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/a', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/a/b', type: 'tmpfs', source: 'tmpfs' },
    ],
  }));
  const mkdirs = (f: string) => of(p, f).filter((s) => s.call === 'mkdirat').map((s) => s.args[1]);
  t.same(mkdirs('mounts[0]'), ['a', 'b']);
  t.same(mkdirs('mounts[1]'), ['c']);
  t.same(mkdirs('mounts[2]'), []);
  t.same(mkdirs('mounts[3]'), ['b'], 'the tmpfs on /a hid /a/b');
});

t.test('bind mounts: source relative to the bundle, file or directory destination, flags via mount_setattr', async (t) => {
  const cfg = config({
    mounts: [
      { destination: '/data', type: 'bind', source: 'vol', options: ['rbind', 'ro', 'nosuid'] },
      { destination: '/etc/hosts', type: 'none', source: '/etc/hosts', options: ['bind', 'rw', 'rprivate'] },
    ],
  });
  const p = planOf(cfg, {}, { sources: { '/b/vol': 'directory', '/etc/hosts': 'file' } });
  const root = p.fds.firstFree;
  const dir = of(p, 'mounts[0]');
  t.same(lines(dir), [
    `mkdirat(${root}, "data", 493)`,
    `sys_openat2(${root}, "data", <24 bytes>, 24)`,
    `mount("/b/vol", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND | K.MS_REC}, NULL)`,
    `close(${root + 1})`,
    `sys_openat2(${root}, "data", <24 bytes>, 24)`,
    `sys_mount_setattr(${root + 1}, "", ${K.AT_EMPTY_PATH}, <32 bytes>, 32)`,
    `close(${root + 1})`,
  ]);
  t.same(u64s(dir[5]!.args[3]!).slice(0, 2), [BigInt(K.MOUNT_ATTR_RDONLY | K.MOUNT_ATTR_NOSUID), 0n], 'ro,nosuid set, on this mount only');
  const file = of(p, 'mounts[1]');
  t.same(lines(file), [
    `mkdirat(${root}, "etc", 493)`,
    `sys_openat2(${root}, "etc", <24 bytes>, 24)`,
    `mknodat(${root + 1}, "hosts", ${K.S_IFREG | 0o644}, 0)`,
    `close(${root + 1})`,
    `sys_openat2(${root}, "etc/hosts", <24 bytes>, 24)`,
    `mount("/etc/hosts", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND}, NULL)`,
    `close(${root + 1})`,
    `sys_openat2(${root}, "etc/hosts", <24 bytes>, 24)`,
    `sys_mount_setattr(${root + 1}, "", ${K.AT_EMPTY_PATH}, <32 bytes>, 32)`,
    `mount(NULL, "/proc/self/fd/${root + 1}", NULL, ${K.MS_PRIVATE | K.MS_REC}, NULL)`,
    `close(${root + 1})`,
  ]);
  t.same(u64s(file[8]!.args[3]!).slice(0, 2), [0n, BigInt(K.MOUNT_ATTR_RDONLY)], '"rw" clears read-only');
});

t.test('without mount_setattr a bind is remounted with its flags', async (t) => {
  const cfg = config({ mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'nodev'] }] });
  const p = planOf(cfg, {}, { sources: { '/srv': 'directory' }, mountSetattr: false });
  const root = p.fds.firstFree;
  t.ok(lines(of(p, 'mounts[0]')).includes(
    `mount(NULL, "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND | K.MS_REMOUNT | K.MS_RDONLY | K.MS_NODEV}, NULL)`));
});

t.test('rro and the other recursive options use mount_setattr with AT_RECURSIVE', async (t) => {
  const cfg = config({ mounts: [{ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rro', 'rnosuid'] }] });
  const p = planOf(cfg, {}, { sources: { '/srv': 'directory' } });
  const setattr = of(p, 'mounts[0]').filter((s) => s.call === 'sys_mount_setattr');
  t.equal(setattr.length, 1);
  t.equal(setattr[0]!.args[2], K.AT_EMPTY_PATH | K.AT_RECURSIVE);
  t.same(u64s(setattr[0]!.args[3]!).slice(0, 2), [BigInt(K.MOUNT_ATTR_RDONLY | K.MOUNT_ATTR_NOSUID), 0n]);
});

t.test('a bind source that does not exist is an error naming the mount', async (t) => {
  const cfg = config({ mounts: [{ destination: '/x', type: 'bind', source: 'missing', options: ['bind'] }] });
  t.throws(() => plan(request(cfg)), new BerthError('mounts[0].source: /b/missing does not exist'));
});

t.test('each mount option maps to what runc maps it to', async (t) => {
  const cases: [string, number, number][] = [
    ['ro', K.MS_RDONLY, 0], ['rw', 0, K.MS_RDONLY], ['nosuid', K.MS_NOSUID, 0], ['suid', 0, K.MS_NOSUID],
    ['nodev', K.MS_NODEV, 0], ['dev', 0, K.MS_NODEV], ['noexec', K.MS_NOEXEC, 0], ['exec', 0, K.MS_NOEXEC],
    ['sync', K.MS_SYNCHRONOUS, 0], ['async', 0, K.MS_SYNCHRONOUS], ['dirsync', K.MS_DIRSYNC, 0],
    ['remount', K.MS_REMOUNT, 0], ['mand', K.MS_MANDLOCK, 0], ['nomand', 0, K.MS_MANDLOCK],
    ['noatime', K.MS_NOATIME, 0], ['atime', 0, K.MS_NOATIME], ['nodiratime', K.MS_NODIRATIME, 0],
    ['diratime', 0, K.MS_NODIRATIME], ['relatime', K.MS_RELATIME, 0], ['norelatime', 0, K.MS_RELATIME],
    ['strictatime', K.MS_STRICTATIME, 0], ['nostrictatime', 0, K.MS_STRICTATIME], ['lazytime', K.MS_LAZYTIME, 0],
    ['nolazytime', 0, K.MS_LAZYTIME], ['bind', K.MS_BIND, 0], ['rbind', K.MS_BIND | K.MS_REC, 0],
    ['nosymfollow', K.MS_NOSYMFOLLOW, 0], ['silent', K.MS_SILENT, 0], ['loud', 0, K.MS_SILENT],
    ['iversion', K.MS_I_VERSION, 0], ['noiversion', 0, K.MS_I_VERSION], ['defaults', 0, 0],
  ];
  for (const [option, flags, cleared] of cases) {
    const o = parseMountOptions([option], 'f');
    t.same([o.flags, o.cleared, o.data], [flags, cleared, []], option);
  }
  const props: [string, number][] = [
    ['private', K.MS_PRIVATE], ['rprivate', K.MS_PRIVATE | K.MS_REC], ['shared', K.MS_SHARED],
    ['rshared', K.MS_SHARED | K.MS_REC], ['slave', K.MS_SLAVE], ['rslave', K.MS_SLAVE | K.MS_REC],
    ['unbindable', K.MS_UNBINDABLE], ['runbindable', K.MS_UNBINDABLE | K.MS_REC],
  ];
  for (const [option, flag] of props) t.same(parseMountOptions([option], 'f').propagation, [flag], option);
  t.same(parseMountOptions(['ro', 'rw'], 'f').flags, 0, 'a later option overrides an earlier one');
  t.same(parseMountOptions(['mode=755', 'size=1m', 'ro'], 'f').data, ['mode=755', 'size=1m'], 'the rest is data, in order');
  t.throws(() => parseMountOptions(['idmap'], 'mounts[3].options'),
    new BerthError('mounts[3].options: mount option "idmap" is not supported'));
  t.equal(parseMountOptions(['tmpcopyup'], 'f').copyUp, true);
  t.same(parseMountOptions(['tmpcopyup', 'notmpcopyup'], 'f').data, [], 'copy-up options are not data');
});

t.test('non-bind mounts take their flags and data in the one mount call; propagation follows', async (t) => {
  const p = planOf(config({ mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'rshared'] }] }));
  const root = p.fds.firstFree;
  const l = lines(of(p, 'mounts[0]'));
  t.ok(l.includes(`mount("tmpfs", "/proc/self/fd/${root + 1}", "tmpfs", ${K.MS_NOSUID | K.MS_NODEV}, "mode=1777")`));
  t.ok(l.includes(`mount(NULL, "/proc/self/fd/${root + 1}", NULL, ${K.MS_SHARED | K.MS_REC}, NULL)`));
});

t.test("podman's config plans: tmpcopyup where there is nothing to copy, joined netns, file binds under /run", async (t) => {
  const ctr = '/var/lib/containers/storage/overlay-containers/c1/userdata';
  const run = '/run/containers/storage/overlay-containers/c1/userdata';
  const cfg = config({
    mounts: [
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] },
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/hosttmp', type: 'bind', source: '/tmp', options: ['ro', 'rprivate', 'rbind'] },
      { destination: '/dev/shm', type: 'bind', source: `${ctr}/shm`, options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/run/.containerenv', type: 'bind', source: `${run}/.containerenv`, options: ['bind', 'rprivate'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
  }, {
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/netns-1' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
    sysctl: { 'net.ipv4.ping_group_range': '0 0' },
  });
  const sources = { '/tmp': 'directory', [`${ctr}/shm`]: 'directory', [`${run}/.containerenv`]: 'file' } as const;
  const p = planOf(cfg, {}, { sources, copyUp: { 1: [] } });
  const root = p.fds.firstFree;
  t.ok(lines(of(p, 'mounts[1]')).includes(`mount("tmpfs", "/proc/self/fd/${root + 1}", "tmpfs", ${K.MS_NOSUID | K.MS_NODEV}, NULL)`));
  t.ok(lines(of(p, 'mounts[6]')).includes(`mknodat(${root + 1}, ".containerenv", ${K.S_IFREG | 0o644}, 0)`));
  t.same(p.joinNamespaces, [{ type: 'network', path: '/run/netns/netns-1' }]);
  const many = Array.from({ length: 257 }, (_, i) => ({ path: `f${i}`, mode: K.S_IFREG | 0o644, uid: 0, gid: 0, size: 1, rdev: 0 }));
  t.throws(() => plan(request(cfg, {}, { sources, copyUp: { 1: many } })),
    /mounts\[1\].options: tmpcopyup: the image has more than 256 files and directories at \/scratch; berth copies at most 256/);
});

t.test('tmpcopyup: the image directory is held open under the tmpfs and copied into it, read-only last', async (t) => {
  const entries = [
    { path: 'lock', mode: K.S_IFDIR | 0o1777, uid: 0, gid: 0, size: 0, rdev: 0 },
    { path: 'lock/file', mode: K.S_IFREG | 0o4640, uid: 5, gid: 7, size: 3, rdev: 0 },
    { path: 'link', mode: 0o120777, uid: 1, gid: 1, size: 0, rdev: 0, target: '../etc' },
    { path: 'fifo', mode: K.S_IFIFO | 0o600, uid: 0, gid: 0, size: 0, rdev: 0 },
  ];
  const cfg = config({ mounts: [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro', 'nosuid'] }] });
  const p = planOf(cfg, {}, { copyUp: { 0: entries } });
  const root = p.fds.firstFree;
  const [image, tmpfs] = [root + 1, root + 2];
  const s = lines(of(p, 'mounts[0]'));
  t.same(s, [
    `sys_openat2(${root}, "run", <24 bytes>, 24)`,
    `sys_openat2(${root}, "run", <24 bytes>, 24)`,
    `mount("tmpfs", "/proc/self/fd/${tmpfs}", "tmpfs", ${K.MS_NOSUID}, NULL)`,
    `close(${tmpfs})`,
    `sys_openat2(${root}, "run", <24 bytes>, 24)`,
    'umask(0)',
    `mkdirat(${tmpfs}, "lock", ${0o1777})`, `fchownat(${tmpfs}, "lock", 0, 0, ${K.AT_SYMLINK_NOFOLLOW})`, `fchmodat(${tmpfs}, "lock", ${0o1777}, 0)`,
    `sys_openat2(${image}, "lock/file", <24 bytes>, 24)`,
    `openat(${tmpfs}, "lock/file", ${K.O_WRONLY | K.O_CREAT | K.O_EXCL | K.O_CLOEXEC | K.O_NOFOLLOW}, ${0o4640})`,
    `sendfile(${tmpfs + 2}, ${tmpfs + 1}, NULL, 3)`, `fchown(${tmpfs + 2}, 5, 7)`, `fchmodat(${tmpfs}, "lock/file", ${0o4640}, 0)`,
    `close(${tmpfs + 2})`, `close(${tmpfs + 1})`,
    `symlinkat("../etc", ${tmpfs}, "link")`, `fchownat(${tmpfs}, "link", 1, 1, ${K.AT_SYMLINK_NOFOLLOW})`,
    `mknodat(${tmpfs}, "fifo", ${K.S_IFIFO | 0o600}, 0)`, `fchownat(${tmpfs}, "fifo", 0, 0, ${K.AT_SYMLINK_NOFOLLOW})`,
    `sys_mount_setattr(${tmpfs}, "", ${K.AT_EMPTY_PATH}, <32 bytes>, 32)`,
    `close(${tmpfs})`,
    `close(${image})`,
  ]);
  const source = of(p, 'mounts[0]').find((st) => st.call === 'sys_openat2' && st.args[1] === 'lock/file')!;
  t.equal(u64s(source.args[2]!)[2], BigInt(K.RESOLVE_BENEATH | K.RESOLVE_NO_SYMLINKS | K.RESOLVE_NO_MAGICLINKS), 'the image file is read without following any symlink');
});

t.test('idmapped mounts are refused clearly', async (t) => {
  const cfg = config({ mounts: [{ destination: '/x', type: 'bind', source: '/srv', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] }] });
  t.throws(() => plan(request(cfg, {}, { sources: { '/srv': 'directory' } })), /mounts\[0\]: idmapped mounts/);
});

t.test('cgroup mount: cgroup2 with a cgroup namespace, the container\'s cgroup bound without one', async (t) => {
  const m = { mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'ro'] }] };
  const withNs = planOf(config(m, { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] }));
  const root = withNs.fds.firstFree;
  t.ok(lines(of(withNs, 'mounts[0]')).includes(`mount("cgroup2", "/proc/self/fd/${root + 1}", "cgroup2", ${K.MS_NOSUID | K.MS_RDONLY}, "nsdelegate")`));
  t.equal(withNs.steps[0]!.call, 'unshare', 'the cgroup namespace is unshared first');
  t.equal(withNs.steps[0]!.args[0], K.CLONE_NEWCGROUP);
  const without = planOf(config(m, { namespaces: [{ type: 'mount' }] }), { cgroupPaths: { unified: '/sys/fs/cgroup/berth/c1' } });
  t.ok(lines(of(without, 'mounts[0]')).includes(`mount("/sys/fs/cgroup/berth/c1", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND | K.MS_REC}, NULL)`));
});

t.test('cgroup mount on a v1/hybrid host: a writable tmpfs with one read-only mount per v1 hierarchy, links', async (t) => {
  const cgroup = {
    layout: 'hybrid' as const,
    hierarchies: [
      { name: 'cpu,cpuacct', mountPoint: '/sys/fs/cgroup/cpu,cpuacct', fsType: 'cgroup' as const, options: 'cpu,cpuacct' },
      { name: 'systemd', mountPoint: '/sys/fs/cgroup/systemd', fsType: 'cgroup' as const, options: 'xattr,name=systemd' },
      { name: 'unified', mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2' as const, options: '' },
    ],
    links: [{ name: 'cpu', target: 'cpu,cpuacct' }],
  };
  const m = { mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro'] }] };
  const p = planOf(config(m, { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] }), {}, { cgroup });
  const root = p.fds.firstFree;
  const s = of(p, 'mounts[0]');
  const l = lines(s);
  t.ok(l.includes(`mount("tmpfs", "/proc/self/fd/${root + 1}", "tmpfs", 0, "mode=755")`), 'the tmpfs is writable while it is filled');
  t.ok(l.includes(`mount("cgroup", "/proc/self/fd/${root + 1}", "cgroup", ${K.MS_RDONLY}, "cpu,cpuacct")`));
  t.ok(l.includes(`mount("cgroup", "/proc/self/fd/${root + 1}", "cgroup", ${K.MS_RDONLY}, "xattr,name=systemd")`));
  t.notOk(l.some((x) => x.includes('cgroup2')), 'runc mounts the v1 layout only');
  t.ok(l.includes(`symlinkat("cpu,cpuacct", ${root + 1}, "cpu")`));
  t.notOk(s.some((x) => x.what === 'set attributes ro on /sys/fs/cgroup'), 'the tmpfs stays writable, as in runc');
  const bound = planOf(config(m, { namespaces: [{ type: 'mount' }] }), { cgroupPaths: { cpu: '/sys/fs/cgroup/cpu,cpuacct/berth/c1', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/berth/c1', 'name=systemd': '/sys/fs/cgroup/systemd/system.slice/c1' } }, { cgroup });
  const b = lines(of(bound, 'mounts[0]'));
  t.ok(b.includes(`mount("/sys/fs/cgroup/cpu,cpuacct/berth/c1", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND | K.MS_REC}, NULL)`), 'each hierarchy binds its own path');
  t.ok(b.includes(`mount("/sys/fs/cgroup/systemd/system.slice/c1", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND | K.MS_REC}, NULL)`));
});

t.test('default devices, /dev links and linux.devices', async (t) => {
  const p = planOf(config({}, { devices: [
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 5 },
    { path: '/dev/net/tun', type: 'c', major: 10, minor: 200 },
    { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o640 },
  ] }));
  const root = p.fds.firstFree;
  const l = lines(p.steps);
  const chr = (mode: number) => K.S_IFCHR | mode;
  for (const [name, dev] of [['zero', 0x105], ['full', 0x107], ['random', 0x108], ['urandom', 0x109], ['tty', 0x500]] as const) {
    t.ok(l.includes(`mknodat(${root + 1}, "${name}", ${chr(0o666)}, ${dev})`), name);
  }
  t.ok(l.includes(`mknodat(${root + 1}, "null", ${chr(0o640)}, 259)`), 'a configured /dev/null replaces the default one');
  t.equal(l.filter((x) => x.includes('"null"')).length, 1);
  t.ok(l.includes(`mknodat(${root + 1}, "fuse", ${chr(0o600)}, ${(10 << 8) | 229})`));
  t.ok(l.includes(`fchownat(${root + 1}, "fuse", 0, 5, ${K.AT_SYMLINK_NOFOLLOW})`));
  t.ok(l.includes(`mkdirat(${root + 1}, "net", 493)`));
  t.ok(l.includes(`mknodat(${root + 1}, "tun", ${chr(0o666)}, ${(10 << 8) | 200})`));
  t.ok(l.indexOf('umask(0)') < l.indexOf(`mknodat(${root + 1}, "zero", ${chr(0o666)}, 261)`), 'umask 0 before the nodes');
  for (const link of ['symlinkat("pts/ptmx", 7, "ptmx")', 'symlinkat("/proc/self/fd", 7, "fd")', 'symlinkat("/proc/self/fd/0", 7, "stdin")',
    'symlinkat("/proc/self/fd/1", 7, "stdout")', 'symlinkat("/proc/self/fd/2", 7, "stderr")', 'symlinkat("/proc/kcore", 7, "core")']) {
    t.ok(l.includes(link.replace('7', String(root + 1))), link);
  }
});

t.test('linux.devices: numbers from the host when missing, bound in a user namespace, only under /dev', async (t) => {
  const fromHost = planOf(config({}, { devices: [{ path: '/dev/kvm', type: 'c' }] }), {}, { devices: { '/dev/kvm': { type: 'c', major: 10, minor: 232 } } });
  t.ok(lines(fromHost.steps).some((l) => l.startsWith('mknodat(') && l.includes('"kvm"') && l.endsWith(`${(10 << 8) | 232})`)));
  t.throws(() => plan(request(config({}, { devices: [{ path: '/dev/kvm', type: 'c' }] }))), /linux.devices\[0\]: major and minor are required/);
  t.throws(() => plan(request(config({}, { devices: [{ path: '/etc/x', type: 'c', major: 1, minor: 1 }] }))), /linux.devices\[0\].path: "\/etc\/x" is not under \/dev/);
  const userns = planOf(config({}, {
    namespaces: [{ type: 'user' }, { type: 'mount' }],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  }));
  const l = lines(userns.steps);
  t.notOk(l.some((x) => x.startsWith('mknodat(') && !x.includes(String(K.S_IFREG | 0o644))), 'no device nodes are made');
  const root = userns.fds.firstFree;
  t.ok(l.includes(`mount("/dev/null", "/proc/self/fd/${root + 1}", NULL, ${K.MS_BIND}, NULL)`), "the host's node is bound");
});

t.test('/dev bound from the host: no devices are made (as runc)', async (t) => {
  const p = planOf(config({ mounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }] }), {}, { sources: { '/dev': 'directory' } });
  t.notOk(p.steps.some((s) => s.call === 'mknodat' || s.call === 'symlinkat'));
});

t.test('masked paths: a read-only tmpfs and /dev/null, each allowed to not fit; read-only paths', async (t) => {
  const p = planOf(config({}, { maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] }));
  t.same(lines(of(p, 'linux.maskedPaths[0]')), [
    `mount("tmpfs", "/proc/kcore", "tmpfs", ${K.MS_RDONLY}, NULL)`,
    `mount("/dev/null", "/proc/kcore", NULL, ${K.MS_BIND}, NULL)`,
  ]);
  t.ok(of(p, 'linux.maskedPaths[0]').every((s) => s.ok?.includes(K.ENOTDIR) && s.ok.includes(K.ENOENT)));
  const ro = of(p, 'linux.readonlyPaths[0]');
  t.same(lines(ro), [
    `mount("/proc/sys", "/proc/sys", NULL, ${K.MS_BIND | K.MS_REC}, NULL)`,
    `sys_mount_setattr(${K.AT_FDCWD}, "/proc/sys", ${K.AT_RECURSIVE}, <32 bytes>, 32)`,
  ]);
  t.same(u64s(ro[1]!.args[3]!).slice(0, 2), [BigInt(K.MOUNT_ATTR_RDONLY), 0n]);
  t.ok(ro.every((s) => s.ok?.includes(K.ENOENT)));
});

t.test('root.readonly: / alone made read-only after everything else', async (t) => {
  const p = planOf(config({ root: { path: 'rootfs', readonly: true } }, { maskedPaths: ['/proc/kcore'] }));
  const i = p.steps.findIndex((s) => s.field === 'root.readonly');
  t.equal(line(p.steps[i]!), `sys_mount_setattr(${K.AT_FDCWD}, "/", 0, <32 bytes>, 32)`);
  t.ok(i > p.steps.findIndex((s) => s.field === 'linux.maskedPaths[0]'));
  const cwd = planOf(config({ root: { path: 'rootfs', readonly: true }, process: { cwd: '/work/dir', args: ['sh'] } }));
  const mkdir = cwd.steps.findIndex((s) => s.call === 'mkdir' && s.args[0] === '/work/dir');
  t.ok(mkdir > cwd.steps.findIndex((s) => s.call === 'sys_pivot_root'), 'a missing process.cwd is made inside the new root');
  t.ok(mkdir < cwd.steps.findIndex((s) => s.field === 'root.readonly'), 'before / turns read-only (runc does the same)');
  const old = planOf(config({ root: { path: 'rootfs', readonly: true } }), {}, { mountSetattr: false });
  t.ok(lines(old.steps).includes(`mount(NULL, "/", NULL, ${K.MS_BIND | K.MS_REMOUNT | K.MS_RDONLY}, NULL)`));
});

t.test('hooks that run before pivot_root make the child wait there, in the rootfs, for the parent', async (t) => {
  const none = planOf(config({ hooks: { startContainer: [{ path: '/x' }], poststop: [{ path: '/x' }] } }));
  t.notOk(none.steps.some((s) => s.checkpoint), 'no checkpoint without prestart, createRuntime or createContainer hooks');
  for (const name of ['prestart', 'createRuntime', 'createContainer']) {
    for (const noPivot of [false, true]) {
      const p = planOf(config({ hooks: { [name]: [{ path: '/x' }] } }), { noPivot });
      const checkpoints = p.steps.filter((s) => s.checkpoint);
      t.equal(checkpoints.length, 1, `${name}${noPivot ? ' --no-pivot' : ''}: one checkpoint`);
      const i = p.steps.indexOf(checkpoints[0]!);
      t.same([p.steps[i]!.call, p.steps[i]!.args, p.steps[i]!.sync, p.steps[i]!.checkpoint], ['fchdir', [p.fds.firstFree], true, 'hooks'], 'in the rootfs, waiting');
      const root = p.steps.findIndex((s) => s.call === (noPivot ? 'chroot' : 'sys_pivot_root'));
      t.ok(i < root, 'before the root changes');
      t.ok(i > p.steps.findLastIndex((s) => s.field?.startsWith('mounts[')), 'after every mount');
      t.ok(i > p.steps.findIndex((s) => s.what.includes('"zero"') || s.what.includes('/dev/zero')), 'after /dev');
    }
  }
});

t.test('--no-pivot moves the rootfs onto / and chroots', async (t) => {
  const p = planOf(config(), { noPivot: true });
  const l = lines(p.steps);
  t.notOk(l.some((x) => x.startsWith('sys_pivot_root')));
  const i = l.indexOf(`mount("/b/rootfs", "/", NULL, ${K.MS_MOVE}, NULL)`);
  t.ok(i > 0);
  t.same(l.slice(i - 1, i + 4), [`fchdir(${p.fds.firstFree})`, l[i], 'chroot(".")', 'chdir("/")', `close(${p.fds.firstFree})`]);
});

t.test('rootfsPropagation: used for / first, the rootfs parent made private, applied to the new / after pivot', async (t) => {
  const p = planOf(config({}, { rootfsPropagation: 'rshared' }), {}, { rootfsParentMount: '/var' });
  const l = lines(p.steps);
  t.equal(l[1], `mount(NULL, "/", NULL, ${K.MS_SHARED | K.MS_REC}, NULL)`);
  t.equal(l[2], `mount(NULL, "/var", NULL, ${K.MS_PRIVATE}, NULL)`);
  const after = l.lastIndexOf(`mount(NULL, "/", NULL, ${K.MS_SHARED | K.MS_REC}, NULL)`);
  t.ok(after > l.indexOf('sys_pivot_root(".", ".")'));
  t.throws(() => plan(request(config({}, { rootfsPropagation: 'sideways' }))), /linux.rootfsPropagation: "sideways" is not one of/);
  const parentPrivate = (value?: string) =>
    lines(planOf(config({}, value ? { rootfsPropagation: value } : {}), {}, { rootfsParentMount: '/var' }).steps)
      .includes(`mount(NULL, "/var", NULL, ${K.MS_PRIVATE}, NULL)`);
  t.same([undefined, 'rslave', 'rprivate', 'private', 'slave', 'shared', 'unbindable'].map(parentPrivate),
    [false, false, false, true, true, true, true], 'the parent is made private whenever it may still be shared');
});

t.test('hostname and domainname need a uts namespace', async (t) => {
  const p = planOf(config({ hostname: 'box', domainname: 'example.org' }));
  t.ok(lines(p.steps).includes('sethostname("box", 3)'));
  t.ok(lines(p.steps).includes('setdomainname("example.org", 11)'));
  const noUts = config({ hostname: 'box' }, { namespaces: [{ type: 'mount' }] });
  t.throws(() => plan(request(noUts)), new BerthError('hostname: cannot set the hostname without a uts namespace (linux.namespaces)'));
});

t.test('sysctls: written through /proc/sys after pivot_root, only when they belong to a namespace the container has', async (t) => {
  const p = planOf(config({}, { sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '4096', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'x' } }));
  const free = p.fds.firstFree;
  t.same(lines(of(p, 'linux.sysctl.net.ipv4.ip_forward')), [
    `open("/proc/sys/net/ipv4/ip_forward", ${K.O_WRONLY | K.O_CLOEXEC | K.O_NOFOLLOW})`,
    `write(${free}, "1", 1)`,
    `close(${free})`,
  ]);
  const ns = (types: string[]) => types.map((type) => ({ type }));
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ 'net.ipv4.ip_forward': '1' }, ['mount', 'ipc', 'uts'], /needs a network namespace/],
    [{ 'kernel.shmmax': '1' }, ['mount', 'network'], /needs an ipc namespace/],
    [{ 'fs.mqueue.msg_max': '1' }, ['mount'], /needs an ipc namespace/],
    [{ 'kernel.hostname': 'x' }, ['mount', 'uts'], /conflicts with the hostname field/],
    [{ 'kernel.domainname': 'x' }, ['mount'], /needs a uts namespace/],
    [{ 'vm.swappiness': '1' }, ['mount', 'network', 'ipc', 'uts'], /not in a namespace of the container's own/],
    [{ 'net.ipv4..x': '1' }, ['mount', 'network'], /not a sysctl name/],
    [{ 'net/ipv4/ip_forward': '1' }, ['mount'], /needs a network namespace/],
  ];
  for (const [sysctl, types, error] of cases) {
    t.throws(() => plan(request(config({}, { namespaces: ns(types), sysctl }))), error, Object.keys(sysctl)[0]);
  }
  const slashed = planOf(config({}, { sysctl: { 'net/ipv4/conf/eth0.100/forwarding': '1' } }));
  t.equal(lines(of(slashed, 'linux.sysctl.net/ipv4/conf/eth0.100/forwarding'))[0],
    `open("/proc/sys/net/ipv4/conf/eth0.100/forwarding", ${K.O_WRONLY | K.O_CLOEXEC | K.O_NOFOLLOW})`, 'slash form: dots stay in names');
  const joined = planOf(config({}, { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }], sysctl: { 'net.core.somaxconn': '1024' } }));
  t.ok(of(joined, 'linux.sysctl.net.core.somaxconn').length, 'a joined network namespace counts');
});

t.test('bad destinations are errors naming the mount', async (t) => {
  t.throws(() => plan(request(config({ mounts: [{ destination: 'rel', type: 'tmpfs' }] }))), /mounts\[0\].destination: "rel" is not an absolute path/);
  t.throws(() => plan(request(config({ mounts: [{ destination: '/..', type: 'tmpfs' }] }))), /mounts\[0\].destination: "\/.." names the root itself/);
  t.throws(() => plan(request(config({ mounts: [{ destination: '/x' }] }))), /mounts\[0\].type: required/);
});

t.test('a mount namespace is required to set up a rootfs', async (t) => {
  t.throws(() => plan(request(config({}, { namespaces: [{ type: 'pid' }] }))), /a mount namespace is required/);
});

t.test('the fd checker catches the mistakes it is there for', async (t) => {
  const fds = { preserveFds: 0, report: 3, sync: 4, namespaces: {}, rootfs: 5, firstFree: 6 };
  const st = (call: Step['call'], args: (string | number)[]): Step => ({ call, args, what: call });
  t.doesNotThrow(() => checkFds({ fds, steps: [st('open', ['/x', 0]), st('mkdirat', [6, 'a', 0]), st('close', [6])] }));
  t.throws(() => checkFds({ fds, steps: [st('open', ['/x', 0])] }), /fds 6 are still open/);
  t.throws(() => checkFds({ fds, steps: [st('mkdirat', [7, 'a', 0])] }), /fd 7 is used by step 0/);
  t.throws(() => checkFds({ fds, steps: [st('open', ['/x', 0]), st('mount', ['a', '/proc/self/fd/7']), st('close', [6])] }), /fd 7 is used by step 1/);
});

t.test('every namespace and filesystem step says what it does and which config field it serves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-planfs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(spawnSync('runc', ['spec'], { cwd: dir }).status, 0);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  cfg.linux.namespaces.push({ type: 'cgroup' }, { type: 'time' });
  cfg.linux.timeOffsets = { monotonic: { secs: 1 } };
  cfg.linux.sysctl = { 'net.core.somaxconn': '128' };
  cfg.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, uid: 0, gid: 0 }];
  cfg.root.readonly = true;
  cfg.mounts.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'rshared'] });
  const { steps } = planContainer(request(cfg, { bundle: dir, rootfs: join(dir, 'rootfs') }, { sources: { '/srv': 'directory' } }));
  const bad = steps.filter((s) => !s.what || !s.field);
  t.same(bad.map(line), [], 'no step without what/field');
});
