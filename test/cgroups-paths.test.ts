// Where a container's cgroups go (runc 1.1's cgroupfs rules), without touching a host.
import t from 'tap';
import { parseLayout } from '../src/cgroups/layout.js';
import { cleanPath, containerPaths, parseOwnCgroups, parseSystemdPath, resolvePaths } from '../src/cgroups/paths.js';
import { BerthError } from '../src/errors.js';

const hybrid = parseLayout([
  '35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer',
  '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
].join('\n'));
const v2 = parseLayout('30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
const own = parseOwnCgroups('4:memory:/process_api/abc\n6:freezer:/\n9:name=systemd:/\n0::/user.slice/session-1.scope\n');

t.test('own cgroups from /proc/self/cgroup', async (t) => {
  t.same(own, { memory: '/process_api/abc', freezer: '/', 'name=systemd': '/', '': '/user.slice/session-1.scope' });
  t.same(parseOwnCgroups('3:cpu,cpuacct:/x\n'), { cpu: '/x', cpuacct: '/x' });
});

t.test('paths are cleaned and never climb above the root', async (t) => {
  t.equal(cleanPath('/a/../../b/./c/'), '/b/c');
  t.equal(cleanPath('../../x'), 'x');
  t.equal(cleanPath('a//b'), 'a/b');
  t.equal(cleanPath(''), '');
});

t.test('absolute cgroupsPath: under each hierarchy root', async (t) => {
  t.same(resolvePaths('/berth/c1', 'c1', hybrid, own), {
    memory: '/sys/fs/cgroup/memory/berth/c1',
    freezer: '/sys/fs/cgroup/freezer/berth/c1',
    unified: '/sys/fs/cgroup/unified/berth/c1',
  });
  t.same(resolvePaths('/../../etc', 'c1', v2, own), { unified: '/sys/fs/cgroup/etc' });
});

t.test('relative cgroupsPath: under berth own cgroup (v2: its parent)', async (t) => {
  t.same(resolvePaths('berth/c1', 'c1', hybrid, own), {
    memory: '/sys/fs/cgroup/memory/process_api/abc/berth/c1',
    freezer: '/sys/fs/cgroup/freezer/berth/c1',
    unified: '/sys/fs/cgroup/unified/user.slice/berth/c1',
  });
});

t.test('empty cgroupsPath: the container id, relative', async (t) => {
  t.same(resolvePaths(undefined, 'web', v2, own), { unified: '/sys/fs/cgroup/user.slice/web' });
  t.same(resolvePaths('', 'web', v2, { '': '/' }), { unified: '/sys/fs/cgroup/web' });
});

t.test('systemd cgroupsPath: slice:prefix:name, and a clear error without systemd', async (t) => {
  t.same(parseSystemdPath('system.slice:berth:abc', 'x'), { slice: 'system.slice', prefix: 'berth', name: 'abc' });
  t.throws(() => parseSystemdPath('/not/systemd', 'x'), BerthError);
  t.throws(() => containerPaths('machine.slice:berth:abc', 'abc', v2, true), { name: 'BerthError', message: /--systemd-cgroup: .*D-Bus/ });
});
