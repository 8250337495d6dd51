// Namespaces in plans: clone flags, joins by path, the cgroup and time namespaces,
// user namespace maps, and `berth exec` joining a running container.
import t from 'tap';
import { BerthError } from '../src/errors.js';
import * as K from '../src/runtime/planner/consts.js';
import { plan } from '../src/runtime/planner/index.js';
import { config, lines, planOf, request } from './helpers/plans.js';

t.test('new namespaces are clone flags; cgroup and time are unshared by the child', async (t) => {
  const all = ['pid', 'network', 'ipc', 'uts', 'mount', 'user', 'cgroup', 'time'].map((type) => ({ type }));
  const maps = { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] };
  const p = planOf(config({}, { namespaces: all, ...maps }));
  t.equal(p.cloneFlags, K.CLONE_NEWPID | K.CLONE_NEWNET | K.CLONE_NEWIPC | K.CLONE_NEWUTS | K.CLONE_NEWNS | K.CLONE_NEWUSER);
  t.same(lines(p.steps.slice(0, 5)), [
    'sys_setgroups(0, NULL)', 'sys_setresgid(0, 0, 0)', 'sys_setresuid(0, 0, 0)',
    `unshare(${K.CLONE_NEWCGROUP})`, `unshare(${K.CLONE_NEWTIME})`,
  ], 'root of the new user namespace before anything else');
  t.equal(p.steps[2]!.field, 'linux.uidMappings');
  t.equal(p.uidMap, '0 1000 1\n');
  t.equal(p.gidMap, '0 1000 1\n');
  t.same(p.joinNamespaces, []);
});

t.test('time offsets are written right after the time namespace is unshared', async (t) => {
  const p = planOf(config({}, {
    namespaces: [{ type: 'mount' }, { type: 'time' }],
    timeOffsets: { monotonic: { secs: 86400, nanosecs: 5 }, boottime: { secs: -10 } },
  }));
  const free = p.fds.firstFree;
  const text = 'monotonic 86400 5\nboottime -10 0\n';
  t.same(lines(p.steps.slice(0, 4)), [
    `unshare(${K.CLONE_NEWTIME})`,
    `open("/proc/self/timens_offsets", ${K.O_WRONLY | K.O_CLOEXEC})`,
    `write(${free}, ${JSON.stringify(text)}, ${text.length})`,
    `close(${free})`,
  ]);
  t.throws(() => plan(request(config({}, { namespaces: [{ type: 'mount' }], timeOffsets: { monotonic: { secs: 1 } } }))),
    /linux.timeOffsets: offsets are given but the container has no new time namespace/);
  t.throws(() => plan(request(config({}, { namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { realtime: { secs: 1 } } }))),
    /only monotonic and boottime/);
});

t.test('namespaces joined by path: opened by the parent, setns with their type, user first; pid by the parent', async (t) => {
  const p = planOf(config({}, { namespaces: [
    { type: 'network', path: '/run/netns/a' },
    { type: 'mount' },
    { type: 'pid', path: '/proc/42/ns/pid' },
    { type: 'ipc', path: '/proc/42/ns/ipc' },
  ] }));
  t.same(p.joinNamespaces, [{ type: 'ipc', path: '/proc/42/ns/ipc' }, { type: 'network', path: '/run/netns/a' }]);
  t.equal(p.joinPidNamespace, '/proc/42/ns/pid');
  t.equal(p.cloneFlags, K.CLONE_NEWNS, 'only the mount namespace is new');
  t.same(p.fds.namespaces, { ipc: 5, network: 6 });
  t.same(lines(p.steps.slice(0, 2)), [`setns(5, ${K.CLONE_NEWIPC})`, `setns(6, ${K.CLONE_NEWNET})`]);
  t.ok(p.steps.slice(0, 2).every((s) => s.sync), 'the child waits after each join');
  t.equal(p.steps[1]!.field, 'linux.namespaces[0]');
});

t.test('with a user namespace joined by path, the new namespaces are unshared after the setns', async (t) => {
  const p = planOf(config({}, { namespaces: [{ type: 'user', path: '/proc/7/ns/user' }, { type: 'mount' }, { type: 'uts' }] }));
  t.equal(p.cloneFlags, 0);
  t.same(lines(p.steps.slice(0, 6)), [
    `setns(5, ${K.CLONE_NEWUSER})`, 'sys_setgroups(0, NULL)', 'sys_setresgid(0, 0, 0)', 'sys_setresuid(0, 0, 0)',
    `unshare(${K.CLONE_NEWNS})`, `unshare(${K.CLONE_NEWUTS})`,
  ]);
  t.equal(p.steps[3]!.field, 'linux.namespaces[0]', 'the joined namespace is what has no root');
  t.equal(p.uidMap, undefined);
});

t.test('namespace configs that cannot work are errors', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ namespaces: [{ type: 'mount' }, { type: 'mount' }] }, /linux.namespaces\[1\]: namespace type mount is listed twice/],
    [{ namespaces: [{ type: 'mount' }, { type: 'bogus' }] }, /linux.namespaces\[1\].type: unknown namespace type "bogus"/],
    [{ namespaces: [{ type: 'mount' }, { type: 'network', path: 'netns/a' }] }, /linux.namespaces\[1\].path: "netns\/a" is not an absolute path/],
    [{ namespaces: [{ type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }, /mappings are given but the container has no user namespace/],
    [{ namespaces: [{ type: 'mount' }, { type: 'user' }] }, /a new user namespace needs both uid and gid mappings/],
    [
      { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 1, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] },
      /^linux.uidMappings: container uid 0 is not mapped/,
    ],
    [
      { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 5, hostID: 5, size: 1 }] },
      /^linux.gidMappings: container gid 0 is not mapped/,
    ],
    [{ namespaces: [{ type: 'mount' }, { type: 'user', path: '/proc/1/ns/user' }], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }, /joined by path cannot be changed/],
    [{ namespaces: [{ type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }, { type: 'pid' }] }, /^linux.namespaces\[2\]: a new pid namespace together with a user namespace joined by path is not supported/],
  ];
  for (const [linux, error] of cases) t.throws(() => plan(request(config({}, linux))), error, String(error));
  t.throws(() => plan(request(config({}, { namespaces: [{ type: 'mount' }, { type: 'time' }] }), {}, { namespaces: ['mnt'] })),
    new BerthError('linux.namespaces[1]: this kernel does not support time namespaces'));
});

t.test('exec joins the differing namespaces of the init and sets up no rootfs', async (t) => {
  const cfg = config({ process: { args: ['/bin/sh'], cwd: '/srv', env: [] }, mounts: [{ destination: '/proc', type: 'proc' }] });
  const containerNamespaces = {
    user: '/proc/99/ns/user', mount: '/proc/99/ns/mnt', pid: '/proc/99/ns/pid', uts: '/proc/99/ns/uts', cgroup: '/proc/99/ns/cgroup',
  };
  const p = planOf(cfg, { mode: 'exec', initPid: 99 }, { containerNamespaces });
  t.equal(p.cloneFlags, 0);
  t.same(p.joinNamespaces.map((j) => j.type), ['user', 'uts', 'cgroup', 'mount']);
  t.equal(p.joinPidNamespace, '/proc/99/ns/pid');
  t.same(lines(p.steps.slice(0, 7)), [
    `setns(5, ${K.CLONE_NEWUSER})`, 'sys_setgroups(0, NULL)', 'sys_setresgid(0, 0, 0)', 'sys_setresuid(0, 0, 0)',
    `setns(6, ${K.CLONE_NEWUTS})`, `setns(7, ${K.CLONE_NEWCGROUP})`, `setns(8, ${K.CLONE_NEWNS})`,
  ]);
  t.notOk(p.steps.some((s) => ['mount', 'mkdirat', 'mknodat', 'sys_pivot_root', 'sethostname'].includes(s.call)), 'no rootfs setup');
  t.ok(lines(p.steps).includes('chdir("/srv")'), 'the process steps enter the cwd');
  t.equal(p.uidMap, undefined, 'the maps of an existing user namespace are not written again');
});

t.test('fd numbers follow the layout: preserved fds and joined namespaces come before the rootfs fd', async (t) => {
  const p = planOf(config({ mounts: [{ destination: '/proc', type: 'proc' }] }, { namespaces: [{ type: 'mount' }, { type: 'uts', path: '/proc/9/ns/uts' }] }), { preserveFds: 3 });
  t.same(p.fds, { preserveFds: 3, report: 6, sync: 7, namespaces: { uts: 8 }, rootfs: 9, firstFree: 10 });
  t.ok(lines(p.steps).includes(`setns(8, ${K.CLONE_NEWUTS})`));
  t.ok(lines(p.steps).includes('mount("proc", "/proc/self/fd/11", "proc", 0, NULL)'), 'the resolved destination is the fd after the rootfs fd 10');
});
