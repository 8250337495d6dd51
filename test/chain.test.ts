// The parts of the executor that need no root: the dry run's text, the chain builder's
// refusals, and the constants other modules parse user input with.
import t from 'tap';
import { CLONE, MNT, MS, O, RESOLVE, makedev, signalName, signalNumber, CAPABILITIES, CAP, SYS } from '../bindings/constants.js';
import { ChainBuilder } from '../src/runtime/chain.js';
import { formatCall, formatFlags, formatOpenFlags } from '../src/runtime/dry-run.js';
import { formatPlan } from '../src/runtime/executor.js';
import { fdLayout, type Plan } from '../src/runtime/steps.js';

t.test('a dry run prints each step as the C call it is, flags by name, with its field', async (t) => {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(O.PATH | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS), 16);
  const plan: Plan = {
    cloneFlags: CLONE.NEWNS | CLONE.NEWPID,
    joinNamespaces: [{ type: 'network', path: '/var/run/netns/x' }],
    fds: fdLayout(1, ['network']),
    rootfs: '/bundle/rootfs',
    steps: [
      { call: 'mount', args: ['proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null], what: 'mount proc on /proc', field: 'mounts[0]' },
      { call: 'umount2', args: ['.', MNT.DETACH], what: 'detach the old root' },
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
  t.equal(lines[1], 'join network namespace /var/run/netns/x as fd 6');
  t.equal(lines[2], 'rootfs /bundle/rootfs as fd 7; the first free fd is 8');
  t.equal(lines[3], 'parent writes /proc/<pid>/uid_map: "0 1000 1\\n"');
  t.match(lines[4], /^ {3}0 {2}mount\("proc", "\/proc", "proc", MS_NOSUID\|MS_NODEV\|MS_NOEXEC, NULL\) +# mounts\[0\]: mount proc on \/proc$/);
  t.match(lines[5], /^ {3}1 {2}umount2\("\.", MNT_DETACH\) +# detach the old root$/);
  t.match(lines[6], /syscall\(SYS_openat2, 7, "dev", \{flags=O_RDONLY\|O_CLOEXEC\|O_PATH, mode=00, resolve=RESOLVE_NO_MAGICLINKS\|RESOLVE_IN_ROOT\}, 24\) +# open dev \(waits for the parent\)$/);
  t.match(lines[7], /setns\(6, CLONE_NEWNET\) +# linux.namespaces\[1\]: join the network namespace$/);
  t.equal(lines[8], 'gate: wait for berth start at /run/berth/x/exec.fifo');
  t.match(lines[9], /^exec {2}execve\("\/bin\/sh", \["sh", "-c", "true"\], \["A=1"\]\) +# process.args\[0\]: execve \/bin\/sh$/);
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
  t.throws(() => chain.call('mount', ['a\0b', '/x', null, 0, null]), /cannot contain NUL/);
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
