// The executor, as root, with hand-written plans: what a container process observes
// (hostname, pid, id maps, fds, exe), and what the host observes when a step fails
// (the error, no child left, no mount leaked).
import t from 'tap';
import { execFile, spawn as spawnProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CLONE, MS, O, PR, RESOLVE, SECCOMP, SYS } from '../bindings/constants.js';
import { getDumpable, pipe, closeQuietly } from '../bindings/syscalls.js';
import { createFifoGate, openFifoGate, spawn, StepError } from '../src/runtime/executor.js';
import { BerthError } from '../src/errors.js';
import { fdLayout, type Plan } from '../src/runtime/steps.js';
import {
  busyboxRootfs,
  containerPlan,
  hostMountsUnder,
  blockedInOpen,
  outputFile,
  processState,
  sleep,
  zombieChildren,
} from './helpers/executor.js';

const ENOENT = 2;

t.test('a child in new uts+pid+mnt+ipc namespaces sets its hostname and runs as pid 1', async (t) => {
  const root = busyboxRootfs(t);
  const out = outputFile(t, root);
  const plan = containerPlan(root, {
    args: ['/bin/sh', '-c', 'hostname; echo $$'],
    after: [{ call: 'sethostname', args: ['berth-box', 9], what: 'set the hostname', field: 'hostname' }],
  });
  const started = performance.now();
  const child = spawn(plan, { stdio: [0, out.fd, out.fd], preserveFds: 0 });
  await child.setup();
  t.comment(`spawn() to the last report: ${(performance.now() - started).toFixed(2)} ms`);
  child.verify();
  child.release();
  t.equal(await child.wait(), 0);
  t.equal(out.text(), 'berth-box\n1\n');
  t.same(hostMountsUnder(root), [], 'no mount reached the host');
});

t.test('the exit status follows the shell convention: code, or 128+signal', async (t) => {
  const root = busyboxRootfs(t);
  const exits = spawn(containerPlan(root, { args: ['/bin/sh', '-c', 'exit 7'] }), { stdio: [0, 1, 2], preserveFds: 0 });
  await exits.setup();
  exits.release();
  t.equal(await exits.wait(), 7);
  // pid 1 of a pid namespace has no handlers: only SIGKILL reaches it from outside.
  const killed = spawn(containerPlan(root, { args: ['/bin/sleep', '10'] }), { stdio: [0, 1, 2], preserveFds: 0 });
  await killed.setup();
  killed.release();
  process.kill(killed.pid, 'SIGKILL');
  t.equal(await killed.wait(), 128 + 9);
});

t.test('a user namespace gets the id maps before its steps run', async (t) => {
  const root = busyboxRootfs(t);
  const out = outputFile(t, root);
  const [stdinRead, stdinWrite] = pipe();
  t.teardown(() => closeQuietly(stdinWrite));
  const plan = containerPlan(root, {
    args: ['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; read line; exit 0'],
    cloneFlags: CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWPID | CLONE.NEWIPC,
    before: [
      { call: 'sys_setresgid', args: [0, 0, 0], what: 'setresgid 0', field: 'process.user.gid' },
      { call: 'sys_setresuid', args: [0, 0, 0], what: 'setresuid 0', field: 'process.user.uid' },
    ],
  });
  plan.uidMap = '0 100000 65536\n';
  plan.setgroups = 'deny';
  plan.gidMap = '0 200000 65536\n';
  plan.expect = { uid: 0, gid: 0 }; // as the container sees them: 100000 and 200000 outside
  const child = spawn(plan, { stdio: [stdinRead, out.fd, out.fd], preserveFds: 0 });
  closeQuietly(stdinRead);
  await child.setup();
  // Not dumpable until execve: its /proc files belong to root, not to its uid 100000.
  t.equal(statSync(`/proc/${child.pid}/status`).uid, 0, 'the waiting child is not dumpable');
  child.verify();
  child.release();
  closeQuietly(stdinWrite);
  t.equal(await child.wait(), 0);
  const lines = out.text().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
  t.same(lines, ['0 100000 65536', '0 200000 65536', '0', '0', '']);
});

t.test('verify() compares /proc/<pid>/status with the plan and kills on a mismatch', async (t) => {
  const root = busyboxRootfs(t);
  const plan = containerPlan(root, { args: ['/bin/true'] });
  plan.expect = { uid: 1234 };
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  await child.setup();
  t.throws(() => child.verify(), new BerthError('the container process does not have the expected uid: expected 1234 (real, effective, saved, fs), found 0 0 0 0'));
  t.equal(processState(child.pid), null, 'the child is killed and reaped');
});

t.test('a failing step is a StepError naming the field and errno; nothing is left behind', async (t) => {
  const root = busyboxRootfs(t);
  const mountsBefore = hostMountsUnder(root);
  const marker = join(root, 'tmp', 'ran');
  const plan = containerPlan(root, {
    args: ['/bin/touch', '/tmp/ran'],
    after: [{ call: 'mount', args: ['/nonexistent-source', '/tmp', null, MS.BIND, null], what: 'bind /nonexistent-source on /tmp', field: 'mounts[3]' }],
  });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  const error = await child.setup().then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof StepError, 'a StepError');
  t.equal((error as StepError).message, 'mounts[3]: bind /nonexistent-source on /tmp: ENOENT');
  t.equal((error as StepError).errno, ENOENT);
  t.equal(processState(child.pid), null, 'the child is gone, not a zombie');
  t.same(hostMountsUnder(root), mountsBefore, 'nothing mounted on the host');
  t.notOk(existsSync(marker), 'the process never ran');
  child.kill(); // idempotent
});

t.test('a failed sync step stops the chain before the next step runs', async (t) => {
  const root = busyboxRootfs(t);
  const marker = join(root, 'made-after-the-failure');
  const plan = containerPlan(root, { args: ['/bin/true'] });
  plan.steps = [
    { call: 'mount', args: [null, '/nonexistent-target', null, MS.REC | MS.PRIVATE, null], what: 'make it private', field: 'linux.rootfsPropagation', sync: true },
    { call: 'mkdir', args: [marker, 0o755], what: `mkdir ${marker}` },
  ];
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  await t.rejects(child.setup(), { message: 'linux.rootfsPropagation: make it private: ENOENT', index: 0, errno: ENOENT });
  t.notOk(existsSync(marker), 'the step after the failed sync step never ran');
});

t.test('an ok errno does not fail the step', async (t) => {
  const root = busyboxRootfs(t);
  const out = outputFile(t, root);
  const EEXIST = 17;
  const plan = containerPlan(root, {
    args: ['/bin/ls', '-d', '/tmp'],
    after: [{ call: 'mkdir', args: ['/tmp', 0o755], what: 'mkdir /tmp', field: 'mounts[1]', ok: [EEXIST] }],
  });
  const child = spawn(plan, { stdio: [0, out.fd, 2], preserveFds: 0 });
  await child.setup();
  child.release();
  t.equal(await child.wait(), 0);
  t.equal(out.text(), '/tmp\n');
});

t.test('a child that dies during its steps is reported with how it died', async (t) => {
  const root = busyboxRootfs(t);
  const plan = containerPlan(root, {
    args: ['/bin/true'],
    after: [{ call: '_exit', args: [3], what: 'exit early' }],
  });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  await t.rejects(child.setup(), new BerthError('the container process exited with status 3 during: exit early'));
  t.equal(processState(child.pid), null, 'reaped');
});

t.test('execve of a missing binary is a StepError after release', async (t) => {
  const root = busyboxRootfs(t);
  const plan = containerPlan(root, { args: ['/bin/nope'] });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  await child.setup();
  t.throws(() => child.release(), { name: 'StepError', message: 'process.args[0]: execve /bin/nope: ENOENT', index: plan.steps.length });
  t.equal(processState(child.pid), null, 'reaped');
});

t.test('a child killed while it waits at the gate: release() says so', async (t) => {
  const root = busyboxRootfs(t);
  const child = spawn(containerPlan(root, { args: ['/bin/true'] }), { stdio: [0, 1, 2], preserveFds: 0 });
  await child.setup();
  process.kill(child.pid, 'SIGKILL');
  while (processState(child.pid) !== 'Z') await sleep(2);
  t.throws(() => child.release(), { name: 'BerthError', message: /^the container process was killed by SIGKILL \(write/ });
  t.equal(processState(child.pid), null, 'reaped');
  t.equal(await child.wait(), 128 + 9);
});

t.test('bad input is a BerthError and leaves no fd behind', async (t) => {
  const root = busyboxRootfs(t);
  const fdsBefore = readdirSync('/proc/self/fd').length;
  t.throws(() => spawn(containerPlan(root, { args: ['bin/sh'] }), { stdio: [0, 1, 2], preserveFds: 0 }), /absolute path/);
  const missing = containerPlan(join(root, 'missing'), { args: ['/bin/sh'] });
  t.throws(() => spawn(missing, { stdio: [0, 1, 2], preserveFds: 0 }), new BerthError(`root.path: open ${join(root, 'missing')}: ENOENT`));
  t.throws(() => spawn(containerPlan(root, { args: ['/bin/sh'] }), { stdio: [0, 1, 2], preserveFds: 1 }), /preserves 0 fds but 1/);
  t.equal(readdirSync('/proc/self/fd').length, fdsBefore);
  t.same(zombieChildren(), []);
});

t.test('the fifo gate: the child waits for berth start and execs only when released', async (t) => {
  const root = busyboxRootfs(t);
  const fifo = join(root, '..', 'exec.fifo');
  createFifoGate(fifo);
  t.equal(statSync(fifo).mode & 0o777777, fsc.S_IFIFO | 0o604, 'a fifo only root writes and the container user can read');
  t.throws(() => createFifoGate(fifo), new BerthError(`cannot create the exec fifo ${fifo}: EEXIST`));
  const marker = join(root, 'tmp', 'started');
  const plan = containerPlan(root, { args: ['/bin/touch', '/tmp/started'], gate: { kind: 'fifo', path: fifo } });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  t.teardown(() => child.kill());
  const fdsBefore = readdirSync('/proc/self/fd').length;
  await child.setup();
  t.equal(readdirSync('/proc/self/fd').length, fdsBefore - 2, 'once set up, the parent holds no fd of the child');
  t.throws(() => child.release(), /berth start/);
  await blockedInOpen(child.pid);
  await sleep(50);
  t.not(processState(child.pid), null, 'still waiting');
  t.notOk(existsSync(marker), 'not started before the gate opens');
  openFifoGate(fifo);
  t.equal(await child.wait(), 0);
  t.ok(existsSync(marker), 'started once the gate opened');
  t.throws(() => openFifoGate(fifo), new BerthError("the container's process is not waiting to start"));
});

t.test('the fifo gate fails closed: opened and closed without the byte, the child exits unexecuted', async (t) => {
  const root = busyboxRootfs(t);
  const fifo = join(root, '..', 'exec.fifo');
  createFifoGate(fifo);
  const marker = join(root, 'tmp', 'started');
  const plan = containerPlan(root, { args: ['/bin/touch', '/tmp/started'], gate: { kind: 'fifo', path: fifo } });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  t.teardown(() => child.kill());
  await child.setup();
  await blockedInOpen(child.pid);
  closeSync(openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK));
  t.not(await child.wait(), 0, 'the child failed');
  t.notOk(existsSync(marker), 'the process never ran');
});

t.test('the fifo gate stays shut when the fifo is removed: no exec until killed', async (t) => {
  const root = busyboxRootfs(t);
  const fifo = join(root, '..', 'exec.fifo');
  createFifoGate(fifo);
  const marker = join(root, 'tmp', 'started');
  const plan = containerPlan(root, { args: ['/bin/touch', '/tmp/started'], gate: { kind: 'fifo', path: fifo } });
  const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
  t.teardown(() => child.kill());
  await child.setup();
  rmSync(fifo);
  await sleep(100);
  t.not(processState(child.pid), null, 'still waiting at the gate');
  t.notOk(existsSync(marker), 'not started');
  t.throws(() => openFifoGate(fifo), /already been started/, 'berth start finds no fifo');
  child.kill();
  t.equal(processState(child.pid), null, 'killed and reaped');
  t.notOk(existsSync(marker), 'never started');
});

t.test('the container sees only its stdio and the preserved fds', async (t) => {
  const root = busyboxRootfs(t);
  for (const preserveFds of [0, 2]) {
    const [stdinRead, stdinWrite] = pipe();
    const plan = containerPlan(root, { args: ['/bin/cat'], preserveFds });
    const child = spawn(plan, { stdio: [stdinRead, 1, 2], preserveFds });
    await child.setup();
    child.release();
    closeQuietly(stdinRead);
    const fds = readdirSync(`/proc/${child.pid}/fd`).map(Number).sort((a, b) => a - b);
    const expected = [0, 1, 2, ...Array.from({ length: preserveFds }, (_, i) => 3 + i)];
    t.same(fds, expected, `preserveFds ${preserveFds}`);
    for (const fd of expected.slice(3)) {
      t.equal(readlinkSync(`/proc/${child.pid}/fd/${fd}`), readlinkSync(`/proc/self/fd/${fd}`), `fd ${fd} passed through`);
    }
    closeQuietly(stdinWrite); // cat sees end of file
    t.equal(await child.wait(), 0);
  }
});

t.test('no node inside: the child is not dumpable, the parent is again, and pid 1 is the user binary', async (t) => {
  const root = busyboxRootfs(t);
  const [stdinRead, stdinWrite] = pipe();
  const dumpable = getDumpable();
  const child = spawn(containerPlan(root, { args: ['/bin/cat'] }), { stdio: [stdinRead, 1, 2], preserveFds: 0 });
  t.equal(getDumpable(), dumpable, 'the runtime is as dumpable after clone as before');
  await child.setup();
  t.equal(readlinkSync(`/proc/${child.pid}/exe`), process.execPath, 'before execve the child is a copy of node');
  child.release();
  closeQuietly(stdinRead);
  const exe = readlinkSync(`/proc/${child.pid}/exe`);
  t.not(exe, process.execPath);
  t.match(exe, /\/bin\/busybox$/, 'after execve it is the container binary');
  closeQuietly(stdinWrite);
  t.equal(await child.wait(), 0);
});

t.test("wait() gets the status even while Node's child_process reaps its own children", async (t) => {
  const root = busyboxRootfs(t);
  const child = spawn(containerPlan(root, { args: ['/bin/sh', '-c', 'sleep 0.2; exit 5'] }), { stdio: [0, 1, 2], preserveFds: 0 });
  await child.setup();
  child.release();
  const [ours, theirs] = await Promise.all([child.wait(), promisify(execFile)('/bin/sh', ['-c', 'sleep 0.1; echo node'])]);
  t.equal(ours, 5);
  t.equal(theirs.stdout, 'node\n');
});

t.test('300 spawn-exec-wait cycles leak no fd and leave no zombie', async (t) => {
  const root = busyboxRootfs(t);
  const plan = containerPlan(root, {
    args: ['/bin/true'],
    after: [{ call: 'sethostname', args: ['cycle', 5], what: 'set the hostname', field: 'hostname' }],
  });
  const fdsBefore = readdirSync('/proc/self/fd').length;
  let failures = 0;
  const started = performance.now();
  t.comment(`test process: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB resident`);
  for (let i = 0; i < 300; i++) {
    const child = spawn(plan, { stdio: [0, 1, 2], preserveFds: 0 });
    await child.setup();
    child.release();
    if ((await child.wait()) !== 0) failures++;
  }
  t.comment(`${((performance.now() - started) / 300).toFixed(2)} ms per cycle`);
  t.equal(failures, 0);
  t.equal(readdirSync('/proc/self/fd').length, fdsBefore, 'no fd leaked');
  t.same(zombieChildren(), [], 'no zombie');
  t.same(hostMountsUnder(root), []);
});


t.test('joining namespaces by path: uts through a setns step, pid by the parent around clone()', async (t) => {
  const root = busyboxRootfs(t);
  const [holdRead, holdWrite] = pipe();
  t.teardown(() => closeQuietly(holdWrite));
  const first = spawn(
    containerPlan(root, {
      args: ['/bin/cat'],
      after: [{ call: 'sethostname', args: ['alpha', 5], what: 'set the hostname', field: 'hostname' }],
    }),
    { stdio: [holdRead, 1, 2], preserveFds: 0 },
  );
  t.teardown(() => first.kill());
  closeQuietly(holdRead);
  await first.setup();
  first.release();

  const out = outputFile(t, root);
  const joins = [{ type: 'uts', path: `/proc/${first.pid}/ns/uts` }];
  const fds = fdLayout(0, joins.map((j) => j.type));
  const second: Plan = {
    cloneFlags: 0,
    joinNamespaces: joins,
    joinPidNamespace: `/proc/${first.pid}/ns/pid`,
    fds,
    rootfs: root,
    steps: [{ call: 'setns', args: [fds.namespaces['uts']!, CLONE.NEWUTS], what: 'join the uts namespace', field: 'linux.namespaces[0]' }],
    exec: { call: 'execve', args: ['/bin/busybox', { strings: ['sh', '-c', 'hostname; echo $$'] }, { strings: [] }], what: 'execve /bin/busybox', field: 'process.args[0]' },
    gate: { kind: 'pipe' },
    expect: {},
  };
  const pidNamespace = readlinkSync('/proc/self/ns/pid_for_children');
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const child = spawn(second, { stdio: [0, out.fd, out.fd], preserveFds: 0 });
  t.equal(readdirSync('/proc/self/fd').length, fdsBefore + 2, 'the parent keeps only its ends of the two pipes');
  t.equal(readlinkSync('/proc/self/ns/pid_for_children'), pidNamespace, "the runtime's own children are back in its pid namespace");
  await child.setup();
  child.release();
  t.equal(await child.wait(), 0);
  const [hostname, pid] = out.text().split('\n');
  t.equal(hostname, 'alpha', 'the joined uts namespace');
  t.equal(pid, '2', 'the second process in the joined pid namespace');
  closeQuietly(holdWrite);
  t.equal(await first.wait(), 0);
});

t.test('struct arguments: openat2 with RESOLVE_IN_ROOT opens a predictable fd that cannot escape', async (t) => {
  const root = busyboxRootfs(t);
  const name = basename(dirname(root)); // unique per test run
  writeFileSync(join('/tmp', `${name}.txt`), 'host\n');
  t.teardown(() => rmSync(join('/tmp', `${name}.txt`), { force: true }));
  writeFileSync(join(root, 'tmp', `${name}.txt`), 'inside\n');
  symlinkSync(`../../../../../../../../tmp/${name}.txt`, join(root, 'escape'));
  const out = outputFile(t, root);
  const plan = containerPlan(root, { args: ['/bin/cat'] });
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(O.RDONLY | O.CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(RESOLVE.IN_ROOT), 16);
  const fd = plan.fds.firstFree;
  plan.steps = [
    { call: 'sys_openat2', args: [plan.fds.rootfs, 'escape', { bytes: how }, 24], what: 'open escape in the rootfs' },
    { call: 'dup3', args: [fd, 0, 0], what: `make fd ${fd} stdin` },
    { call: 'close', args: [fd], what: `close fd ${fd}` },
  ];
  const child = spawn(plan, { stdio: [0, out.fd, 2], preserveFds: 0 });
  await child.setup();
  child.release();
  t.equal(await child.wait(), 0);
  t.equal(out.text(), 'inside\n', 'the symlink resolved inside the rootfs');
});

t.test('a BPF argument: the child installs a prepared seccomp filter that verify() sees', async (t) => {
  const root = busyboxRootfs(t);
  const out = outputFile(t, root);
  // One instruction: BPF_RET|BPF_K SECCOMP_RET_ALLOW.
  const allowAll = Buffer.alloc(8);
  allowAll.writeUInt16LE(0x06, 0);
  allowAll.writeUInt32LE(SECCOMP.RET_ALLOW, 4);
  const plan = containerPlan(root, {
    args: ['/bin/sh', '-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'],
    after: [
      { call: 'prctl', args: [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0], what: 'set no_new_privs', field: 'process.noNewPrivileges' },
      { call: 'sys_seccomp', args: [SECCOMP.SET_MODE_FILTER, 0, { bpf: allowAll }], what: 'install the seccomp filter', field: 'linux.seccomp' },
    ],
  });
  plan.expect = { seccomp: 2, noNewPrivs: true };
  const child = spawn(plan, { stdio: [0, out.fd, 2], preserveFds: 0 });
  await child.setup();
  child.verify();
  child.release();
  t.equal(await child.wait(), 0);
  t.match(out.text(), /NoNewPrivs:\s+1\n/);
  t.match(out.text(), /Seccomp:\s+2\n/);
});

t.test('a fifo-gated container outlives the process that created it, and starts later', async (t) => {
  const root = busyboxRootfs(t);
  const fifo = join(root, '..', 'exec.fifo');
  createFifoGate(fifo);
  const marker = join(root, 'tmp', 'started');
  const plan = containerPlan(root, { args: ['/bin/touch', '/tmp/started'], gate: { kind: 'fifo', path: fifo } });
  // What berth create does: spawn, set up, verify, print the pid, exit.
  const executor = new URL('../src/runtime/executor.js', import.meta.url).href;
  const script = `
    const { spawn } = await import(${JSON.stringify(executor)});
    const { openSync } = await import('node:fs');
    const devNull = openSync('/dev/null', 'r+');  // not our stdout: execFile waits for its end
    const child = spawn(JSON.parse(process.argv[1]), { stdio: [devNull, devNull, devNull], preserveFds: 0 });
    await child.setup();
    child.verify();
    console.log(child.pid);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(plan)], { timeout: 20_000 });
  const pid = Number(stdout.trim());
  t.teardown(() => {
    if (processState(pid) !== null) process.kill(pid, 'SIGKILL');
  });
  await blockedInOpen(pid);
  t.match(processState(pid), /^[SD]$/, 'the container process waits at the gate');
  t.notOk(existsSync(marker));
  openFifoGate(fifo);
  while (processState(pid) !== null && processState(pid) !== 'Z') await sleep(5);
  t.ok(existsSync(marker), 'it ran once berth start opened the gate');
});

t.test('the container starts with no signal blocked or ignored, although Node ignores SIGPIPE', async (t) => {
  const root = busyboxRootfs(t);
  const out = outputFile(t, root);
  const child = spawn(containerPlan(root, { args: ['/bin/cat', '/proc/self/status'] }), { stdio: [0, out.fd, 2], preserveFds: 0 });
  await child.setup();
  child.release();
  t.equal(await child.wait(), 0);
  t.match(out.text(), /^SigBlk:\s+0+$/m);
  t.match(out.text(), /^SigIgn:\s+0+$/m);
});

t.test('a child left by its parent mid-setup dies, even after a uid change cleared its parent-death signal', async (t) => {
  const root = busyboxRootfs(t);
  const url = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  // What a berth process does until it is killed while the child blocks in a step
  // (here: a read of stdin) after setresuid.
  const script = `
    const { spawn } = await import(${url('../src/runtime/executor.js')});
    const { containerPlan } = await import(${url('./helpers/executor.js')});
    const { CLONE } = await import(${url('../bindings/constants.js')});
    const plan = containerPlan(process.argv[1], {
      args: ['/bin/true'],
      cloneFlags: CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWPID,
      before: [
        { call: 'sys_setresgid', args: [0, 0, 0], what: 'setresgid 0' },
        { call: 'sys_setresuid', args: [0, 0, 0], what: 'setresuid 0' },
        { call: 'read', args: [0, { bytes: new Uint8Array(1) }, 1], what: 'block' },
      ],
    });
    Object.assign(plan, { uidMap: '0 100000 65536\\n', setgroups: 'deny', gidMap: '0 100000 65536\\n' });
    const child = spawn(plan, { stdio: [0, 2, 2], preserveFds: 0 });
    console.log(child.pid);
    await child.setup();`;
  const parent = spawnProcess(process.execPath, ['--input-type=module', '-e', script, root], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => parent.kill('SIGKILL'));
  const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(String(d)))));
  t.teardown(() => {
    if (processState(pid) !== null) process.kill(pid, 'SIGKILL');
  });
  const blocked = () => {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === '100000' && readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0] === String(SYS.read);
  };
  while (!blocked()) await sleep(5);
  parent.kill('SIGKILL');
  const deadline = Date.now() + 5000;
  while (processState(pid) !== null && processState(pid) !== 'Z' && Date.now() < deadline) await sleep(10);
  t.match(String(processState(pid)), /^(null|Z)$/, 'the child died with its parent');
});
