// The parts of the executor that need no root: the dry run's text, the chain builder's
// refusals, and the constants other modules parse user input with.
import t from 'tap';
import { CLONE, MNT, MS, O, RESOLVE, makedev, signalName, signalNumber, CAPABILITIES, CAP, SYS } from '../bindings/constants.js';
import { ChainBuilder, resolveCall, type ChainCall } from '../src/runtime/chain.js';
import { symbolAddress } from '../bindings/syscalls.js';
import { formatCall, formatFlags, formatOpenFlags } from '../src/runtime/dry-run.js';
import { formatPlan, hostExpectations, parseIdMap } from '../src/runtime/executor.js';
import { fdLayout, type Plan } from '../src/runtime/steps.js';

t.test('a dry run prints each step as the C call it is, flags by name, with its field', async (t) => {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(O.PATH | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS), 16);
  const plan: Plan = {
    cloneFlags: CLONE.NEWNS | CLONE.NEWPID,
    joinNamespaces: [{ type: 'network', path: '/var/run/netns/x' }],
    joinPidNamespace: '/proc/42/ns/pid',
    fds: fdLayout(1, ['network']),
    rootfs: '/bundle/rootfs',
    steps: [
      { call: 'mount', args: ['proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null], what: 'mount proc on /proc', field: 'mounts[0]' },
      { call: 'umount2', args: ['.', MNT.DETACH], what: 'detach the old root', ok: [22] },
      { call: 'sys_openat2', args: [7, 'dev', { bytes: how }, 24], what: 'open dev', sync: true },
      { call: 'setns', args: [6, CLONE.NEWNET], what: 'join the network namespace', field: 'linux.namespaces[1]' },
    ],
    exec: { call: 'execve', args: ['/bin/sh', { strings: ['sh', '-c', 'true'] }, { strings: ['A=1'] }], what: 'execve /bin/sh', field: 'process.args[0]' },
    gate: { kind: 'fifo', path: '/run/berth/x/exec.fifo' },
    uidMap: '0 1000 1\n',
    expect: {},
  };
  const lines = formatPlan(plan).split('\n');
  t.equal(lines[0], 'clone(CLONE_NEWNS|CLONE_NEWPID|SIGCHLD)');
  t.equal(lines[1], 'parent joins pid namespace /proc/42/ns/pid around clone()');
  lines.splice(1, 1);
  t.equal(lines[1], 'join network namespace /var/run/netns/x as fd 6');
  t.equal(lines[2], 'rootfs /bundle/rootfs as fd 7; the first free fd is 8');
  t.match(lines[3], /^prologue: dup3 stdio to 0\.\.2, preserved fds to 3\.\.3, the report pipe to 4, the sync pipe to 5; close_range\(8, ~0U\)/);
  lines.splice(3, 1);
  t.equal(lines[3], 'parent writes /proc/<pid>/uid_map: "0 1000 1\\n"');
  t.match(lines[4], /^ {3}0 {2}mount\("proc", "\/proc", "proc", MS_NOSUID\|MS_NODEV\|MS_NOEXEC, NULL\) +# mounts\[0\]: mount proc on \/proc$/);
  t.match(lines[5], /^ {3}1 {2}umount2\("\.", MNT_DETACH\) +# detach the old root \(EINVAL is fine\)$/);
  t.match(lines[6], /syscall\(SYS_openat2, 7, "dev", \{flags=O_RDONLY\|O_CLOEXEC\|O_PATH, mode=00, resolve=RESOLVE_NO_MAGICLINKS\|RESOLVE_IN_ROOT\}, 24\) +# open dev \(waits for the parent\)$/);
  t.match(lines[7], /setns\(6, CLONE_NEWNET\) +# linux.namespaces\[1\]: join the network namespace$/);
  t.equal(lines[8], 'gate: wait for berth start at /run/berth/x/exec.fifo');
  t.match(lines[9], /^exec {2}execve\("\/bin\/sh", \["sh", "-c", "true"\], \["A=1"\]\) +# process.args\[0\]: execve \/bin\/sh$/);
});

t.test('a dry run shows the limits the parent sets on the child, after the id maps', async (t) => {
  const plan: Plan = {
    cloneFlags: CLONE.NEWUSER | CLONE.NEWNS,
    joinNamespaces: [],
    fds: fdLayout(0, []),
    rootfs: '/bundle/rootfs',
    steps: [],
    exec: { call: 'execve', args: ['/bin/true', { strings: ['true'] }, { strings: [] }], what: 'execve /bin/true' },
    gate: { kind: 'pipe' },
    uidMap: '0 100000 65536\n',
    gidMap: '0 100000 65536\n',
    parentRlimits: [{ resource: 7, soft: 1024n, hard: 4096n, what: 'raise the hard RLIMIT_NOFILE to 4096', field: 'process.rlimits[0]' }],
    expect: {},
  };
  const lines = formatPlan(plan).split('\n');
  const maps = lines.findIndex((l) => l.startsWith('parent writes /proc/<pid>/gid_map'));
  t.equal(lines[maps + 1], 'parent sets with prlimit(<pid>): process.rlimits[0]: raise the hard RLIMIT_NOFILE to 4096');
});

t.test('flags decode by name; unknown bits stay visible in hex', async (t) => {
  t.equal(formatFlags(MS.BIND | MS.REC, MS, 'MS_'), 'MS_BIND|MS_REC');
  t.equal(formatFlags(0, MS, 'MS_'), '0');
  t.equal(formatFlags(MS.RDONLY | 0x40000000, MS, 'MS_'), 'MS_RDONLY|0x40000000');
  t.equal(formatOpenFlags(O.RDONLY), 'O_RDONLY');
  t.equal(formatOpenFlags(O.WRONLY | O.NONBLOCK | O.CLOEXEC), 'O_WRONLY|O_NONBLOCK|O_CLOEXEC');
  t.equal(formatOpenFlags(O.SYNC), 'O_RDONLY|O_SYNC', 'a composite flag wins over its parts');
  t.equal(formatCall({ call: 'sys_pivot_root', args: ['.', '.'] }), 'syscall(SYS_pivot_root, ".", ".")');
  t.equal(formatCall({ call: 'openat', args: [-100, '/x', O.RDONLY | O.DIRECTORY] }), 'openat(AT_FDCWD, "/x", O_RDONLY|O_DIRECTORY)');
});

t.test('the chain builder refuses what the child could not run', async (t) => {
  const chain = new ChainBuilder();
  t.throws(() => chain.call('mount', ['a\0b', '/x', null, 0, null]), /contains a NUL byte/);
  t.throws(() => chain.call('sys_seccomp', [1, 0, { bpf: new Uint8Array(5) }]), /8-byte instructions/);
  t.throws(() => chain.call('sys_mount_setattr', [1, 2, 3, 4, 5, 6, 7]), /too many arguments/);
  t.throws(() => new ChainBuilder().build(), /empty chain/);
});

t.test('signals parse as runc accepts them', async (t) => {
  t.equal(signalNumber('KILL'), 9);
  t.equal(signalNumber('sigterm'), 15);
  t.equal(signalNumber('SIGHUP'), 1);
  t.equal(signalNumber('9'), 9);
  t.equal(signalNumber('RTMIN+3'), 37);
  t.equal(signalNumber('SIGRTMAX-1'), 63);
  t.equal(signalNumber('RTMAX+1'), undefined);
  t.equal(signalNumber('NOPE'), undefined);
  t.equal(signalNumber('0'), undefined);
  t.equal(signalNumber('65'), undefined);
  t.equal(signalName(9), 'SIGKILL');
  t.equal(signalName(6), 'SIGABRT');
  t.equal(signalName(36), 'SIGRTMIN+2');
});

t.test('capabilities, device numbers and syscall numbers', async (t) => {
  t.equal(CAPABILITIES.length, 41);
  t.equal(CAP['CAP_CHOWN'], 0);
  t.equal(CAP['CAP_SYS_ADMIN'], 21);
  t.equal(CAP['CAP_CHECKPOINT_RESTORE'], 40);
  // glibc's makedev: 8:1 (sda1) is 0x801; large numbers spread over both halves.
  t.equal(makedev(8, 1), 0x801n);
  t.equal(makedev(259, 300), 0x11032cn);
  t.equal(makedev(4096, 0), 0x100000000000n);
  t.equal(SYS.openat2, 437, 'the same on every architecture');
  t.equal(SYS.pivot_root, process.arch === 'x64' ? 155 : 41);
});

t.test('every call the step contract names resolves to a libc function', async (t) => {
  const calls: ChainCall[] = [
    'mount', 'umount2', 'mkdir', 'mkdirat', 'chdir', 'fchdir', 'chroot', 'chmod', 'fchmod', 'chown', 'fchownat',
    'mknod', 'mknodat', 'symlink', 'symlinkat', 'open', 'openat', 'close', 'dup3', 'fcntl', 'read', 'write', 'ioctl',
    'setsid', 'umask', 'personality', 'prctl', 'sethostname', 'setdomainname', 'setns', 'unshare', 'kill', 'execve',
    '_exit', 'sys_pivot_root', 'sys_openat2', 'sys_close_range', 'sys_mount_setattr', 'sys_open_tree', 'sys_move_mount',
    'sys_setresuid', 'sys_setresgid', 'sys_setgroups', 'sys_capset', 'sys_prlimit64', 'sys_seccomp', 'access', 'memset', 'signal',
  ];
  for (const call of calls) {
    const { symbol, prefix } = resolveCall(call);
    t.ok(symbolAddress(symbol) > 0n, `${call} -> ${symbol}${prefix.length ? `(${prefix[0]}, ...)` : ''}`);
  }
});

t.test("verify() translates the container's ids through its id maps", async (t) => {
  const map = parseIdMap('         0     100000      65536\n     65536          0          1\n');
  t.same(map, [{ inside: 0, outside: 100000, count: 65536 }, { inside: 65536, outside: 0, count: 1 }]);
  const identity = parseIdMap('         0          0 4294967295\n');
  t.same(hostExpectations({ uid: 0, gid: 5, groups: [5, 70000], noNewPrivs: true }, map, map), {
    uid: 100000, gid: 100005, groups: [100005, -1], noNewPrivs: true,
  }, 'an unmapped id becomes -1, which no process has');
  t.same(hostExpectations({ uid: 1000, gid: 1000 }, identity, identity), { uid: 1000, gid: 1000 });
  t.same(hostExpectations({ seccomp: 2 }, map, map), { seccomp: 2 });
});
