// Whole plans, from a runc-style config.json through the planner to a running busybox
// container: the executor runs what the planners produce, and the container sees what
// the config asked for.
import t from 'tap';
import { openSync, closeSync, readFileSync } from 'node:fs';
import type { Config } from '../src/config/types.js';
import { plan } from '../src/runtime/planner/index.js';
import { gatherFsHostFacts } from '../src/runtime/planner/fs-host.js';
import { gatherProcessHostFacts } from '../src/runtime/planner/process-host.js';
import { spawn } from '../src/runtime/executor.js';
import { bundleFor, type BundleOptions, type HasTeardown } from './helpers/bundle.js';
import { hostMountsUnder } from './helpers/executor.js';

/** Plan the bundle's config, run it to completion with a pipe gate, and return its output. */
async function runBundle(t: HasTeardown & { same: (a: unknown, b: unknown, m: string) => unknown }, options: BundleOptions): Promise<{ status: number; output: string }> {
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

// todo: the planners run the filesystem steps before any setresuid, so in a new user
// namespace they act as an unmapped uid (mkdir: EOVERFLOW); runc sets uid/gid 0 first.
// With those two steps added by hand, every step succeeds, but verify() then finds
// CapBnd 0000000021000420 where the plan expects 0000000020000420: a new user namespace
// starts with a full bounding set, but the planner only drops what the runtime itself
// has (this host's root lacks CAP_SYS_RESOURCE).
const USERNS_TODO = 'the planner needs setresgid/setresuid(0) right after creating a user namespace';

t.test('a config with a user namespace: the process is root inside, an unprivileged uid outside', { todo: USERNS_TODO }, async (t) => {
  const { status, output } = await runBundle(t, {
    args: ['sh', '-c', 'id -u; cat /proc/self/uid_map'],
    rootfs: 'shared',
    edit: (config) => {
      config['linux'].namespaces.push({ type: 'user' });
      config['linux'].uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      config['linux'].gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      // A user namespace cannot mount sysfs for a network namespace it does not own,
      // nor the host's cgroup hierarchies: leave them out, as rootless engines do.
      config['mounts'] = config['mounts'].filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
    },
  });
  t.equal(status, 0, output);
  const [uid, map] = output.split('\n');
  t.equal(uid, '0');
  t.equal(map!.trim().split(/\s+/).join(' '), '0 100000 65536');
});

t.test('a mount the kernel refuses stops the container with the mount named', async (t) => {
  await t.rejects(
    runBundle(t, { args: ['true'], mounts: [{ destination: '/data', type: 'nosuchfs', source: 'none' }] }),
    { name: 'StepError', message: /^mounts\[7\]: .*ENODEV$/ },
  );
});
