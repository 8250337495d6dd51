// Whole plans, from a runc-style config.json through the planner to a running busybox
// container: the executor runs what the planners produce, and the container sees what
// the config asked for.
import t from 'tap';
import { spawn as spawnProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import type { Config } from '../src/config/types.js';
import { plan } from '../src/runtime/planner/index.js';
import { gatherFsHostFacts } from '../src/runtime/planner/fs-host.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';
import { spawn } from '../src/runtime/executor.js';
import type { Plan } from '../src/runtime/steps.js';
import { bundleFor, type BundleOptions, type HasTeardown } from './helpers/bundle.js';
import { hostMountsUnder } from './helpers/executor.js';

/**
 * Plan the bundle's config, run it to completion with a pipe gate, and return its output.
 * `adjust` may change the plan first, to exercise what the executor does with a field.
 */
async function runBundle(
  t: HasTeardown & { same: (a: unknown, b: unknown, m: string) => unknown },
  options: BundleOptions,
  adjust: (plan: Plan) => void = () => {},
): Promise<{ status: number; output: string }> {
  const bundle = bundleFor(t, options);
  const config = bundle.config as unknown as Config;
  const host = {
    fs: await gatherFsHostFacts(config, bundle.dir, bundle.rootfs),
    process: await gatherProcessHostFacts(config, bundle.rootfs),
  };
  const containerPlan = plan({
    config, bundle: bundle.dir, rootfs: bundle.rootfs, mode: 'create', gate: { kind: 'pipe' },
    preserveFds: 0, noPivot: false, host,
  });
  adjust(containerPlan);
  const outPath = bundle.path('output');
  const out = openSync(outPath, 'w');
  try {
    const child = spawn(containerPlan, { stdio: [0, out, out], preserveFds: 0 });
    await child.setup();
    child.verify();
    child.release();
    const status = await child.wait();
    t.same(hostMountsUnder(bundle.rootfs), [], 'no mount reached the host');
    return { status, output: readFileSync(outPath, 'utf8') };
  } finally {
    closeSync(out);
  }
}

t.test("runc's default config: hostname, pid 1, read-only root, masked paths, capabilities", async (t) => {
  const script = [
    'hostname',
    'echo pid $$',
    'touch /rootfs-is-writable 2>/dev/null || echo root read-only',
    'cat /proc/kcore 2>/dev/null | wc -c',
    'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
    'ls /dev/null /dev/zero /dev/pts/ptmx',
  ].join('; ');
  const { status, output } = await runBundle(t, { args: ['sh', '-c', script] });
  t.equal(status, 0, output);
  const lines = output.split('\n');
  t.equal(lines[0], 'runc');
  t.equal(lines[1], 'pid 1');
  t.equal(lines[2], 'root read-only');
  t.equal(lines[3]!.trim(), '0', '/proc/kcore is masked');
  t.match(output, /^CapEff:\s+0+20000420$/m, 'CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE');
  t.match(output, /^NoNewPrivs:\s+1$/m);
  t.match(output, /\/dev\/null\n\/dev\/pts\/ptmx\n\/dev\/zero\n/);
});

/** runc's default config with a user namespace mapping container ids 0..65535 to host 100000..165535. */
function inUserNamespace(config: Record<string, any>): void {
  config['linux'].namespaces.push({ type: 'user' });
  config['linux'].uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  config['linux'].gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

t.test('a config with a user namespace: the process is root inside, an unprivileged uid outside', async (t) => {
  const { status, output } = await runBundle(t, {
    args: ['sh', '-c', 'id -u; cat /proc/self/uid_map'],
    rootfs: 'shared',
    edit: inUserNamespace,
  });
  t.equal(status, 0, output);
  const [uid, map] = output.split('\n');
  t.equal(uid, '0');
  t.equal(map!.trim().split(/\s+/).join(' '), '0 100000 65536');
});

/**
 * A process in its own user and pid namespaces (container ids 0..65535 are host ids
 * 100000..165535), as a pod's infrastructure process would be: its pid, found below
 * `unshare --fork`.
 */
async function namespaceHolder(t: HasTeardown): Promise<number> {
  const unshare = spawnProcess('unshare', ['--user', '--pid', '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  t.teardown(() => void unshare.kill('SIGKILL'));
  const ours = readlinkSync('/proc/self/ns/user');
  const until = async (ready: () => boolean, what: string) => {
    for (let i = 0; i < 500 && !ready(); i++) await new Promise((done) => setTimeout(done, 10));
    if (!ready()) throw new Error(`unshare: ${what} did not happen`);
  };
  // The maps can only be written once unshare is in its new user namespace.
  await until(() => readlinkSync(`/proc/${unshare.pid}/ns/user`) !== ours, 'the new user namespace');
  writeFileSync(`/proc/${unshare.pid}/uid_map`, '0 100000 65536\n');
  writeFileSync(`/proc/${unshare.pid}/gid_map`, '0 100000 65536\n');
  const children = () => readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
  await until(() => children() !== '', 'the fork into the new pid namespace');
  return Number(children().split(' ')[0]);
}

t.test('joining a user namespace and its pid namespace by path: root of that namespace inside', async (t) => {
  const holder = await namespaceHolder(t);
  const { status, output } = await runBundle(t, {
    args: ['sh', '-c', 'id -u; cat /proc/self/uid_map; grep CapBnd /proc/self/status; readlink /proc/self/ns/user'],
    rootfs: 'shared',
    edit: (config) => {
      const namespaces = config['linux'].namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
      config['linux'].namespaces = [...namespaces, { type: 'user', path: `/proc/${holder}/ns/user` }, { type: 'pid', path: `/proc/${holder}/ns/pid` }];
    },
  });
  t.equal(status, 0, output);
  t.same(output.split('\n').map((l) => l.trim().split(/\s+/).join(' ')), [
    '0', '0 100000 65536', 'CapBnd: 0000000020000420', readlinkSync(`/proc/${holder}/ns/user`), '',
  ]);
});

function userNamespaceLimits(t: Parameters<typeof runBundle>[0], rlimits: Record<string, unknown>[], flags: string[]) {
  return runBundle(t, {
    args: ['sh', '-c', flags.map((f) => `ulimit -S${f}; ulimit -H${f}`).join('; ')],
    rootfs: 'shared',
    edit: (config) => {
      inUserNamespace(config);
      config['process'].rlimits = rlimits;
    },
  });
}

t.test('in a user namespace the child sets the rlimits it may: lower ones', async (t) => {
  const { status, output } = await userNamespaceLimits(t, [
    { type: 'RLIMIT_NOFILE', soft: 500, hard: 600 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ], ['n', 'c']);
  t.equal(status, 0, output);
  t.equal(output, '500\n600\n0\n0\n');
});

/** This process's hard limit (it is the runtime here) from /proc/self/limits; null when unlimited. */
function ownHardLimit(name: string): number | null {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name))!;
  const hard = line.slice(name.length).trim().split(/\s+/)[1]!;
  return hard === 'unlimited' ? null : Number(hard);
}

const NPROC_HARD = ownHardLimit('Max processes');

t.test('in a user namespace a hard rlimit above the runtime\'s is raised by the parent, as runc does', {
  skip: NPROC_HARD === null ? 'the hard RLIMIT_NPROC is unlimited: nothing to raise' : false,
}, async (t) => {
  const nproc = NPROC_HARD!;
  const capEff = BigInt('0x' + /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
  const run = userNamespaceLimits(t, [
    { type: 'RLIMIT_NOFILE', soft: 500, hard: 600 },
    { type: 'RLIMIT_NPROC', soft: 100, hard: nproc + 1 },
  ], ['n', 'u']);
  if (((capEff >> 24n) & 1n) === 0n) {
    // Without CAP_SYS_RESOURCE no process may raise it; runc 1.1.5 fails here too
    // ("error setting rlimit type 6: operation not permitted").
    await t.rejects(run, { message: `process.rlimits[1]: raise the hard RLIMIT_NPROC to ${nproc + 1}: EPERM` });
    return;
  }
  const { status, output } = await run;
  t.equal(status, 0, output);
  t.equal(output, `500\n600\n100\n${nproc + 1}\n`);
});

t.test('the parent sets plan.parentRlimits on the child before its steps run', async (t) => {
  // Lowering needs no privilege, so this runs anywhere; the planner only asks for raises.
  const { status, output } = await runBundle(t, { args: ['sh', '-c', 'ulimit -Su; ulimit -Hu'], rootfs: 'shared', edit: inUserNamespace }, (plan) => {
    plan.parentRlimits = [{ resource: 6, soft: 777n, hard: 999n, what: 'set RLIMIT_NPROC', field: 'process.rlimits[9]' }];
  });
  t.equal(status, 0, output);
  t.equal(output, '777\n999\n', 'RLIMIT_NPROC, which the config leaves alone');
});

t.test('a mount the kernel refuses stops the container with the mount named', async (t) => {
  await t.rejects(
    runBundle(t, { args: ['true'], mounts: [{ destination: '/data', type: 'nosuchfs', source: 'none' }] }),
    { name: 'StepError', message: /^mounts\[7\]: .*ENODEV$/ },
  );
});
