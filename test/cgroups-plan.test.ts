// The pure planner: resources -> file writes, on v2, v1 and hybrid layouts, with runc's
// conversions. No root needed: these run against layouts built from mountinfo text.
import t, { type Test } from 'tap';
import { parseLayout, type Layout } from '../src/cgroups/layout.js';
import { blkioToIoWeight, deviceRuleLine, planCgroup, sharesToWeight } from '../src/cgroups/plan.js';
import type { Resources } from '../src/cgroups/types.js';
import { BerthError } from '../src/errors.js';

const V2_MOUNTINFO = '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n';
const V1_MOUNTINFO = [
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:5 - cgroup cgroup rw,cpu,cpuacct',
  '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio',
  '41 31 0:38 / /sys/fs/cgroup/hugetlb rw,relatime - cgroup cgroup rw,hugetlb',
  '42 31 0:39 / /sys/fs/cgroup/rdma rw,relatime - cgroup cgroup rw,rdma',
  '43 31 0:40 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
].join('\n');
const HYBRID_MOUNTINFO = V1_MOUNTINFO.split('\n').filter((l) => !/hugetlb|rdma|net_cls/.test(l)).join('\n') + '\n44 31 0:41 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n';

const v2: Layout = parseLayout(V2_MOUNTINFO, ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']);
const v1: Layout = parseLayout(V1_MOUNTINFO);
const hybrid: Layout = parseLayout(HYBRID_MOUNTINFO, ['hugetlb']);

/** The writes as "controller file=value" lines, easy to compare as a whole. */
function writes(resources: Resources, layout: Layout, options = {}): string[] {
  return planCgroup(resources, layout, options).writes.map((w) => `${w.controller} ${w.file}=${w.value}${w.orElse ? ` | ${w.orElse.file}=${w.orElse.value}` : ''}${w.ifExists ? ' (if exists)' : ''}`);
}

function throwsField(t: Test, f: () => unknown, field: string | RegExp): void {
  try {
    f();
    t.fail(`expected an error naming ${field}`);
  } catch (e) {
    t.type(e, BerthError);
    t.match((e as Error).message, field);
  }
}

t.test('layouts are told apart from mountinfo', async (t) => {
  t.equal(v2.kind, 'v2');
  t.equal(v2.unified, '/sys/fs/cgroup');
  t.same(v2.v1, {});
  t.equal(v1.kind, 'v1');
  t.equal(v1.v1['cpu'], '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(v1.v1['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(v1.v1['name=systemd'], '/sys/fs/cgroup/systemd');
  t.equal(v1.unified, undefined);
  t.equal(hybrid.kind, 'hybrid');
  t.equal(hybrid.unified, '/sys/fs/cgroup/unified');
  // A bind mount of a sub-cgroup (root not "/") is not a hierarchy to create cgroups in.
  const inner = parseLayout('50 40 0:32 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
  t.same(inner.v1, {});
  // Octal escapes in mount points are undone.
  t.equal(parseLayout('30 23 0:26 / /sys/fs/cgroup\\040x rw - cgroup2 cgroup2 rw\n').unified, '/sys/fs/cgroup x');
});

t.test('runc conversions', async (t) => {
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(1024), 39);
  t.equal(sharesToWeight(262144), 10000);
  t.equal(blkioToIoWeight(10), 1);
  t.equal(blkioToIoWeight(500), 4950);
  t.equal(blkioToIoWeight(1000), 10000);
});

t.test('v2: every file write', async (t) => {
  const table: [string, Resources, string[]][] = [
    ['cpu shares -> cpu.weight', { cpu: { shares: 1024 } }, ['unified cpu.weight=39']],
    ['quota and period -> cpu.max', { cpu: { quota: 50000, period: 100000 } }, ['unified cpu.max=50000 100000']],
    ['quota alone', { cpu: { quota: 20000 } }, ['unified cpu.max=20000']],
    ['unlimited quota -> max', { cpu: { quota: -1, period: 100000 } }, ['unified cpu.max=max 100000']],
    ['period alone', { cpu: { period: 50000 } }, ['unified cpu.max=max 50000']],
    ['burst -> cpu.max.burst', { cpu: { quota: 50000, period: 100000, burst: 10000 } }, ['unified cpu.max=50000 100000', 'unified cpu.max.burst=10000']],
    ['idle -> cpu.idle', { cpu: { idle: 1 } }, ['unified cpu.idle=1']],
    ['cpus and mems -> cpuset', { cpu: { cpus: '0-1', mems: '0' } }, ['unified cpuset.cpus=0-1', 'unified cpuset.mems=0']],
    ['memory limit -> memory.max', { memory: { limit: 104857600 } }, ['unified memory.max=104857600']],
    ['unlimited memory: swap unlimited too', { memory: { limit: -1 } }, ['unified memory.swap.max=max (if exists)', 'unified memory.max=max']],
    ['swap is memory+swap in the config, swap alone on v2', { memory: { limit: 100 * 2 ** 20, swap: 300 * 2 ** 20 } }, ['unified memory.swap.max=209715200', 'unified memory.max=104857600']],
    ['swap equal to limit -> no swap', { memory: { limit: 2 ** 20, swap: 2 ** 20 } }, ['unified memory.swap.max=0', 'unified memory.max=1048576']],
    ['unlimited swap', { memory: { limit: 2 ** 20, swap: -1 } }, ['unified memory.swap.max=max', 'unified memory.max=1048576']],
    ['reservation -> memory.low', { memory: { reservation: 2 ** 20 } }, ['unified memory.low=1048576']],
    ['pids limit', { pids: { limit: 64 } }, ['unified pids.max=64']],
    ['negative pids limit -> max', { pids: { limit: -1 } }, ['unified pids.max=max']],
    ['zero pids limit: left alone (runc 1.1)', { pids: { limit: 0 } }, []],
    ['blkio weight -> io.bfq.weight, or io.weight converted', { blockIO: { weight: 500 } }, ['unified io.bfq.weight=500 | io.weight=4950']],
    ['weight device', { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 100 }] } }, ['unified io.bfq.weight=8:0 100 | io.weight=8:0 910']],
    [
      'throttles -> io.max',
      { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2000 }], throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 30 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 40 }] } },
      ['unified io.max=8:0 rbps=1000', 'unified io.max=8:0 wbps=2000', 'unified io.max=8:16 riops=30', 'unified io.max=8:16 wiops=40'],
    ],
    ['hugepages (and reserved pages where accounted)', { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, ['unified hugetlb.2MB.max=4194304', 'unified hugetlb.2MB.rsvd.max=4194304 (if exists)']],
    ['rdma', { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } }, ['unified rdma.max=mlx5_1 hca_handle=3 hca_object=10000']],
    ['unified map', { unified: { 'memory.high': '50000000', 'cgroup.max.depth': '3' } }, ['unified memory.high=50000000', 'unified cgroup.max.depth=3']],
    ['kernel memory: ignored', { memory: { kernel: 2 ** 20, kernelTCP: 2 ** 20 } }, []],
    ['nothing set', {}, []],
  ];
  for (const [name, resources, expected] of table) t.same(writes(resources, v2), expected, name);
});

t.test('v2: devices become an eBPF program, not files', async (t) => {
  const rules = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }];
  const plan = planCgroup({ devices: rules }, v2);
  t.same(plan.writes, []);
  t.same(plan.bpfDevices, rules);
});

t.test('v2: what it cannot do is an error naming the field', async (t) => {
  throwsField(t, () => planCgroup({ cpu: { realtimeRuntime: 950000 } }, v2), 'linux.resources.cpu.realtimeRuntime');
  throwsField(t, () => planCgroup({ memory: { swappiness: 10 } }, v2), 'linux.resources.memory.swappiness');
  throwsField(t, () => planCgroup({ memory: { disableOOMKiller: true } }, v2), 'linux.resources.memory.disableOOMKiller');
  throwsField(t, () => planCgroup({ blockIO: { leafWeight: 10 } }, v2), 'linux.resources.blockIO.leafWeight');
  throwsField(t, () => planCgroup({ network: { classID: 1 } }, v2), 'linux.resources.network');
  throwsField(t, () => planCgroup({ memory: { swap: 2 ** 20 } }, v2), 'linux.resources.memory.swap');
  throwsField(t, () => planCgroup({ memory: { limit: 2 ** 21, swap: 2 ** 20 } }, v2), 'linux.resources.memory.swap');
  throwsField(t, () => planCgroup({ unified: { '../../etc/passwd': 'x' } }, v2), /linux\.resources\.unified\["\.\.\/\.\.\/etc\/passwd"\]/);
  throwsField(t, () => planCgroup({ unified: { 'memory.high/x': 'x' } }, v2), 'linux.resources.unified');
  throwsField(t, () => planCgroup({ unified: { '..': 'x' } }, v2), 'linux.resources.unified');
  throwsField(t, () => planCgroup({ unified: { 'nosuch.max': '1' } }, v2), /nosuch controller/);
  throwsField(t, () => planCgroup({ hugepageLimits: [{ pageSize: '2mb', limit: 1 }] }, v2), 'linux.resources.hugepageLimits[0].pageSize');
  const noPids = parseLayout(V2_MOUNTINFO, ['memory']);
  throwsField(t, () => planCgroup({ pids: { limit: 5 } }, noPids), /linux\.resources\.pids\.limit: the pids cgroup controller is not available/);
});

t.test('v1: file writes', async (t) => {
  const table: [string, Resources, string[]][] = [
    ['cpu', { cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, idle: 0 } }, ['cpu cpu.shares=512', 'cpu cpu.cfs_period_us=100000', 'cpu cpu.cfs_quota_us=50000', 'cpu cpu.cfs_burst_us=1000', 'cpu cpu.idle=0']],
    ['realtime', { cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 } }, ['cpu cpu.rt_period_us=1000000', 'cpu cpu.rt_runtime_us=950000']],
    ['unlimited quota', { cpu: { quota: -1 } }, ['cpu cpu.cfs_quota_us=-1']],
    ['cpuset', { cpu: { cpus: '0', mems: '0' } }, ['cpuset cpuset.cpus=0', 'cpuset cpuset.mems=0']],
    ['memory limit and memsw (memory+swap as is)', { memory: { limit: 2 ** 20, swap: 2 ** 21 } }, ['memory memory.limit_in_bytes=1048576', 'memory memory.memsw.limit_in_bytes=2097152']],
    ['unlimited memory: memsw unlimited too, first', { memory: { limit: -1 } }, ['memory memory.memsw.limit_in_bytes=-1 (if exists)', 'memory memory.limit_in_bytes=-1']],
    ['other memory settings', { memory: { reservation: 2 ** 20, swappiness: 0, disableOOMKiller: true, useHierarchy: true } }, ['memory memory.soft_limit_in_bytes=1048576', 'memory memory.swappiness=0', 'memory memory.oom_control=1', 'memory memory.use_hierarchy=1']],
    ['pids', { pids: { limit: 10 } }, ['pids pids.max=10']],
    [
      'blkio',
      { blockIO: { weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }], throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2 }], throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 3 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 4 }] } },
      ['blkio blkio.weight=300 | blkio.bfq.weight=300', 'blkio blkio.leaf_weight=200', 'blkio blkio.weight_device=8:0 400 | blkio.bfq.weight_device=8:0 400', 'blkio blkio.leaf_weight_device=8:0 100', 'blkio blkio.throttle.read_bps_device=8:0 1', 'blkio blkio.throttle.write_bps_device=8:0 2', 'blkio blkio.throttle.read_iops_device=8:0 3', 'blkio blkio.throttle.write_iops_device=8:0 4'],
    ],
    ['hugetlb', { hugepageLimits: [{ pageSize: '1GB', limit: 2 ** 30 }] }, ['hugetlb hugetlb.1GB.limit_in_bytes=1073741824', 'hugetlb hugetlb.1GB.rsvd.limit_in_bytes=1073741824 (if exists)']],
    ['network', { network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] } }, ['net_cls net_cls.classid=1048577', 'net_prio net_prio.ifpriomap=eth0 5']],
    ['rdma', { rdma: { mlx4_0: { hcaHandles: 2 } } }, ['rdma rdma.max=mlx4_0 hca_handle=2']],
    ['devices: deny all, then the rules in order', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 136, access: 'rw' }, { allow: false, type: 'b', major: 8, minor: 0 }] }, ['devices devices.deny=a', 'devices devices.deny=a *:* rwm', 'devices devices.allow=c 1:3 rwm', 'devices devices.allow=c 136:* rw', 'devices devices.deny=b 8:0 rwm']],
  ];
  for (const [name, resources, expected] of table) t.same(writes(resources, v1), expected, name);
});

t.test('v1: raising memory+swap writes memsw first, lowering writes the limit first', async (t) => {
  const r: Resources = { memory: { limit: 2 ** 21, swap: 2 ** 22 } };
  t.same(writes(r, v1, { currentMemoryLimit: 2 ** 20 }), ['memory memory.memsw.limit_in_bytes=4194304', 'memory memory.limit_in_bytes=2097152']);
  t.same(writes(r, v1, { currentMemoryLimit: 2 ** 23 }), ['memory memory.limit_in_bytes=2097152', 'memory memory.memsw.limit_in_bytes=4194304']);
});

t.test('v1: errors name the field', async (t) => {
  throwsField(t, () => planCgroup({ unified: { 'memory.high': '1' } }, v1), /linux\.resources\.unified: needs cgroup v2/);
  throwsField(t, () => planCgroup({ memory: { swappiness: 101 } }, v1), 'linux.resources.memory.swappiness');
  const bare = parseLayout('35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
  throwsField(t, () => planCgroup({ pids: { limit: 5 } }, bare), /linux\.resources\.pids\.limit: the pids cgroup controller is not available on this host \(cgroup v1\)/);
  throwsField(t, () => planCgroup({ network: { classID: 5 } }, bare), 'linux.resources.network.classID');
});

t.test('hybrid: v1 controllers for what v1 has, cgroup2 for the rest', async (t) => {
  t.same(writes({ memory: { limit: 2 ** 20 }, pids: { limit: 5 }, hugepageLimits: [{ pageSize: '2MB', limit: 2 ** 21 }], unified: { 'hugetlb.2MB.max': '0' } }, hybrid), [
    'memory memory.limit_in_bytes=1048576',
    'pids pids.max=5',
    'unified hugetlb.2MB.max=2097152',
    'unified hugetlb.2MB.rsvd.max=2097152 (if exists)',
    'unified hugetlb.2MB.max=0',
  ]);
  // Devices stay with the v1 devices controller on hybrid hosts.
  t.same(writes({ devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }] }, hybrid), ['devices devices.deny=a', 'devices devices.allow=c 1:3 r']);
  throwsField(t, () => planCgroup({ network: { classID: 1 } }, hybrid), /linux\.resources\.network\.classID: the net_cls cgroup controller is not available/);
  throwsField(t, () => planCgroup({ rdma: { x: { hcaHandles: 1 } } }, hybrid), 'linux.resources.rdma');
});

t.test('kernel memory settings are accepted with a warning, as runc 1.1 does', async (t) => {
  const plan = planCgroup({ memory: { kernel: 2 ** 20, kernelTCP: 2 ** 20 } }, v1);
  t.same(plan.writes, []);
  t.match(plan.warnings, [/linux\.resources\.memory\.kernel: .*ignored/, /linux\.resources\.memory\.kernelTCP: .*ignored/]);
});

t.test('device rule lines', async (t) => {
  t.equal(deviceRuleLine({ allow: true }), 'a *:* rwm');
  t.equal(deviceRuleLine({ allow: true, type: 'b', major: 8, minor: -1, access: 'r' }), 'b 8:* r');
});
