// config-linux.md: namespaces, id mappings, devices, cgroups, sysctl, seccomp, masked
// and read-only paths, rootfs propagation, and the rest of the linux section.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFor, create, describeResult, makeBundle, runToCompletion, state, type Bundle, type Result } from './lib/bundle.js';
import { cgroupDirs, cgroupsOf, readCgroupFile, removeCgroups } from './lib/cgroups.js';
import { canRunBaseline, ranOk, runContainer, sh } from './lib/check.js';

/** config namespace type -> name of its /proc/<pid>/ns link. */
const NS_LINK: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };
const hostNs = (type: string) => readlinkSync(`/proc/self/ns/${NS_LINK[type]}`);

/** The container's namespace links, printed as "type link" lines, parsed. */
function containerNs(r: Result): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const [type, link] = line.split(' ');
    if (type && link) out[type] = link;
  }
  return out;
}

const printNs = (types: string[]) => sh(types.map((type) => `echo ${type} $(readlink /proc/self/ns/${NS_LINK[type]})`).join('; '));

// --- namespaces ---------------------------------------------------------------------

const NEW_TYPES = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
let newNsRun: Result | undefined;

/** One container with every namespace type new, shared by the per-type tests below. */
function runWithNewNamespaces(): Result {
  if (newNsRun) return newNsRun;
  const b = makeBundle({ args: printNs(NEW_TYPES), patch: { linux: { namespaces: NEW_TYPES.map((type) => ({ type })) } } });
  try {
    newNsRun = runToCompletion(b);
  } finally {
    b.cleanup();
  }
  return newNsRun;
}

for (const type of NEW_TYPES) {
  t.test(`config-linux.md#namespaces MUST: a ${type} namespace without a path is new (its /proc/self/ns link differs from the host's)`, async (t) => {
    const r = runWithNewNamespaces();
    if (!ranOk(t, r)) return;
    const link = containerNs(r)[type];
    t.ok(link, `the container has a ${type} namespace link`);
    t.not(link, hostNs(type), 'and it is not the host one');
  });
}

t.test('config-linux.md#namespaces MUST: a namespace type not listed is inherited from the runtime', async (t) => {
  // No uts namespace, so no hostname either (setting it would change the host's).
  const patch = { hostname: undefined, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
  const r = runContainer(t, { args: printNs(['network', 'ipc']), patch });
  if (!ranOk(t, r)) return;
  t.equal(containerNs(r)['network'], hostNs('network'), 'network');
  t.equal(containerNs(r)['ipc'], hostNs('ipc'), 'ipc');
});

/** A host process in new network, uts and ipc namespaces, killed when `t` ends. */
async function namespaceHolder(t: Test): Promise<number> {
  const child = spawn('unshare', ['--net', '--uts', '--ipc', 'sleep', '600'], { stdio: 'ignore' });
  t.teardown(() => void child.kill('SIGKILL'));
  const pid = child.pid!;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== hostNs('network')) return pid;
    } catch {
      // not there yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('unshare did not create its namespaces');
}

t.test('config-linux.md#namespaces MUST: a namespace with a path is joined', async (t) => {
  const holder = await namespaceHolder(t);
  const namespaces = [{ type: 'pid' }, { type: 'mount' }, ...['network', 'uts', 'ipc'].map((type) => ({ type, path: `/proc/${holder}/ns/${NS_LINK[type]}` }))];
  const r = runContainer(t, { args: printNs(['network', 'uts', 'ipc']), patch: { linux: { namespaces } } });
  if (!ranOk(t, r)) return;
  for (const type of ['network', 'uts', 'ipc']) t.equal(containerNs(r)[type], readlinkSync(`/proc/${holder}/ns/${NS_LINK[type]}`), type);
});

t.test('config-linux.md#namespaces MUST: a path that is not a namespace of that type is an error', async (t) => {
  if (!canRunBaseline(t)) return;
  const holder = await namespaceHolder(t);
  const namespaces = [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: `/proc/${holder}/ns/uts` }];
  const b = bundleFor(t, { args: ['true'], patch: { linux: { namespaces } } });
  t.not(runToCompletion(b).status, 0);
});

const USERNS = {
  linux: {
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
  },
};

t.test('config-linux.md#user-namespace-mappings MUST: uidMappings and gidMappings are the user namespace maps', async (t) => {
  const r = runContainer(t, { args: sh('cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user'), patch: USERNS });
  if (!ranOk(t, r)) return;
  const lines = r.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  t.equal(lines[0], '0 100000 65536', 'uid_map');
  t.equal(lines[1], '0 200000 65536', 'gid_map');
  t.equal(lines[2], '0', 'root in the container');
  t.not(lines[3], hostNs('user'), 'in a new user namespace');
});

t.test('config-linux.md#user-namespace-mappings MUST: the container process is the mapped host uid', async (t) => {
  const b = bundleFor(t, { args: sh('sleep 30'), patch: USERNS });
  const r = create(b);
  if (r.status !== 0) return void t.fail(describeResult(r));
  const pid = state(b.id)?.['pid'];
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  t.match(status, /^Uid:\s+100000\s+100000\s+100000\s+100000$/m, 'host uid 100000');
  t.match(status, /^Gid:\s+200000\s+200000\s+200000\s+200000$/m, 'host gid 200000');
});

t.test('config-linux.md#namespaces MUST: a time namespace applies linux.timeOffsets', async (t) => {
  const offset = 10_000_000;
  const patch = {
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'time' }],
      timeOffsets: { boottime: { secs: offset, nanosecs: 0 }, monotonic: { secs: offset, nanosecs: 0 } },
    },
  };
  const r = runContainer(t, { args: ['cat', '/proc/uptime'], patch });
  if (ranOk(t, r)) t.ok(parseFloat(r.stdout) > offset, `uptime ${r.stdout.trim()} includes the boottime offset`);
});

// --- devices ------------------------------------------------------------------------

t.test('config-linux.md#devices MUST: linux.devices entries exist with their type, numbers, mode and owner', async (t) => {
  const devices = [
    { type: 'c', path: '/dev/conformance-char', major: 1, minor: 3, fileMode: 0o620, uid: 1, gid: 2 },
    { type: 'b', path: '/dev/conformance-block', major: 7, minor: 5, fileMode: 0o600, uid: 0, gid: 0 },
    { type: 'p', path: '/dev/conformance-fifo', fileMode: 0o644 },
  ];
  const r = runContainer(t, { args: sh('stat -c "%n|%F|%t:%T|%a|%u:%g" /dev/conformance-*'), patch: { linux: { devices } } });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /^\/dev\/conformance-char\|character special file\|1:3\|620\|1:2$/m, 'char device');
  t.match(r.stdout, /^\/dev\/conformance-block\|block special file\|7:5\|600\|0:0$/m, 'block device');
  t.match(r.stdout, /^\/dev\/conformance-fifo\|fifo\|0:0\|644\|0:0$/m, 'fifo');
});

t.test('config-linux.md#default-devices MUST: null, zero, full, random, urandom, tty exist and ptmx is pts/ptmx', async (t) => {
  const r = runContainer(t, { args: sh('for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done; stat -L -c "%t:%T" /dev/ptmx; ls /dev/pts/ptmx') });
  if (!ranOk(t, r)) return;
  for (const [name, nums] of [['null', '1:3'], ['zero', '1:5'], ['full', '1:7'], ['random', '1:8'], ['urandom', '1:9'], ['tty', '5:0']]) {
    t.match(r.stdout, new RegExp(`^/dev/${name} character special file ${nums}$`, 'm'), `/dev/${name}`);
  }
  t.match(r.stdout, /^5:2\n\/dev\/pts\/ptmx$/m, '/dev/ptmx is the pts ptmx');
});

t.test('config-linux.md#default-devices MUST: the default devices are usable under a deny-all device policy', async (t) => {
  const r = runContainer(t, { args: sh('echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c') });
  if (ranOk(t, r)) t.equal(r.stdout.replace(/ /g, ''), '4\n4\n');
});

t.test('config-linux.md#device-allowlist MUST: a device not allowed cannot be opened; an allowed one can', async (t) => {
  const mknod = ['CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_KILL'];
  const patch = {
    process: { capabilities: { bounding: mknod, effective: mknod, permitted: mknod } },
    linux: { resources: { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }] } },
  };
  const script = 'mknod /scratch/sda b 8 0 && mknod /scratch/tun c 10 200 && { head -c1 /scratch/sda; echo; head -c1 /scratch/tun; echo; } 2>&1';
  const r = runContainer(t, { args: sh(script), mounts: [{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' }], patch });
  if (!ranOk(t, r)) return;
  const [denied, allowed] = r.stdout.split('\n');
  t.match(denied, /Operation not permitted/, `block 8:0 is denied: ${denied}`);
  t.notMatch(allowed, /Operation not permitted/, `char 10:200 is allowed: ${allowed}`);
});

// --- cgroups ------------------------------------------------------------------------

/** A created (not started) container in cgroupsPath /berth-conformance-<id>, with `resources`. */
function createInCgroup(t: Test, resources: Record<string, unknown>): { b: Bundle; pid: number; path: string } | undefined {
  const b = bundleFor(t, { args: ['true'] });
  const path = `/berth-conformance-${b.id}`;
  b.config['linux'].cgroupsPath = path;
  b.config['linux'].resources = { ...b.config['linux'].resources, ...resources };
  b.write();
  t.teardown(() => removeCgroups(path)); // registered after the bundle's: runs once it is deleted
  const r = create(b);
  if (r.status !== 0) {
    t.fail(describeResult(r));
    return undefined;
  }
  return { b, pid: state(b.id)?.['pid'], path };
}

t.test('config-linux.md#cgroups-path MUST: the container process is placed in cgroupsPath', async (t) => {
  const c = createInCgroup(t, {});
  if (!c) return;
  const groups = cgroupsOf(c.pid);
  const memory = groups.get('memory') ?? groups.get('');
  t.equal(memory, c.path);
});

t.test('config-linux.md#memory MUST: memory.limit is the cgroup memory limit', async (t) => {
  const c = createInCgroup(t, { memory: { limit: 64 * 1024 * 1024 } });
  if (c) t.equal(readCgroupFile(c.pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * 1024 * 1024));
});

t.test('config-linux.md#pids MUST: pids.limit is the cgroup pids limit', async (t) => {
  const c = createInCgroup(t, { pids: { limit: 42 } });
  if (c) t.equal(readCgroupFile(c.pid, 'pids', 'pids.max', 'pids.max'), '42');
});

t.test('config-linux.md#cpu MUST: cpu.quota and cpu.period are the CFS bandwidth limit', async (t) => {
  const c = createInCgroup(t, { cpu: { quota: 50000, period: 100000 } });
  if (!c) return;
  const v1 = readCgroupFile(c.pid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max');
  const period = readCgroupFile(c.pid, 'cpu', 'cpu.cfs_period_us', 'cpu.max');
  t.ok(v1 === '50000 100000' || (v1 === '50000' && period === '100000'), `quota ${v1}, period ${period}`);
});

t.test('config-linux.md#cpu MUST: cpu.shares is the cgroup cpu weight', async (t) => {
  const c = createInCgroup(t, { cpu: { shares: 512 } });
  if (!c) return;
  const v1 = cgroupsOf(c.pid).has('cpu');
  // cgroup v2 has no shares: runtimes convert them to cpu.weight (1 + (shares-2)*9999/262142).
  t.equal(readCgroupFile(c.pid, 'cpu', 'cpu.shares', 'cpu.weight'), v1 ? '512' : String(1 + Math.floor(((512 - 2) * 9999) / 262142)));
});

t.test('runtime.md#delete MUST: delete removes the cgroups created for the container', async (t) => {
  const c = createInCgroup(t, { pids: { limit: 42 } });
  if (!c) return;
  t.ok(cgroupDirs(c.path).length > 0, 'the cgroup exists after create');
  const r = (await import('./lib/bundle.js')).runtime(['delete', '--force', c.b.id]);
  t.equal(r.status, 0, describeResult(r));
  t.same(cgroupDirs(c.path), [], 'no cgroup of that path is left');
});

// --- sysctl, seccomp ----------------------------------------------------------------

t.test('config-linux.md#sysctl MUST: sysctl values are set in the container, not on the host', async (t) => {
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const wanted = hostForward.trim() === '1' ? '0' : '1';
  const sysctl = { 'net.ipv4.ip_forward': wanted, 'kernel.msgmax': '12345' };
  const r = runContainer(t, { args: sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'), patch: { linux: { sysctl } } });
  if (ranOk(t, r)) t.equal(r.stdout, `${wanted}\n12345\n`);
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'the host value is unchanged');
});

const denyMkdir = (extra: Record<string, unknown> = {}) => ({
  linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...extra }] } },
});

t.test('config-linux.md#seccomp MUST: a syscall with action SCMP_ACT_ERRNO fails with EPERM', async (t) => {
  const r = runContainer(t, { args: sh('mkdir /scratch/x 2>&1; grep ^Seccomp: /proc/self/status'), mounts: [{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' }], patch: denyMkdir() });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /Operation not permitted/);
  t.match(r.stdout, /^Seccomp:\s+2$/m, 'a filter is installed');
});

t.test('config-linux.md#seccomp MUST: errnoRet is the errno a denied syscall returns', async (t) => {
  const r = runContainer(t, { args: sh('mkdir /scratch/x 2>&1; true'), mounts: [{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' }], patch: denyMkdir({ errnoRet: 13 }) });
  if (ranOk(t, r)) t.match(r.stdout, /Permission denied/);
});

t.test('config-linux.md#seccomp MUST: args conditions select which calls the rule matches', async (t) => {
  // personality(PER_LINUX32 = 8) is denied; personality(PER_LINUX = 0) is not.
  const seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
  };
  const r = runContainer(t, { args: sh('busybox linux32 true 2>&1; echo linux32=$?; busybox linux64 true 2>&1; echo linux64=$?'), patch: { linux: { seccomp } } });
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /linux32=[1-9]/, 'personality(8) is denied');
  t.match(r.stdout, /linux64=0/, 'personality(0) is allowed');
});

// --- masked and read-only paths, propagation ----------------------------------------

t.test('config-linux.md#masked-paths MUST: masked files and directories cannot be read', async (t) => {
  const b = bundleFor(t, {
    args: sh('echo file=$(cat /secret-file | wc -c); echo dir=$(ls -A /secret-dir | wc -l); echo kcore=$(cat /proc/kcore | wc -c)'),
    patch: { linux: { maskedPaths: ['/secret-file', '/secret-dir', '/proc/kcore'] } },
  });
  writeFileSync(join(b.rootfs, 'secret-file'), 'secret\n');
  mkdirSync(join(b.rootfs, 'secret-dir'));
  writeFileSync(join(b.rootfs, 'secret-dir', 'inside'), 'secret\n');
  const r = runToCompletion(b);
  if (ranOk(t, r)) t.equal(r.stdout.replace(/ /g, ''), 'file=0\ndir=0\nkcore=0\n');
});

t.test('config-linux.md#readonly-paths MUST: read-only paths refuse writes; the rest stays writable', async (t) => {
  const b = bundleFor(t, {
    args: sh('touch /ro-dir/x 2>&1; echo ro=$?; touch /rw-file; echo rw=$?; echo 1 > /proc/sys/kernel/ns_last_pid 2>&1; echo procsys=$?'),
    patch: { root: { readonly: false }, linux: { readonlyPaths: ['/ro-dir', '/proc/sys'] } },
  });
  mkdirSync(join(b.rootfs, 'ro-dir'));
  const r = runToCompletion(b);
  if (!ranOk(t, r)) return;
  t.match(r.stdout, /Read-only file system\nro=1/);
  t.match(r.stdout, /rw=0/);
  t.match(r.stdout, /procsys=[1-9]/);
  t.notOk(existsSync(join(b.rootfs, 'ro-dir', 'x')));
});

/** The optional propagation fields of the container's root mount in mountinfo. */
function rootPropagation(r: Result): string {
  const line = r.stdout.split('\n').find((l) => l.split(' ')[4] === '/') ?? '';
  return line.split(' - ')[0]!.split(' ').slice(6).join(' ');
}

t.test('config-linux.md#rootfs-mount-propagation MUST: rootfsPropagation shared makes the root mount shared', async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/self/mountinfo'], patch: { linux: { rootfsPropagation: 'shared' } } });
  if (ranOk(t, r)) t.match(rootPropagation(r), /shared:\d+/);
});

t.test('config-linux.md#rootfs-mount-propagation MUST: rootfsPropagation private makes the root mount private', async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/self/mountinfo'], patch: { linux: { rootfsPropagation: 'private' } } });
  if (ranOk(t, r)) t.equal(rootPropagation(r), '');
});

t.test('config-linux.md#mount-label MUST: mountLabel is the SELinux context of the container mounts', { skip: existsSync('/sys/fs/selinux') ? false : 'SELinux is not enabled on this host' }, async (t) => {
  const r = runContainer(t, { args: ['cat', '/proc/mounts'], mounts: [{ destination: '/scratch', type: 'tmpfs', source: 'tmpfs' }], patch: { linux: { mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' } } });
  if (ranOk(t, r)) t.match(r.stdout, /\/scratch tmpfs .*context="system_u:object_r:container_file_t:s0:c1,c2"/);
});

t.test('config-linux.md#personality MUST: personality domain LINUX32 is the process execution domain', async (t) => {
  const r = runContainer(t, { args: ['uname', '-m'], patch: { linux: { personality: { domain: 'LINUX32' } } } });
  if (ranOk(t, r)) t.match(r.stdout, /^i[3-6]86\n$/);
});

t.test('config-linux.md#intelrdt MUST: intelRdt.closID places the container in that resctrl group', { skip: existsSync('/sys/fs/resctrl/tasks') ? 'not written yet: needs a host with resctrl' : 'resctrl is not mounted on this host' }, async () => {});
